//! The policy's small duration language: `1d`, `3d`, `7d` (calendar days), `3wd` (working days),
//! `1mo` (calendar months) and `2s`/`5m`/`4h` (clock time, so tests run the same rules in seconds).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A period as the policy writes it. Private representation; parse with [`PolicyDuration::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyDuration {
    Seconds(u64),
    Minutes(u64),
    Hours(u64),
    Days(u32),
    WorkingDays(u32),
    Months(u32),
}

/// The longest period a policy or a person may write, in days ("ten years").
const TEN_YEARS_DAYS: u32 = 3660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why} (write a number and a unit: 2s, 5m, 4h, 7d, 3wd, 1mo)")]
pub struct ParseError {
    pub input: String,
    pub why: &'static str,
}

impl PolicyDuration {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim();
        let err = |why| ParseError { input: input.to_string(), why };
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| err("no unit"))?;
        let (num, unit) = s.split_at(split);
        if num.is_empty() {
            return Err(err("no number before the unit"));
        }
        let n: u64 = num.parse().map_err(|_| err("number too large"))?;
        let days = |n: u64| u32::try_from(n).ok().filter(|d| *d <= TEN_YEARS_DAYS).ok_or_else(|| err("more than ten years"));
        // Clock periods have the same bound, which also keeps their milliseconds within i64.
        let clock =
            |n: u64, secs: u64| n.checked_mul(secs).filter(|s| *s <= u64::from(TEN_YEARS_DAYS) * 86_400).map(|_| n).ok_or_else(|| err("more than ten years"));
        Ok(match unit {
            "s" => Self::Seconds(clock(n, 1)?),
            "m" => Self::Minutes(clock(n, 60)?),
            "h" => Self::Hours(clock(n, 3600)?),
            "d" => Self::Days(days(n)?),
            "wd" => Self::WorkingDays(days(n)?),
            "mo" => Self::Months(u32::try_from(n).ok().filter(|m| *m <= 120).ok_or_else(|| err("more than ten years"))?),
            _ => return Err(err("unknown unit")),
        })
    }

    /// Clock durations (s, m, h) count exact time; the others count dates on the calendar.
    /// A parsed duration always fits; one built by hand too long for i64 saturates.
    pub fn clock_millis(self) -> Option<i64> {
        let ms = |n: u64, unit: i64| i64::try_from(n).unwrap_or(i64::MAX).saturating_mul(unit);
        match self {
            Self::Seconds(n) => Some(ms(n, 1000)),
            Self::Minutes(n) => Some(ms(n, 60_000)),
            Self::Hours(n) => Some(ms(n, 3_600_000)),
            _ => None,
        }
    }

    pub fn is_zero(self) -> bool {
        matches!(self, Self::Seconds(0) | Self::Minutes(0) | Self::Hours(0) | Self::Days(0) | Self::WorkingDays(0) | Self::Months(0))
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seconds(n) => write!(f, "{n}s"),
            Self::Minutes(n) => write!(f, "{n}m"),
            Self::Hours(n) => write!(f, "{n}h"),
            Self::Days(n) => write!(f, "{n}d"),
            Self::WorkingDays(n) => write!(f, "{n}wd"),
            Self::Months(n) => write!(f, "{n}mo"),
        }
    }
}

impl PolicyDuration {
    /// The period as people read it: "7 天", "3 个工作日", "1 month". Codes stay in the policy file.
    pub fn words(self, locale: crate::messages::Locale) -> String {
        let (n, unit) = match self {
            Self::Seconds(n) => (n, "s"),
            Self::Minutes(n) => (n, "m"),
            Self::Hours(n) => (n, "h"),
            Self::Days(n) => (u64::from(n), "d"),
            Self::WorkingDays(n) => (u64::from(n), "wd"),
            Self::Months(n) => (u64::from(n), "mo"),
        };
        let key = if n == 1 { format!("duration.{unit}_one") } else { format!("duration.{unit}") };
        crate::messages::t(locale, &key, &[("n", &n.to_string())])
    }
}

impl std::str::FromStr for PolicyDuration {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::PolicyDuration::{self, *};

    #[test]
    fn a_period_reads_in_words_in_either_language() {
        use crate::messages::Locale::{En, ZhCn};
        assert_eq!(WorkingDays(10).words(ZhCn), "10 个工作日");
        assert_eq!(Days(7).words(ZhCn), "7 天");
        assert_eq!(Months(1).words(ZhCn), "1 个月");
        assert_eq!(Days(1).words(En), "1 day");
        assert_eq!(Days(7).words(En), "7 days");
        assert_eq!(WorkingDays(3).words(En), "3 working days");
        assert_eq!(Months(2).words(En), "2 months");
        assert_eq!(Minutes(2).words(En), "2 minutes");
    }

    #[test]
    fn parses_every_unit_and_prints_it_back() {
        for (text, want) in
            [("2s", Seconds(2)), ("5m", Minutes(5)), ("4h", Hours(4)), ("0d", Days(0)), ("7d", Days(7)), ("3wd", WorkingDays(3)), ("1mo", Months(1))]
        {
            let got = PolicyDuration::parse(text).unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_durations_with_the_reason() {
        for (text, why) in [
            ("", "no unit"),
            ("7", "no unit"),
            ("d", "no number before the unit"),
            ("3 weeks", "unknown unit"),
            ("3w", "unknown unit"),
            ("99999999999999999999s", "number too large"),
            ("5000d", "more than ten years"),
            // Clock periods too: 10⁶ hours do not fit a deadline (and 10¹⁵ minutes not even i64 milliseconds).
            ("1000000h", "more than ten years"),
            ("999999999999999m", "more than ten years"),
            ("315360000001s", "more than ten years"),
        ] {
            let err = PolicyDuration::parse(text).unwrap_err();
            assert_eq!(err.why, why, "{text}");
            assert!(err.to_string().contains(text), "{err}");
        }
    }
}

//! The working-day calendar and the 13710 period arithmetic.
//!
//! China's working days are not "Monday to Friday minus holidays": each year the State Council
//! publishes the holidays and the weekend days that become working days (调休). That is data, in the
//! policy file. Periods count as the procedure laws say: the start day is not counted, and a period
//! whose last day is not a working day ends on the next working day.

use crate::duration::PolicyDuration;
use chrono::{Datelike, Days, FixedOffset, Months, NaiveDate, TimeZone, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One year's published arrangement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Year {
    /// Days off, weekdays included (放假).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休上班).
    pub workdays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub years: BTreeMap<i32, Year>,
    /// Offset of local civil time from UTC in seconds (China: +08:00 = 28800).
    pub utc_offset_secs: i32,
}

impl Calendar {
    /// Whether the calendar has the State Council's data for this year. Outside covered years the
    /// calendar falls back to Monday–Friday, and callers should say so.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn is_workday(&self, date: NaiveDate) -> bool {
        if let Some(y) = self.years.get(&date.year()) {
            if y.workdays.contains(&date) {
                return true;
            }
            if y.holidays.contains(&date) {
                return false;
            }
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The first working day on or after `date`.
    pub fn on_or_next_workday(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_workday(date) {
            date = date + Days::new(1);
        }
        date
    }

    /// The last day of a period of `period` starting on `start`, counted by the rules: the start
    /// day is not counted, and a last day that is not a working day moves to the next working day.
    /// Clock durations (`2s`) are not dates; they count as zero days here.
    pub fn add(&self, start: NaiveDate, period: PolicyDuration) -> NaiveDate {
        let last = match period {
            PolicyDuration::Days(n) => start + Days::new(n.into()),
            PolicyDuration::Months(n) => start.checked_add_months(Months::new(n)).unwrap_or(start),
            PolicyDuration::WorkingDays(n) => {
                let mut d = start;
                let mut left = n;
                while left > 0 {
                    d = d + Days::new(1);
                    if self.is_workday(d) {
                        left -= 1;
                    }
                }
                d
            }
            PolicyDuration::Seconds(_) | PolicyDuration::Minutes(_) | PolicyDuration::Hours(_) => start,
        };
        self.on_or_next_workday(last)
    }

    fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_secs).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"))
    }

    /// The local calendar date of an instant (Unix milliseconds).
    pub fn local_date(&self, at_ms: i64) -> NaiveDate {
        self.offset().timestamp_millis_opt(at_ms).single().map(|t| t.date_naive()).unwrap_or_default()
    }

    /// The instant (Unix milliseconds) a local date ends: midnight at the start of the next day.
    pub fn end_of_day_ms(&self, date: NaiveDate) -> i64 {
        let next = date + Days::new(1);
        let midnight = next.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.offset().from_local_datetime(&midnight).single().map(|t| t.timestamp_millis()).unwrap_or(0)
    }

    /// When a period of `period` that starts at `from_ms` runs out. Clock durations add exact
    /// time; day, working-day and month periods end at the end of their last day, local time.
    pub fn due_ms(&self, from_ms: i64, period: PolicyDuration) -> i64 {
        match period.clock_millis() {
            Some(ms) => from_ms + ms,
            None => self.end_of_day_ms(self.add(self.local_date(from_ms), period)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn cal() -> Calendar {
        Policy::builtin().calendar.clone()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Every make-up working day (调休上班) the State Council published for 2025 and 2026.
    #[test]
    fn every_make_up_working_day_of_2025_and_2026_is_a_working_day() {
        let c = cal();
        for day in [
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11", // 2025
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10", // 2026
        ] {
            let date = d(day);
            assert!(matches!(date.weekday(), Weekday::Sat | Weekday::Sun), "{day} is a weekend day");
            assert!(c.is_workday(date), "{day} must be a working day");
        }
        let listed: usize = c.years.values().map(|y| y.workdays.len()).sum();
        assert_eq!(listed, 11, "no other make-up days are listed");
    }

    #[test]
    fn every_holiday_of_2025_and_2026_is_a_day_off() {
        let c = cal();
        let ranges = [
            ("2025-01-01", "2025-01-01"),
            ("2025-01-28", "2025-02-04"),
            ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"),
            ("2025-05-31", "2025-06-02"),
            ("2025-10-01", "2025-10-08"),
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ];
        let mut total = 0;
        for (from, to) in ranges {
            let mut day = d(from);
            while day <= d(to) {
                assert!(!c.is_workday(day), "{day} is a holiday");
                total += 1;
                day = day + Days::new(1);
            }
        }
        // 2025: 1+8+3+5+3+8 = 28 days; 2026: 3+9+3+5+3+3+7 = 33 days.
        assert_eq!(total, 61);
    }

    #[test]
    fn ordinary_days_follow_the_week() {
        let c = cal();
        for (day, want) in [
            ("2026-11-23", true),  // Monday
            ("2026-11-28", false), // Saturday
            ("2026-11-29", false), // Sunday
            ("2025-12-31", true),  // Wednesday
            ("2026-10-08", true),  // the Thursday after National Day
            ("2026-10-11", false), // Sunday after the make-up Saturday
        ] {
            assert_eq!(c.is_workday(d(day)), want, "{day}");
        }
    }

    #[test]
    fn periods_count_by_the_procedure_rules() {
        let c = cal();
        use PolicyDuration::*;
        for (start, period, want) in [
            // RULES §1 examples.
            ("2026-09-25", Days(7), "2026-10-08"),        // ends in National Day, moves to Thursday
            ("2026-09-30", WorkingDays(3), "2026-10-10"), // a make-up Saturday is a working day
            // Start day not counted.
            ("2026-11-23", Days(3), "2026-11-26"),
            ("2026-11-23", Days(0), "2026-11-23"),
            ("2026-11-28", Days(0), "2026-11-30"), // same day, but Saturday: Monday
            ("2026-11-27", WorkingDays(3), "2026-12-02"),
            ("2026-11-27", Days(7), "2026-12-04"),
            // Month ends: clamp to the last day of a shorter month.
            ("2026-01-31", Months(1), "2026-02-28"), // clamped to Feb 28, a make-up working Saturday
            ("2025-01-31", Months(1), "2025-02-28"),
            ("2026-03-31", Months(1), "2026-04-30"),
            ("2026-12-31", Months(1), "2027-02-01"), // 2027-01-31 is a Sunday (fallback week rule)
            ("2025-12-31", Days(1), "2026-01-04"),   // New Year 1–3 off, Sunday the 4th is a make-up day
            // Working days across Spring Festival 2026: 02-14 (Sat) works, 15–23 off.
            ("2026-02-13", WorkingDays(1), "2026-02-14"),
            ("2026-02-13", WorkingDays(2), "2026-02-24"),
            ("2026-02-13", WorkingDays(5), "2026-02-27"),
            ("2026-02-13", WorkingDays(6), "2026-02-28"),
            // 7 days ending inside the 2025 National Day holiday (10-01..10-08).
            ("2025-09-26", Days(7), "2025-10-09"),
            ("2025-09-30", WorkingDays(1), "2025-10-09"),
            // One month landing in the holiday.
            ("2026-09-01", Months(1), "2026-10-08"),
        ] {
            assert_eq!(c.add(d(start), period), d(want), "{start} + {period}");
        }
    }

    #[test]
    fn due_instants_end_at_local_midnight_or_count_seconds() {
        let c = cal();
        // 2026-09-30 10:00 +08:00
        let from = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 9, 30, 10, 0, 0).unwrap().timestamp_millis();
        let due = c.due_ms(from, PolicyDuration::WorkingDays(3));
        let want = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 10, 11, 0, 0, 0).unwrap().timestamp_millis();
        assert_eq!(due, want);
        assert_eq!(c.due_ms(from, PolicyDuration::Seconds(2)), from + 2000);
        assert_eq!(c.local_date(from), d("2026-09-30"));
        // One millisecond before local midnight is still the previous day.
        assert_eq!(c.local_date(from - 10 * 3_600_000 - 1), d("2026-09-29"));
    }
}

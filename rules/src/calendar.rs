//! The working-day calendar and the 13710 period arithmetic.
//!
//! China's working days are not "Monday to Friday minus holidays": each year the State Council
//! publishes the holidays and the weekend days that become working days (调休). That is data, in the
//! policy file. A year whose schedule is not published yet is *provisional*: it has the days off
//! the law itself fixes (全国年节及纪念日放假办法, revised 2024: 元旦, 春节, 清明, 劳动节, 端午,
//! 中秋, 国庆), found on the Gregorian, the lunisolar or the solar-term calendar, and weekends; the
//! bridging days and make-up working days are not guessed. Periods count as the procedure laws
//! say: the start day is not counted, and a period whose last day is not a working day ends on the
//! next working day.

use crate::duration::PolicyDuration;
use chrono::{Datelike, Days, FixedOffset, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// One year's published arrangement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Year {
    /// Days off, weekdays included (放假).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休上班).
    pub workdays: BTreeSet<NaiveDate>,
    /// Where the schedule comes from: the State Council notice's document number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Where a statutory day off falls in a Gregorian year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "calendar", rename_all = "snake_case")]
pub enum Anchor {
    /// A Gregorian month and day (元旦: 01-01).
    Gregorian { month: u32, day: u32 },
    /// A day of a regular (not leap) month of the Chinese lunisolar calendar (端午: 05-05).
    Lunar { month: u32, day: u32 },
    /// The last day of the lunar year, the eve of the lunar new year (除夕).
    LunarNewYearsEve,
    /// The day a solar term begins, Beijing time (清明).
    SolarTerm { name: String },
}

/// The 24 solar terms as the lunisolar library names them, 冬至 first.
const SOLAR_TERMS: [&str; 24] = [
    "冬至", "小寒", "大寒", "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至", "小暑", "大暑", "立秋", "处暑", "白露", "秋分",
    "寒露", "霜降", "立冬", "小雪", "大雪",
];

/// The Gregorian years the lunisolar library computes without panicking (it covers 1 to 9999, and
/// a lunar year reaches into the next Gregorian one). Outside them a lunar or solar-term anchor
/// falls on no day: such a year keeps its Gregorian statutory days and its weekends.
const LUNISOLAR_YEARS: std::ops::RangeInclusive<i32> = 2..=9998;

impl Anchor {
    /// Reads the policy's notation: `01-01`, `lunar:05-05`, `lunar:eve`, `term:清明`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let month_day = |s: &str, max_day: u32| -> Result<(u32, u32), String> {
            let (m, d) = s.split_once('-').ok_or_else(|| format!("{text:?} is not MM-DD"))?;
            let (m, d): (u32, u32) = (m.parse().map_err(|_| format!("{text:?}: bad month"))?, d.parse().map_err(|_| format!("{text:?}: bad day"))?);
            if !(1..=12).contains(&m) || !(1..=max_day).contains(&d) {
                return Err(format!("{text:?} is not a month 1–12 and a day 1–{max_day}"));
            }
            Ok((m, d))
        };
        if let Some(rest) = text.strip_prefix("lunar:") {
            if rest == "eve" {
                return Ok(Self::LunarNewYearsEve);
            }
            let (month, day) = month_day(rest, 30)?;
            return Ok(Self::Lunar { month, day });
        }
        if let Some(name) = text.strip_prefix("term:") {
            if !SOLAR_TERMS.contains(&name) {
                return Err(format!("{name:?} is not one of the 24 solar terms ({})", SOLAR_TERMS.join(" ")));
            }
            return Ok(Self::SolarTerm { name: name.to_string() });
        }
        let (month, day) = month_day(text, 31)?;
        if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
            return Err(format!("{text:?} is not a day of the year"));
        }
        Ok(Self::Gregorian { month, day })
    }

    /// The day this anchor falls on in a Gregorian year, if it falls in it at all (a 30th day of a
    /// lunar month that has 29 days does not).
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        use tyme4rs::tyme::lunar::LunarDay;
        use tyme4rs::tyme::solar::{SolarDay, SolarTerm};
        let solar = |d: SolarDay| NaiveDate::from_ymd_opt(d.get_year() as i32, d.get_month() as u32, d.get_day() as u32);
        if !matches!(self, Self::Gregorian { .. }) && !LUNISOLAR_YEARS.contains(&year) {
            return None;
        }
        match self {
            Self::Gregorian { month, day } => NaiveDate::from_ymd_opt(year, *month, *day),
            Self::Lunar { month, day } => {
                // A lunar date of lunar year Y usually falls in Gregorian year Y; its 11th and 12th
                // months may reach into Y + 1, so the year before is tried as well.
                [year, year - 1].into_iter().find_map(|ly| {
                    let d = LunarDay::new(ly as isize, *month as isize, *day as usize).ok()?;
                    solar(d.get_solar_day()).filter(|d| d.year() == year)
                })
            }
            Self::LunarNewYearsEve => {
                let first = solar(LunarDay::new(year as isize, 1, 1).ok()?.get_solar_day())?;
                first.pred_opt().filter(|d| d.year() == year)
            }
            Self::SolarTerm { name } => solar(SolarTerm::new(year as isize, name).ok()?.get_solar_day()).filter(|d| d.year() == year),
        }
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gregorian { month, day } => write!(f, "{month:02}-{day:02}"),
            Self::Lunar { month, day } => write!(f, "lunar:{month:02}-{day:02}"),
            Self::LunarNewYearsEve => f.write_str("lunar:eve"),
            Self::SolarTerm { name } => write!(f, "term:{name}"),
        }
    }
}

/// One day off (or run of days) the law fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatutoryHoliday {
    /// The holiday's catalogue key (`holiday.<id>`).
    pub id: String,
    pub on: Anchor,
    pub days: u32,
}

/// The days off fixed by law, from the year the rule is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statutory {
    pub since: i32,
    pub source: String,
    pub holidays: Vec<StatutoryHoliday>,
    /// From this month and day on, next year's schedule is expected (the State Council publishes
    /// it around November): its absence is warned about.
    #[serde(default = "default_expected_from")]
    pub next_year_expected_from: (u32, u32),
}

fn default_expected_from() -> (u32, u32) {
    (11, 1)
}

impl Statutory {
    /// The statutory days off in a Gregorian year, each with its holiday's id.
    pub fn days_in(&self, year: i32) -> BTreeMap<NaiveDate, String> {
        let mut out = BTreeMap::new();
        if year < self.since {
            return out;
        }
        // A run that starts late in the year before (a long 除夕 run would) reaches into this one.
        for y in [year - 1, year] {
            for h in &self.holidays {
                let Some(first) = h.on.date_in(y) else { continue };
                for i in 0..h.days {
                    if let Some(d) = first.checked_add_days(Days::new(i.into())).filter(|d| d.year() == year) {
                        out.entry(d).or_insert_with(|| h.id.clone());
                    }
                }
            }
        }
        out
    }
}

/// Statutory days already worked out, per year. Lunar conversions are slow next to a set lookup
/// and period arithmetic asks for the same year again and again. A cache of a pure function,
/// so it changes no result and is not part of the calendar's value.
#[derive(Debug, Clone, Default)]
struct YearCache(Arc<Mutex<HashMap<i32, Arc<BTreeSet<NaiveDate>>>>>);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Calendar {
    pub years: BTreeMap<i32, Year>,
    /// Offset of local civil time from UTC in seconds (China: +08:00 = 28800).
    pub utc_offset_secs: i32,
    /// The days off fixed by law, for years without a published schedule. Absent from calendars
    /// serialised before provisional years existed (old workflow inputs): those keep counting
    /// Monday–Friday in such years, as they did when they were issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statutory: Option<Statutory>,
    #[serde(skip)]
    cache: YearCache,
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.years == other.years && self.utc_offset_secs == other.utc_offset_secs && self.statutory == other.statutory
    }
}
impl Eq for Calendar {}

/// A year's published schedule that does not fit the rules, naming the date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

impl Calendar {
    pub fn new(years: BTreeMap<i32, Year>, utc_offset_secs: i32, statutory: Option<Statutory>) -> Self {
        Self { years, utc_offset_secs, statutory, cache: YearCache::default() }
    }

    pub fn statutory(&self) -> Option<&Statutory> {
        self.statutory.as_ref()
    }

    /// Whether the calendar has the State Council's schedule for this year.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// A year without a published schedule: its dates count statutory days and weekends only.
    pub fn is_provisional(&self, year: i32) -> bool {
        !self.covers(year)
    }

    /// The years without a published schedule between two dates (both included), in order.
    pub fn provisional_years(&self, from: NaiveDate, to: NaiveDate) -> Vec<i32> {
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        (a.year()..=b.year()).filter(|y| self.is_provisional(*y)).collect()
    }

    /// The provisional years a period from one instant to another was counted over. `due_ms` is
    /// an end instant: a day-scale period ends at midnight after its last day.
    pub fn provisional_years_ms(&self, from_ms: i64, due_ms: i64) -> Vec<i32> {
        self.provisional_years(self.local_date(from_ms), self.local_date(due_ms.saturating_sub(1)))
    }

    /// The next year, when its schedule should be published by `today` and is not here.
    pub fn schedule_missing(&self, today: NaiveDate) -> Option<i32> {
        let (month, day) = self.statutory.as_ref()?.next_year_expected_from;
        let next = today.year() + 1;
        ((today.month(), today.day()) >= (month, day) && !self.covers(next)).then_some(next)
    }

    /// Adds a published year to the calendar (or replaces it), checked like the built-in ones.
    pub fn learn(&mut self, year: i32, schedule: Year) -> Result<(), ScheduleError> {
        self.check_year(year, &schedule)?;
        self.years.insert(year, schedule);
        Ok(())
    }

    /// The statutory days off of a year, each with its holiday's id (none before the rule's
    /// first year, or in a calendar without the rule).
    pub fn statutory_days(&self, year: i32) -> BTreeMap<NaiveDate, String> {
        self.statutory.as_ref().map(|s| s.days_in(year)).unwrap_or_default()
    }

    fn statutory_set(&self, year: i32) -> Arc<BTreeSet<NaiveDate>> {
        let mut cache = self.cache.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.entry(year).or_insert_with(|| Arc::new(self.statutory_days(year).into_keys().collect())).clone()
    }

    /// Checks a year's published schedule against the rules: every date in the year, every make-up
    /// working day a weekend day, no date both off and working, and every day the law fixes off.
    pub fn check_year(&self, year: i32, y: &Year) -> Result<(), ScheduleError> {
        let err = |s: String| Err(ScheduleError(s));
        for d in y.holidays.iter().chain(&y.workdays) {
            if d.year() != year {
                return err(format!("{d} is not in {year}"));
            }
        }
        if let Some(d) = y.holidays.intersection(&y.workdays).next() {
            return err(format!("{d} is listed both as a day off and as a working day"));
        }
        if let Some(d) = y.workdays.iter().find(|d| !is_weekend(**d)) {
            return err(format!("{d} is a {}, not a weekend day: only a Saturday or Sunday can become a make-up working day", d.weekday()));
        }
        for (d, id) in self.statutory_days(year) {
            if y.workdays.contains(&d) || (!y.holidays.contains(&d) && !is_weekend(d)) {
                return err(format!("{d} is a statutory day off ({id}), but the schedule makes it a working day"));
            }
        }
        Ok(())
    }

    pub fn is_workday(&self, date: NaiveDate) -> bool {
        match self.years.get(&date.year()) {
            Some(y) if y.workdays.contains(&date) => return true,
            Some(y) if y.holidays.contains(&date) => return false,
            Some(_) => {}
            None if self.statutory.is_some() && self.statutory_set(date.year()).contains(&date) => return false,
            None => {}
        }
        !is_weekend(date)
    }

    /// The first working day on or after `date` (or the last day there is).
    pub fn on_or_next_workday(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_workday(date)
            && let Some(next) = date.succ_opt()
        {
            date = next;
        }
        date
    }

    /// The last day of a period of `period` starting on `start`, counted by the rules: the start
    /// day is not counted, and a last day that is not a working day moves to the next working day.
    /// Clock durations (`2s`) are not dates; they count as zero days here. A period that would
    /// end after the last date chrono represents ends on that date.
    pub fn add(&self, start: NaiveDate, period: PolicyDuration) -> NaiveDate {
        let last = match period {
            PolicyDuration::Days(n) => start.checked_add_days(Days::new(n.into())).unwrap_or(NaiveDate::MAX),
            PolicyDuration::Months(n) => start.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX),
            PolicyDuration::WorkingDays(n) => {
                let mut d = start;
                let mut left = n;
                while left > 0
                    && let Some(next) = d.succ_opt()
                {
                    d = next;
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

    /// The local calendar date of an instant (Unix milliseconds); the first or the last date chrono
    /// represents for an instant before or after them.
    pub fn local_date(&self, at_ms: i64) -> NaiveDate {
        let offset = chrono::TimeDelta::seconds(self.offset().local_minus_utc().into());
        chrono::DateTime::from_timestamp_millis(at_ms)
            .and_then(|utc| utc.naive_utc().checked_add_signed(offset))
            .map(|local| local.date())
            .unwrap_or(if at_ms < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
    }

    /// The instant (Unix milliseconds) a local date ends: midnight at the start of the next day.
    pub fn end_of_day_ms(&self, date: NaiveDate) -> i64 {
        // A fixed offset has no daylight saving: a local day is 24 hours. Counted in milliseconds,
        // not dates, so the last date chrono represents has an end as well.
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp_millis();
        midnight + 86_400_000 - i64::from(self.offset().local_minus_utc()) * 1000
    }

    /// When a period of `period` that starts at `from_ms` runs out. Clock durations add exact
    /// time; day, working-day and month periods end at the end of their last day, local time.
    pub fn due_ms(&self, from_ms: i64, period: PolicyDuration) -> i64 {
        match period.clock_millis() {
            Some(ms) => from_ms.saturating_add(ms),
            None => self.end_of_day_ms(self.add(self.local_date(from_ms), period)),
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use chrono::TimeZone;

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
            ("2026-12-31", Months(1), "2027-02-01"), // 2027-01-31 is a Sunday (provisional 2027)
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

    fn dates(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|s| d(s)).collect()
    }

    /// The statutory days off of the provisional years 2027–2030, as the law fixes them. 除夕,
    /// 清明, 端午 and 中秋 as published in the Purple Mountain Observatory's almanac (and agreed
    /// by both lunisolar libraries, see below).
    #[test]
    fn every_statutory_day_of_2027_to_2030_is_a_day_off() {
        let c = cal();
        let table: &[(i32, &[&str])] = &[
            (
                2027,
                &[
                    "2027-01-01",
                    "2027-02-05",
                    "2027-02-06",
                    "2027-02-07",
                    "2027-02-08",
                    "2027-04-05",
                    "2027-05-01",
                    "2027-05-02",
                    "2027-06-09",
                    "2027-09-15",
                    "2027-10-01",
                    "2027-10-02",
                    "2027-10-03",
                ],
            ),
            (
                2028,
                &[
                    "2028-01-01",
                    "2028-01-25",
                    "2028-01-26",
                    "2028-01-27",
                    "2028-01-28",
                    "2028-04-04",
                    "2028-05-01",
                    "2028-05-02",
                    "2028-05-28",
                    "2028-10-03",
                    "2028-10-01",
                    "2028-10-02",
                ],
            ),
            (
                2029,
                &[
                    "2029-01-01",
                    "2029-02-12",
                    "2029-02-13",
                    "2029-02-14",
                    "2029-02-15",
                    "2029-04-04",
                    "2029-05-01",
                    "2029-05-02",
                    "2029-06-16",
                    "2029-09-22",
                    "2029-10-01",
                    "2029-10-02",
                    "2029-10-03",
                ],
            ),
            (
                2030,
                &[
                    "2030-01-01",
                    "2030-02-02",
                    "2030-02-03",
                    "2030-02-04",
                    "2030-02-05",
                    "2030-04-05",
                    "2030-05-01",
                    "2030-05-02",
                    "2030-06-05",
                    "2030-09-12",
                    "2030-10-01",
                    "2030-10-02",
                    "2030-10-03",
                ],
            ),
        ];
        for (year, want) in table {
            assert!(c.is_provisional(*year), "{year} has no published schedule");
            let got: Vec<NaiveDate> = c.statutory_days(*year).into_keys().collect();
            let mut want = dates(want);
            want.sort();
            // 2028: 中秋 falls on 10-03, inside 国庆, so the year has 12 distinct statutory days.
            assert_eq!(got, want, "statutory days of {year}");
            for day in &want {
                assert!(!c.is_workday(*day), "{day} is a statutory day off");
            }
        }
    }

    #[test]
    fn provisional_years_follow_the_week_outside_the_statutory_days() {
        let c = cal();
        for (day, want) in [
            ("2027-01-04", true),  // Monday after 元旦
            ("2027-02-04", true),  // Thursday before 除夕
            ("2027-02-08", false), // 正月初三, a Monday
            ("2027-02-09", true),  // no bridging day is guessed
            ("2027-02-13", false), // a Saturday: no make-up working day is guessed either
            ("2027-04-05", false), // 清明, a Monday
            ("2027-09-15", false), // 中秋, a Wednesday
            ("2027-10-04", true),  // 国庆 is 3 days by law; the rest of the week needs the notice
            ("2028-11-15", true),
            ("2030-06-05", false), // 端午, a Wednesday
            ("2030-06-06", true),
        ] {
            assert_eq!(c.is_workday(d(day)), want, "{day}");
        }
    }

    #[test]
    fn periods_run_across_new_year_and_spring_festival_2027() {
        let c = cal();
        use PolicyDuration::*;
        for (start, period, want) in [
            ("2026-12-30", WorkingDays(2), "2027-01-04"), // 12-31, then 元旦 and a weekend
            ("2026-12-31", Days(1), "2027-01-04"),        // last day 元旦 (off), Sat, Sun
            ("2026-12-28", Days(7), "2027-01-04"),
            ("2027-02-04", WorkingDays(1), "2027-02-09"), // 除夕 Fri, weekend, 初三 Mon
            ("2027-02-01", Days(7), "2027-02-09"),        // ends on 初三
            ("2027-01-29", WorkingDays(7), "2027-02-11"), // 02-01..04, then 02-09..11
            ("2027-01-08", Months(1), "2027-02-09"),      // 02-08 is 初三
        ] {
            assert_eq!(c.add(d(start), period), d(want), "{start} + {period}");
        }
        assert_eq!(c.provisional_years(d("2026-12-30"), d("2027-01-04")), vec![2027]);
        assert!(c.provisional_years(d("2026-11-30"), d("2026-12-31")).is_empty());
    }

    /// A published schedule can never make a day the law fixes off into a working day; the
    /// built-in years are checked like any loaded one.
    #[test]
    fn no_published_year_marks_a_statutory_day_as_a_working_day() {
        let c = cal();
        assert!(c.years.len() >= 2);
        for (year, schedule) in &c.years {
            let days = c.statutory_days(*year);
            assert!(days.len() >= 12, "{year}: the law fixes 13 days off");
            for (day, id) in &days {
                assert!(!c.is_workday(*day), "{day} ({id}) is a working day in the published {year} schedule");
            }
            c.check_year(*year, schedule).unwrap_or_else(|e| panic!("{year}: {e}"));
        }
        // And the check does catch it.
        let mut bad = c.years[&2026].clone();
        bad.holidays.remove(&d("2026-10-02"));
        assert_eq!(c.check_year(2026, &bad).unwrap_err().0, "2026-10-02 is a statutory day off (national_day), but the schedule makes it a working day");
    }

    /// The built-in 2025 and 2026 schedules against a second transcription of the State Council's
    /// notices: the legal-holiday table of the lunisolar library.
    #[test]
    fn the_builtin_schedules_match_the_libraries_legal_holiday_table() {
        use tyme4rs::tyme::holiday::LegalHoliday;
        let c = cal();
        for year in [2025, 2026] {
            let mut off = BTreeSet::new();
            let mut work = BTreeSet::new();
            let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while day.year() == year {
                if let Some(h) = LegalHoliday::from_ymd(year as isize, day.month() as usize, day.day() as usize) {
                    if h.is_work() {
                        work.insert(day)
                    } else {
                        off.insert(day)
                    };
                }
                day = day.succ_opt().unwrap();
            }
            assert_eq!(c.years[&year].holidays, off, "days off of {year}");
            assert_eq!(c.years[&year].workdays, work, "make-up working days of {year}");
        }
    }

    /// The lunar anchors as the primary library computes them, checked day by day against a
    /// second, table-based library for every year it covers after the law took effect.
    #[test]
    fn lunar_statutory_days_agree_with_a_second_library_up_to_2100() {
        use chinese_lunisolar_calendar::LunisolarDate;
        let lunar = |day: NaiveDate| {
            let l = LunisolarDate::from_date(day).expect("in range");
            (l.to_lunar_month().to_u8(), l.to_lunar_month().is_leap_month(), l.to_lunar_day().to_u8())
        };
        let mut differ = vec![];
        for year in 2025..=2100 {
            let eve = Anchor::LunarNewYearsEve.date_in(year).unwrap();
            assert_eq!(lunar(eve).0, 12, "{year}: 除夕 {eve} is in the 12th month");
            if lunar(eve.succ_opt().unwrap()) != (1, false, 1) {
                differ.push(format!("{year} eve {eve}"));
            }
            for (m, dd) in [(5, 5), (8, 15)] {
                let day = Anchor::Lunar { month: m, day: dd }.date_in(year).unwrap();
                if lunar(day) != (m as u8, false, dd as u8) {
                    differ.push(format!("{year} {m:02}-{dd:02} {day}"));
                }
            }
        }
        // The one disagreement in 76 years: the new moon of September 2089 falls so close to
        // Beijing midnight that the astronomical and the tabulated calendars start the month a
        // day apart. The State Council's notice for 2089 will settle it; until then 中秋 2089 is
        // provisional like every other date of that year.
        assert_eq!(differ, vec!["2089 08-15 2089-09-18".to_string()]);
    }

    /// 清明 from the library's astronomical solar terms against the almanac's published dates.
    #[test]
    fn qingming_falls_on_the_almanac_dates() {
        let term = Anchor::SolarTerm { name: "清明".into() };
        for (year, want) in [
            (2025, "2025-04-04"),
            (2026, "2026-04-05"),
            (2027, "2027-04-05"),
            (2028, "2028-04-04"),
            (2029, "2029-04-04"),
            (2030, "2030-04-05"),
            (2031, "2031-04-05"),
            (2032, "2032-04-04"),
        ] {
            assert_eq!(term.date_in(year), Some(d(want)), "清明 {year}");
        }
        for year in 2025..=2100 {
            let q = term.date_in(year).unwrap();
            assert!(q.month() == 4 && (4..=5).contains(&q.day()), "清明 {year} on {q}");
        }
    }

    /// Found by the property tests: an instant in year 262140 (chrono's range goes that far, the
    /// lunisolar library's does not) panicked inside the library.
    #[test]
    fn anchors_in_years_beyond_the_lunisolar_library_fall_on_no_day() {
        let c = cal();
        let anchors = [Anchor::LunarNewYearsEve, Anchor::Lunar { month: 5, day: 5 }, Anchor::SolarTerm { name: "清明".into() }];
        for year in (-3..=3).chain(9990..=10_005).chain([262_142, 262_143, -262_143, i32::MAX, i32::MIN]) {
            for a in &anchors {
                let _ = a.date_in(year);
            }
            let _ = c.statutory_days(year);
        }
        assert!(Anchor::LunarNewYearsEve.date_in(9998).is_some());
        assert_eq!(Anchor::LunarNewYearsEve.date_in(262_140), None);
        assert_eq!(Anchor::Gregorian { month: 1, day: 1 }.date_in(262_140), NaiveDate::from_ymd_opt(262_140, 1, 1));
    }

    /// Found by the property tests: a period counted near the last day chrono represents ran
    /// out of dates (`NaiveDate + Days` panicked). Periods stop at that day instead.
    #[test]
    fn periods_at_the_end_of_the_representable_dates_stop_there() {
        let c = cal();
        use PolicyDuration::*;
        for period in [Days(0), Days(7), WorkingDays(3), Months(1), Seconds(2)] {
            for start in [NaiveDate::MAX, NaiveDate::MAX.pred_opt().unwrap(), NaiveDate::MAX - chrono::Days::new(10)] {
                let last = c.add(start, period);
                assert!(last >= start, "{start} + {period} = {last}");
            }
        }
        let last_day = c.end_of_day_ms(NaiveDate::MAX);
        assert_eq!(last_day - c.end_of_day_ms(NaiveDate::MAX.pred_opt().unwrap()), 86_400_000);
        assert_eq!(c.local_date(last_day - 1), NaiveDate::MAX);
        // The last hours of chrono's range in UTC are past it in local time (+08:00).
        let utc_last = NaiveDate::MAX.and_hms_opt(20, 0, 0).unwrap().and_utc().timestamp_millis();
        assert_eq!(c.local_date(utc_last), NaiveDate::MAX);
        assert_eq!((c.local_date(i64::MAX), c.local_date(i64::MIN)), (NaiveDate::MAX, NaiveDate::MIN), "instants beyond the dates");
        let from = last_day - 3_600_000;
        for period in [Days(0), Days(7), WorkingDays(3), Months(1)] {
            assert!(c.due_ms(from, period) >= from, "{period}");
        }
    }

    #[test]
    fn anchors_read_and_write_the_policy_notation() {
        for text in ["01-01", "lunar:05-05", "lunar:eve", "term:清明"] {
            assert_eq!(Anchor::parse(text).unwrap().to_string(), text);
        }
        assert!(Anchor::parse("02-30").unwrap_err().contains("not a day of the year"));
        assert!(Anchor::parse("lunar:13-01").is_err());
        assert!(Anchor::parse("term:qingming").unwrap_err().contains("solar terms"));
        // A 30th that the lunar month does not have is skipped, not moved.
        let months_with_30: usize = (2025..2035).filter(|y| Anchor::Lunar { month: 12, day: 30 }.date_in(*y).is_some()).count();
        assert!(months_with_30 < 10);
    }

    #[test]
    fn a_calendar_serialised_before_statutory_days_counts_monday_to_friday() {
        let mut old = serde_json::to_value(cal()).unwrap();
        old.as_object_mut().unwrap().remove("statutory");
        let old: Calendar = serde_json::from_value(old).unwrap();
        assert!(old.is_workday(d("2027-01-01")), "as it did when such matters were issued");
        assert!(!cal().is_workday(d("2027-01-01")));
    }

    #[test]
    fn next_years_schedule_is_missed_from_the_first_of_november() {
        let c = cal();
        assert_eq!(c.schedule_missing(d("2026-10-31")), None);
        assert_eq!(c.schedule_missing(d("2026-11-01")), Some(2027));
        assert_eq!(c.schedule_missing(d("2026-12-31")), Some(2027));
        assert_eq!(c.schedule_missing(d("2025-11-20")), None, "2026 is published");
    }

    #[test]
    fn learning_a_year_checks_it_and_ends_its_provisional_state() {
        let mut c = cal();
        let mut y = Year { source: Some("国办发明电〔2026〕X号".into()), ..Year::default() };
        for day in
            ["2027-01-01", "2027-02-05..", "2027-04-05", "2027-05-01", "2027-05-02", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02", "2027-10-03"]
        {
            if let Some(from) = day.strip_suffix("..") {
                let mut x = d(from);
                for _ in 0..7 {
                    y.holidays.insert(x);
                    x = x.succ_opt().unwrap();
                }
            } else {
                y.holidays.insert(d(day));
            }
        }
        y.workdays.insert(d("2027-02-04")); // a Thursday
        assert!(c.learn(2027, y.clone()).unwrap_err().0.contains("2027-02-04 is a Thu, not a weekend day"));
        y.workdays = [d("2027-02-20")].into();
        c.learn(2027, y).unwrap();
        assert!(!c.is_provisional(2027));
        assert!(!c.is_workday(d("2027-02-10")), "a bridging day of the published schedule");
        assert!(c.is_workday(d("2027-02-20")), "a make-up Saturday");
    }
}

//! `[statutory]` and `[calendar.YYYY]` of the policy file: the days off the law fixes and the
//! State Council's published schedules, resolved into the working-day [`Calendar`]. The checks
//! of a schedule against the law are [`Calendar::check_year`]; this module reads the file's
//! dates and names the key of every problem.

use super::{Error, key_err};
use crate::calendar::{Anchor, Calendar, Statutory, StatutoryHoliday, Year};
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// `[statutory]` as the file writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatutoryFile {
    source: String,
    since: i32,
    next_year_expected_from: String,
    holidays: Vec<StatutoryEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatutoryEntry {
    id: String,
    on: String,
    days: u32,
}

/// One year's schedule as a file writes it: dates and inclusive ranges (`2027-10-01..2027-10-07`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    #[serde(default)]
    pub source: Option<String>,
    pub holidays: Vec<String>,
    pub workdays: Vec<String>,
}

/// The calendar of a policy file: the statutory days first (every published year is checked
/// against them), then each `[calendar.YYYY]`.
pub(super) fn resolve(statutory: StatutoryFile, years: &BTreeMap<String, CalendarYear>, utc_offset_secs: i32) -> Result<Calendar, Error> {
    let statutory = statutory.validate()?;
    let mut calendar = Calendar::new(BTreeMap::new(), utc_offset_secs, Some(statutory));
    for (year_key, data) in years {
        let year: i32 = year_key
            .parse()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| key_err(format!("calendar.{year_key}"), "the table name must be a year such as 2026"))?;
        let key = format!("calendar.{year_key}");
        let y = data.to_year(&key, year)?;
        calendar.learn(year, y).map_err(|e| key_err(key, e.0))?;
    }
    Ok(calendar)
}

impl CalendarYear {
    /// Reads the dates of `year`, naming the key (`{key}.holidays[2]`) and the date of any
    /// problem: a bad date or range, a date outside the year, a date listed twice. The checks
    /// against the law (statutory days, weekend make-up days) are [`Calendar::check_year`].
    pub fn to_year(&self, key: &str, year: i32) -> Result<Year, Error> {
        let source = self.source.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = source
            && (s.chars().count() > 200 || s.chars().any(char::is_control))
        {
            return Err(key_err(format!("{key}.source"), "must be one line of at most 200 characters"));
        }
        let mut y = Year { source: source.map(str::to_string), ..Year::default() };
        let mut seen: BTreeMap<NaiveDate, String> = BTreeMap::new();
        for (field, list) in [("holidays", &self.holidays), ("workdays", &self.workdays)] {
            for (i, item) in list.iter().enumerate() {
                let key = format!("{key}.{field}[{i}]");
                let (from, to) = match item.split_once("..") {
                    Some((a, b)) => (parse_date(&key, a)?, parse_date(&key, b)?),
                    None => {
                        let d = parse_date(&key, item)?;
                        (d, d)
                    }
                };
                if from > to {
                    return Err(key_err(key, format!("the range {item:?} ends before it starts")));
                }
                if from.year() != year || to.year() != year {
                    return Err(key_err(key, format!("{item:?} is not in {year}")));
                }
                let mut d = from;
                while d <= to {
                    if let Some(first) = seen.insert(d, key.clone()) {
                        let what = if first.contains(".holidays") == key.contains(".holidays") {
                            "twice".to_string()
                        } else {
                            "both as a holiday and as a working day".to_string()
                        };
                        return Err(key_err(key, format!("{d} is listed {what} (first at {first})")));
                    }
                    if field == "holidays" {
                        y.holidays.insert(d)
                    } else {
                        y.workdays.insert(d)
                    };
                    d = d + Days::new(1);
                }
            }
        }
        Ok(y)
    }
}

impl StatutoryFile {
    fn validate(self) -> Result<Statutory, Error> {
        if self.source.trim().is_empty() {
            return Err(key_err("statutory.source", "name the law that fixes the days off"));
        }
        if !(1949..=2100).contains(&self.since) {
            return Err(key_err("statutory.since", format!("{} is not a year the rule can be in force from", self.since)));
        }
        if self.holidays.is_empty() {
            return Err(key_err("statutory.holidays", "at least one day off must be listed"));
        }
        let mut seen = BTreeSet::new();
        let mut holidays = vec![];
        for (i, h) in self.holidays.into_iter().enumerate() {
            let key = format!("statutory.holidays[{i}]");
            if !seen.insert(h.id.clone()) {
                return Err(key_err(format!("{key}.id"), format!("{:?} appears twice", h.id)));
            }
            if crate::messages::lookup(crate::messages::Locale::ZhCn, &format!("holiday.{}", h.id)).is_none() {
                return Err(key_err(format!("{key}.id"), format!("{:?} has no name in the message catalogue (holiday.{})", h.id, h.id)));
            }
            let on = Anchor::parse(h.on.trim()).map_err(|why| key_err(format!("{key}.on"), why))?;
            if !(1..=15).contains(&h.days) {
                return Err(key_err(format!("{key}.days"), format!("{} days: a statutory holiday lasts 1 to 15 days", h.days)));
            }
            holidays.push(StatutoryHoliday { id: h.id, on, days: h.days });
        }
        let next_year_expected_from = match Anchor::parse(self.next_year_expected_from.trim()) {
            Ok(Anchor::Gregorian { month, day }) => (month, day),
            _ => return Err(key_err("statutory.next_year_expected_from", format!("{:?} is not a month and day like \"11-01\"", self.next_year_expected_from))),
        };
        Ok(Statutory { since: self.since, source: self.source.trim().to_string(), holidays, next_year_expected_from })
    }
}

fn parse_date(key: &str, s: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| key_err(key, format!("{s:?} is not a date like 2026-10-01")))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_refused, builtin_without};
    use super::*;
    use crate::Policy;

    #[test]
    fn the_builtin_calendar_has_the_published_years_and_the_law() {
        let p = Policy::builtin();
        assert_eq!(p.calendar.utc_offset_secs, 8 * 3600);
        assert!(p.calendar.covers(2025) && p.calendar.covers(2026));
        assert_eq!(p.calendar.years[&2026].source.as_deref(), Some("国办发明电〔2025〕7号"));
        let law = p.calendar.statutory().expect("the built-in policy has the statutory days");
        assert_eq!(law.since, 2025);
        assert_eq!(law.holidays.iter().map(|h| h.days).sum::<u32>(), 13, "the law fixes 13 days off");
        assert_eq!(law.next_year_expected_from, (11, 1));
    }

    #[test]
    fn bad_schedules_are_named_with_the_date() {
        assert_refused(&[
            ("[calendar.2026]\nholidays = [\"2026-02-30\"]\nworkdays = []", "`calendar.2026.holidays[0]`: \"2026-02-30\" is not a date like 2026-10-01"),
            ("[calendar.2026]\nholidays = [\"2025-10-01\"]\nworkdays = []", "`calendar.2026.holidays[0]`: \"2025-10-01\" is not in 2026"),
            (
                "[calendar.2026]\nholidays = [\"2026-10-07..2026-10-01\"]\nworkdays = []",
                "`calendar.2026.holidays[0]`: the range \"2026-10-07..2026-10-01\" ends before it starts",
            ),
            (
                "[calendar.2026]\nholidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]",
                "`calendar.2026.workdays[0]`: 2026-10-10 is listed both as a holiday and as a working day (first at calendar.2026.holidays[0])",
            ),
            (
                "[calendar.2026]\nholidays = [\"2026-10-01..2026-10-07\", \"2026-10-05\"]\nworkdays = []",
                "`calendar.2026.holidays[1]`: 2026-10-05 is listed twice (first at calendar.2026.holidays[0])",
            ),
            (
                "[calendar.2026]\nholidays = [\"2026-10-02..2026-10-07\"]\nworkdays = []",
                "`calendar.2026`: 2026-01-01 is a statutory day off (new_year), but the schedule makes it a working day",
            ),
            ("[calendar.2026]\nholidays = [\"2026-01-01\"]\nworkdays = [\"2026-10-01\"]", "`calendar.2026`: 2026-10-01 is a Thu, not a weekend day"),
            (
                "[calendar.2027]\nholidays = [\"2027-01-01\"]\nworkdays = [\"2027-02-06\"]",
                "`calendar.2027`: 2027-02-05 is a statutory day off (spring_festival)",
            ),
            ("[calendar.2027]\nsource = \"a\\nb\"\nholidays = []\nworkdays = []", "`calendar.2027.source`: must be one line of at most 200 characters"),
            ("[calendar.2027]\nholidays = []", "`calendar.2027`: missing field `workdays`"),
            ("[calendar.1999]\nholidays = []\nworkdays = []", "`calendar.1999`: the table name must be a year such as 2026"),
            ("[calendar.20x6]\nholidays = []\nworkdays = []", "`calendar.20x6`: the table name must be a year"),
        ]);
    }

    #[test]
    fn bad_statutory_days_are_named_with_the_reason() {
        let one = |entry: &str| format!("[statutory]\nholidays = [{entry}]");
        assert_refused(&[
            (&one("{ id = \"new_year\", on = \"13-01\", days = 1 }"), "`statutory.holidays[0].on`: \"13-01\" is not a month"),
            (&one("{ id = \"new_year\", on = \"term:清明节\", days = 1 }"), "`statutory.holidays[0].on`: \"清明节\" is not one of the 24 solar terms"),
            (
                &one("{ id = \"bridge\", on = \"01-02\", days = 1 }"),
                "`statutory.holidays[0].id`: \"bridge\" has no name in the message catalogue (holiday.bridge)",
            ),
            (&one("{ id = \"new_year\", on = \"01-01\", days = 0 }"), "`statutory.holidays[0].days`: 0 days: a statutory holiday lasts 1 to 15 days"),
            (
                &one("{ id = \"new_year\", on = \"01-01\", days = 1 }, { id = \"new_year\", on = \"01-02\", days = 1 }"),
                "`statutory.holidays[1].id`: \"new_year\" appears twice",
            ),
            (&one("{ id = \"new_year\", on = \"01-01\" }"), "`statutory.holidays[0]`: missing field `days`"),
            ("[statutory]\nholidays = []", "`statutory.holidays`: at least one day off must be listed"),
            ("[statutory]\nsource = \" \"", "`statutory.source`: name the law that fixes the days off"),
            ("[statutory]\nsince = 1900", "`statutory.since`: 1900 is not a year the rule can be in force from"),
            (
                "[statutory]\nnext_year_expected_from = \"lunar:01-01\"",
                "`statutory.next_year_expected_from`: \"lunar:01-01\" is not a month and day like \"11-01\"",
            ),
        ]);
        assert!(builtin_without("statutory").contains("policy key `(top level)`: missing field `statutory`"));
    }

    #[test]
    fn a_year_reads_its_ranges_day_by_day() {
        let file = CalendarYear {
            source: Some(" 国办发明电〔2026〕1号 ".into()),
            holidays: vec!["2027-10-01..2027-10-03".into()],
            workdays: vec!["2027-09-26".into()],
        };
        let y = file.to_year("calendar.2027", 2027).unwrap();
        assert_eq!(y.holidays.len(), 3);
        assert_eq!(y.workdays.len(), 1);
        assert_eq!(y.source.as_deref(), Some("国办发明电〔2026〕1号"), "the source is trimmed");
    }
}

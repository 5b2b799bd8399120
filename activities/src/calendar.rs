//! Published working-day schedules loaded after release (an administrator's paste or upload of
//! the State Council's notice): stored append-only, one row per load, and laid over the policy's
//! calendar to give the calendar in force. The newest row of a year wins.

use crate::db::entities::calendar_schedule;
use crate::store::Store;
use crate::{Error, Result, sha256_hex};
use chrono::NaiveDate;
use qingling_rules::Policy;
use qingling_rules::calendar::Year;
use sea_orm::{ActiveValue::NotSet, EntityTrait, QueryOrder, Set};
use std::collections::{BTreeMap, BTreeSet};

/// The content digest of a year's schedule: the same dates and source give the same digest.
pub fn schedule_digest(year: i32, y: &Year) -> String {
    let canonical = serde_json::json!({ "year": year, "holidays": y.holidays, "workdays": y.workdays, "source": y.source });
    sha256_hex(canonical.to_string())
}

fn dates_json(dates: &BTreeSet<NaiveDate>) -> String {
    serde_json::to_string(dates).expect("dates serialise")
}

/// A stored row as the schedule it holds.
pub fn schedule_of(row: &calendar_schedule::Model) -> Result<Year> {
    Ok(Year { holidays: serde_json::from_str(&row.holidays)?, workdays: serde_json::from_str(&row.workdays)?, source: Some(row.source.clone()) })
}

impl Store {
    /// Every schedule ever loaded, newest first.
    pub async fn calendar_schedules(&self) -> Result<Vec<calendar_schedule::Model>> {
        Ok(calendar_schedule::Entity::find().order_by_desc(calendar_schedule::Column::Id).all(&self.db).await?)
    }

    /// The schedule in force for each loaded year (the newest load of the year).
    pub async fn loaded_years(&self) -> Result<BTreeMap<i32, Year>> {
        let mut out = BTreeMap::new();
        for row in self.calendar_schedules().await? {
            if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(row.year) {
                slot.insert(schedule_of(&row)?);
            }
        }
        Ok(out)
    }

    /// The policy new matters and inspections are issued under: `base` with every loaded year
    /// laid over its calendar. A stored schedule the policy's rules refuse (they changed since
    /// it was loaded) is left out, with a warning, rather than stopping every issue.
    pub async fn policy_in_force(&self, base: &Policy) -> Result<Policy> {
        Ok(self.calendar_in_force(base).await?.0)
    }

    /// [`Store::policy_in_force`] and the loaded years it was laid over, from one read.
    pub async fn calendar_in_force(&self, base: &Policy) -> Result<(Policy, BTreeMap<i32, Year>)> {
        let loaded = self.loaded_years().await?;
        let mut policy = base.clone();
        for (year, schedule) in loaded.clone() {
            if let Err(e) = policy.calendar.learn(year, schedule) {
                tracing::warn!(year, error = %e, "a loaded working-day schedule does not fit the policy's rules; it is ignored");
            }
        }
        Ok((policy, loaded))
    }

    /// Whether this exact schedule of the year was ever stored (in force or since replaced).
    pub async fn schedule_recorded(&self, year: i32, schedule: &Year) -> Result<bool> {
        let digest = schedule_digest(year, schedule);
        Ok(self.calendar_schedules().await?.iter().any(|r| r.year == year && r.digest == digest))
    }

    /// Stores a year's schedule (already checked against the rules by the caller). Loading the
    /// schedule in force again stores nothing; returns the row and whether it is new.
    pub async fn save_schedule(&self, year: i32, schedule: &Year, loaded_by: i64, now_ms: i64) -> Result<(calendar_schedule::Model, bool)> {
        let source = schedule.source.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| Error::Invalid("a schedule needs its source".into()))?;
        if source.chars().count() > 200 || source.chars().any(char::is_control) {
            return Err(Error::Invalid("the source must be one line of at most 200 characters".into()));
        }
        let digest = schedule_digest(year, schedule);
        let current = self.calendar_schedules().await?.into_iter().find(|r| r.year == year);
        if let Some(row) = current.filter(|r| r.digest == digest) {
            return Ok((row, false));
        }
        let row = calendar_schedule::ActiveModel {
            id: NotSet,
            year: Set(year),
            source: Set(source.to_string()),
            holidays: Set(dates_json(&schedule.holidays)),
            workdays: Set(dates_json(&schedule.workdays)),
            digest: Set(digest),
            loaded_by: Set(loaded_by),
            loaded_at_ms: Set(now_ms),
        };
        let saved = calendar_schedule::Entity::insert(row).exec_with_returning(&self.db).await?;
        Ok((saved, true))
    }
}

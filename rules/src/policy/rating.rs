//! `[rating]` of the policy file: the GB/T 37276 sheet's sections and the level thresholds
//! (RULES.md §3). The file says them as the resolved policy keeps them.

use super::{Error, key_err};
use crate::duration::PolicyDuration;
use serde::{Deserialize, Serialize};

/// The maximum points of each section of the assessment sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionMaxima {
    pub environment: u32,
    pub facilities: u32,
    pub operations: u32,
    pub service: u32,
}

impl SectionMaxima {
    pub fn total(&self) -> u32 {
        self.environment + self.facilities + self.operations + self.service
    }
}

/// What one level needs: a total of at least `total` points and, in every section, at least
/// `section_permille` thousandths of its maximum. Floors are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    pub level: u8,
    pub total: u32,
    pub section_permille: u32,
}

/// Who may apply for a rating, and when (RULES.md §3: local rules, each a number here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// A home applies after operating this long.
    pub min_operating: PolicyDuration,
    /// The highest level a first application may ask for.
    pub first_max_level: u8,
    /// No administrative penalty within this period before applying.
    pub penalty_free: PolicyDuration,
    /// No serious safety accident or elder abuse within this period.
    pub incident_free: PolicyDuration,
    /// An upgrade only after this long at the current level.
    pub upgrade_after: PolicyDuration,
    /// After a failed application, the same or a higher level only after this long.
    pub failed_wait: PolicyDuration,
}

/// Rules of a star rating (RULES.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingRules {
    pub sections: SectionMaxima,
    /// Levels 1 to 5, in order.
    pub levels: Vec<LevelRule>,
    pub eligibility: Eligibility,
}

impl Default for RatingRules {
    /// Only for a policy serialised before ratings existed (an old workflow input); the numbers
    /// live in `policy/qingling.toml` alone.
    fn default() -> Self {
        super::Policy::builtin().rating
    }
}

pub(super) fn validate(r: &RatingRules) -> Result<(), Error> {
    let s = &r.sections;
    for (name, max) in [("environment", s.environment), ("facilities", s.facilities), ("operations", s.operations), ("service", s.service)] {
        if max == 0 || max > 10_000 {
            return Err(key_err(format!("rating.sections.{name}"), format!("{max} is outside 1 to 10000 points")));
        }
    }
    if r.levels.len() != 5 {
        return Err(key_err("rating.levels", format!("has {} levels; a rating has five, 1 to 5", r.levels.len())));
    }
    for (i, l) in r.levels.iter().enumerate() {
        let key = format!("rating.levels[{i}]");
        if usize::from(l.level) != i + 1 {
            return Err(key_err(format!("{key}.level"), format!("is {}; the levels are listed 1 to 5 in order", l.level)));
        }
        if l.total > s.total() {
            return Err(key_err(format!("{key}.total"), format!("{} is more than the sheet's {} points", l.total, s.total())));
        }
        if l.section_permille > 1000 {
            return Err(key_err(format!("{key}.section_permille"), format!("{} is more than 1000 (all of a section)", l.section_permille)));
        }
        if let Some(below) = i.checked_sub(1).map(|j| r.levels[j])
            && (l.total <= below.total || l.section_permille < below.section_permille)
        {
            return Err(key_err(key, format!("level {} asks less than level {}: a higher level needs more", l.level, below.level)));
        }
    }
    let e = &r.eligibility;
    if !(1..=5).contains(&e.first_max_level) {
        return Err(key_err("rating.eligibility.first_max_level", format!("{} is not a level (1 to 5)", e.first_max_level)));
    }
    Ok(())
}

//! The star rating's level rule (GB/T 37276-2018, RULES.md §3), pure: the scores of the four
//! sections of the assessment sheet → every level's conditions, held or not → the awarded level,
//! the highest whose total floor and every section's minimum share hold, capped at the level
//! applied for; and what limited it. Scores are kept in tenths of a point (a sheet may give
//! half points), so every comparison is exact: a total of exactly 900 with exactly 90 % in each
//! section is level 5.

use crate::policy::RatingRules;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// A section of the assessment sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// 环境
    Environment,
    /// 设施设备
    Facilities,
    /// 运营管理
    Operations,
    /// 服务
    Service,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::Environment, Section::Facilities, Section::Operations, Section::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Environment => "environment",
            Section::Facilities => "facilities",
            Section::Operations => "operations",
            Section::Service => "service",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The section's maximum under the rules, in points.
    pub fn maximum(self, rules: &RatingRules) -> u32 {
        let s = &rules.sections;
        match self {
            Section::Environment => s.environment,
            Section::Facilities => s.facilities,
            Section::Operations => s.operations,
            Section::Service => s.service,
        }
    }
}

/// The four sections' scores, in tenths of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scores {
    pub tenths: [u32; 4],
}

impl Scores {
    pub fn get(&self, s: Section) -> u32 {
        self.tenths[s.index()]
    }

    pub fn total(&self) -> u32 {
        self.tenths.iter().sum()
    }

    /// Scores as people write them ("108", "97.5"), each checked against its section's maximum.
    pub fn parse(texts: [&str; 4], rules: &RatingRules) -> Result<Scores, Refusal> {
        let mut tenths = [0; 4];
        for (s, text) in Section::ALL.into_iter().zip(texts) {
            let t = parse_tenths(text).ok_or_else(|| {
                Refusal::new("rating.score_not_a_number")
                    .arg("section", format!("rating_section.{}", s.as_str()))
                    .arg("value", text.chars().take(20).collect::<String>())
            })?;
            tenths[s.index()] = t;
        }
        let scores = Scores { tenths };
        scores.check(rules)?;
        Ok(scores)
    }

    /// Every section within 0 and its maximum.
    pub fn check(&self, rules: &RatingRules) -> Result<(), Refusal> {
        for s in Section::ALL {
            let max = s.maximum(rules);
            if self.get(s) > max * 10 {
                return Err(Refusal::new("rating.score_out_of_range")
                    .arg("section", format!("rating_section.{}", s.as_str()))
                    .arg("value", points(self.get(s)))
                    .arg("max", max.to_string()));
            }
        }
        Ok(())
    }
}

/// "97.5" → 975 tenths; at most one decimal, no sign, no exponent.
fn parse_tenths(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 6 || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 1 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: u32 = whole.parse().ok()?;
    let f: u32 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    w.checked_mul(10)?.checked_add(f)
}

/// Tenths of a point as people read them: "97.5", or "108" when whole.
pub fn points(tenths: u32) -> String {
    if tenths.is_multiple_of(10) { (tenths / 10).to_string() } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

/// One condition of one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub level: u8,
    /// `None`: the total; otherwise that section's share.
    pub section: Option<Section>,
    /// What it needs, in tenths of a point (the total floor, or the share's points).
    pub needs_tenths: u32,
    /// The share it needs, in thousandths (sections only).
    pub needs_permille: Option<u32>,
    pub has_tenths: u32,
    /// The section's maximum, in points (sections only).
    pub maximum: Option<u32>,
    pub held: bool,
}

/// Every level's conditions, and what they come to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub scores: Scores,
    /// Levels 5 down to 1, each with its conditions in the sheet's order (total first).
    pub levels: Vec<(u8, Vec<Condition>)>,
    /// The highest level whose conditions all hold (0: none).
    pub reached: u8,
    pub applied: Option<u8>,
    /// `reached`, capped at `applied`.
    pub awarded: u8,
    /// The conditions of the next level up that do not hold (empty at level 5 or when capped).
    pub limited_by: Vec<Condition>,
}

/// The level a home's scores earn, explained. `applied` is the level applied for (1 to 5).
pub fn level(scores: &Scores, applied: Option<u8>, rules: &RatingRules) -> Result<Explanation, Refusal> {
    scores.check(rules)?;
    if let Some(a) = applied
        && !(1..=5).contains(&a)
    {
        return Err(Refusal::new("rating.applied_level").arg("level", a.to_string()));
    }
    let mut levels = vec![];
    let mut reached = 0;
    for rule in rules.levels.iter().rev() {
        let mut conditions = vec![Condition {
            level: rule.level,
            section: None,
            needs_tenths: rule.total * 10,
            needs_permille: None,
            has_tenths: scores.total(),
            maximum: None,
            held: scores.total() >= rule.total * 10,
        }];
        for s in Section::ALL {
            let max = s.maximum(rules);
            // score / (max × 10) ≥ permille / 1000, in integers.
            let held = u64::from(scores.get(s)) * 1000 >= u64::from(max) * 10 * u64::from(rule.section_permille);
            conditions.push(Condition {
                level: rule.level,
                section: Some(s),
                needs_tenths: (max * rule.section_permille).div_ceil(100),
                needs_permille: Some(rule.section_permille),
                has_tenths: scores.get(s),
                maximum: Some(max),
                held,
            });
        }
        if reached == 0 && conditions.iter().all(|c| c.held) {
            reached = rule.level;
        }
        levels.push((rule.level, conditions));
    }
    let awarded = applied.map_or(reached, |a| reached.min(a));
    let limited_by = if awarded < reached || awarded == 5 {
        vec![]
    } else {
        levels.iter().find(|(l, _)| *l == awarded + 1).map(|(_, c)| c.iter().filter(|c| !c.held).cloned().collect()).unwrap_or_default()
    };
    Ok(Explanation { scores: *scores, levels, reached, applied, awarded, limited_by })
}

impl Condition {
    /// One line for people (and `qingling rating level`), in English.
    pub fn line(&self) -> String {
        let verdict = if self.held { "held" } else { "not held" };
        match (self.section, self.maximum, self.needs_permille) {
            (Some(s), Some(max), Some(permille)) => format!(
                "{} {} of {} ({}), at least {} ({}): {verdict}",
                s.as_str(),
                points(self.has_tenths),
                max,
                percent(u64::from(self.has_tenths) * 1000 / (u64::from(max) * 10).max(1)),
                percent(u64::from(permille)),
                points(self.needs_tenths)
            ),
            _ => format!("total {} of at least {}: {verdict}", points(self.has_tenths), points(self.needs_tenths)),
        }
    }
}

/// Thousandths as a percentage: 900 → "90 %", 833 → "83.3 %".
fn percent(permille: u64) -> String {
    if permille.is_multiple_of(10) { format!("{} %", permille / 10) } else { format!("{}.{} %", permille / 10, permille % 10) }
}

impl Explanation {
    /// The explanation as lines, the last one the awarded level alone (0 when none).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![];
        for (level, conditions) in &self.levels {
            let all = conditions.iter().all(|c| c.held);
            out.push(format!("level {level}: {}", if all { "conditions hold" } else { "conditions do not all hold" }));
            out.extend(conditions.iter().map(|c| format!("  {}", c.line())));
        }
        let applied = self.applied.map(|a| format!(" (applied for level {a})")).unwrap_or_default();
        let why = if self.awarded < self.reached {
            format!("; level {} reached, capped at the level applied for", self.reached)
        } else if !self.limited_by.is_empty() {
            format!("; level {} needs {}", self.awarded + 1, self.limited_by.iter().map(Condition::line).collect::<Vec<_>>().join("; "))
        } else {
            String::new()
        };
        out.push(match self.awarded {
            0 => format!("awarded: no level{applied}{why}"),
            n => format!("awarded: level {n}{applied}{why}"),
        });
        out.push(self.awarded.to_string());
        out
    }
}

/// What the preconditions of an application look at: the home's record, as instants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Record {
    /// When the home began operating.
    pub operating_since_ms: i64,
    /// The level it holds now and since when.
    pub current: Option<(u8, i64)>,
    /// Whether it has ever held a rating (a first application asks for less).
    pub rated_before: bool,
    /// Administrative penalty decisions.
    pub penalties_ms: Vec<i64>,
    /// Serious safety accidents and cases of elder abuse.
    pub incidents_ms: Vec<i64>,
    /// On the credit blacklist now.
    pub blacklisted: bool,
    /// Failed applications: the level sought and when it was decided.
    pub failed: Vec<(u8, i64)>,
}

/// Every reason an application for `level` at `now_ms` may not go ahead (empty: it may), each
/// with the date it would change when time heals it. Periods from the policy; a period ends on
/// the calendar's day boundaries as every deadline does.
pub fn check_application(level: u8, record: &Record, now_ms: i64, rules: &RatingRules, calendar: &crate::Calendar) -> Vec<Refusal> {
    let e = &rules.eligibility;
    let day = |ms: i64| calendar.local_date(ms).to_string();
    // The first instant a period from `ms` is over.
    let over = |ms: i64, period| calendar.due_ms(ms, period);
    let mut out = vec![];
    if !(1..=5).contains(&level) {
        return vec![Refusal::new("rating.applied_level").arg("level", level.to_string())];
    }
    let from = over(record.operating_since_ms, e.min_operating);
    if now_ms < from {
        out.push(Refusal::new("rating.operating_too_short").arg("since", day(record.operating_since_ms)).arg("from", day(from)));
    }
    if !record.rated_before && record.current.is_none() && level > e.first_max_level {
        out.push(Refusal::new("rating.first_too_high").arg("level", level.to_string()).arg("max", e.first_max_level.to_string()));
    }
    if let Some(p) = record.penalties_ms.iter().copied().filter(|p| now_ms < over(*p, e.penalty_free)).max() {
        out.push(Refusal::new("rating.recent_penalty").arg("on", day(p)).arg("from", day(over(p, e.penalty_free))));
    }
    if let Some(i) = record.incidents_ms.iter().copied().filter(|i| now_ms < over(*i, e.incident_free)).max() {
        out.push(Refusal::new("rating.recent_incident").arg("on", day(i)).arg("from", day(over(i, e.incident_free))));
    }
    if record.blacklisted {
        out.push(Refusal::new("rating.blacklisted"));
    }
    if let Some((held, since)) = record.current
        && level > held
        && now_ms < over(since, e.upgrade_after)
    {
        out.push(Refusal::new("rating.upgrade_too_soon").arg("held", held.to_string()).arg("from", day(over(since, e.upgrade_after))));
    }
    if let Some((sought, on)) =
        record.failed.iter().copied().filter(|(sought, on)| level >= *sought && now_ms < over(*on, e.failed_wait)).max_by_key(|(_, on)| *on)
    {
        out.push(Refusal::new("rating.failed_recently").arg("level", sought.to_string()).arg("on", day(on)).arg("from", day(over(on, e.failed_wait))));
    }
    out
}

#[cfg(test)]
mod tests;

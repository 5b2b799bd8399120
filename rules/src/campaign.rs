//! A 双随机 campaign (RULES.md §2): the plan a supervisor writes (抽查计划), checked whole; the
//! draw's [`draw::Plan`] it becomes; the dates the rules derive from the draw (teams assigned
//! within `campaign.assign_within`, the inspections' window, results published within
//! `inspection.publish_within` of the window's end); and a recurring plan's cron expression with
//! its next runs, each moved to the next working day when it falls on a day off.
//!
//! Cron expressions are read by the `cron` crate and sent to Temporal's Schedules unchanged, so
//! only the forms both read the same are accepted: five fields (minute hour day month weekday)
//! or seven (second minute hour day month weekday year), and weekdays by name (`MON-FRI`): the
//! two number Sunday differently.

use crate::calendar::Calendar;
use crate::directory::{FACILITY_TYPES, SPECIALISMS};
use crate::draw::{self, RiskClass, SourceName};
use crate::duration::PolicyDuration;
use crate::input::{TextProblem, check_text};
use crate::policy::Policy;
use crate::refusal::Refusal;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

const TITLE_CHARS: usize = 200;
const NAME_CHARS: usize = 100;
const MAX_LIST: usize = 50;
const MAX_SOURCES: usize = 5;
const MAX_TEAM: u32 = 20;

fn yes() -> bool {
    true
}

/// A campaign plan as a supervisor writes it. Empty or zero fields take the policy's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub title: String,
    /// The checklist templates to inspect (the joint inspection, fire safety …).
    pub templates: Vec<String>,
    /// Districts in scope (empty: every district the planner may plan for).
    #[serde(default)]
    pub districts: Vec<String>,
    /// Facility types in scope (empty: every type).
    #[serde(default)]
    pub facility_types: Vec<String>,
    /// Share drawn per risk class, in thousandths (missing classes: the policy's).
    #[serde(default)]
    pub ratio_permille: BTreeMap<RiskClass, u32>,
    /// Leave out homes already inspected for the same templates this year.
    #[serde(default = "yes")]
    pub exclude_inspected_this_year: bool,
    /// Inspectors per team (0: the policy's minimum).
    #[serde(default)]
    pub team_size: u32,
    #[serde(default)]
    pub required_specialisms: Vec<String>,
    /// Targets one inspector may be given (0: the policy's cap).
    #[serde(default)]
    pub load_cap: u32,
    #[serde(default)]
    pub not_own_district: bool,
    /// The departments a joint inspection goes with (市场监管、消防救援 …).
    #[serde(default)]
    pub departments: Vec<String>,
    /// How long the inspections have, from the draw (`20wd`; tests use seconds).
    pub window: PolicyDuration,
    /// The public random sources, named before the draw.
    pub sources: Vec<SourceName>,
}

impl Default for PlanInput {
    /// An empty plan (refused until it names a title, templates, a window and sources).
    fn default() -> Self {
        PlanInput {
            title: String::new(),
            templates: vec![],
            districts: vec![],
            facility_types: vec![],
            ratio_permille: BTreeMap::new(),
            exclude_inspected_this_year: true,
            team_size: 0,
            required_specialisms: vec![],
            load_cap: 0,
            not_own_district: false,
            departments: vec![],
            window: PolicyDuration::Days(0),
            sources: vec![],
        }
    }
}

/// A checked plan, with the policy's values filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignPlan {
    pub title: String,
    pub templates: Vec<String>,
    pub districts: Vec<String>,
    pub facility_types: Vec<String>,
    pub ratio_permille: BTreeMap<RiskClass, u32>,
    pub exclude_inspected_this_year: bool,
    pub team_size: u32,
    pub required_specialisms: Vec<String>,
    pub load_cap: u32,
    pub not_own_district: bool,
    pub departments: Vec<String>,
    pub window: PolicyDuration,
    pub sources: Vec<SourceName>,
}

/// What a plan may name: the templates in the catalogue and the districts the planner plans for.
pub struct Known<'a> {
    pub templates: &'a BTreeSet<String>,
    pub districts: &'a BTreeSet<String>,
}

fn refuse(field: &str, code: &str) -> Refusal {
    Refusal::new(format!("campaign.{code}")).arg("field", format!("field.{field}"))
}

fn text(field: &str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = value.trim();
    match check_text(v, max, true) {
        Ok(()) if v.is_empty() => Err(refuse(field, "required")),
        Ok(()) => Ok(v.to_string()),
        Err(TextProblem::TooLong { max }) => Err(refuse(field, "too_long").arg("max", max.to_string())),
        Err(TextProblem::Control) => Err(refuse(field, "control_chars")),
    }
}

/// A list of distinct values, each checked by `one`.
fn list(field: &str, values: &[String], mut one: impl FnMut(&str) -> Result<String, Refusal>) -> Result<Vec<String>, Refusal> {
    if values.len() > MAX_LIST {
        return Err(refuse(field, "too_many").arg("max", MAX_LIST.to_string()));
    }
    let mut out: Vec<String> = vec![];
    for v in values {
        let v = one(v)?;
        if out.contains(&v) {
            return Err(refuse(field, "repeated").arg("value", v));
        }
        out.push(v);
    }
    Ok(out)
}

fn in_vocabulary(field: &str, list: &[(&str, &str)], value: &str) -> Result<String, Refusal> {
    let v = text(field, value, NAME_CHARS)?;
    list.iter()
        .find(|(code, zh)| v.eq_ignore_ascii_case(code) || v == *zh)
        .map(|(code, _)| code.to_string())
        .ok_or_else(|| refuse(field, "unknown_value").arg("value", v))
}

/// Checks a plan against the policy and what exists. The first problem is the refusal, naming
/// its field.
pub fn check_plan(input: &PlanInput, policy: &Policy, known: &Known) -> Result<CampaignPlan, Refusal> {
    let rules = &policy.campaign;
    let title = text("title", &input.title, TITLE_CHARS)?;
    if input.templates.is_empty() {
        return Err(refuse("templates", "required"));
    }
    let templates = list("templates", &input.templates, |t| {
        let t = text("templates", t, NAME_CHARS)?;
        if known.templates.contains(&t) { Ok(t) } else { Err(refuse("templates", "unknown_value").arg("value", t)) }
    })?;
    let districts = list("districts", &input.districts, |d| {
        let d = text("districts", d, NAME_CHARS)?;
        if known.districts.contains(&d) { Ok(d) } else { Err(refuse("districts", "outside_region").arg("value", d)) }
    })?;
    // An empty scope is every district the planner plans for, said explicitly so the commitment
    // shows it.
    let districts = if districts.is_empty() { known.districts.iter().cloned().collect() } else { districts };
    if districts.is_empty() {
        return Err(refuse("districts", "required"));
    }
    let facility_types = list("facility_types", &input.facility_types, |v| in_vocabulary("facility_types", FACILITY_TYPES, v))?;
    let mut ratio_permille = rules.ratio_permille.clone();
    for (risk, n) in &input.ratio_permille {
        if *n > 1000 {
            return Err(refuse("ratio_permille", "ratio").arg("risk", risk.as_str()).arg("value", n.to_string()));
        }
        ratio_permille.insert(*risk, *n);
    }
    let team_size = if input.team_size == 0 { rules.min_team_size } else { input.team_size };
    if team_size < rules.min_team_size {
        return Err(refuse("team_size", "team_too_small").arg("size", team_size.to_string()).arg("min", rules.min_team_size.to_string()));
    }
    if team_size > MAX_TEAM {
        return Err(refuse("team_size", "team_too_large").arg("size", team_size.to_string()).arg("max", MAX_TEAM.to_string()));
    }
    let required_specialisms = list("required_specialisms", &input.required_specialisms, |v| in_vocabulary("required_specialisms", SPECIALISMS, v))?;
    if required_specialisms.len() > team_size as usize {
        return Err(refuse("required_specialisms", "too_many_specialisms")
            .arg("count", required_specialisms.len().to_string())
            .arg("size", team_size.to_string()));
    }
    let load_cap = if input.load_cap == 0 { rules.load_cap } else { input.load_cap };
    if load_cap > rules.load_cap {
        return Err(refuse("load_cap", "load_cap").arg("value", load_cap.to_string()).arg("max", rules.load_cap.to_string()));
    }
    let departments = list("departments", &input.departments, |v| text("departments", v, NAME_CHARS))?;
    if input.window.is_zero() {
        return Err(refuse("window", "window_zero"));
    }
    if input.sources.is_empty() {
        return Err(refuse("sources", "required"));
    }
    if input.sources.len() > MAX_SOURCES {
        return Err(refuse("sources", "too_many").arg("max", MAX_SOURCES.to_string()));
    }
    let mut sources = vec![];
    for s in &input.sources {
        let name = text("sources", &s.name, TITLE_CHARS)?;
        if !matches!(s.kind.as_str(), "numbers" | "text") {
            return Err(refuse("sources", "source_kind").arg("value", s.kind.clone()));
        }
        sources.push(SourceName { name, kind: s.kind.clone() });
    }
    Ok(CampaignPlan {
        title,
        templates,
        districts,
        facility_types,
        ratio_permille,
        exclude_inspected_this_year: input.exclude_inspected_this_year,
        team_size,
        required_specialisms,
        load_cap,
        not_own_district: input.not_own_district,
        departments,
        window: input.window,
        sources,
    })
}

impl CampaignPlan {
    /// The draw's plan for a draw on `draw_date`: "already inspected this year" is from 1 January
    /// of the draw's year.
    pub fn draw_plan(&self, draw_date: NaiveDate) -> draw::Plan {
        draw::Plan {
            items: self.templates.clone(),
            districts: self.districts.clone(),
            facility_types: self.facility_types.clone(),
            ratio_permille: self.ratio_permille.clone(),
            exclude_inspected_since: self.exclude_inspected_this_year.then(|| format!("{:04}-01-01", draw_date.year())),
            team_size: self.team_size,
            required_specialisms: self.required_specialisms.clone(),
            load_cap: self.load_cap,
            not_own_district: self.not_own_district,
        }
    }
}

/// The instants a campaign keeps, derived from the moment of its draw (as a matter's deadlines:
/// a day-scale period ends at the end of its last day on the working-day calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dates {
    pub drawn_ms: i64,
    /// Teams are assigned by then.
    pub assign_by_ms: i64,
    /// The inspections' window ends then.
    pub window_end_ms: i64,
    /// Results are published by then.
    pub publish_by_ms: i64,
}

pub fn dates(plan: &CampaignPlan, policy: &Policy, drawn_ms: i64) -> Dates {
    let cal = &policy.calendar;
    let window_end_ms = cal.due_ms(drawn_ms, plan.window);
    Dates {
        drawn_ms,
        assign_by_ms: cal.due_ms(drawn_ms, policy.campaign.assign_within),
        window_end_ms,
        publish_by_ms: cal.due_ms(window_end_ms, policy.inspection.publish_within),
    }
}

// ───────────────────────────── recurring plans ─────────────────────────────

/// A recurring plan's schedule: a cron expression both the `cron` crate and Temporal read the
/// same way.
#[derive(Debug, Clone)]
pub struct Cron {
    /// As written (five or seven fields), which Temporal is given.
    pub text: String,
    schedule: cron::Schedule,
}

impl PartialEq for Cron {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Reads a cron expression: five fields (`0 9 1 3,9 *`: 09:00 on 1 March and 1 September) or
/// seven (`*/2 * * * * * *`, with seconds and years, for tests), weekdays by name.
pub fn parse_cron(text: &str) -> Result<Cron, Refusal> {
    let bad = |why: &str| refuse("cron", "cron").arg("value", text.trim()).arg("why", why.to_string());
    let text = text.trim();
    if let Err(TextProblem::TooLong { .. } | TextProblem::Control) = check_text(text, 100, true) {
        return Err(bad("too long, or with control characters"));
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let full = match fields.len() {
        5 => format!("0 {} *", fields.join(" ")),
        7 => fields.join(" "),
        n => return Err(bad(&format!("{n} fields; write 5 (minute hour day month weekday) or 7 (second minute hour day month weekday year)"))),
    };
    let weekday = if fields.len() == 5 { fields[4] } else { fields[5] };
    if weekday.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad("write weekdays by name (MON-FRI), not by number"));
    }
    let schedule = cron::Schedule::from_str(&full).map_err(|e| bad(&e.to_string()))?;
    Ok(Cron { text: fields.join(" "), schedule })
}

/// A recurring plan's cron expression, checked against the policy: runs no closer together than
/// `campaign.min_interval` (looked at over the next 50 runs from `now_ms`).
pub fn check_cron(text: &str, policy: &Policy, now_ms: i64) -> Result<Cron, Refusal> {
    let cron = parse_cron(text)?;
    let min = policy.campaign.min_interval;
    let min_ms = match min {
        PolicyDuration::Days(n) | PolicyDuration::WorkingDays(n) => i64::from(n) * 86_400_000,
        PolicyDuration::Months(n) => i64::from(n) * 28 * 86_400_000,
        clock => clock.clock_millis().unwrap_or(i64::MAX),
    };
    if cron.runs_closer_than(now_ms, min_ms) {
        return Err(refuse("cron", "cron_too_often").arg("value", cron.text.clone()).arg("min", min.to_string()));
    }
    Ok(cron)
}

/// One run of a recurring plan: when the schedule fires, and the working day the campaign then
/// counts from (the same day, or the next working day when it falls on a day off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Run {
    pub at: DateTime<FixedOffset>,
    pub effective: NaiveDate,
    pub moved: bool,
}

impl Cron {
    /// The next `n` runs after `now_ms`, in the policy's local time.
    pub fn next_runs(&self, calendar: &Calendar, now_ms: i64, n: usize) -> Vec<Run> {
        let offset = FixedOffset::east_opt(calendar.utc_offset_secs).unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
        let now = Utc.timestamp_millis_opt(now_ms).single().unwrap_or_default().with_timezone(&offset);
        self.schedule
            .after(&now)
            .take(n)
            .map(|at| {
                let day = at.date_naive();
                let effective = calendar.on_or_next_workday(day);
                Run { at, effective, moved: effective != day }
            })
            .collect()
    }

    /// Whether two consecutive runs can come closer than `min_ms` (looked at over the next 50).
    pub fn runs_closer_than(&self, now_ms: i64, min_ms: i64) -> bool {
        let now = Utc.timestamp_millis_opt(now_ms).single().unwrap_or_default();
        let runs: Vec<DateTime<Utc>> = self.schedule.after(&now).take(50).collect();
        runs.windows(2).any(|w| (w[1] - w[0]).num_milliseconds() < min_ms)
    }
}

/// The IANA name of a whole-hour offset, as Temporal's Schedules take it (`Etc/GMT-8` is UTC+8:
/// the sign is POSIX's, reversed). Beijing time has no daylight saving, so this is exact.
pub fn timezone_name(utc_offset_secs: i32) -> Option<String> {
    if utc_offset_secs % 3600 != 0 {
        return None;
    }
    let hours = utc_offset_secs / 3600;
    Some(match hours {
        0 => "UTC".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    })
}

mod case;
pub use case::{Campaign, CampaignStatus, Deadline, DrawRequest, Reassignment, SupersedeRequest, Supersession};

#[cfg(test)]
mod tests;

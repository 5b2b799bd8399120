//! The policy file: every number the rules use, in TOML, versioned and validated at start-up.
//!
//! A file may say `extends = "builtin"` under `[policy]`; it is then laid over the built-in
//! policy (`policy/qingling.toml`, embedded) and only needs the keys it changes. Tests use that
//! to run the same rules with `2s` periods.

use crate::calendar::{Anchor, Calendar, Statutory, StatutoryHoliday, Year};
use crate::duration::PolicyDuration;
use crate::matter::{MatterKind, Severity};
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The policy the project ships with.
pub const BUILTIN: &str = include_str!("../../policy/qingling.toml");
/// The only file format version this build understands.
pub const SUPPORTED_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("policy file is not valid TOML: {0}")]
    Syntax(String),
    #[error("policy key `{key}`: {why}")]
    Key { key: String, why: String },
}

fn key_err(key: impl Into<String>, why: impl Into<String>) -> Error {
    Error::Key { key: key.into(), why: why.into() }
}

/// The resolved policy. It travels inside workflow inputs, so a matter keeps the rules it was
/// issued under even when the file changes later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub version: u32,
    pub name: String,
    pub deadlines: BTreeMap<MatterKind, BTreeMap<Severity, Deadlines>>,
    pub extension: ExtensionRules,
    pub reopen: ReopenRules,
    pub escalation: Vec<EscalationStep>,
    pub numbering: Numbering,
    pub evidence: EvidenceRules,
    pub calendar: Calendar,
    /// Absent from policies serialised before inspections existed (old workflow inputs).
    #[serde(default)]
    pub inspection: InspectionRules,
    /// Absent from policies serialised before input limits existed (old workflow inputs).
    #[serde(default)]
    pub input: crate::input::InputLimits,
    /// Absent from policies serialised before sign-in throttling existed (old workflow inputs).
    #[serde(default)]
    pub signin: crate::signin::SigninRules,
    /// Absent from policies serialised before it existed (old workflow inputs).
    #[serde(default)]
    pub engine: EngineRules,
}

/// How a long-lived case keeps its workflow history bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineRules {
    /// A case's workflow continues as new (same id, state carried over) once its history holds
    /// this many events, or earlier when the server suggests it (history size).
    pub continue_as_new_after: u32,
}

impl Default for EngineRules {
    /// Only for a policy serialised before the table existed; the number lives in the file.
    fn default() -> Self {
        Policy::builtin().engine
    }
}

/// Rules of an on-site inspection (RULES.md §2, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionRules {
    /// Inspectors who must sign a submitted checklist (行政处罚法 art. 42: at least 2).
    pub min_inspectors: u32,
    /// Results are published within this period after the inspection ends.
    pub publish_within: PolicyDuration,
    /// The period of the deadline class "immediate" (correct on the spot).
    pub immediate: PolicyDuration,
    /// The largest photo accepted with a checklist answer (after the tablet's downscaling).
    pub photo_max_bytes: u64,
}

impl Default for InspectionRules {
    /// The built-in policy's rules: only for a policy serialised before inspections existed
    /// (an old workflow input); the numbers live in `policy/qingling.toml` alone.
    fn default() -> Self {
        Policy::builtin().inspection
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    pub acknowledge: PolicyDuration,
    pub feedback: PolicyDuration,
    pub rectify: PolicyDuration,
    pub recheck: PolicyDuration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_every: Option<PolicyDuration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRules {
    pub max_per_matter: u32,
    pub max_each: PolicyDuration,
    /// How long a supervisor has to decide a request; a miss climbs the escalation ladder to
    /// supervisors and administrators. `None` in a policy stored before it existed (a running
    /// matter keeps its policy, so its history replays unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decide_within: Option<PolicyDuration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenRules {
    pub rectify_ordinary: PolicyDuration,
    pub rectify_major: PolicyDuration,
}

/// Who is told when an escalation step fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Facility,
    Inspector,
    Supervisor,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub id: String,
    pub after: PolicyDuration,
    pub notify: Vec<Audience>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    pub notice: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRules {
    pub max_bytes: u64,
    pub types: Vec<String>,
    /// Files one matter may hold (absent from policies serialised before the quota existed).
    #[serde(default = "default_files_per_matter")]
    pub max_files_per_matter: u32,
}

fn default_files_per_matter() -> u32 {
    Policy::builtin().evidence.max_files_per_matter
}

/// Content types the evidence store can recognise by their first bytes.
pub const KNOWN_EVIDENCE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/pdf"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    policy: Header,
    deadlines: BTreeMap<String, BTreeMap<String, Deadlines>>,
    extension: ExtensionRules,
    reopen: ReopenRules,
    escalation: Vec<EscalationStep>,
    numbering: Numbering,
    evidence: EvidenceRules,
    calendar: BTreeMap<String, CalendarYear>,
    statutory: StatutoryFile,
    inspection: InspectionRules,
    input: crate::input::InputLimits,
    engine: EngineRules,
    signin: crate::signin::SigninRules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatutoryFile {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    version: u32,
    name: String,
    utc_offset: String,
    #[serde(default)]
    #[expect(dead_code, reason = "consumed before deserialisation, kept so the key is allowed")]
    extends: Option<String>,
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

impl Policy {
    /// The embedded default policy. It is tested, so it always loads.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN).expect("the built-in policy is valid")
    }

    /// Parses and validates a policy file's text. Errors name the key and say why.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Syntax(e.to_string()))?;
        let extends = table
            .get("policy")
            .and_then(|p| p.get("extends"))
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| key_err("policy.extends", "must be a string")))
            .transpose()?;
        match extends.as_deref() {
            None => {}
            Some("builtin") => {
                let mut base: toml::Table = BUILTIN.parse().expect("the built-in policy is TOML");
                merge(&mut base, std::mem::take(&mut table));
                table = base;
            }
            Some(other) => return Err(key_err("policy.extends", format!("only \"builtin\" can be extended, not {other:?}"))),
        }
        let file: File = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let path = e.path().to_string();
            let why = e.into_inner().to_string();
            // toml repeats the path after the message; the key is already named.
            let why = why.split("\nin `").next().unwrap_or_default().trim().to_string();
            key_err(if path == "." { "(top level)".to_string() } else { path }, why)
        })?;
        file.validate()
    }

    pub fn deadlines(&self, kind: MatterKind, severity: Severity) -> &Deadlines {
        // Validation guarantees every kind has both severities.
        &self.deadlines[&kind][&severity]
    }

    /// Renders a notice number from the numbering pattern.
    pub fn notice_number(&self, bureau: &str, year: i32, seq: u64) -> String {
        render_number(&self.numbering.notice, bureau, year, seq).expect("pattern validated at load")
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn render_number(pattern: &str, bureau: &str, year: i32, seq: u64) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    let mut saw_seq = false;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or("a `{` is never closed")? + open;
        let name = &rest[open + 1..close];
        match name.split_once(':') {
            None if name == "bureau" => out.push_str(bureau),
            None if name == "year" => out.push_str(&year.to_string()),
            None if name == "seq" => {
                saw_seq = true;
                out.push_str(&seq.to_string())
            }
            Some(("seq", width)) => {
                let w: usize = width.parse().ok().filter(|w| (1..=9).contains(w)).ok_or(format!("{{seq:{width}}} needs a width from 1 to 9"))?;
                saw_seq = true;
                out.push_str(&format!("{seq:0w$}"))
            }
            _ => return Err(format!("unknown placeholder {{{name}}}; use {{bureau}}, {{year}}, {{seq}} or {{seq:N}}")),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    if !saw_seq {
        return Err("the pattern needs {seq} so that numbers are unique".into());
    }
    Ok(out)
}

fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 3600 + m * 60))
}

impl File {
    fn validate(self) -> Result<Policy, Error> {
        if self.policy.version != SUPPORTED_VERSION {
            return Err(key_err("policy.version", format!("version {} is not supported; this build reads version {SUPPORTED_VERSION}", self.policy.version)));
        }
        if self.policy.name.trim().is_empty() {
            return Err(key_err("policy.name", "must not be empty"));
        }
        let utc_offset_secs = parse_offset(&self.policy.utc_offset)
            .ok_or_else(|| key_err("policy.utc_offset", format!("{:?} is not an offset like \"+08:00\"", self.policy.utc_offset)))?;

        let mut deadlines = BTreeMap::new();
        for (kind_key, by_sev) in &self.deadlines {
            let kind = MatterKind::parse(kind_key).ok_or_else(|| {
                let known: Vec<_> = MatterKind::ALL.iter().map(|k| k.as_str()).collect();
                key_err(format!("deadlines.{kind_key}"), format!("unknown matter kind; known kinds: {}", known.join(", ")))
            })?;
            let mut typed = BTreeMap::new();
            for (sev_key, d) in by_sev {
                let sev =
                    Severity::parse(sev_key).ok_or_else(|| key_err(format!("deadlines.{kind_key}.{sev_key}"), "unknown severity; use ordinary or major"))?;
                typed.insert(sev, *d);
            }
            deadlines.insert(kind, typed);
        }
        for &kind in MatterKind::ALL {
            let Some(by_sev) = deadlines.get(&kind) else {
                return Err(key_err(format!("deadlines.{}", kind.as_str()), "missing: every matter kind needs its deadlines"));
            };
            for &sev in Severity::ALL {
                let key = format!("deadlines.{}.{}", kind.as_str(), sev.as_str());
                let Some(d) = by_sev.get(&sev) else {
                    return Err(key_err(key, "missing: both ordinary and major deadlines are needed"));
                };
                for (name, p) in [("feedback", d.feedback), ("rectify", d.rectify), ("recheck", d.recheck)] {
                    if p.is_zero() {
                        return Err(key_err(format!("{key}.{name}"), "must be longer than zero"));
                    }
                }
                match (sev, d.report_every) {
                    (Severity::Major, None) => {
                        return Err(key_err(format!("{key}.report_every"), "missing: major matters report regularly against their plan"));
                    }
                    (Severity::Major, Some(p)) if p.is_zero() => return Err(key_err(format!("{key}.report_every"), "must be longer than zero")),
                    (Severity::Ordinary, Some(_)) => return Err(key_err(format!("{key}.report_every"), "only major matters report against a plan")),
                    _ => {}
                }
            }
        }
        if self.extension.max_each.is_zero() {
            return Err(key_err("extension.max_each", "must be longer than zero"));
        }
        if self.escalation.is_empty() {
            return Err(key_err("escalation", "the ladder needs at least one step"));
        }
        let mut seen = BTreeSet::new();
        for (i, step) in self.escalation.iter().enumerate() {
            let key = format!("escalation[{i}]");
            if !seen.insert(step.id.as_str()) {
                return Err(key_err(format!("{key}.id"), format!("step {:?} appears twice", step.id)));
            }
            if crate::messages::lookup(crate::messages::Locale::ZhCn, &format!("escalation.{}", step.id)).is_none() {
                return Err(key_err(format!("{key}.id"), format!("step {:?} has no wording in the message catalogue (escalation.{})", step.id, step.id)));
            }
            if step.notify.is_empty() {
                return Err(key_err(format!("{key}.notify"), "someone must be told"));
            }
            if i > 0 && step.after.is_zero() {
                return Err(key_err(format!("{key}.after"), "later steps must come after the previous one"));
            }
        }
        render_number(&self.numbering.notice, "X", 2026, 1).map_err(|why| key_err("numbering.notice", why))?;
        if self.evidence.max_bytes == 0 {
            return Err(key_err("evidence.max_bytes", "must be more than zero"));
        }
        if self.evidence.max_files_per_matter == 0 {
            return Err(key_err("evidence.max_files_per_matter", "must be more than zero"));
        }
        if self.evidence.types.is_empty() {
            return Err(key_err("evidence.types", "at least one type must be allowed"));
        }
        for t in &self.evidence.types {
            if !KNOWN_EVIDENCE_TYPES.contains(&t.as_str()) {
                return Err(key_err("evidence.types", format!("{t:?} cannot be recognised; known types: {}", KNOWN_EVIDENCE_TYPES.join(", "))));
            }
        }

        if self.inspection.min_inspectors < 2 {
            return Err(key_err(
                "inspection.min_inspectors",
                format!("{} is too few: an inspection team has at least 2 inspectors (行政处罚法 art. 42)", self.inspection.min_inspectors),
            ));
        }
        if self.inspection.min_inspectors > 2 {
            return Err(key_err(
                "inspection.min_inspectors",
                format!("{} is not supported yet: the tablet collects the signatures of two inspectors", self.inspection.min_inspectors),
            ));
        }
        if self.inspection.photo_max_bytes == 0 {
            return Err(key_err("inspection.photo_max_bytes", "must be more than zero"));
        }
        if self.inspection.publish_within.is_zero() {
            return Err(key_err("inspection.publish_within", "must be longer than zero"));
        }

        let i = &self.input;
        for (key, n) in [
            ("input.title_chars", i.title_chars),
            ("input.name_chars", i.name_chars),
            ("input.text_chars", i.text_chars),
            ("input.basis_chars", i.basis_chars),
            ("input.plan_rows", i.plan_rows),
            ("input.evidence_files", i.evidence_files),
        ] {
            if !(1..=100_000).contains(&n) {
                return Err(key_err(key, format!("{n} is outside 1 to 100000")));
            }
        }
        if !(1..=30).contains(&i.plan_years) {
            return Err(key_err("input.plan_years", format!("{} is outside 1 to 30 years", i.plan_years)));
        }
        if i.min_extension.is_zero() {
            return Err(key_err("input.min_extension", "must be longer than zero"));
        }
        if !(100..=50_000).contains(&self.engine.continue_as_new_after) {
            return Err(key_err("engine.continue_as_new_after", format!("{} is outside 100 to 50000 history events", self.engine.continue_as_new_after)));
        }
        validate_signin(&self.signin)?;
        let statutory = self.statutory.validate()?;
        let mut calendar = Calendar::new(BTreeMap::new(), utc_offset_secs, Some(statutory));
        for (year_key, data) in &self.calendar {
            let year: i32 = year_key
                .parse()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| key_err(format!("calendar.{year_key}"), "the table name must be a year such as 2026"))?;
            let key = format!("calendar.{year_key}");
            let y = data.to_year(&key, year)?;
            calendar.learn(year, y).map_err(|e| key_err(key, e.0))?;
        }

        Ok(Policy {
            version: self.policy.version,
            name: self.policy.name,
            deadlines,
            extension: self.extension,
            reopen: self.reopen,
            escalation: self.escalation,
            numbering: self.numbering,
            evidence: self.evidence,
            calendar,
            inspection: self.inspection,
            input: self.input,
            engine: self.engine,
            signin: self.signin,
        })
    }
}

/// The sign-in throttle: clock durations (it counts real time, not working days), no longer
/// than a week, a back-off that can grow, a lockout beyond the back-off.
fn validate_signin(s: &crate::signin::SigninRules) -> Result<(), Error> {
    for (key, n) in [("signin.account_attempts", s.account_attempts), ("signin.address_attempts", s.address_attempts)] {
        if !(1..=1000).contains(&n) {
            return Err(key_err(key, format!("{n} is outside 1 to 1000")));
        }
    }
    const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
    let mut ms = BTreeMap::new();
    for (key, d) in [("signin.window", s.window), ("signin.backoff_base", s.backoff_base), ("signin.backoff_max", s.backoff_max), ("signin.lockout", s.lockout)]
    {
        match d.clock_millis() {
            Some(m) if m > 0 && m <= WEEK_MS => ms.insert(key, m),
            Some(_) => return Err(key_err(key, format!("{d} must be longer than zero and at most a week"))),
            None => return Err(key_err(key, format!("{d} is not clock time: write seconds, minutes or hours (30s, 15m, 1h)"))),
        };
    }
    if ms["signin.backoff_base"] > ms["signin.backoff_max"] {
        return Err(key_err("signin.backoff_max", format!("{} is shorter than backoff_base {}", s.backoff_max, s.backoff_base)));
    }
    if s.lockout_after <= s.account_attempts || s.lockout_after > 1000 {
        return Err(key_err(
            "signin.lockout_after",
            format!("{} must be more than account_attempts ({}) and at most 1000", s.lockout_after, s.account_attempts),
        ));
    }
    if ms["signin.lockout"] < ms["signin.backoff_max"] {
        return Err(key_err("signin.lockout", format!("{} is shorter than backoff_max {}: a lockout must outlast the back-off", s.lockout, s.backoff_max)));
    }
    Ok(())
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
    use super::*;

    #[test]
    fn the_builtin_policy_loads_with_the_13710_numbers() {
        let p = Policy::builtin();
        let o = p.deadlines(MatterKind::Rectification, Severity::Ordinary);
        assert_eq!(o.feedback, PolicyDuration::Days(3));
        assert_eq!(o.rectify, PolicyDuration::Days(7));
        let m = p.deadlines(MatterKind::FireSafety, Severity::Major);
        assert_eq!(m.rectify, PolicyDuration::Months(1));
        assert_eq!(m.report_every, Some(PolicyDuration::Months(1)));
        assert_eq!(p.escalation[0].id, "reminder");
        assert_eq!(p.calendar.utc_offset_secs, 8 * 3600);
        assert!(p.calendar.covers(2025) && p.calendar.covers(2026));
        assert_eq!(p.calendar.years[&2026].source.as_deref(), Some("国办发明电〔2025〕7号"));
        let law = p.calendar.statutory().expect("the built-in policy has the statutory days");
        assert_eq!(law.since, 2025);
        assert_eq!(law.holidays.iter().map(|h| h.days).sum::<u32>(), 13, "the law fixes 13 days off");
    }

    #[test]
    fn a_policy_can_extend_the_builtin_one_with_seconds() {
        let p = Policy::parse(
            r#"
            [policy]
            extends = "builtin"
            name = "fast"
            [deadlines.rectification.ordinary]
            acknowledge = "2s"
            feedback = "2s"
            rectify = "4s"
            recheck = "2s"
            "#,
        )
        .unwrap();
        assert_eq!(p.name, "fast");
        assert_eq!(p.deadlines(MatterKind::Rectification, Severity::Ordinary).feedback, PolicyDuration::Seconds(2));
        // Untouched keys come from the built-in file.
        assert_eq!(p.deadlines(MatterKind::Complaint, Severity::Ordinary).feedback, PolicyDuration::Days(3));
        assert_eq!(p.calendar, Policy::builtin().calendar);
    }

    fn err_of(over: &str) -> String {
        let text = format!("[policy]\nextends = \"builtin\"\n{}", over.strip_prefix("[policy]\n").unwrap_or(over));
        Policy::parse(&text).unwrap_err().to_string()
    }

    #[test]
    fn a_policy_serialised_before_inspections_gets_the_builtin_inspection_rules() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("inspection");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.inspection, Policy::builtin().inspection);
        assert_eq!(p.inspection.min_inspectors, 2);
    }

    #[test]
    fn bad_keys_are_named_with_the_reason() {
        for (over, want) in [
            (
                "[deadlines.rectification.ordinary]\nfeedback = \"3 days\"",
                "policy key `deadlines.rectification.ordinary.feedback`: invalid duration \"3 days\"",
            ),
            ("[deadlines.rectification.ordinary]\nrectify = \"0d\"", "`deadlines.rectification.ordinary.rectify`: must be longer than zero"),
            ("[deadlines.rectification.ordinary]\nreport_every = \"1mo\"", "`deadlines.rectification.ordinary.report_every`: only major"),
            ("[deadlines.rectification.ordinary]\nfeedbak = \"3d\"", "`deadlines.rectification.ordinary.feedbak`: unknown field"),
            (
                "[deadlines.inspection.ordinary]\nacknowledge = \"0d\"\nfeedback = \"3d\"\nrectify = \"7d\"\nrecheck = \"3wd\"",
                "`deadlines.inspection`: unknown matter kind",
            ),
            ("[numbering]\nnotice = \"{bureau}-{year}\"", "`numbering.notice`: the pattern needs {seq}"),
            ("[numbering]\nnotice = \"{bureau}-{yr}-{seq}\"", "`numbering.notice`: unknown placeholder {yr}"),
            ("[evidence]\ntypes = [\"text/html\"]", "`evidence.types`: \"text/html\" cannot be recognised"),
            ("[calendar.2026]\nholidays = [\"2026-02-30\"]\nworkdays = []", "`calendar.2026.holidays[0]`: \"2026-02-30\" is not a date"),
            ("[calendar.2026]\nholidays = [\"2025-10-01\"]\nworkdays = []", "`calendar.2026.holidays[0]`: \"2025-10-01\" is not in 2026"),
            ("[calendar.2026]\nholidays = [\"2026-10-07..2026-10-01\"]\nworkdays = []", "ends before it starts"),
            ("[calendar.2026]\nholidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]", "2026-10-10 is listed both as a holiday and as a working day"),
            (
                "[calendar.2026]\nholidays = [\"2026-10-01..2026-10-07\", \"2026-10-05\"]\nworkdays = []",
                "`calendar.2026.holidays[1]`: 2026-10-05 is listed twice",
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
            ("[statutory]\nholidays = [{ id = \"new_year\", on = \"13-01\", days = 1 }]", "`statutory.holidays[0].on`: \"13-01\" is not a month"),
            ("[statutory]\nholidays = [{ id = \"new_year\", on = \"term:清明节\", days = 1 }]", "is not one of the 24 solar terms"),
            ("[statutory]\nholidays = [{ id = \"bridge\", on = \"01-02\", days = 1 }]", "`statutory.holidays[0].id`: \"bridge\" has no name"),
            ("[statutory]\nholidays = [{ id = \"new_year\", on = \"01-01\", days = 0 }]", "`statutory.holidays[0].days`: 0 days"),
            ("[calendar.20x6]\nholidays = []\nworkdays = []", "`calendar.20x6`: the table name must be a year"),
            ("[policy]\nversion = 2", "`policy.version`: version 2 is not supported"),
            ("[policy]\nutc_offset = \"CST\"", "`policy.utc_offset`"),
            ("[inspection]\nmin_inspectors = 1", "`inspection.min_inspectors`: 1 is too few"),
            ("[inspection]\nmin_inspectors = 3", "`inspection.min_inspectors`: 3 is not supported yet"),
            ("[inspection]\npublish_within = \"0wd\"", "`inspection.publish_within`: must be longer than zero"),
            ("[inspection]\nsigners = 2", "`inspection.signers`: unknown field"),
            ("[signin]\naccount_attempts = 0", "`signin.account_attempts`: 0 is outside 1 to 1000"),
            ("[signin]\nwindow = \"1d\"", "`signin.window`: 1d is not clock time"),
            ("[signin]\nbackoff_base = \"0s\"", "`signin.backoff_base`: 0s must be longer than zero"),
            ("[signin]\nbackoff_base = \"1h\"", "`signin.backoff_max`: 15m is shorter than backoff_base 1h"),
            ("[signin]\nlockout_after = 5", "`signin.lockout_after`: 5 must be more than account_attempts (5)"),
            ("[signin]\nlockout = \"1m\"", "`signin.lockout`: 1m is shorter than backoff_max 15m"),
            ("[signin]\ntries = 3", "`signin.tries`: unknown field"),
        ] {
            let got = err_of(over);
            assert!(got.contains(want), "for {over:?}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn escalation_steps_are_checked() {
        let steps = "[[escalation]]\nid = \"reminder\"\nafter = \"0d\"\nnotify = [\"facility\"]\n[[escalation]]\nid = \"shouting\"\nafter = \"1d\"\nnotify = [\"facility\"]\n";
        let got = err_of(steps);
        assert!(got.contains("`escalation[1].id`: step \"shouting\" has no wording"), "{got}");
        let dup = "[[escalation]]\nid = \"reminder\"\nafter = \"0d\"\nnotify = [\"facility\"]\n[[escalation]]\nid = \"reminder\"\nafter = \"1d\"\nnotify = [\"facility\"]\n";
        assert!(err_of(dup).contains("appears twice"));
    }

    #[test]
    fn syntax_errors_say_where() {
        let got = Policy::parse("[policy\nversion = 1").unwrap_err().to_string();
        assert!(got.starts_with("policy file is not valid TOML"), "{got}");
        assert!(got.contains("line 1"), "{got}");
    }

    #[test]
    fn notice_numbers_follow_the_pattern() {
        let p = Policy::builtin();
        assert_eq!(p.notice_number("朝民", 2026, 7), "朝民养整改〔2026〕0007号");
        assert_eq!(render_number("{year}-{seq}", "b", 2025, 12).unwrap(), "2025-12");
    }
}

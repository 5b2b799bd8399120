//! The policy file: every number the rules use, in TOML, versioned and validated at start-up.
//!
//! A file may say `extends = "builtin"` under `[policy]`; it is then laid over the built-in
//! policy (`policy/qingling.toml`, embedded) and only needs the keys it changes. Tests use that
//! to run the same rules with `2s` periods.
//!
//! This module reads the file and its `[policy]` header and resolves the [`Policy`]; each family
//! of sections has its module, with the file's form of its tables, its checks and its tests:
//! `matter` (deadlines, extension, reopen, escalation, numbering, evidence), `inspection`,
//! `input`, `signin`, `engine`, `campaign`, `rating`, and `calendar` (statutory days and published years). Every
//! error names the key and says why ([`Error::Key`]).

mod calendar;
mod campaign;
mod engine;
mod input;
mod inspection;
mod matter;
mod rating;
mod signin;

pub use calendar::CalendarYear;
pub use campaign::{CampaignRules, Reveal};
pub use engine::EngineRules;
pub use inspection::InspectionRules;
pub use matter::{Audience, Deadlines, EscalationStep, EvidenceRules, ExtensionRules, KNOWN_EVIDENCE_TYPES, Numbering, ReopenRules};
pub use rating::{LevelRule, RatingRules, SectionMaxima};

use crate::calendar::Calendar;
use crate::matter::{MatterKind, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The policy the project ships with.
pub const BUILTIN: &str = include_str!("../../../policy/qingling.toml");
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
/// issued under even when the file changes later. Its JSON is therefore a contract: a field
/// renamed, moved or reordered breaks the replay of recorded histories (`tests/tests/replay.rs`);
/// `builtin.json` beside this file pins it.
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
    /// Absent from policies serialised before campaigns existed (old workflow inputs).
    #[serde(default)]
    pub campaign: CampaignRules,
    /// Absent from policies serialised before ratings existed (old workflow inputs).
    #[serde(default)]
    pub rating: RatingRules,
}

/// The file as it is written: each section in its module's form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    policy: Header,
    deadlines: matter::DeadlinesFile,
    extension: ExtensionRules,
    reopen: ReopenRules,
    escalation: Vec<EscalationStep>,
    numbering: Numbering,
    evidence: EvidenceRules,
    calendar: BTreeMap<String, CalendarYear>,
    statutory: calendar::StatutoryFile,
    inspection: InspectionRules,
    input: crate::input::InputLimits,
    engine: EngineRules,
    signin: crate::signin::SigninRules,
    campaign: CampaignRules,
    rating: RatingRules,
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
        self.numbering.notice_number(bureau, year, seq)
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

impl Header {
    /// The file's version and name, and its UTC offset in seconds.
    fn validate(&self) -> Result<i32, Error> {
        if self.version != SUPPORTED_VERSION {
            return Err(key_err("policy.version", format!("version {} is not supported; this build reads version {SUPPORTED_VERSION}", self.version)));
        }
        if self.name.trim().is_empty() {
            return Err(key_err("policy.name", "must not be empty"));
        }
        parse_offset(&self.utc_offset).ok_or_else(|| key_err("policy.utc_offset", format!("{:?} is not an offset like \"+08:00\"", self.utc_offset)))
    }
}

impl File {
    /// Each section checked by its module, in the file's order of concerns; the first problem
    /// is the one reported.
    fn validate(self) -> Result<Policy, Error> {
        let utc_offset_secs = self.policy.validate()?;
        let deadlines = matter::resolve_deadlines(&self.deadlines)?;
        matter::validate_extension(&self.extension)?;
        matter::validate_escalation(&self.escalation)?;
        matter::validate_numbering(&self.numbering)?;
        matter::validate_evidence(&self.evidence)?;
        inspection::validate(&self.inspection)?;
        input::validate(&self.input)?;
        engine::validate(&self.engine)?;
        signin::validate(&self.signin)?;
        campaign::validate(&self.campaign)?;
        rating::validate(&self.rating)?;
        let calendar = calendar::resolve(self.statutory, &self.calendar, utc_offset_secs)?;
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
            campaign: self.campaign,
            rating: self.rating,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The `[rating]` check, for the rating module's tests.
    pub(crate) fn validate_rating(r: &RatingRules) -> Result<(), Error> {
        rating::validate(r)
    }
    use crate::duration::PolicyDuration;

    /// The error of the built-in policy with `over` laid over it (`[policy]` may open `over`).
    pub(crate) fn err_of(over: &str) -> String {
        let text = format!("[policy]\nextends = \"builtin\"\n{}", over.strip_prefix("[policy]\n").unwrap_or(over));
        match Policy::parse(&text) {
            Ok(_) => panic!("accepted: {over:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Each override is refused with an error that contains its text.
    pub(crate) fn assert_refused(cases: &[(&str, &str)]) {
        for (over, want) in cases {
            let got = err_of(over);
            assert!(got.contains(want), "for {over:?}\n got: {got}\nwant: {want}");
        }
    }

    /// The error of the whole built-in file without the table or key at a dotted path (what
    /// `extends` cannot say).
    pub(crate) fn builtin_without(path: &str) -> String {
        let mut file: toml::Table = BUILTIN.parse().expect("the built-in policy is TOML");
        let (parents, last) = path.rsplit_once('.').map_or((None, path), |(p, l)| (Some(p), l));
        let mut table = &mut file;
        for part in parents.into_iter().flat_map(|p| p.split('.')) {
            table = table.get_mut(part).and_then(toml::Value::as_table_mut).unwrap_or_else(|| panic!("{path}: no table {part}"));
        }
        assert!(table.remove(last).is_some(), "{path} is not in the built-in policy");
        match Policy::parse(&toml::to_string(&file).expect("a table serialises")) {
            Ok(_) => panic!("accepted without {path}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_builtin_policy_loads_with_the_13710_numbers() {
        let p = Policy::builtin();
        let o = p.deadlines(MatterKind::Rectification, Severity::Ordinary);
        assert_eq!(o.feedback, PolicyDuration::Days(3));
        assert_eq!(o.rectify, PolicyDuration::Days(7));
        assert_eq!(p.name, "national-default-2026");
        assert_eq!(p.version, SUPPORTED_VERSION);
    }

    /// The JSON a workflow input carries: `builtin.json` was written by the code before the
    /// policy module was split, and every recorded history holds a policy of this shape. When
    /// `policy/qingling.toml` changes on purpose, replace `builtin.json` with the JSON the
    /// failure prints and check in the diff that only numbers and dates moved.
    #[test]
    fn the_builtin_policy_json_is_unchanged() {
        const PINNED: &str = include_str!("builtin.json");
        let now = serde_json::to_string_pretty(&Policy::builtin()).expect("a policy serialises") + "\n";
        assert!(now == PINNED, "the serialised policy changed, so a recorded workflow input may no longer read the same; it is now:\n{now}");
    }

    /// What an old workflow input holds reads back and writes out byte for byte.
    #[test]
    fn the_pinned_policy_json_reads_back_unchanged() {
        const PINNED: &str = include_str!("builtin.json");
        let read: Policy = serde_json::from_str(PINNED).expect("the pinned policy reads");
        assert_eq!(serde_json::to_string_pretty(&read).expect("a policy serialises") + "\n", PINNED);
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

    #[test]
    fn a_bad_header_is_named_with_the_reason() {
        assert_refused(&[
            ("[policy]\nversion = 2", "policy key `policy.version`: version 2 is not supported; this build reads version 1"),
            ("[policy]\nname = \" \"", "`policy.name`: must not be empty"),
            ("[policy]\nutc_offset = \"CST\"", "`policy.utc_offset`: \"CST\" is not an offset like \"+08:00\""),
            ("[policy]\nutc_offset = \"+15:00\"", "`policy.utc_offset`: \"+15:00\" is not an offset"),
            ("[policy]\nnonsense = 3", "`policy.nonsense`: unknown field `nonsense`"),
        ]);
        for (text, want) in [
            ("[policy]\nextends = \"other\"", "`policy.extends`: only \"builtin\" can be extended, not \"other\""),
            ("[policy]\nextends = 3", "`policy.extends`: must be a string"),
            ("[policy]\nextends = \"builtin\"\n[rules]\nx = 1", "`rules`: unknown field `rules`"),
        ] {
            let got = Policy::parse(text).unwrap_err().to_string();
            assert!(got.contains(want), "for {text:?}\n got: {got}\nwant: {want}");
        }
        assert!(builtin_without("policy.utc_offset").contains("policy key `policy`: missing field `utc_offset`"));
        assert_eq!(parse_offset("-03:30"), Some(-(3 * 3600 + 30 * 60)));
    }

    #[test]
    fn syntax_errors_say_where() {
        let got = Policy::parse("[policy\nversion = 1").unwrap_err().to_string();
        assert!(got.starts_with("policy file is not valid TOML"), "{got}");
        assert!(got.contains("line 1"), "{got}");
    }
}

//! The rules of a rectification matter in the policy file: `[deadlines.<kind>.<severity>]`,
//! `[extension]`, `[reopen]`, `[[escalation]]`, `[numbering]` and `[evidence]`. The file says
//! them as the resolved policy keeps them, except the deadlines, whose table names become a
//! [`MatterKind`] and a [`Severity`].

use super::{Error, key_err};
use crate::duration::PolicyDuration;
use crate::matter::{MatterKind, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

impl Numbering {
    /// The notice number of `seq` in a bureau's register for a year (`朝民养整改〔2026〕0007号`).
    pub fn notice_number(&self, bureau: &str, year: i32, seq: u64) -> String {
        render_number(&self.notice, bureau, year, seq).expect("pattern validated at load")
    }
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
    super::Policy::builtin().evidence.max_files_per_matter
}

/// Content types the evidence store can recognise by their first bytes.
pub const KNOWN_EVIDENCE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// The deadlines as the file writes them: tables named by kind and severity.
pub(super) type DeadlinesFile = BTreeMap<String, BTreeMap<String, Deadlines>>;

/// The deadlines by kind and severity: every kind has both severities, every period but the
/// acknowledgement is longer than zero, and exactly the major matters report against a plan.
pub(super) fn resolve_deadlines(file: &DeadlinesFile) -> Result<BTreeMap<MatterKind, BTreeMap<Severity, Deadlines>>, Error> {
    let mut deadlines = BTreeMap::new();
    for (kind_key, by_sev) in file {
        let kind = MatterKind::parse(kind_key).ok_or_else(|| {
            let known: Vec<_> = MatterKind::ALL.iter().map(|k| k.as_str()).collect();
            key_err(format!("deadlines.{kind_key}"), format!("unknown matter kind; known kinds: {}", known.join(", ")))
        })?;
        let mut typed = BTreeMap::new();
        for (sev_key, d) in by_sev {
            let sev = Severity::parse(sev_key).ok_or_else(|| key_err(format!("deadlines.{kind_key}.{sev_key}"), "unknown severity; use ordinary or major"))?;
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
    Ok(deadlines)
}

/// `[extension]`: an extension moves a deadline by some time.
pub(super) fn validate_extension(e: &ExtensionRules) -> Result<(), Error> {
    if e.max_each.is_zero() {
        return Err(key_err("extension.max_each", "must be longer than zero"));
    }
    Ok(())
}

/// `[[escalation]]`: at least one step, each named once and worded in the message catalogue,
/// each telling someone, each after the one before.
pub(super) fn validate_escalation(steps: &[EscalationStep]) -> Result<(), Error> {
    if steps.is_empty() {
        return Err(key_err("escalation", "the ladder needs at least one step"));
    }
    let mut seen = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
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
    Ok(())
}

/// `[numbering]`: the pattern renders.
pub(super) fn validate_numbering(n: &Numbering) -> Result<(), Error> {
    render_number(&n.notice, "X", 2026, 1).map(|_| ()).map_err(|why| key_err("numbering.notice", why))
}

/// `[evidence]`: room for at least one file, and only types the store can recognise.
pub(super) fn validate_evidence(e: &EvidenceRules) -> Result<(), Error> {
    if e.max_bytes == 0 {
        return Err(key_err("evidence.max_bytes", "must be more than zero"));
    }
    if e.max_files_per_matter == 0 {
        return Err(key_err("evidence.max_files_per_matter", "must be more than zero"));
    }
    if e.types.is_empty() {
        return Err(key_err("evidence.types", "at least one type must be allowed"));
    }
    for t in &e.types {
        if !KNOWN_EVIDENCE_TYPES.contains(&t.as_str()) {
            return Err(key_err("evidence.types", format!("{t:?} cannot be recognised; known types: {}", KNOWN_EVIDENCE_TYPES.join(", "))));
        }
    }
    Ok(())
}

/// A notice number from the numbering pattern, or why the pattern is wrong.
pub(super) fn render_number(pattern: &str, bureau: &str, year: i32, seq: u64) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_refused, builtin_without};
    use super::*;
    use crate::Policy;

    #[test]
    fn the_builtin_deadlines_are_the_13710_numbers() {
        let p = Policy::builtin();
        let o = p.deadlines(MatterKind::Rectification, Severity::Ordinary);
        assert_eq!((o.acknowledge, o.feedback, o.rectify, o.report_every), (PolicyDuration::Days(0), PolicyDuration::Days(3), PolicyDuration::Days(7), None));
        let m = p.deadlines(MatterKind::FireSafety, Severity::Major);
        assert_eq!((m.rectify, m.report_every), (PolicyDuration::Months(1), Some(PolicyDuration::Months(1))));
        assert_eq!(p.escalation[0].id, "reminder");
        assert_eq!(p.escalation[0].notify, [Audience::Facility, Audience::Inspector]);
    }

    #[test]
    fn bad_deadlines_are_named_with_the_reason() {
        assert_refused(&[
            (
                "[deadlines.rectification.ordinary]\nfeedback = \"3 days\"",
                "policy key `deadlines.rectification.ordinary.feedback`: invalid duration \"3 days\"",
            ),
            ("[deadlines.rectification.ordinary]\nrectify = \"0d\"", "`deadlines.rectification.ordinary.rectify`: must be longer than zero"),
            ("[deadlines.rectification.ordinary]\nfeedback = \"0d\"", "`deadlines.rectification.ordinary.feedback`: must be longer than zero"),
            ("[deadlines.rectification.ordinary]\nrecheck = \"0wd\"", "`deadlines.rectification.ordinary.recheck`: must be longer than zero"),
            ("[deadlines.rectification.ordinary]\nreport_every = \"1mo\"", "`deadlines.rectification.ordinary.report_every`: only major"),
            ("[deadlines.rectification.major]\nreport_every = \"0d\"", "`deadlines.rectification.major.report_every`: must be longer than zero"),
            ("[deadlines.rectification.ordinary]\nfeedbak = \"3d\"", "`deadlines.rectification.ordinary.feedbak`: unknown field"),
            (
                "[deadlines.rectification.minor]\nacknowledge = \"0d\"\nfeedback = \"3d\"\nrectify = \"7d\"\nrecheck = \"3wd\"",
                "`deadlines.rectification.minor`: unknown severity; use ordinary or major",
            ),
            (
                "[deadlines.inspection.ordinary]\nacknowledge = \"0d\"\nfeedback = \"3d\"\nrectify = \"7d\"\nrecheck = \"3wd\"",
                "`deadlines.inspection`: unknown matter kind; known kinds: rectification, fire_safety, complaint",
            ),
        ]);
    }

    #[test]
    fn every_kind_needs_both_severities_and_a_major_matter_reports() {
        for (drop, want) in [
            ("deadlines.complaint", "`deadlines.complaint`: missing: every matter kind needs its deadlines"),
            ("deadlines.complaint.major", "`deadlines.complaint.major`: missing: both ordinary and major deadlines are needed"),
            ("deadlines.complaint.major.report_every", "`deadlines.complaint.major.report_every`: missing: major matters report regularly"),
        ] {
            let got = builtin_without(drop);
            assert!(got.contains(want), "without {drop}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn extensions_reopening_numbering_and_evidence_are_checked() {
        assert_refused(&[
            ("[extension]\nmax_each = \"0d\"", "`extension.max_each`: must be longer than zero"),
            ("[extension]\nextra = 1", "`extension.extra`: unknown field `extra`"),
            ("[reopen]\nrectify_major = 5", "`reopen.rectify_major`: invalid type: integer `5`, expected a string"),
            ("[numbering]\nnotice = \"{bureau}-{year}\"", "`numbering.notice`: the pattern needs {seq}"),
            ("[numbering]\nnotice = \"{bureau}-{yr}-{seq}\"", "`numbering.notice`: unknown placeholder {yr}"),
            ("[numbering]\nnotice = \"{seq:0}\"", "`numbering.notice`: {seq:0} needs a width from 1 to 9"),
            ("[numbering]\nnotice = \"{seq\"", "`numbering.notice`: a `{` is never closed"),
            ("[evidence]\ntypes = [\"text/html\"]", "`evidence.types`: \"text/html\" cannot be recognised"),
            ("[evidence]\ntypes = []", "`evidence.types`: at least one type must be allowed"),
            ("[evidence]\nmax_bytes = 0", "`evidence.max_bytes`: must be more than zero"),
            ("[evidence]\nmax_files_per_matter = 0", "`evidence.max_files_per_matter`: must be more than zero"),
        ]);
    }

    #[test]
    fn escalation_steps_are_checked() {
        let step = |id: &str, after: &str, notify: &str| format!("[[escalation]]\nid = \"{id}\"\nafter = \"{after}\"\nnotify = [{notify}]\n");
        let reminder = step("reminder", "0d", "\"facility\"");
        assert_refused(&[
            (&format!("{reminder}{}", step("shouting", "1d", "\"facility\"")), "`escalation[1].id`: step \"shouting\" has no wording"),
            (&format!("{reminder}{}", step("reminder", "1d", "\"facility\"")), "`escalation[1].id`: step \"reminder\" appears twice"),
            (&step("reminder", "0d", ""), "`escalation[0].notify`: someone must be told"),
            (&step("reminder", "0d", "\"mayor\""), "`escalation[0].notify[0]`: unknown variant `mayor`"),
            (&format!("{reminder}{}", step("criticism", "0d", "\"facility\"")), "`escalation[1].after`: later steps must come after the previous one"),
        ]);
        assert_eq!(validate_escalation(&[]).unwrap_err().to_string(), "policy key `escalation`: the ladder needs at least one step");
    }

    #[test]
    fn notice_numbers_follow_the_pattern() {
        let p = Policy::builtin();
        assert_eq!(p.notice_number("朝民", 2026, 7), "朝民养整改〔2026〕0007号");
        assert_eq!(render_number("{year}-{seq}", "b", 2025, 12).unwrap(), "2025-12");
        assert_eq!(render_number("{bureau}{seq:3}", "b", 2025, 12_345).unwrap(), "b12345", "a width pads, never cuts");
    }
}

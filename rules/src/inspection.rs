//! The decisions about an inspection, for the console (at the edge) and the `Inspection`
//! workflow (again, for a client that talks to Temporal directly): who may open and submit it,
//! what a submission must carry, which notices its findings become, with which deadlines, and
//! the matter each notice opens. Pure functions of plain data, table-tested here, so neither
//! place decides on its own.

use crate::matter::{Actor, MatterKind, NewMatter, Role, Severity};
use crate::messages::{Locale, t};
use crate::policy::Policy;
use crate::refusal::{Class, Problem, Refusal};
use chrono::NaiveDate;
use qingling_checklists::{AnswerLimits, AnswerProblem, DeadlineClass, Evaluation, Filled, Finding, Hazard, Kind, Template, evaluate, group_notices};
use serde::{Deserialize, Serialize};

/// Where an inspection is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionStatus {
    Assigned,
    InProgress,
    Submitted,
    Completed,
}

impl InspectionStatus {
    pub const ALL: [InspectionStatus; 4] = [Self::Assigned, Self::InProgress, Self::Submitted, Self::Completed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
            Self::Completed => "completed",
        }
    }

    /// Reads a stored status; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a signed-in inspector sends to submit. `signers` are the people who signed on the
/// tablet, the submitter included; the console has checked each one's password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub key: String,
    pub filled: Filled,
    pub submitted_by: Actor,
    pub signers: Vec<Actor>,
}

fn refusal(code: &str) -> Refusal {
    Refusal::new(format!("inspection.{code}"))
}

/// Whether `actor` is one of the inspection's assigned inspectors.
pub fn is_assigned(inspectors: &[Actor], actor: &Actor) -> bool {
    actor.role == Role::Inspector && inspectors.iter().any(|i| i.user_id == actor.user_id)
}

/// Only an assigned inspector opens, fills and submits the checklist (others may read it).
pub fn check_start(inspectors: &[Actor], actor: &Actor) -> Result<(), Refusal> {
    if is_assigned(inspectors, actor) { Ok(()) } else { Err(refusal("not_assigned").class(Class::Forbidden)) }
}

/// A submission after one was accepted: the same key with the same answers is the same
/// submission (`Ok(true)`: answer with its outcome); the same key with other answers is refused,
/// so a correction is never silently dropped; another key is a second submission, refused.
/// `Ok(false)`: nothing was submitted yet.
pub fn check_resubmission(done: Option<(&str, &Filled)>, key: &str, filled: &Filled) -> Result<bool, Refusal> {
    match done {
        None => Ok(false),
        Some((k, f)) if k == key && f == filled => Ok(true),
        Some((k, _)) if k == key => Err(refusal("key_reused").class(Class::Conflict)),
        Some(_) => Err(refusal("already_submitted").class(Class::Conflict)),
    }
}

/// The answers are for the template version the inspection was assigned.
pub fn check_version(template: &Template, filled: &Filled) -> Result<(), Refusal> {
    if filled.template == template.id && filled.version == template.version {
        return Ok(());
    }
    Err(refusal("version_mismatch").arg("sent", format!("{}@{}", filled.template, filled.version)).arg("pinned", template.key()))
}

/// The submitter and at least the policy's number of assigned inspectors signed (a signer not
/// assigned does not count; one who signed twice counts once).
pub fn check_signers(inspectors: &[Actor], submitted_by: &Actor, signers: &[Actor], min_inspectors: u32) -> Result<(), Refusal> {
    let mut signed: Vec<i64> = signers.iter().filter(|s| is_assigned(inspectors, s)).map(|s| s.user_id).collect();
    signed.sort_unstable();
    signed.dedup();
    let need = min_inspectors as usize;
    if signed.contains(&submitted_by.user_id) && signed.len() >= need {
        return Ok(());
    }
    Err(refusal("signatures_required").arg("need", need.to_string()).arg("have", signed.len().to_string()))
}

/// The bounds every answer meets, from the policy's `[input]` limits.
pub fn answer_limits(policy: &Policy) -> AnswerLimits {
    AnswerLimits { text_chars: policy.input.text_chars, photos: policy.input.evidence_files }
}

/// The refusal of answers with problems.
pub fn invalid_answers(problems: Vec<AnswerProblem>) -> Refusal {
    let count = problems.len();
    refusal("invalid_answers")
        .arg("count", count.to_string())
        .with_problems(problems.into_iter().map(|p| Problem { item: p.item, code: p.code.to_string(), detail: p.message }).collect())
}

/// Answers within bounds (lengths, control characters, photo references, known items): checked
/// on every draft the tablet syncs, and on the submission.
pub fn check_answer_bounds(
    template: &Template,
    answers: &std::collections::BTreeMap<String, qingling_checklists::Answer>,
    policy: &Policy,
) -> Result<(), Refusal> {
    let problems = qingling_checklists::check_bounds(template, answers, answer_limits(policy));
    if problems.is_empty() { Ok(()) } else { Err(invalid_answers(problems)) }
}

/// Every photo an answer cites was taken for this inspection (`taken`: their hashes).
pub fn check_photos(filled: &Filled, taken: &std::collections::BTreeSet<String>) -> Result<(), Refusal> {
    let strangers: Vec<Problem> = filled
        .answers
        .iter()
        .flat_map(|(item, a)| {
            a.photos.iter().filter(|p| !taken.contains(*p)).map(move |p| Problem {
                item: item.clone(),
                code: "answer.unknown_photo".into(),
                detail: format!("photo {p} was not taken for this inspection"),
            })
        })
        .collect();
    if strangers.is_empty() {
        return Ok(());
    }
    Err(refusal("invalid_answers").arg("count", strangers.len().to_string()).with_problems(strangers))
}

/// Everything a submission must meet, in the order a person fixes it, and the evaluation of
/// its answers. `Ok(None)`: the same submission again (answer with its outcome). `done` is the
/// submission already accepted, if any.
pub fn check_submit(
    template: &Template,
    inspectors: &[Actor],
    policy: &Policy,
    done: Option<(&str, &Filled)>,
    req: &SubmitRequest,
) -> Result<Option<Evaluation>, Refusal> {
    if check_resubmission(done, &req.key, &req.filled)? {
        return Ok(None);
    }
    check_start(inspectors, &req.submitted_by)?;
    check_version(template, &req.filled)?;
    check_signers(inspectors, &req.submitted_by, &req.signers, policy.inspection.min_inspectors)?;
    check_answer_bounds(template, &req.filled.answers, policy)?;
    evaluate(template, &req.filled).map(Some).map_err(invalid_answers)
}

/// The inspectors an assignment names, from those it may name (`pool`: the region's
/// inspectors), each once: at least the policy's team size, or the refusal.
pub fn choose_inspectors(pool: &[i64], requested: &[i64], min_inspectors: u32) -> Result<Vec<i64>, Refusal> {
    let need = min_inspectors as usize;
    let invalid = || refusal("inspectors_invalid").arg("need", need.to_string());
    let mut chosen: Vec<i64> = vec![];
    for id in requested {
        if !pool.contains(id) {
            return Err(invalid());
        }
        if !chosen.contains(id) {
            chosen.push(*id);
        }
    }
    if chosen.len() < need { Err(invalid()) } else { Ok(chosen) }
}

/// The day an assignment names: today when none is given; a date (`YYYY-MM-DD`) within a year
/// either side of today (anything else is a typing mistake, and `+12345-01-01` would parse).
pub fn assignment_date(given: Option<&str>, today: NaiveDate) -> Result<NaiveDate, Refusal> {
    match given.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(today),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .filter(|d| d.signed_duration_since(today).num_days().abs() <= 366)
            .ok_or_else(|| refusal("date_invalid")),
    }
}

/// The second signer is another person than the submitter.
pub fn check_cosigner(submitter_username: &str, cosigner_username: &str) -> Result<(), Refusal> {
    if cosigner_username.trim() == submitter_username { Err(refusal("cosigner_same")) } else { Ok(()) }
}

/// Every inspector who signs a notice needs a law-enforcement certificate number: the notice
/// prints it, and a notice without one is not valid. `inspectors` are (name, certificate).
pub fn check_certified<'a>(inspectors: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Result<(), Refusal> {
    match inspectors.into_iter().find(|(_, cert)| cert.is_none_or(|c| c.trim().is_empty())) {
        Some((name, _)) => Err(refusal("inspector_uncertified").arg("name", name)),
        None => Ok(()),
    }
}

/// An inspection is submitted on or after the day it is dated: its notices print that date, and
/// their deadlines count from the day they are issued, which cannot come before it.
pub fn check_submission_day(inspection_date: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    if today < inspection_date {
        return Err(refusal("too_early").arg("date", inspection_date.to_string()));
    }
    Ok(())
}

/// The matter kind a notice becomes: fire-safety sheets and fire hazards are fire-safety matters.
pub fn matter_kind(template: &Template, findings: &[Finding]) -> MatterKind {
    let fire = template.kind == Kind::FireSafety || findings.iter().all(|f| f.hazard == Hazard::Fire);
    if fire { MatterKind::FireSafety } else { MatterKind::Rectification }
}

/// One finding as the notice prints it (Chinese: notices are official documents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftFinding {
    pub item_id: String,
    pub item: String,
    pub wording: String,
    /// `minor`, `ordinary` or `major_hazard`.
    pub severity: String,
    pub basis: String,
    /// The last day to correct it, `YYYY-MM-DD`.
    pub deadline: String,
    pub deadline_ms: i64,
    pub measures: Option<String>,
    /// A finding of deadline class "immediate": the last day to have taken the measures (the
    /// rectification itself is due by `deadline`, a major hazard's period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures_by_ms: Option<i64>,
    pub evidence_note: Option<String>,
    pub photos: Vec<String>,
    /// The years without a published schedule the deadline was counted over (the notice
    /// footnotes such a date as provisional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisional: Vec<i32>,
}

/// A notice to number, render, store and mail; `matter_id` is the matter it becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeDraft {
    pub idx: u32,
    pub matter_id: String,
    pub major_hazard: bool,
    pub findings: Vec<DraftFinding>,
}

/// The inspection a notice comes from, as [`notice_drafts`] needs it.
pub struct Issuing<'a> {
    pub inspection_id: &'a str,
    pub facility_id: i64,
    pub template: &'a Template,
    pub issued_by: &'a Actor,
    pub policy: &'a Policy,
}

/// The id of the matter a notice of an inspection becomes (`idx` counts from 1).
pub fn notice_matter_id(inspection_id: &str, idx: usize) -> String {
    format!("{inspection_id}-n{idx}")
}

/// The notices an evaluation's findings become, each with the matter it opens: deadlines per
/// finding from the 13710 rules on the working-day calendar, counted from the day of issue.
/// "Immediate" orders measures at once *and* a rectification in a major hazard's period: the
/// measures never stand in for the rectification's date, which may not fall before the feedback
/// due in between. Titles state the problem (from the notice's wording, never the checklist's
/// requirement) and come from the catalogue, in Chinese (notices are official documents).
pub fn notice_drafts(from: &Issuing, evaluation: &Evaluation, issued_ms: i64) -> Vec<(NoticeDraft, NewMatter)> {
    let policy = from.policy;
    let cal = &policy.calendar;
    let zh = Locale::ZhCn;
    let mut out = vec![];
    for (idx, group) in group_notices(evaluation).into_iter().enumerate() {
        let (major, findings) = (group.major_hazard, &group.findings);
        let kind = matter_kind(from.template, findings);
        let severity = if group.deadline == DeadlineClass::Major { Severity::Major } else { Severity::Ordinary };
        let matter_id = notice_matter_id(from.inspection_id, idx + 1);
        let lines: Vec<DraftFinding> = findings
            .iter()
            .map(|f| {
                let period = match f.deadline {
                    DeadlineClass::Ordinary => policy.deadlines(kind, Severity::Ordinary).rectify,
                    DeadlineClass::Major | DeadlineClass::Immediate => policy.deadlines(kind, Severity::Major).rectify,
                };
                let measures_by_ms = (f.deadline == DeadlineClass::Immediate).then(|| cal.due_ms(issued_ms, policy.inspection.immediate));
                // The last instant of the period, as a local date (a day period ends at 24:00).
                let due = cal.due_ms(issued_ms, period);
                DraftFinding {
                    item_id: f.item_id.clone(),
                    item: f.text.zh.clone(),
                    wording: f.notice.zh.clone(),
                    severity: f.severity.as_str().to_string(),
                    basis: format!("{} {}", f.basis.standard, f.basis.clause).trim().to_string(),
                    deadline: cal.local_date(due - 1).to_string(),
                    deadline_ms: due,
                    measures: f.measures.as_ref().map(|m| m.zh.clone()),
                    measures_by: measures_by_ms.map(|ms| cal.local_date(ms - 1).to_string()),
                    measures_by_ms,
                    evidence_note: f.evidence.note.clone(),
                    photos: f.evidence.photos.clone(),
                    provisional: cal.provisional_years_ms(issued_ms, due),
                }
            })
            .collect();
        let title = if major {
            t(zh, "inspection.title_major_hazard", &[("problem", &problem_of(&findings[0].notice.zh))])
        } else {
            t(zh, "inspection.title_findings", &[("checklist", &from.template.title.zh), ("count", &findings.len().to_string())])
        };
        let description = lines.iter().enumerate().map(|(i, l)| format!("{}. {}", i + 1, l.wording)).collect::<Vec<_>>().join("\n");
        let mut bases: Vec<String> = lines.iter().map(|l| l.basis.clone()).filter(|b| !b.is_empty()).collect();
        bases.dedup();
        let new = NewMatter {
            id: matter_id.clone(),
            facility_id: from.facility_id,
            kind,
            severity,
            title: title.chars().take(200).collect(),
            description,
            basis: bases.join(&t(zh, "inspection.basis_separator", &[])),
            issued_by: from.issued_by.clone(),
            // The matter keeps the notice's dates, however late its workflow starts.
            issued_ms: Some(issued_ms),
            rectify_due_ms: lines.iter().map(|l| l.deadline_ms).max(),
            measures_due_ms: lines.iter().filter_map(|l| l.measures_by_ms).min(),
        };
        out.push((NoticeDraft { idx: idx as u32 + 1, matter_id, major_hazard: major, findings: lines }, new));
    }
    out
}

/// The problem a notice's wording states, short enough for a title: the wording up to its first
/// clause break, without the address ("你单位") or a lead-in ("经抽查，"). A checklist item's
/// text is the requirement ("疏散通道……未被占用、堵塞"), the opposite of the finding, so a title
/// is made from the wording, never from the item.
pub fn problem_of(wording: &str) -> String {
    let mut s = wording.trim();
    // "经现场抽问，你单位员工……": the lead-in says how it was found, not what.
    if s.starts_with('经')
        && let Some((_, rest)) = s.split_once('，')
    {
        s = rest;
    }
    let s = s.strip_prefix("你单位").unwrap_or(s);
    let cut = s.find(['，', '。', '；', ',', ';']).map_or(s, |i| &s[..i]);
    let problem = cut.trim();
    if problem.is_empty() { wording.trim().chars().take(60).collect() } else { problem.chars().take(60).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_states_the_problem_not_the_requirement() {
        assert_eq!(
            problem_of("你单位疏散通道、安全出口被占用、堵塞或锁闭，违反《中华人民共和国消防法》第二十八条的规定，属于……重大事故隐患，请立即清理。"),
            "疏散通道、安全出口被占用、堵塞或锁闭"
        );
        assert_eq!(problem_of("经现场抽问，你单位员工不能正确报警、使用灭火器，不符合……"), "员工不能正确报警、使用灭火器");
        assert_eq!(problem_of("消防设施停用或损坏。"), "消防设施停用或损坏");
        assert_eq!(problem_of("  "), "");
        assert_eq!(problem_of(&"长".repeat(100)).chars().count(), 60, "bounded");
    }

    #[test]
    fn every_signer_has_a_certificate_number() {
        assert_eq!(check_certified([("赵检查", Some("京民执 0001")), ("钱检查", Some("京民执 0002"))]), Ok(()));
        for missing in [None, Some(""), Some("  ")] {
            let r = check_certified([("赵检查", Some("京民执 0001")), ("钱检查", missing)]).unwrap_err();
            assert_eq!((r.code.as_str(), r.args), ("inspection.inspector_uncertified", vec![("name".to_string(), "钱检查".to_string())]), "{missing:?}");
        }
        assert_eq!(check_certified([]), Ok(()));
    }

    #[test]
    fn an_inspection_is_not_submitted_before_its_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(check_submission_day(d("2026-12-01"), d("2026-12-01")), Ok(()));
        assert_eq!(check_submission_day(d("2026-11-30"), d("2026-12-01")), Ok(()));
        let r = check_submission_day(d("2026-12-02"), d("2026-12-01")).unwrap_err();
        assert_eq!((r.code.as_str(), r.args), ("inspection.too_early", vec![("date".to_string(), "2026-12-02".to_string())]));
    }

    const SHEET: &str = r#"[template]
id = "sheet"
version = 2
kind = "service_safety"
title = { zh = "服务安全检查表", en = "Service safety checklist" }
basis = "GB 38600-2019"

[[section]]
id = "s"
title = { zh = "安全", en = "Safety" }

[[section.item]]
id = "s.exit"
text = { zh = "疏散通道未被占用", en = "Exits clear" }
answer = "yes_no"

[section.item.failure]
severity = "major_hazard"
hazard = "fire"
basis = { standard = "GB 35181-2017", clause = "5.1" }
evidence = ["note"]
deadline = "immediate"
notice = { zh = "你单位疏散通道被占用，属于重大火灾隐患，请立即清理。", en = "Exits blocked" }
measures = { zh = "立即清理通道", en = "Clear the exits at once" }

[[section.item]]
id = "s.food"
text = { zh = "食品留样", en = "Food samples kept" }
answer = "yes_no"

[section.item.failure]
severity = "ordinary"
hazard = "food_drug"
basis = { standard = "GB 38600-2019", clause = "6.2" }
evidence = ["note"]
deadline = "ordinary"
notice = { zh = "你单位未按规定留存食品样品。", en = "No food samples" }
"#;

    fn sheet() -> Template {
        qingling_checklists::load_str("sheet@2.toml", SHEET).expect("the test sheet loads")
    }

    fn actor(id: i64, role: Role) -> Actor {
        Actor { user_id: id, name: format!("u{id}"), role, facility_id: None }
    }

    fn filled(exit: bool, food: bool) -> Filled {
        let answer = |v: bool| qingling_checklists::Answer {
            value: Some(serde_json::json!(if v { "yes" } else { "no" })),
            note: (!v).then(|| "见现场".to_string()),
            photos: vec![],
        };
        Filled { template: "sheet".into(), version: 2, answers: [("s.exit".to_string(), answer(exit)), ("s.food".to_string(), answer(food))].into() }
    }

    fn team() -> Vec<Actor> {
        vec![actor(1, Role::Inspector), actor(2, Role::Inspector)]
    }

    #[test]
    fn only_an_assigned_inspector_opens_or_submits() {
        let team = team();
        assert_eq!(check_start(&team, &actor(1, Role::Inspector)), Ok(()));
        for stranger in [actor(3, Role::Inspector), actor(1, Role::Supervisor), actor(2, Role::Admin)] {
            let r = check_start(&team, &stranger).unwrap_err();
            assert_eq!((r.code.as_str(), r.class), ("inspection.not_assigned", Class::Forbidden), "{stranger:?}");
        }
    }

    #[test]
    fn a_key_names_one_submission() {
        let (a, b) = (filled(true, true), filled(true, false));
        assert_eq!(check_resubmission(None, "k1", &a), Ok(false));
        assert_eq!(check_resubmission(Some(("k1", &a)), "k1", &a), Ok(true));
        let cases = [(Some(("k1", &a)), "k1", &b, "inspection.key_reused"), (Some(("k1", &a)), "k2", &a, "inspection.already_submitted")];
        for (done, key, sent, code) in cases {
            let r = check_resubmission(done, key, sent).unwrap_err();
            assert_eq!((r.code.as_str(), r.class), (code, Class::Conflict));
        }
    }

    #[test]
    fn signatures_count_assigned_inspectors_once_each_and_the_submitter() {
        let (one, two, three) = (actor(1, Role::Inspector), actor(2, Role::Inspector), actor(3, Role::Inspector));
        let table: [(&[Actor], Option<usize>); 5] = [
            (&[one.clone(), two.clone()], None),
            (&[one.clone(), one.clone()], Some(1)),
            (&[one.clone(), three.clone()], Some(1)),
            (std::slice::from_ref(&two), Some(1)),
            (&[two.clone(), actor(1, Role::Supervisor)], Some(1)),
        ];
        for (signers, have) in table {
            let got = check_signers(&team(), &one, signers, 2);
            match have {
                None => assert_eq!(got, Ok(()), "{signers:?}"),
                Some(n) => {
                    let r = got.unwrap_err();
                    assert_eq!(
                        (r.code.as_str(), r.arg_value("need"), r.arg_value("have")),
                        ("inspection.signatures_required", Some("2"), Some(n.to_string().as_str())),
                        "{signers:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_submission_is_checked_in_the_order_a_person_fixes_it() {
        let (t, p) = (sheet(), Policy::builtin());
        let req = |key: &str, f: Filled, by: Actor, signers: Vec<Actor>| SubmitRequest { key: key.into(), filled: f, submitted_by: by, signers };
        let ok = req("k", filled(true, false), actor(1, Role::Inspector), team());
        let evaluation = check_submit(&t, &team(), &p, None, &ok).expect("valid").expect("evaluated");
        assert_eq!(evaluation.findings.iter().map(|f| f.item_id.as_str()).collect::<Vec<_>>(), ["s.food"]);
        let done = ok.filled.clone();
        assert!(check_submit(&t, &team(), &p, Some(("k", &done)), &ok).expect("the same again").is_none());

        let mut wrong_version = ok.clone();
        wrong_version.filled.version = 1;
        let mut too_long = ok.clone();
        too_long.filled.answers.get_mut("s.food").unwrap().note = Some("长".repeat(p.input.text_chars + 1));
        let mut control = ok.clone();
        control.filled.answers.get_mut("s.food").unwrap().note = Some("a\u{0}b".into());
        let mut unknown = ok.clone();
        unknown.filled.answers.insert("s.nope".into(), Default::default());
        let table = [
            (req("k", filled(true, false), actor(3, Role::Inspector), team()), "inspection.not_assigned"),
            (wrong_version, "inspection.version_mismatch"),
            (req("k", filled(true, false), actor(1, Role::Inspector), vec![actor(1, Role::Inspector)]), "inspection.signatures_required"),
            (too_long, "inspection.invalid_answers"),
            (control, "inspection.invalid_answers"),
            (unknown, "inspection.invalid_answers"),
        ];
        for (r, code) in table {
            assert_eq!(check_submit(&t, &team(), &p, None, &r).unwrap_err().code, code);
        }
        // Another key after a submission is refused before anything else is looked at.
        let other = req("k2", filled(true, false), actor(3, Role::Inspector), vec![]);
        assert_eq!(check_submit(&t, &team(), &p, Some(("k", &done)), &other).unwrap_err().code, "inspection.already_submitted");
    }

    #[test]
    fn cited_photos_were_taken_for_the_inspection() {
        let mut f = filled(true, false);
        let hash = "a".repeat(64);
        f.answers.get_mut("s.food").unwrap().photos = vec![hash.clone()];
        assert_eq!(check_photos(&f, &[hash.clone()].into()), Ok(()));
        let r = check_photos(&f, &Default::default()).unwrap_err();
        assert_eq!(
            (r.code.as_str(), r.arg_value("count"), r.problems[0].item.as_str(), r.problems[0].code.as_str()),
            ("inspection.invalid_answers", Some("1"), "s.food", "answer.unknown_photo")
        );
    }

    #[test]
    fn an_assignment_names_enough_inspectors_of_the_pool_on_a_plausible_day() {
        let pool = [1, 2, 3];
        assert_eq!(choose_inspectors(&pool, &[1, 2], 2), Ok(vec![1, 2]));
        assert_eq!(choose_inspectors(&pool, &[2, 2, 3], 2), Ok(vec![2, 3]));
        for requested in [&[1, 1][..], &[1, 9], &[1], &[]] {
            let r = choose_inspectors(&pool, requested, 2).unwrap_err();
            assert_eq!((r.code.as_str(), r.arg_value("need")), ("inspection.inspectors_invalid", Some("2")), "{requested:?}");
        }
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(assignment_date(None, today), Ok(today));
        assert_eq!(assignment_date(Some("  "), today), Ok(today));
        assert_eq!(assignment_date(Some("2027-03-01"), today), Ok(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()));
        for bad in ["2028-01-01", "+12345-01-01", "1/12/2026", "2026-02-30"] {
            assert_eq!(assignment_date(Some(bad), today).unwrap_err().code, "inspection.date_invalid", "{bad}");
        }
        assert_eq!(check_cosigner("zhao", " zhao ").unwrap_err().code, "inspection.cosigner_same");
        assert_eq!(check_cosigner("zhao", "qian"), Ok(()));
    }

    #[test]
    fn findings_become_notices_with_deadlines_in_order_and_titles_that_state_the_problem() {
        let (t, p) = (sheet(), Policy::builtin());
        let evaluation = qingling_checklists::evaluate(&t, &filled(false, false)).expect("evaluates");
        let by = actor(9, Role::Supervisor);
        let issued_ms = p.calendar.end_of_day_ms(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()) + 10 * 3_600_000;
        let drafts = notice_drafts(&Issuing { inspection_id: "i1", facility_id: 7, template: &t, issued_by: &by, policy: &p }, &evaluation, issued_ms);
        assert_eq!(drafts.len(), 2, "one notice for the major hazard, one for the rest");
        let (major, matter) = drafts.iter().find(|(d, _)| d.major_hazard).expect("a major-hazard notice");
        assert_eq!(matter.title, "重大事故隐患：疏散通道被占用", "the problem, not the requirement");
        assert_eq!(
            (matter.kind, matter.severity, matter.id.as_str(), matter.facility_id),
            (MatterKind::FireSafety, Severity::Major, major.matter_id.as_str(), 7)
        );
        let line = &major.findings[0];
        // Measures the same day; the rectification in a major hazard's period, never before the
        // feedback due on the way.
        assert_eq!(line.measures_by.as_deref(), Some("2026-12-01"));
        let feedback_due = p.calendar.due_ms(issued_ms, p.deadlines(MatterKind::FireSafety, Severity::Major).feedback);
        assert!(line.deadline_ms > feedback_due, "rectification {} after feedback {}", line.deadline, feedback_due);
        assert_eq!(line.deadline_ms, p.calendar.due_ms(issued_ms, p.deadlines(MatterKind::FireSafety, Severity::Major).rectify));
        assert_eq!((matter.measures_due_ms, matter.rectify_due_ms), (line.measures_by_ms, Some(line.deadline_ms)));
        let (ordinary, matter) = drafts.iter().find(|(d, _)| !d.major_hazard).expect("an ordinary notice");
        assert_eq!(matter.title, "服务安全检查表：1项问题");
        assert_eq!((matter.kind, matter.severity), (MatterKind::Rectification, Severity::Ordinary), "a food finding on a service sheet");
        assert_eq!(ordinary.findings[0].measures_by, None);
        assert_eq!(ordinary.findings[0].deadline_ms, p.calendar.due_ms(issued_ms, p.deadlines(MatterKind::Rectification, Severity::Ordinary).rectify));
        assert_eq!(matter.basis, "GB 38600-2019 6.2");
        assert!(
            notice_drafts(
                &Issuing { inspection_id: "i1", facility_id: 7, template: &t, issued_by: &by, policy: &p },
                &qingling_checklists::evaluate(&t, &filled(true, true)).unwrap(),
                issued_ms
            )
            .is_empty()
        );
    }

    #[test]
    fn statuses_read_back() {
        for s in InspectionStatus::ALL {
            assert_eq!(InspectionStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(InspectionStatus::parse("done"), None);
    }
}

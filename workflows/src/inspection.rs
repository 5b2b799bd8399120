//! The `Inspection` workflow: one per on-site inspection.
//!
//! assigned → in progress (an assigned inspector opens it) → submitted (the filled checklist,
//! valid against the pinned template version and signed by at least `min_inspectors` assigned
//! inspectors) → findings → notices (numbered, rendered, stored and mailed by one activity) → one
//! `Rectification` child per notice, started and left to run on its own → completed, with the
//! date its results are due for publication.
//!
//! The template travels in the input, so the workflow evaluates exactly the version the
//! inspection was assigned, whatever happens to the files later. A submission carries an
//! idempotency key: the same key again returns the same outcome; a different key after a
//! submission is refused.

use crate::contract::{CalendarYearUpdate, DraftFinding, InspectionActivities, InspectionRecord, IssueNotices, IssuedNotice, NoticeDraft, SubmissionRecord};
use crate::ids::matter_workflow_id;
use crate::rectification::{Rectification, RectificationInput, matter_attributes, ms};
use crate::visibility::{self, FacilityFacts};
use qingling_checklists::{AnswerLimits, AnswerProblem, DeadlineClass, Evaluation, Filled, Finding, Template, check_bounds, evaluate, group_notices};
use qingling_rules::matter::{Actor, MatterKind, NewMatter, Role, Severity};
use qingling_rules::policy::Policy;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ChildWorkflowOptions, LocalActivityOptions, ParentClosePolicy, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InspectionInput {
    pub id: String,
    pub facility_id: i64,
    /// The inspection day, `YYYY-MM-DD` (local).
    pub date: String,
    pub template: Template,
    pub inspectors: Vec<Actor>,
    pub assigned_by: Actor,
    pub policy: Policy,
    /// The facility's name and region, for Temporal's visibility (empty in older inputs).
    #[serde(default)]
    pub facility: FacilityFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionStatus {
    Assigned,
    InProgress,
    Submitted,
    Completed,
}

impl InspectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
            Self::Completed => "completed",
        }
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

/// A refusal of `start` or `submit`, as it crosses the update boundary (JSON in the message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRefusal {
    /// A catalogue key: `inspection.not_assigned`, `inspection.signatures_required`,
    /// `inspection.already_submitted`, `inspection.invalid_answers`, `inspection.version_mismatch`.
    pub code: String,
    #[serde(default)]
    pub args: serde_json::Value,
    /// Per-item problems for `inspection.invalid_answers`.
    #[serde(default)]
    pub problems: Vec<ItemProblem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemProblem {
    pub item: String,
    pub code: String,
    pub message: String,
}

/// Prefix of an update failure message that carries an [`InspectionRefusal`].
pub const REFUSAL_PREFIX: &str = "qingling-inspection-refusal:";

impl InspectionRefusal {
    fn new(code: &str, args: serde_json::Value) -> Self {
        Self { code: code.into(), args, problems: vec![] }
    }
    pub fn to_wire(&self) -> String {
        format!("{REFUSAL_PREFIX}{}", serde_json::to_string(self).unwrap_or_default())
    }
    /// Finds a refusal in an update failure's message (which may wrap it in other text).
    pub fn from_wire(message: &str) -> Option<Self> {
        let at = message.find(REFUSAL_PREFIX)?;
        let mut de = serde_json::Deserializer::from_str(&message[at + REFUSAL_PREFIX.len()..]).into_iter::<Self>();
        de.next()?.ok()
    }
}

type UpdateError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionView {
    pub id: String,
    pub status: InspectionStatus,
    pub template_id: String,
    pub template_version: u32,
    pub submission_key: Option<String>,
    pub evaluation: Option<Evaluation>,
    pub notices: Vec<IssuedNotice>,
    /// The rectification matter of each notice (started as soon as the notices are issued).
    pub matters: Vec<String>,
    pub publish_by: Option<String>,
}

#[workflow]
pub struct Inspection {
    input: InspectionInput,
    status: InspectionStatus,
    started_by: Option<Actor>,
    submission: Option<(SubmitRequest, Evaluation, i64)>,
    notices: Vec<IssuedNotice>,
    publish_by: Option<String>,
    /// The status last written to the database.
    recorded: Option<InspectionStatus>,
    version: u64,
}

impl Inspection {
    fn view(&self) -> InspectionView {
        InspectionView {
            id: self.input.id.clone(),
            status: self.status,
            template_id: self.input.template.id.clone(),
            template_version: self.input.template.version,
            submission_key: self.submission.as_ref().map(|(r, _, _)| r.key.clone()),
            evaluation: self.submission.as_ref().map(|(_, e, _)| e.clone()),
            notices: self.notices.clone(),
            matters: self.notices.iter().map(|n| n.matter_id.clone()).collect(),
            publish_by: self.publish_by.clone(),
        }
    }

    fn is_assigned(&self, actor: &Actor) -> bool {
        actor.role == Role::Inspector && self.input.inspectors.iter().any(|i| i.user_id == actor.user_id)
    }

    fn check_start(&self, actor: &Actor) -> Result<(), InspectionRefusal> {
        if !self.is_assigned(actor) {
            return Err(InspectionRefusal::new("inspection.not_assigned", serde_json::json!({})));
        }
        Ok(())
    }

    /// Everything `submit` checks, without changing anything. `Ok(true)` means the same key was
    /// already accepted: the caller gets the existing outcome.
    fn check_submit(&self, req: &SubmitRequest) -> Result<bool, InspectionRefusal> {
        if let Some((done, _, _)) = &self.submission {
            return match (done.key == req.key, done.filled == req.filled) {
                (true, true) => Ok(true),
                // The same key with other answers: refused, so a correction is never dropped.
                (true, false) => Err(InspectionRefusal::new("inspection.key_reused", serde_json::json!({}))),
                (false, _) => Err(InspectionRefusal::new("inspection.already_submitted", serde_json::json!({}))),
            };
        }
        if !self.is_assigned(&req.submitted_by) {
            return Err(InspectionRefusal::new("inspection.not_assigned", serde_json::json!({})));
        }
        let t = &self.input.template;
        if req.filled.template != t.id || req.filled.version != t.version {
            return Err(InspectionRefusal::new(
                "inspection.version_mismatch",
                serde_json::json!({ "sent": format!("{}@{}", req.filled.template, req.filled.version), "pinned": t.key() }),
            ));
        }
        let mut signed: Vec<i64> = req.signers.iter().filter(|s| self.is_assigned(s)).map(|s| s.user_id).collect();
        signed.sort_unstable();
        signed.dedup();
        let need = self.input.policy.inspection.min_inspectors as usize;
        if !signed.contains(&req.submitted_by.user_id) || signed.len() < need {
            return Err(InspectionRefusal::new("inspection.signatures_required", serde_json::json!({ "need": need, "have": signed.len() })));
        }
        let bounded = check_bounds(t, &req.filled.answers, answer_limits(&self.input.policy));
        if !bounded.is_empty() {
            return Err(invalid_answers(bounded));
        }
        evaluate(t, &req.filled).map_err(invalid_answers)?;
        Ok(false)
    }

    fn record(&self, workflow_id: &str, now_ms: i64) -> InspectionRecord {
        let i = &self.input;
        InspectionRecord {
            inspection_id: i.id.clone(),
            workflow_id: workflow_id.to_string(),
            facility_id: i.facility_id,
            template_id: i.template.id.clone(),
            template_version: i.template.version,
            title: i.template.title.zh.clone(),
            date: i.date.clone(),
            status: self.status.as_str().to_string(),
            assigned_by: i.assigned_by.clone(),
            inspectors: i.inspectors.clone(),
            started_by: self.started_by.clone(),
            submission: self.submission.as_ref().map(|(r, e, at)| SubmissionRecord {
                key: r.key.clone(),
                submitted_by: r.submitted_by.clone(),
                signers: r.signers.clone(),
                at_ms: *at,
                filled: serde_json::to_value(&r.filled).unwrap_or_default(),
                evaluation: serde_json::to_value(e).unwrap_or_default(),
                findings: e.findings.len() as u32,
                points: (i.template.total_points.is_some()).then_some(e.total.points_awarded),
            }),
            notices: self.notices.clone(),
            publish_by: self.publish_by.clone(),
            updated_ms: now_ms,
        }
    }
}

/// The matter kind a notice becomes: fire-safety sheets and fire hazards are fire-safety matters.
/// The bounds every answer meets, from the policy's `[input]` limits: the console checks a draft
/// and a submission against them, and [`Inspection`]'s validator checks a submission again.
pub fn answer_limits(policy: &Policy) -> AnswerLimits {
    AnswerLimits { text_chars: policy.input.text_chars, photos: policy.input.evidence_files }
}

/// The refusal of answers with problems.
pub fn invalid_answers(problems: Vec<AnswerProblem>) -> InspectionRefusal {
    InspectionRefusal {
        code: "inspection.invalid_answers".into(),
        args: serde_json::json!({ "count": problems.len() }),
        problems: problems.into_iter().map(|p| ItemProblem { item: p.item, code: p.code.to_string(), message: p.message }).collect(),
    }
}

fn matter_kind(template: &Template, findings: &[Finding]) -> MatterKind {
    let fire = template.kind == qingling_checklists::Kind::FireSafety || findings.iter().all(|f| f.hazard == qingling_checklists::Hazard::Fire);
    if fire { MatterKind::FireSafety } else { MatterKind::Rectification }
}

/// Builds the notices' content: deadlines per finding from the 13710 rules on the working-day
/// calendar, counted from the day of issue.
fn drafts(input: &InspectionInput, evaluation: &Evaluation, issued_ms: i64) -> Vec<(NoticeDraft, NewMatter)> {
    let policy = &input.policy;
    let cal = &policy.calendar;
    let mut out = vec![];
    for (idx, group) in group_notices(evaluation).into_iter().enumerate() {
        let (major, findings) = (group.major_hazard, &group.findings);
        let kind = matter_kind(&input.template, findings);
        let severity = if group.deadline == DeadlineClass::Major { Severity::Major } else { Severity::Ordinary };
        let matter_id = format!("{}-n{}", input.id, idx + 1);
        let lines: Vec<DraftFinding> = findings
            .iter()
            .map(|f| {
                // "Immediate" orders measures at once *and* a rectification in a major hazard's
                // period: the measures never stand in for the rectification's date, which may
                // not fall before the feedback due in between.
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
            format!("重大事故隐患：{}", qingling_rules::inspection::problem_of(&findings[0].notice.zh))
        } else {
            format!("{}：{}项问题", input.template.title.zh, findings.len())
        };
        let description = lines.iter().enumerate().map(|(i, l)| format!("{}. {}", i + 1, l.wording)).collect::<Vec<_>>().join("\n");
        let mut bases: Vec<String> = lines.iter().map(|l| l.basis.clone()).filter(|b| !b.is_empty()).collect();
        bases.dedup();
        let new = NewMatter {
            id: matter_id.clone(),
            facility_id: input.facility_id,
            kind,
            severity,
            title: title.chars().take(200).collect(),
            description,
            basis: bases.join("；"),
            issued_by: input.assigned_by.clone(),
            // The matter keeps the notice's dates, however late its workflow starts.
            issued_ms: Some(issued_ms),
            rectify_due_ms: lines.iter().map(|l| l.deadline_ms).max(),
            measures_due_ms: lines.iter().filter_map(|l| l.measures_by_ms).min(),
        };
        out.push((NoticeDraft { idx: idx as u32 + 1, matter_id, major_hazard: major, findings: lines }, new));
    }
    out
}

/// The search attributes and memo an inspection starts with.
pub fn inspection_visibility(input: &InspectionInput) -> (temporalio_common::search_attributes::SearchAttributes, temporalio_common::MemoValues) {
    (
        visibility::attributes(visibility::INSPECTION, input.facility_id, &input.facility, InspectionStatus::Assigned.as_str()),
        visibility::inspection_memo(&input.facility, &input.template.title.zh, &input.date),
    )
}

/// Upserts the status attribute once the status is stored, behind the patch marker (a history
/// recorded without it replays as it ran).
fn show_status(ctx: &mut WorkflowContext<Inspection>, status: InspectionStatus) {
    if ctx.search_attributes().get(&visibility::STATUS).as_deref() != Some(status.as_str()) && ctx.patched(visibility::PATCH) {
        ctx.upsert_search_attributes([visibility::STATUS.value_set(status.as_str().to_string())]);
    }
}

#[workflow_methods]
impl Inspection {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: InspectionInput) -> Self {
        Self { input, status: InspectionStatus::Assigned, started_by: None, submission: None, notices: vec![], publish_by: None, recorded: None, version: 0 }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<InspectionView> {
        let workflow_id = ctx.workflow_id().to_string();
        let record_opts = || LocalActivityOptions::builder().start_to_close_timeout(Duration::from_secs(30)).build();
        loop {
            // 1. Keep the database's copy of the status current.
            if ctx.state(|s| s.recorded != Some(s.status)) {
                let now = ms(ctx.workflow_time());
                let (rec, status) = ctx.state(|s| (s.record(&workflow_id, now), s.status));
                ctx.execute_local_activity(InspectionActivities::record, rec, record_opts()).await?;
                ctx.state_mut(|s| s.recorded = Some(status));
                show_status(ctx, status);
                continue;
            }
            if ctx.state(|s| s.status == InspectionStatus::Submitted) {
                break;
            }
            let version = ctx.state(|s| s.version);
            ctx.wait_condition(|s: &Self| s.version != version).await?;
        }

        // 2. Findings → notices → one rectification matter per notice.
        let issued_ms = ms(ctx.workflow_time());
        let (input, evaluation) = ctx.state(|s| (s.input.clone(), s.submission.as_ref().map(|(_, e, _)| e.clone()).expect("submitted")));
        let plans = drafts(&input, &evaluation, issued_ms);
        if !plans.is_empty() {
            let cal = &input.policy.calendar;
            let request = IssueNotices {
                inspection_id: input.id.clone(),
                facility_id: input.facility_id,
                inspection_date: input.date.clone(),
                issued_date: cal.local_date(issued_ms).to_string(),
                issued_ms,
                template_title: format!("{}（{}）", input.template.title.zh, input.template.basis),
                inspectors: ctx.state(|s| s.submission.as_ref().map(|(r, _, _)| r.signers.clone()).unwrap_or_default()),
                notices: plans.iter().map(|(d, _)| d.clone()).collect(),
            };
            // Printing is seconds per notice; the activity heartbeats every 2 s, so a dead
            // worker is noticed after 10 s and the (idempotent) retry runs elsewhere.
            let opts = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(600)).heartbeat_timeout(Duration::from_secs(10)).build();
            let issued = ctx.execute_activity(InspectionActivities::issue_notices, request, opts).await?;
            ctx.state_mut(|s| s.notices = issued);
            // The matters go live before the mail, so a mail outage never delays them.
            // Each matter is searchable from its start (its memo follows from its own workflow).
            let labelled = ctx.patched(visibility::PATCH);
            for (_, new) in plans {
                let child = RectificationInput { new: new.clone(), policy: input.policy.clone(), resume: None, facility: input.facility.clone() };
                let opts = ChildWorkflowOptions::builder()
                    .workflow_id(matter_workflow_id(&new.id))
                    .parent_close_policy(ParentClosePolicy::Abandon)
                    .maybe_search_attributes(labelled.then(|| matter_attributes(&child)))
                    .build();
                ctx.start_child_workflow(Rectification::run, child, opts).await?;
            }
            let opts = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(120)).build();
            ctx.execute_activity(InspectionActivities::mail_notices, input.id.clone(), opts).await?;
        }

        // 3. Results recorded for publication.
        let publish_by = input.policy.calendar.add(input.policy.calendar.local_date(issued_ms), input.policy.inspection.publish_within);
        let now = ms(ctx.workflow_time());
        let rec = ctx.state_mut(|s| {
            s.status = InspectionStatus::Completed;
            s.publish_by = Some(publish_by.to_string());
            s.record(&workflow_id, now)
        });
        ctx.execute_local_activity(InspectionActivities::record, rec, record_opts()).await?;
        show_status(ctx, InspectionStatus::Completed);
        Ok(ctx.state(|s| s.view()))
    }

    #[query]
    pub fn state(&self, _ctx: &WorkflowContextView) -> InspectionView {
        self.view()
    }

    /// A year's published schedule: the notices this inspection has yet to issue count their
    /// deadlines on it. (One that does not fit the rules is ignored.)
    #[signal]
    pub fn learn_calendar(&mut self, _ctx: &mut SyncWorkflowContext<Self>, update: CalendarYearUpdate) {
        let _ = self.input.policy.calendar.learn(update.year, update.schedule);
    }

    #[update_validator(start)]
    fn validate_start(&self, _ctx: &WorkflowContextView, actor: &Actor) -> Result<(), UpdateError> {
        self.check_start(actor).map_err(|r| r.to_wire().into())
    }

    /// An assigned inspector opens the checklist: assigned → in progress (idempotent).
    #[update]
    pub fn start(&mut self, _ctx: &mut SyncWorkflowContext<Self>, actor: Actor) -> Result<InspectionView, UpdateError> {
        self.check_start(&actor).map_err(|r| r.to_wire())?;
        if self.status == InspectionStatus::Assigned {
            self.status = InspectionStatus::InProgress;
            self.started_by = Some(actor);
            self.version += 1;
        }
        Ok(self.view())
    }

    #[update_validator(submit)]
    fn validate_submit(&self, _ctx: &WorkflowContextView, req: &SubmitRequest) -> Result<(), UpdateError> {
        self.check_submit(req).map(|_| ()).map_err(|r| r.to_wire().into())
    }

    /// The signed checklist. The same key again returns the outcome of the first.
    #[update]
    pub fn submit(&mut self, ctx: &mut SyncWorkflowContext<Self>, req: SubmitRequest) -> Result<InspectionView, UpdateError> {
        if self.check_submit(&req).map_err(|r| r.to_wire())? {
            return Ok(self.view());
        }
        let evaluation =
            evaluate(&self.input.template, &req.filled).map_err(|_| InspectionRefusal::new("inspection.invalid_answers", serde_json::json!({})).to_wire())?;
        let now = ms(ctx.workflow_time());
        // Not before the inspection's day (the validator has no clock; the console checks first).
        let today = self.input.policy.calendar.local_date(now);
        if let Ok(date) = chrono::NaiveDate::parse_from_str(&self.input.date, "%Y-%m-%d") {
            qingling_rules::inspection::check_submission_day(date, today).map_err(|r| {
                let args: serde_json::Map<String, serde_json::Value> = r.args.into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
                InspectionRefusal::new(r.code, serde_json::Value::Object(args)).to_wire()
            })?;
        }
        if self.started_by.is_none() {
            self.started_by = Some(req.submitted_by.clone());
        }
        self.submission = Some((req, evaluation, now));
        self.status = InspectionStatus::Submitted;
        self.version += 1;
        Ok(self.view())
    }
}

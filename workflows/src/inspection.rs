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

use crate::contract::{CalendarYearUpdate, InspectionActivities, InspectionRecord, IssueNotices, IssuedNotice, SubmissionRecord};
use crate::ids::matter_workflow_id;
use crate::rectification::{Rectification, RectificationInput, matter_attributes, ms};
use crate::visibility::{self, FacilityFacts};
use qingling_checklists::{Evaluation, Template};
pub use qingling_rules::inspection::{InspectionStatus, SubmitRequest};
use qingling_rules::inspection::{Issuing, check_start, check_submission_day, check_submit, notice_drafts};
use qingling_rules::matter::Actor;
use qingling_rules::policy::Policy;
use qingling_rules::refusal::Refusal;
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

    /// Everything `submit` checks (the rules' [`check_submit`]), without changing anything.
    /// `Ok(None)`: the same submission again; the caller gets the existing outcome.
    fn check_submit(&self, req: &SubmitRequest) -> Result<Option<Evaluation>, Refusal> {
        let i = &self.input;
        let done = self.submission.as_ref().map(|(r, _, _)| (r.key.as_str(), &r.filled));
        check_submit(&i.template, &i.inspectors, &i.policy, done, req)
    }

    fn record(&self, workflow_id: &str, now_ms: i64) -> InspectionRecord {
        let i = &self.input;
        InspectionRecord {
            inspection_id: i.id.clone(),
            workflow_id: workflow_id.to_string(),
            facility_id: i.facility_id,
            template_id: i.template.id.clone(),
            template_version: i.template.version,
            template_sha256: Some(i.template.content_hash()),
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

/// The notices the evaluation's findings become ([`notice_drafts`]), with their matters.
fn drafts(
    input: &InspectionInput,
    evaluation: &Evaluation,
    issued_ms: i64,
) -> Vec<(qingling_rules::inspection::NoticeDraft, qingling_rules::matter::NewMatter)> {
    let from =
        Issuing { inspection_id: &input.id, facility_id: input.facility_id, template: &input.template, issued_by: &input.assigned_by, policy: &input.policy };
    notice_drafts(&from, evaluation, issued_ms)
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
                numbering: Some(input.policy.numbering.clone()),
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

    /// The template the inspection was assigned, exactly as it carries it.
    #[query]
    pub fn template(&self, _ctx: &WorkflowContextView) -> Template {
        self.input.template.clone()
    }

    /// A year's published schedule: the notices this inspection has yet to issue count their
    /// deadlines on it. (One that does not fit the rules is ignored.)
    #[signal]
    pub fn learn_calendar(&mut self, _ctx: &mut SyncWorkflowContext<Self>, update: CalendarYearUpdate) {
        let _ = self.input.policy.calendar.learn(update.year, update.schedule);
    }

    #[update_validator(start)]
    fn validate_start(&self, _ctx: &WorkflowContextView, actor: &Actor) -> Result<(), UpdateError> {
        check_start(&self.input.inspectors, actor).map_err(|r| r.to_wire().into())
    }

    /// An assigned inspector opens the checklist: assigned → in progress (idempotent).
    #[update]
    pub fn start(&mut self, _ctx: &mut SyncWorkflowContext<Self>, actor: Actor) -> Result<InspectionView, UpdateError> {
        check_start(&self.input.inspectors, &actor).map_err(|r| r.to_wire())?;
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
        let Some(evaluation) = self.check_submit(&req).map_err(|r| r.to_wire())? else {
            return Ok(self.view());
        };
        let now = ms(ctx.workflow_time());
        // Not before the inspection's day (the validator has no clock; the console checks first).
        let today = self.input.policy.calendar.local_date(now);
        if let Ok(date) = chrono::NaiveDate::parse_from_str(&self.input.date, "%Y-%m-%d") {
            check_submission_day(date, today).map_err(|r| r.to_wire())?;
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

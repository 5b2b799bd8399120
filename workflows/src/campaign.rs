//! The `Campaign` workflow: one 双随机 campaign (RULES.md §2, DRAW.md).
//!
//! planned (started on a day off, it waits for the next working day) → committed (the digests of
//! both directories' snapshots, the plan and the named sources, published before any randomness
//! exists) → drawn (the operator enters the sources' values with witnesses; the draw runs on the
//! committed snapshots and its bundle is stored) → assigned (the teams confirmed, after any
//! reassignment with a reason; one child `Inspection` per home and template) → published → closed.
//! A draw the committed directories cannot make (a team short of qualified inspectors) fails the
//! campaign with the reason. Each deadline (assignment, the window, publication) climbs the
//! escalation ladder when missed. The rules (`qingling_rules::campaign`) decide every step.

use crate::contract::{
    CampaignActivities, CampaignRecord, CommitRequest, DrawOutcome, DrawRun, DrawnHome, PendingEvent, ReassignOutcome, ReassignRun, SupersedeRun,
};
use crate::ids::inspection_workflow_id;
use crate::inspection::{Inspection, InspectionInput, inspection_visibility};
use crate::rectification::ms;
use futures::FutureExt;
use futures::future::FusedFuture;
use qingling_checklists::Template;
use qingling_rules::campaign::{Campaign as Case, CampaignPlan, CampaignStatus, Deadline, DrawRequest, Reassignment, SupersedeRequest, dates};
use qingling_rules::matter::Actor;
use qingling_rules::policy::Policy;
use qingling_rules::refusal::{Class, Refusal};
use serde::{Deserialize, Serialize};
use std::pin::Pin;
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, CancellableFuture, ChildWorkflowOptions, LocalActivityOptions, ParentClosePolicy, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignInput {
    pub id: String,
    /// The planning bureau's region.
    pub region_id: i64,
    pub plan: CampaignPlan,
    /// The plan's templates, pinned: each drawn home gets one inspection per template.
    pub templates: Vec<Template>,
    pub planned_by: Actor,
    pub policy: Policy,
    /// The recurring plan (Temporal Schedule) this run came from.
    #[serde(default)]
    pub schedule_id: Option<String>,
}

type UpdateError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignView {
    pub id: String,
    pub case: Case,
    pub homes: Vec<DrawnHome>,
    pub inspections: Vec<(String, String)>,
}

#[workflow]
pub struct Campaign {
    input: CampaignInput,
    case: Case,
    homes: Vec<DrawnHome>,
    inspections: Vec<(String, String)>,
    pending_draw: Option<DrawRequest>,
    pending_reassign: Vec<Reassignment>,
    pending_supersede: Option<SupersedeRequest>,
    assign_by: Option<Actor>,
    publish_by: Option<Actor>,
    events: Vec<PendingEvent>,
    next_seq: u64,
    /// The state changed since the last record.
    dirty: bool,
    version: u64,
}

fn busy() -> Refusal {
    Refusal::new("campaign.busy").class(Class::Conflict)
}

impl Campaign {
    fn view(&self) -> CampaignView {
        CampaignView { id: self.input.id.clone(), case: self.case.clone(), homes: self.homes.clone(), inspections: self.inspections.clone() }
    }

    fn event(&mut self, at_ms: i64, kind: &str, actor: Option<Actor>, payload: serde_json::Value) {
        self.next_seq += 1;
        self.events.push(PendingEvent { seq: self.next_seq, at_ms, kind: kind.to_string(), actor, payload });
        self.dirty = true;
    }

    fn record(&mut self, workflow_id: &str, created_ms: i64, now_ms: i64) -> CampaignRecord {
        let i = &self.input;
        CampaignRecord {
            campaign_id: i.id.clone(),
            workflow_id: workflow_id.to_string(),
            region_id: i.region_id,
            created_by: i.planned_by.user_id,
            created_ms,
            schedule_id: i.schedule_id.clone(),
            state: self.case.clone(),
            events: self.events.clone(),
            inspections: self.inspections.clone(),
            updated_ms: now_ms,
        }
    }

    fn teams(&self) -> Vec<qingling_rules::draw::Team> {
        self.homes
            .iter()
            .map(|h| qingling_rules::draw::Team { target: h.target.clone(), inspectors: h.team.iter().map(|(c, _)| c.clone()).collect(), picks: vec![] })
            .collect()
    }

    fn check_draw(&self, req: &DrawRequest) -> Result<(), Refusal> {
        if self.pending_draw.is_some() {
            return Err(busy());
        }
        self.case.check_draw(req).map(|_| ())
    }

    fn check_reassign(&self, r: &Reassignment) -> Result<(), Refusal> {
        if self.assign_by.is_some() {
            return Err(busy());
        }
        self.case.check_reassign(r, &self.teams())
    }

    fn check_supersede(&self, req: &SupersedeRequest) -> Result<(), Refusal> {
        if self.pending_supersede.is_some() || self.assign_by.is_some() || !self.pending_reassign.is_empty() {
            return Err(busy());
        }
        self.case.check_supersede(req, self.input.policy.campaign.max_supersessions)
    }

    fn check_assign(&self, by: &Actor) -> Result<(), Refusal> {
        if self.assign_by.is_some() || !self.pending_reassign.is_empty() || self.pending_supersede.is_some() {
            return Err(busy());
        }
        self.case.check_assign(by)
    }

    fn check_publish(&self, by: &Actor, now_ms: i64) -> Result<(), Refusal> {
        if self.publish_by.is_some() {
            return Err(busy());
        }
        // A day-scale window ends at midnight, which belongs to the day before.
        let end = self.case.dates.map(|d| self.input.policy.calendar.local_date(d.window_end_ms - 1).to_string()).unwrap_or_default();
        self.case.check_publish(by, now_ms, &end)
    }
}

/// What woke the campaign's loop.
enum Wake {
    Timer,
    Changed,
    Inspected,
}

#[workflow_methods]
impl Campaign {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CampaignInput) -> Self {
        let case = Case::new(input.plan.clone());
        Self {
            input,
            case,
            homes: vec![],
            inspections: vec![],
            pending_draw: None,
            pending_reassign: vec![],
            pending_supersede: None,
            assign_by: None,
            publish_by: None,
            events: vec![],
            next_seq: 0,
            dirty: true,
            version: 0,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<CampaignView> {
        let workflow_id = ctx.workflow_id().to_string();
        let created_ms = ms(ctx.workflow_time());
        // A run a Schedule started is named by its workflow id (the schedule's prefix and the
        // time the server appended), so each run is its own campaign.
        let scheduled = ctx.state(|s| s.input.schedule_id.is_some());
        if scheduled {
            let own = workflow_id.strip_prefix("campaign-").unwrap_or(&workflow_id).to_string();
            ctx.state_mut(|s| s.input.id = own);
        }
        let (policy, id) = ctx.state(|s| (s.input.policy.clone(), s.input.id.clone()));
        let cal = &policy.calendar;
        let local = || LocalActivityOptions::builder().start_to_close_timeout(Duration::from_secs(30)).build();
        let remote = || ActivityOptions::with_start_to_close_timeout(Duration::from_secs(120)).build();

        ctx.state_mut(|s| s.event(created_ms, "planned", Some(s.input.planned_by.clone()), serde_json::json!({ "title": s.input.plan.title })));
        // A run a Schedule started on a day off counts from the next working day.
        let today = cal.local_date(created_ms);
        let first = cal.on_or_next_workday(today);
        if scheduled && first != today {
            let starts = cal.end_of_day_ms(first.pred_opt().unwrap_or(first));
            ctx.state_mut(|s| s.event(created_ms, "moved", None, serde_json::json!({ "to": first.to_string() })));
            let rec = ctx.state_mut(|s| s.record(&workflow_id, created_ms, created_ms));
            ctx.execute_local_activity(CampaignActivities::record, rec, local()).await?;
            ctx.state_mut(|s| s.events.clear());
            ctx.timer(Duration::from_millis((starts - created_ms).max(1) as u64)).await;
        }

        // Commit first: the directories' digests, the plan and the sources, before the draw.
        let now = ms(ctx.workflow_time());
        let rec = ctx.state_mut(|s| s.record(&workflow_id, created_ms, now));
        ctx.execute_local_activity(CampaignActivities::record, rec, local()).await?;
        ctx.state_mut(|s| s.events.clear());
        let request = ctx.state(|s| CommitRequest {
            campaign_id: id.clone(),
            plan: s.input.plan.draw_plan(cal.local_date(now)),
            sources: s.input.plan.sources.clone(),
            by: s.input.planned_by.user_id,
            at_ms: now,
        });
        let committed = ctx.execute_activity(CampaignActivities::commit, request, remote()).await?;
        ctx.state_mut(|s| {
            s.case.status = CampaignStatus::Committed;
            s.case.commitment_sha256 = Some(committed.commitment_sha256.clone());
            s.event(now, "committed", None, serde_json::to_value(&committed).unwrap_or_default());
        });

        let mut inspected: Pin<Box<dyn FusedFuture<Output = ()>>> = Box::pin(futures::future::pending().fuse());
        loop {
            let now = ms(ctx.workflow_time());
            // 1. Store what changed.
            if ctx.state(|s| s.dirty) {
                let rec = ctx.state_mut(|s| s.record(&workflow_id, created_ms, now));
                ctx.execute_local_activity(CampaignActivities::record, rec, local()).await?;
                ctx.state_mut(|s| {
                    s.events.clear();
                    s.dirty = false;
                });
                continue;
            }
            let status = ctx.state(|s| s.case.status);
            if status.is_ended() {
                break;
            }

            // 2. Act on what was asked.
            if let Some(req) = ctx.state(|s| s.pending_draw.clone()).filter(|_| status == CampaignStatus::Committed) {
                let values = ctx.state(|s| s.case.check_draw(&req));
                let outcome = match values {
                    Ok(values) => {
                        let seq = ctx.state(|s| s.case.draw_seq());
                        let run =
                            DrawRun { campaign_id: id.clone(), seq, values, witnesses: req.witnesses.clone(), operator: req.operator.clone(), at_ms: now };
                        ctx.execute_activity(CampaignActivities::draw, run, remote()).await?
                    }
                    Err(r) => DrawOutcome::Refused(r),
                };
                ctx.state_mut(|s| {
                    s.pending_draw = None;
                    match outcome {
                        DrawOutcome::Drawn { bundle_sha256, homes } => {
                            s.case.status = CampaignStatus::Drawn;
                            s.case.draw = Some(req.clone());
                            s.case.bundle_sha256 = Some(bundle_sha256.clone());
                            s.case.dates = Some(dates(&s.input.plan, &s.input.policy, now));
                            let payload = serde_json::json!({ "bundle_sha256": bundle_sha256, "homes": homes.len(), "witnesses": req.witnesses });
                            s.homes = homes;
                            s.event(now, "drawn", Some(req.operator.clone()), payload);
                        }
                        DrawOutcome::Refused(r) => {
                            s.case.status = CampaignStatus::Failed;
                            s.event(now, "draw_refused", Some(req.operator.clone()), serde_json::to_value(&r).unwrap_or_default());
                            s.case.failure = Some(r);
                        }
                    }
                });
                continue;
            }
            if let Some(req) = ctx.state(|s| s.pending_supersede.clone()) {
                if status == CampaignStatus::Drawn {
                    let (seq, bundle) = ctx.state(|s| (s.case.draw_seq(), s.case.bundle_sha256.clone().unwrap_or_default()));
                    let run = SupersedeRun { campaign_id: id.clone(), seq, reason: req.reason.trim().to_string(), at_ms: now };
                    ctx.execute_activity(CampaignActivities::supersede, run, remote()).await?;
                    ctx.state_mut(|s| {
                        let payload = serde_json::json!({ "seq": seq, "bundle_sha256": bundle, "reason": req.reason.trim() });
                        s.case.supersede(req.clone(), now);
                        s.homes.clear();
                        s.event(now, "draw_superseded", Some(req.by.clone()), payload);
                    });
                }
                ctx.state_mut(|s| s.pending_supersede = None);
                continue;
            }
            if let Some(r) = ctx.state(|s| s.pending_reassign.first().cloned()) {
                let outcome =
                    ctx.execute_activity(CampaignActivities::reassign, ReassignRun { campaign_id: id.clone(), reassignment: r.clone() }, remote()).await?;
                ctx.state_mut(|s| {
                    s.pending_reassign.remove(0);
                    match outcome {
                        ReassignOutcome::Done(home) => {
                            if let Some(h) = s.homes.iter_mut().find(|h| h.target == home.target) {
                                *h = home;
                            }
                            s.event(now, "reassigned", Some(r.by.clone()), serde_json::to_value(&r).unwrap_or_default());
                            s.case.reassignments.push(r);
                        }
                        ReassignOutcome::Refused(why) => {
                            let payload = serde_json::json!({ "reassignment": r, "refusal": why });
                            s.event(now, "reassign_refused", Some(r.by.clone()), payload);
                        }
                    }
                });
                continue;
            }
            if let Some(by) = ctx.state(|s| s.assign_by.clone()).filter(|_| status == CampaignStatus::Drawn) {
                let (homes, templates, date) = ctx.state(|s| (s.homes.clone(), s.input.templates.clone(), cal.local_date(now).to_string()));
                let mut results = vec![];
                let mut started = vec![];
                for (n, home) in homes.iter().enumerate() {
                    for (t, template) in templates.iter().enumerate() {
                        let inspection_id = format!("{id}-{}-{}", n + 1, t + 1);
                        let child = InspectionInput {
                            id: inspection_id.clone(),
                            facility_id: home.facility_id,
                            date: date.clone(),
                            template: template.clone(),
                            inspectors: home.team.iter().map(|(_, a)| a.clone()).collect(),
                            assigned_by: by.clone(),
                            policy: policy.clone(),
                            facility: home.facility.clone(),
                        };
                        let (attributes, _) = inspection_visibility(&child);
                        let opts = ChildWorkflowOptions::builder()
                            .workflow_id(inspection_workflow_id(&inspection_id))
                            .parent_close_policy(ParentClosePolicy::Abandon)
                            .search_attributes(attributes)
                            .build();
                        let child = ctx.start_child_workflow(Inspection::run, child, opts).await?;
                        results.push(child.result());
                        started.push((home.target.clone(), inspection_id));
                    }
                }
                inspected = Box::pin(futures::future::join_all(results).map(|_| ()).fuse());
                ctx.state_mut(|s| {
                    s.inspections = started;
                    s.case.status = CampaignStatus::Assigned;
                    s.case.assigned_by = Some(by.clone());
                    let payload = serde_json::json!({ "inspections": s.inspections.len() });
                    s.event(now, "assigned", Some(by), payload);
                });
                continue;
            }
            if let Some(by) = ctx.state(|s| s.publish_by.clone()).filter(|_| status == CampaignStatus::Assigned) {
                ctx.state_mut(|s| {
                    let on_time = s.case.dates.is_none_or(|d| now <= d.publish_by_ms);
                    s.case.status = CampaignStatus::Published;
                    s.case.published_by = Some(by.clone());
                    s.case.published_ms = Some(now);
                    s.event(now, "published", Some(by), serde_json::json!({ "on_time": on_time }));
                    s.case.status = CampaignStatus::Closed;
                    s.event(now, "closed", None, serde_json::json!({}));
                });
                continue;
            }

            // 3. Sleep until the next escalation step, a request, or the last inspection done.
            let version = ctx.state(|s| s.version);
            let next = ctx.state(|s| s.case.next_escalation(&s.input.policy));
            let wake = match next {
                Some((_, _, at)) => {
                    let timer = ctx.timer(Duration::from_millis((at - now).max(1) as u64));
                    let mut timer = std::pin::pin!(timer);
                    let wake = temporalio_sdk::workflows::select! {
                        _ = timer.as_mut() => Wake::Timer,
                        _ = ctx.wait_condition(|s: &Self| s.version != version) => Wake::Changed,
                        _ = inspected.as_mut() => Wake::Inspected,
                    };
                    if !matches!(wake, Wake::Timer) {
                        // Dropping a timer does not cancel it on the server; cancel explicitly.
                        timer.as_ref().get_ref().cancel();
                        timer.await;
                    }
                    wake
                }
                None => temporalio_sdk::workflows::select! {
                    _ = ctx.wait_condition(|s: &Self| s.version != version) => Wake::Changed,
                    _ = inspected.as_mut() => Wake::Inspected,
                },
            };
            let now = ms(ctx.workflow_time());
            match wake {
                Wake::Changed => {}
                Wake::Inspected => {
                    inspected = Box::pin(futures::future::pending().fuse());
                    ctx.state_mut(|s| {
                        s.case.inspected = true;
                        s.event(now, "inspected", None, serde_json::json!({ "inspections": s.inspections.len() }));
                    });
                }
                Wake::Timer => {
                    let Some((which, level, _)) = next else { continue };
                    let waiting = if which == Deadline::Inspect {
                        let progress = ctx.execute_activity(CampaignActivities::progress, id.clone(), remote()).await?;
                        if progress.waiting.is_empty() && progress.total > 0 {
                            ctx.state_mut(|s| {
                                s.case.inspected = true;
                                s.event(now, "inspected", None, serde_json::json!({ "inspections": progress.total }));
                            });
                            continue;
                        }
                        progress.waiting
                    } else {
                        vec![]
                    };
                    ctx.state_mut(|s| {
                        let rung = s.input.policy.escalation.get(level as usize - 1);
                        let step = rung.map(|e| e.id.clone()).unwrap_or_default();
                        // Whom the step tells (the campaign's activity mails them).
                        let notify = rung.map(|e| e.notify.clone()).unwrap_or_default();
                        s.case.escalate(which, level);
                        let payload = serde_json::json!({ "deadline": which.as_str(), "level": level, "step": step, "waiting": waiting, "notify": notify });
                        s.event(now, "escalated", None, payload);
                    });
                }
            }
        }
        Ok(ctx.state(|s| s.view()))
    }

    #[query]
    pub fn state(&self, _ctx: &WorkflowContextView) -> CampaignView {
        self.view()
    }

    #[update_validator(draw)]
    fn validate_draw(&self, _ctx: &WorkflowContextView, req: &DrawRequest) -> Result<(), UpdateError> {
        self.check_draw(req).map_err(|r| r.to_wire().into())
    }

    /// The sources' values, entered at the ceremony with the witnesses present.
    #[update]
    pub fn draw(&mut self, _ctx: &mut SyncWorkflowContext<Self>, req: DrawRequest) -> Result<CampaignView, UpdateError> {
        self.check_draw(&req).map_err(|r| r.to_wire())?;
        self.pending_draw = Some(req);
        self.version += 1;
        Ok(self.view())
    }

    #[update_validator(supersede)]
    fn validate_supersede(&self, _ctx: &WorkflowContextView, req: &SupersedeRequest) -> Result<(), UpdateError> {
        self.check_supersede(req).map_err(|r| r.to_wire().into())
    }

    /// The current draw set aside with a reason, before the teams go; a new draw follows.
    #[update]
    pub fn supersede(&mut self, _ctx: &mut SyncWorkflowContext<Self>, req: SupersedeRequest) -> Result<CampaignView, UpdateError> {
        self.check_supersede(&req).map_err(|r| r.to_wire())?;
        self.pending_supersede = Some(req);
        self.version += 1;
        Ok(self.view())
    }

    #[update_validator(reassign)]
    fn validate_reassign(&self, _ctx: &WorkflowContextView, r: &Reassignment) -> Result<(), UpdateError> {
        self.check_reassign(r).map_err(|r| r.to_wire().into())
    }

    /// One inspector of a drawn team replaced, with the reason (checked against the committed
    /// directory by the activity; a refusal is recorded as an event).
    #[update]
    pub fn reassign(&mut self, _ctx: &mut SyncWorkflowContext<Self>, r: Reassignment) -> Result<CampaignView, UpdateError> {
        self.check_reassign(&r).map_err(|r| r.to_wire())?;
        self.pending_reassign.push(r);
        self.version += 1;
        Ok(self.view())
    }

    #[update_validator(assign)]
    fn validate_assign(&self, _ctx: &WorkflowContextView, by: &Actor) -> Result<(), UpdateError> {
        self.check_assign(by).map_err(|r| r.to_wire().into())
    }

    /// The drawn teams confirmed: the inspections start.
    #[update]
    pub fn assign(&mut self, _ctx: &mut SyncWorkflowContext<Self>, by: Actor) -> Result<CampaignView, UpdateError> {
        self.check_assign(&by).map_err(|r| r.to_wire())?;
        self.assign_by = Some(by);
        self.version += 1;
        Ok(self.view())
    }

    /// The state and the caller; the window is checked by the update with the workflow's clock
    /// (a validator has none).
    #[update_validator(publish)]
    fn validate_publish(&self, _ctx: &WorkflowContextView, by: &Actor) -> Result<(), UpdateError> {
        self.check_publish(by, i64::MAX).map_err(|r| r.to_wire().into())
    }

    /// The results published (every inspection done, or the window over).
    #[update]
    pub fn publish(&mut self, ctx: &mut SyncWorkflowContext<Self>, by: Actor) -> Result<CampaignView, UpdateError> {
        let now = ms(ctx.workflow_time());
        self.check_publish(&by, now).map_err(|r| r.to_wire())?;
        self.publish_by = Some(by);
        self.version += 1;
        Ok(self.view())
    }
}

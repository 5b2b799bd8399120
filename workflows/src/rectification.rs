//! The `Rectification` workflow: one per notice, alive until the matter is closed or withdrawn.
//!
//! Updates (one per action) are validated against the state machine and applied at once; their
//! effects go to an outbox. The run loop is the only writer: it persists the outbox with one
//! local activity per batch, escalates missed deadlines when their timer fires, and sleeps until
//! the next deadline or the next action, whichever comes first. An approved extension changes
//! the next deadline, which wakes the loop and re-times the timer.

use crate::contract::{CalendarYearUpdate, MatterActivities, PendingEvent, PendingMail, PersistBatch, StuckReport};
use crate::ids::notice_workflow_id;
use crate::notice::NoticeDelivery;
use crate::visibility::{self, FacilityFacts};
use qingling_rules::matter::{Action, Actor, Effect, Matter, NewMatter};
use qingling_rules::policy::Policy;
use qingling_rules::refusal::Refusal;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, CancellableFuture, ChildWorkflowOptions, ContinueAsNewOptions, LocalActivityOptions, ParentClosePolicy, SyncWorkflowContext,
    WorkflowContext, WorkflowContextView, WorkflowResult,
};

/// The patch marker of starting a notice's delivery after the matter is first stored.
pub const NOTICE_DELIVERY_PATCH: &str = "notice-delivery";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RectificationInput {
    pub new: NewMatter,
    /// The policy the matter is governed by, fixed at issue.
    pub policy: Policy,
    /// Set when the workflow continues as new, or is restarted from the stored state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// The facility's name and region, for Temporal's visibility (empty in older inputs).
    #[serde(default)]
    pub facility: FacilityFacts,
}

/// A matter carried into a new run: its state, and the events already decided and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub matter: Matter,
    /// The last event number stored; the new run numbers from the next one.
    pub last_seq: u64,
    pub notice_number: Option<String>,
}

/// An action as the console sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionRequest {
    pub actor: Actor,
    pub action: Action,
}

/// Files uploaded to a matter, as the server stored them, for its timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRequest {
    pub actor: Actor,
    pub files: Vec<qingling_rules::matter::EvidenceRef>,
}

/// What the `state` query and every accepted update return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatterView {
    pub matter: Matter,
    pub notice_number: Option<String>,
    /// Events decided so far, and how many of them are already in the database.
    pub last_seq: u64,
    pub persisted_seq: u64,
    pub next_wake_ms: Option<i64>,
    pub policy_name: String,
    /// Why the matter is held (a step that could not be stored), until an operator repairs it.
    #[serde(default)]
    pub stuck: Option<String>,
}

#[workflow]
pub struct Rectification {
    policy: Policy,
    new: NewMatter,
    matter: Matter,
    /// Instant of the latest workflow activation seen, for validators (which get no clock).
    now_ms: i64,
    next_seq: u64,
    persisted_seq: u64,
    outbox: Vec<PendingEvent>,
    mails: Vec<PendingMail>,
    notice_number: Option<String>,
    /// Bumped by every accepted action, so the run loop wakes and re-times its timer.
    version: u64,
    /// Set while the matter is held on a persist failure retrying cannot fix.
    stuck: Option<String>,
    /// Bumped by the `repair` signal.
    repairs: u64,
    facility: FacilityFacts,
}

/// A workflow-context instant as Unix milliseconds (0 when the context has none).
pub(crate) fn ms(t: Option<std::time::SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Rectification {
    fn enqueue(&mut self, at_ms: i64, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Record { event, actor } => {
                    let (kind, payload) = event.into_parts();
                    self.next_seq += 1;
                    self.outbox.push(PendingEvent { seq: self.next_seq, at_ms, kind, actor, payload });
                }
                Effect::Notify { notice, audience, args } => {
                    self.mails.push(PendingMail { seq: self.next_seq, notice, audience, args });
                }
            }
        }
    }

    fn view(&self) -> MatterView {
        MatterView {
            matter: self.matter.clone(),
            notice_number: self.notice_number.clone(),
            last_seq: self.next_seq,
            persisted_seq: self.persisted_seq,
            next_wake_ms: self.matter.next_wake_ms(),
            policy_name: self.policy.name.clone(),
            stuck: self.stuck.clone(),
        }
    }

    /// A held matter takes nothing until it is repaired.
    fn not_held(&self) -> Result<(), Refusal> {
        self.stuck.as_deref().map_or(Ok(()), |error| Err(Refusal::stuck(error)))
    }

    fn batch(&self, workflow_id: &str) -> Option<PersistBatch> {
        (!self.outbox.is_empty()).then(|| PersistBatch {
            workflow_id: workflow_id.to_string(),
            policy_name: self.policy.name.clone(),
            new: self.new.clone(),
            matter: self.matter.clone(),
            events: self.outbox.clone(),
            mails: self.mails.clone(),
            numbering: Some(self.policy.numbering.clone()),
        })
    }
}

/// The search attributes a run of this input starts with: its status is the resumed matter's, or
/// `issued` for a new one.
pub fn matter_attributes(input: &RectificationInput) -> temporalio_common::search_attributes::SearchAttributes {
    let status = input.resume.as_ref().map_or(qingling_rules::matter::Status::Issued, |r| r.matter.status);
    visibility::attributes(visibility::MATTER, input.new.facility_id, &input.facility, status.as_str())
}

/// Brings Temporal's view of the matter up to what was just stored: the status attribute, and
/// the memo's facility, title and notice number where they are missing (a matter started by an
/// inspection has no memo at start; the number is known after the first persist). These are
/// commands, so they sit behind the patch marker: a history recorded without it replays as it
/// ran. What the workflow believes it shows comes from its own context, so replay decides alike.
fn show(ctx: &mut WorkflowContext<Rectification>) {
    let (status, notice, title, facility) = ctx.state(|s| (s.matter.status.as_str(), s.notice_number.clone(), s.new.title.clone(), s.facility.name.clone()));
    let status_changed = ctx.search_attributes().get(&visibility::STATUS).as_deref() != Some(status);
    let memo = ctx.memo();
    let mut missing: Vec<(&str, String)> = vec![];
    if !memo.contains_key(visibility::MEMO_TITLE) {
        missing.push((visibility::MEMO_TITLE, title));
    }
    if !facility.is_empty() && !memo.contains_key(visibility::MEMO_FACILITY) {
        missing.push((visibility::MEMO_FACILITY, facility));
    }
    if let Some(n) = notice.filter(|_| !memo.contains_key(visibility::MEMO_NOTICE)) {
        missing.push((visibility::MEMO_NOTICE, n));
    }
    if !status_changed && missing.is_empty() {
        return;
    }
    // Asked only when there is something to show, so the marker sits right before the commands.
    if !ctx.patched(visibility::PATCH) {
        return;
    }
    if status_changed {
        ctx.upsert_search_attributes([visibility::STATUS.value_set(status.to_string())]);
    }
    if !missing.is_empty() {
        // Strings always convert; a failure would only leave the memo short.
        let _ = ctx.upsert_memo(missing.into_iter().map(|(k, v)| (k, Some(temporalio_common::MemoValue::new(v)))));
    }
}

#[workflow_methods]
impl Rectification {
    #[init]
    pub fn new(ctx: &WorkflowContextView, input: RectificationInput) -> Self {
        let now_ms = ms(ctx.start_time());
        let (matter, effects, last_seq, notice_number) = match input.resume {
            Some(r) => (r.matter, vec![], r.last_seq, r.notice_number),
            None => {
                let (matter, effects) = Matter::open(&input.new, now_ms, &input.policy);
                (matter, effects, 0, None)
            }
        };
        let mut wf = Self {
            policy: input.policy,
            new: input.new,
            matter,
            now_ms,
            next_seq: last_seq,
            persisted_seq: last_seq,
            outbox: vec![],
            mails: vec![],
            notice_number,
            version: 0,
            stuck: None,
            repairs: 0,
            facility: input.facility,
        };
        wf.enqueue(now_ms, effects);
        wf
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<MatterView> {
        let workflow_id = ctx.workflow_id().to_string();
        loop {
            let now = ms(ctx.workflow_time());
            ctx.state_mut(|s| s.now_ms = s.now_ms.max(now));

            // 1. Make every decided event durable before anything else happens.
            if let Some(batch) = ctx.state(|s| s.batch(&workflow_id)) {
                let upto = batch.events.last().map(|e| e.seq).unwrap_or(0);
                let mails = batch.mails.len();
                let opts = LocalActivityOptions::builder().start_to_close_timeout(Duration::from_secs(30)).build();
                match ctx.execute_local_activity(MatterActivities::persist, batch, opts).await {
                    Ok(done) => {
                        let first = ctx.state_mut(|s| {
                            s.outbox.retain(|e| e.seq > upto);
                            s.mails.drain(..mails);
                            s.persisted_seq = upto;
                            s.notice_number.replace(done.notice_number).is_none()
                        });
                        show(ctx);
                        // The notice's document was stored with its number; printing and mailing
                        // it take their own workflow, so they never hold the matter. Histories
                        // from before documents (no marker) replay without it.
                        if first && done.document && ctx.patched(NOTICE_DELIVERY_PATCH) {
                            let opts = ChildWorkflowOptions::builder()
                                .workflow_id(notice_workflow_id(&ctx.state(|s| s.new.id.clone())))
                                .parent_close_policy(ParentClosePolicy::Abandon)
                                .build();
                            // Refused only when a delivery of this id already exists: then it
                            // is under way or done.
                            let _ = ctx.start_child_workflow(NoticeDelivery::run, ctx.state(|s| s.new.id.clone()), opts).await;
                        }
                    }
                    // Retryable failures are retried inside the activity call; what comes back
                    // is a failure retrying cannot fix.
                    Err(e) => {
                        let error = e.to_string();
                        let repairs = ctx.state_mut(|s| {
                            s.stuck = Some(error.clone());
                            s.repairs
                        });
                        let report = StuckReport {
                            workflow_id: workflow_id.clone(),
                            kind: "matter".into(),
                            subject_id: ctx.state(|s| s.new.id.clone()),
                            error,
                            at_ms: now,
                        };
                        let opts = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30)).build();
                        ctx.execute_activity(MatterActivities::report_stuck, report, opts).await?;
                        ctx.wait_condition(|s: &Self| s.repairs != repairs).await?;
                    }
                }
                continue;
            }
            if ctx.state(|s| s.matter.status.is_ended()) {
                return Ok(ctx.state(|s| s.view()));
            }

            // 2. Escalate whatever fell due.
            let stepped = ctx.state_mut(|s| {
                let effects = s.matter.tick(now, &s.policy);
                let any = !effects.is_empty();
                s.enqueue(now, effects);
                any
            });
            if stepped {
                continue;
            }

            // 3. Keep the history short: carry the matter into a new run of the same id.
            let limit = ctx.state(|s| s.policy.engine.continue_as_new_after);
            if (ctx.history_length() >= limit || ctx.continue_as_new_suggested()) && ctx.all_handlers_finished() {
                let input = ctx.state(|s| RectificationInput {
                    new: s.new.clone(),
                    policy: s.policy.clone(),
                    resume: Some(Resume { matter: s.matter.clone(), last_seq: s.next_seq, notice_number: s.notice_number.clone() }),
                    facility: s.facility.clone(),
                });
                // The new run starts with the attributes and memo of the matter as it stands
                // (also for a run started before they existed, whose are empty).
                let opts = ContinueAsNewOptions::builder()
                    .search_attributes(matter_attributes(&input))
                    .memo(visibility::matter_memo(&input.new, &input.facility, input.resume.as_ref().and_then(|r| r.notice_number.as_deref())))
                    .build();
                ctx.continue_as_new(input, opts)?;
            }

            // 4. Sleep until the next deadline step or the next accepted action.
            let version = ctx.state(|s| s.version);
            match ctx.state(|s| s.matter.next_wake_ms()) {
                Some(at) => {
                    let wait = Duration::from_millis((at - now).max(1) as u64);
                    let timer = ctx.timer(wait);
                    let mut timer = std::pin::pin!(timer);
                    let fired = temporalio_sdk::workflows::select! {
                        _ = timer.as_mut() => true,
                        _ = ctx.wait_condition(|s: &Self| s.version != version) => false,
                    };
                    if !fired {
                        // Dropping a timer does not cancel it on the server; cancel explicitly.
                        timer.as_ref().get_ref().cancel();
                        timer.await;
                    }
                }
                None => {
                    ctx.wait_condition(|s: &Self| s.version != version).await?;
                }
            }
        }
    }

    #[query]
    pub fn state(&self, _ctx: &WorkflowContextView) -> MatterView {
        self.view()
    }

    /// A year's published schedule: the matter's calendar is amended (the rest of its policy
    /// stays as issued), its internal dates are counted again and each moved date is recorded;
    /// the run loop persists the events and re-times its timer. The same schedule twice, or one
    /// that does not fit the rules, changes nothing.
    #[signal]
    pub fn learn_calendar(&mut self, ctx: &mut SyncWorkflowContext<Self>, update: CalendarYearUpdate) {
        if self.policy.calendar.years.get(&update.year) == Some(&update.schedule) || self.matter.status.is_ended() {
            return;
        }
        if self.policy.calendar.learn(update.year, update.schedule).is_err() {
            return;
        }
        let now = ms(ctx.workflow_time()).max(self.now_ms);
        self.now_ms = now;
        let effects = self.matter.retime(update.year, &self.policy);
        self.enqueue(now, effects);
        self.version += 1;
    }

    /// An operator's "try again" for a held matter: the loop retries the batch it could not store.
    #[signal]
    pub fn repair(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _by: String) {
        self.stuck = None;
        self.repairs += 1;
    }

    #[update_validator(record_upload)]
    fn validate_upload(&self, _ctx: &WorkflowContextView, req: &UploadRequest) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.not_held().map_err(|r| r.to_wire())?;
        self.matter.record_upload(&req.actor, &req.files, self.now_ms, &self.policy).map(|_| ()).map_err(|r| r.to_wire().into())
    }

    /// Records an upload on the timeline (the files are already stored by content hash).
    #[update]
    pub fn record_upload(&mut self, ctx: &mut SyncWorkflowContext<Self>, req: UploadRequest) -> Result<MatterView, Box<dyn std::error::Error + Send + Sync>> {
        let now = ms(ctx.workflow_time()).max(self.now_ms);
        self.now_ms = now;
        let effects = self.matter.record_upload(&req.actor, &req.files, now, &self.policy).map_err(|r: Refusal| r.to_wire())?;
        self.enqueue(now, effects);
        self.version += 1;
        Ok(self.view())
    }

    #[update_validator(act)]
    fn validate_act(&self, _ctx: &WorkflowContextView, req: &ActionRequest) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.not_held().map_err(|r| r.to_wire())?;
        self.matter.check(&req.actor, &req.action, self.now_ms, &self.policy).map_err(|r| r.to_wire().into())
    }

    /// Applies one action. A refusal carries a [`Refusal`] in its message (see `to_wire`).
    #[update]
    pub fn act(&mut self, ctx: &mut SyncWorkflowContext<Self>, req: ActionRequest) -> Result<MatterView, Box<dyn std::error::Error + Send + Sync>> {
        let now = ms(ctx.workflow_time()).max(self.now_ms);
        self.now_ms = now;
        let effects = self.matter.apply(&req.actor, &req.action, now, &self.policy).map_err(|r: Refusal| r.to_wire())?;
        self.enqueue(now, effects);
        self.version += 1;
        Ok(self.view())
    }
}

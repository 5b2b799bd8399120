//! The console's side of Temporal, the one module that talks to it: start a matter's
//! `Rectification` or an `Inspection` workflow, send either an update (validated by the workflow
//! against the rules; a refusal comes back as a [`Refusal`]), and read a matter's live state (a
//! query). Nothing here touches the database.

use qingling_rules::Policy;
use qingling_rules::inspection::SubmitRequest;
use qingling_rules::matter::{Actor, NewMatter};
use qingling_rules::refusal::Refusal;
use qingling_workflows::contract::CalendarYearUpdate;
use qingling_workflows::inspection::inspection_visibility;
use qingling_workflows::rectification::matter_attributes;
use qingling_workflows::rectification::{ActionRequest, UploadRequest};
use qingling_workflows::visibility::{self, FacilityFacts};
use qingling_workflows::{CalendarRollout, Inspection, InspectionView, MatterView, Rectification, RectificationInput, ids};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use temporalio_client::errors::{WorkflowInteractionError, WorkflowQueryError, WorkflowStartError, WorkflowUpdateError};
use temporalio_client::{Client, RpcOptions, WorkflowExecuteUpdateOptions, WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions};
use temporalio_common::protos::temporal::api::failure::v1::Failure;
use temporalio_common::{HasWorkflowDefinition, UpdateDefinition};

/// How long an action may take end to end. Updates are applied at once by a running worker; a
/// longer wait means no worker is polling, and the person should hear so rather than wait.
pub(crate) const UPDATE_TIMEOUT: Duration = Duration::from_secs(30);
/// Queries back pages; a page renders without the live view rather than hang.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The workflow refused the action (its update validator or the update itself).
    #[error("{0}")]
    Refused(Refusal),
    /// Temporal is unreachable, or no worker answered in time.
    #[error("workflow engine unavailable: {0}")]
    Unavailable(String),
    /// An update was sent and no answer came in time: it may still take effect.
    #[error("the workflow did not answer in time; is a worker running?")]
    NoAnswer,
    /// Temporal answered that the workflow does not run (finished, terminated or unknown).
    #[error("the workflow does not run")]
    Gone,
    /// The cluster lacks one of Qingling's custom search attributes, so nothing can start.
    #[error(
        "Temporal has no search attribute {name}: register Qingling's attributes on the cluster (temporal operator search-attribute create --name {name} --type {ty}; see README, Scaling)"
    )]
    Unregistered { name: &'static str, ty: &'static str },
}

/// The console's line to Temporal. The console starts and serves from the database without it:
/// until a client is connected, or while the last probe failed, every call that needs the engine
/// fails at once with [`EngineError::Unavailable`] (no page waits on a dead connection), pages
/// show a banner, and a background task (see `qingling_app::app::keep_temporal_linked`)
/// connects and probes until it answers again.
#[derive(Clone, Default)]
pub struct Temporal {
    inner: Arc<Link>,
}

#[derive(Default)]
struct Link {
    client: RwLock<Option<Client>>,
    /// The last probe (or the connection) succeeded.
    reachable: AtomicBool,
}

impl Temporal {
    /// A line already connected.
    pub fn connected(client: Client) -> Temporal {
        let t = Temporal::default();
        t.connect(client);
        t
    }

    /// Not connected yet: every engine call is refused until [`Temporal::connect`].
    pub fn pending() -> Temporal {
        Temporal::default()
    }

    pub fn connect(&self, client: Client) {
        *self.inner.client.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
        self.inner.reachable.store(true, Ordering::SeqCst);
    }

    /// The client, when connected and last seen answering.
    pub fn client(&self) -> Result<Client, EngineError> {
        if !self.reachable() {
            return Err(EngineError::Unavailable("Temporal is not reachable; reconnecting".into()));
        }
        self.inner.client.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or_else(|| EngineError::Unavailable("not connected to Temporal yet".into()))
    }

    /// The connected client, whether or not it answered lately (for the probe).
    pub fn any_client(&self) -> Option<Client> {
        self.inner.client.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reachable(&self) -> bool {
        self.inner.reachable.load(Ordering::SeqCst)
    }

    /// Records what the last probe found; `true` when that changed.
    pub fn set_reachable(&self, up: bool) -> bool {
        self.inner.reachable.swap(up, Ordering::SeqCst) != up
    }
}

/// Whether Temporal answers a health check within `within`.
pub async fn probe(client: &Client, within: Duration) -> bool {
    use temporalio_client::tonic::IntoRequest;
    use temporalio_common::protos::grpc::health::v1::HealthCheckRequest;
    let mut health = client.connection().health_service();
    matches!(tokio::time::timeout(within, health.check(HealthCheckRequest::default().into_request())).await, Ok(Ok(_)))
}

/// Starts the workflow of a new matter; returns its workflow id, and `false` when a workflow of
/// that id already exists (running or finished: a matter's id is never reused), so a retried
/// issue with the same id starts nothing. The workflow starts searchable by kind, facility,
/// region and status, with the facility's name and the title in its memo.
#[tracing::instrument(skip_all, fields(matter_id = %new.id, facility_id = new.facility_id))]
pub async fn issue(client: &Client, new: NewMatter, policy: &Policy, facility: FacilityFacts) -> Result<(String, bool), EngineError> {
    let workflow_id = ids::matter_workflow_id(&new.id);
    let input = RectificationInput { new, policy: policy.clone(), resume: None, facility };
    let options = WorkflowStartOptions::new(ids::TASK_QUEUE, workflow_id.clone())
        .id_reuse_policy(temporalio_client::WorkflowIdReusePolicy::RejectDuplicate)
        .search_attributes(matter_attributes(&input))
        .memo(visibility::matter_memo(&input.new, &input.facility, None))
        .static_summary(summary(&input.facility, &input.new.title))
        .build();
    match tokio::time::timeout(UPDATE_TIMEOUT, client.start_workflow(Rectification::run, input, options)).await {
        Ok(Ok(_handle)) => Ok((workflow_id, true)),
        Ok(Err(WorkflowStartError::AlreadyStarted { .. })) => Ok((workflow_id, false)),
        Ok(Err(e)) => Err(start_error(e)),
        Err(_) => Err(EngineError::Unavailable("starting the workflow timed out".into())),
    }
}

/// Starts the workflow of a new inspection; returns its workflow id.
#[tracing::instrument(skip_all, fields(inspection_id = %input.id))]
pub async fn start_inspection(client: &Client, input: qingling_workflows::InspectionInput) -> Result<String, EngineError> {
    let workflow_id = ids::inspection_workflow_id(&input.id);
    let (attributes, memo) = inspection_visibility(&input);
    let options = WorkflowStartOptions::new(ids::TASK_QUEUE, workflow_id.clone())
        .search_attributes(attributes)
        .memo(memo)
        .static_summary(summary(&input.facility, &format!("{} {}", input.template.title.zh, input.date)))
        .build();
    match tokio::time::timeout(UPDATE_TIMEOUT, client.start_workflow(qingling_workflows::Inspection::run, input, options)).await {
        Ok(Ok(_handle)) => Ok(workflow_id),
        Ok(Err(e)) => Err(start_error(e)),
        Err(_) => Err(EngineError::Unavailable("starting the workflow timed out".into())),
    }
}

/// Starts a campaign's workflow; returns its workflow id.
#[tracing::instrument(skip_all, fields(campaign_id = %input.id))]
pub async fn start_campaign(client: &Client, input: qingling_workflows::CampaignInput) -> Result<String, EngineError> {
    let workflow_id = ids::campaign_workflow_id(&input.id);
    let options = WorkflowStartOptions::new(ids::TASK_QUEUE, workflow_id.clone())
        .id_reuse_policy(temporalio_client::WorkflowIdReusePolicy::RejectDuplicate)
        .static_summary(input.plan.title.clone())
        .build();
    match tokio::time::timeout(UPDATE_TIMEOUT, client.start_workflow(qingling_workflows::Campaign::run, input, options)).await {
        Ok(Ok(_handle)) => Ok(workflow_id),
        Ok(Err(WorkflowStartError::AlreadyStarted { .. })) => Ok(workflow_id),
        Ok(Err(e)) => Err(start_error(e)),
        Err(_) => Err(EngineError::Unavailable("starting the workflow timed out".into())),
    }
}

/// Creates the Temporal Schedule of a recurring campaign plan: each run starts a `Campaign`
/// workflow (`campaign-{plan}-{time}`) with the plan's input; the workflow moves a run on a day off
/// to the next working day.
#[tracing::instrument(skip_all, fields(plan_id = %plan_id))]
pub async fn create_campaign_schedule(
    client: &Client,
    plan_id: &str,
    input: qingling_workflows::CampaignInput,
    cron: &str,
    timezone: &str,
) -> Result<String, EngineError> {
    use temporalio_client::schedules::{CreateScheduleOptions, ScheduleAction, ScheduleSpec};
    let schedule_id = ids::campaign_schedule_id(plan_id);
    let action = ScheduleAction::start_workflow(qingling_workflows::Campaign::run, input, ids::TASK_QUEUE, ids::campaign_workflow_id(plan_id));
    let spec = ScheduleSpec::builder().cron_strings(vec![cron.to_string()]).timezone_name(timezone.to_string()).build();
    let options = CreateScheduleOptions::builder().action(action).spec(spec).note("qingling campaign plan".to_string()).build();
    match tokio::time::timeout(UPDATE_TIMEOUT, client.create_schedule(schedule_id.clone(), options)).await {
        Ok(Ok(_)) => Ok(schedule_id),
        Ok(Err(e)) => Err(EngineError::Unavailable(format!("creating the schedule failed: {e}"))),
        Err(_) => Err(EngineError::Unavailable("creating the schedule timed out".into())),
    }
}

/// Deletes a recurring plan's Schedule (the campaigns it started run on).
pub async fn delete_campaign_schedule(client: &Client, schedule_id: &str) -> Result<(), EngineError> {
    let handle = client.get_schedule_handle(schedule_id.to_string());
    match tokio::time::timeout(UPDATE_TIMEOUT, handle.delete(Default::default())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(EngineError::Unavailable(format!("deleting the schedule failed: {e}"))),
        Err(_) => Err(EngineError::Unavailable("deleting the schedule timed out".into())),
    }
}

/// The draw's sources and witnesses, entered at the ceremony.
pub async fn draw_campaign(
    client: &Client,
    workflow_id: &str,
    req: qingling_rules::campaign::DrawRequest,
) -> Result<qingling_workflows::CampaignView, EngineError> {
    update_workflow::<qingling_workflows::Campaign, _>(client, workflow_id.to_string(), || qingling_workflows::Campaign::draw, req, new_update_id()).await
}

pub async fn reassign_campaign(
    client: &Client,
    workflow_id: &str,
    r: qingling_rules::campaign::Reassignment,
) -> Result<qingling_workflows::CampaignView, EngineError> {
    update_workflow::<qingling_workflows::Campaign, _>(client, workflow_id.to_string(), || qingling_workflows::Campaign::reassign, r, new_update_id()).await
}

pub async fn supersede_campaign(
    client: &Client,
    workflow_id: &str,
    req: qingling_rules::campaign::SupersedeRequest,
) -> Result<qingling_workflows::CampaignView, EngineError> {
    update_workflow::<qingling_workflows::Campaign, _>(client, workflow_id.to_string(), || qingling_workflows::Campaign::supersede, req, new_update_id()).await
}

pub async fn assign_campaign(client: &Client, workflow_id: &str, by: Actor) -> Result<qingling_workflows::CampaignView, EngineError> {
    update_workflow::<qingling_workflows::Campaign, _>(client, workflow_id.to_string(), || qingling_workflows::Campaign::assign, by, new_update_id()).await
}

pub async fn publish_campaign(client: &Client, workflow_id: &str, by: Actor) -> Result<qingling_workflows::CampaignView, EngineError> {
    update_workflow::<qingling_workflows::Campaign, _>(client, workflow_id.to_string(), || qingling_workflows::Campaign::publish, by, new_update_id()).await
}

/// Starts the roll-out of a year's schedule to the running workflows, once per schedule content:
/// a roll-out of the same content already running or done is not started again.
#[tracing::instrument(skip_all, fields(year = update.year))]
pub async fn start_calendar_rollout(client: &Client, update: CalendarYearUpdate, digest: &str) -> Result<String, EngineError> {
    let workflow_id = ids::calendar_rollout_workflow_id(update.year, digest);
    let options = WorkflowStartOptions::new(ids::TASK_QUEUE, workflow_id.clone()).build();
    match tokio::time::timeout(UPDATE_TIMEOUT, client.start_workflow(CalendarRollout::run, update, options)).await {
        Ok(Ok(_handle)) => Ok(workflow_id),
        Ok(Err(WorkflowStartError::AlreadyStarted { .. })) => Ok(workflow_id),
        Ok(Err(e)) => Err(start_error(e)),
        Err(_) => Err(EngineError::Unavailable("starting the workflow timed out".into())),
    }
}

/// Tells one running matter or inspection a year's schedule (a signal: it takes effect on the
/// workflow's next task). A workflow that has finished meanwhile is skipped (`Ok(false)`).
pub async fn teach_calendar(client: &Client, workflow_id: &str, workflow_type: &str, update: CalendarYearUpdate) -> Result<bool, EngineError> {
    let opts = WorkflowSignalOptions::default();
    let sent = match workflow_type {
        "Rectification" => client.get_workflow_handle::<Rectification>(workflow_id).signal(Rectification::learn_calendar, update, opts).await,
        "Inspection" => {
            client.get_workflow_handle::<qingling_workflows::Inspection>(workflow_id).signal(qingling_workflows::Inspection::learn_calendar, update, opts).await
        }
        _ => return Ok(false),
    };
    match sent {
        Ok(()) => Ok(true),
        // A finished workflow no longer takes signals: the server answers "not found".
        Err(WorkflowInteractionError::NotFound(_)) => Ok(false),
        Err(e) => Err(EngineError::Unavailable(e.to_string())),
    }
}

/// Tells a held workflow to try its step again (`kind` as in the held list: `matter`).
pub async fn repair(client: &Client, workflow_id: &str, kind: &str, by: &str) -> Result<(), EngineError> {
    let opts = WorkflowSignalOptions::default();
    let sent = match kind {
        "matter" => client.get_workflow_handle::<Rectification>(workflow_id).signal(Rectification::repair, by.to_string(), opts).await,
        _ => return Err(EngineError::Unavailable(format!("no repair for workflows of kind {kind:?}"))),
    };
    match sent {
        Ok(()) => Ok(()),
        Err(WorkflowInteractionError::NotFound(_)) => Err(EngineError::Gone),
        Err(e) => Err(EngineError::Unavailable(e.to_string())),
    }
}

/// Sends one action to a matter's workflow; returns the matter as the workflow now sees it.
#[tracing::instrument(skip_all, fields(matter_id = %matter_id, action = req.action.name()))]
pub async fn act(client: &Client, matter_id: &str, req: ActionRequest) -> Result<MatterView, EngineError> {
    update_matter(client, matter_id, || Rectification::act, req).await
}

/// Records files uploaded to a matter on its timeline (an update, validated like an action).
#[tracing::instrument(skip_all, fields(matter_id = %matter_id, files = req.files.len()))]
pub async fn record_upload(client: &Client, matter_id: &str, req: UploadRequest) -> Result<MatterView, EngineError> {
    update_matter(client, matter_id, || Rectification::record_upload, req).await
}

/// Sends one update to a matter's workflow; the matter as the workflow then sees it.
async fn update_matter<U>(client: &Client, matter_id: &str, update: fn() -> U, req: U::Input) -> Result<MatterView, EngineError>
where
    U: UpdateDefinition<Workflow = <Rectification as HasWorkflowDefinition>::Run, Output = MatterView>,
    U::Input: Send + Clone,
{
    update_workflow::<Rectification, U>(client, ids::matter_workflow_id(matter_id), update, req, new_update_id()).await
}

/// A fresh update id: every attempt of one request carries the same, so Temporal applies it once.
fn new_update_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An assigned inspector opens the inspection's checklist (idempotent).
#[tracing::instrument(skip_all, fields(workflow_id = %workflow_id))]
pub async fn open_inspection(client: &Client, workflow_id: &str, actor: Actor) -> Result<InspectionView, EngineError> {
    update_workflow::<Inspection, _>(client, workflow_id.to_string(), || Inspection::start, actor, new_update_id()).await
}

/// Submits the signed checklist. The idempotency key is also the update id, so Temporal itself
/// deduplicates a retried request.
#[tracing::instrument(skip_all, fields(workflow_id = %workflow_id))]
pub async fn submit_inspection(client: &Client, workflow_id: &str, req: SubmitRequest) -> Result<InspectionView, EngineError> {
    let update_id = format!("submit-{}", req.key);
    update_workflow::<Inspection, _>(client, workflow_id.to_string(), || Inspection::submit, req, update_id).await
}

/// Sends one update to a workflow, within [`UPDATE_TIMEOUT`]; a refusal comes back as
/// [`EngineError::Refused`].
///
/// Temporal refuses an update whose workflow task failed for a reason of its own ("unexpected
/// workflow task failure"): typically the workflow tried to complete while a new event (a child
/// workflow's start or result) arrived, and the server asks for the task again. Nothing of the
/// update was applied, so it is sent again, under the same update id, a few times.
async fn update_workflow<W, U>(client: &Client, workflow_id: String, update: impl Fn() -> U, req: U::Input, update_id: String) -> Result<U::Output, EngineError>
where
    W: HasWorkflowDefinition,
    U: UpdateDefinition<Workflow = <W as HasWorkflowDefinition>::Run>,
    U::Input: Send + Clone,
{
    let handle = client.get_workflow_handle::<W>(workflow_id);
    let deadline = tokio::time::Instant::now() + UPDATE_TIMEOUT;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let options = WorkflowExecuteUpdateOptions::builder().update_id(update_id.clone()).build();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, handle.execute_update(update(), req.clone(), options)).await {
            Ok(Ok(view)) => return Ok(view),
            Ok(Err(e)) if attempt < 4 && task_failed_under_it(&e.to_string()) => {
                tracing::info!(attempt, error = %e, "the update's workflow task failed; sending it again");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Ok(Err(e)) => return Err(update_error(e)),
            Err(_) => return Err(EngineError::NoAnswer),
        }
    }
}

/// Whether Temporal refused an update because the workflow task carrying it failed.
fn task_failed_under_it(error: &str) -> bool {
    error.contains("unexpected workflow task failure")
}

/// The live state of a matter's workflow.
#[tracing::instrument(skip_all, fields(matter_id = %matter_id))]
pub async fn view(client: &Client, matter_id: &str) -> Result<MatterView, EngineError> {
    let handle = client.get_workflow_handle::<Rectification>(ids::matter_workflow_id(matter_id));
    let options = WorkflowQueryOptions::builder().rpc_options(RpcOptions::builder().timeout(QUERY_TIMEOUT).build()).build();
    match tokio::time::timeout(QUERY_TIMEOUT + Duration::from_secs(1), handle.query(Rectification::state, (), options)).await {
        Ok(Ok(view)) => Ok(view),
        Ok(Err(e)) => Err(query_error(e)),
        Err(_) => Err(EngineError::Unavailable("the query timed out".into())),
    }
}

/// The template an inspection's workflow carries (the copy it was assigned).
#[tracing::instrument(skip_all, fields(workflow_id = %workflow_id))]
pub async fn inspection_template(client: &Client, workflow_id: &str) -> Result<qingling_checklists::Template, EngineError> {
    let handle = client.get_workflow_handle::<Inspection>(workflow_id.to_string());
    let options = WorkflowQueryOptions::builder().rpc_options(RpcOptions::builder().timeout(QUERY_TIMEOUT).build()).build();
    match tokio::time::timeout(QUERY_TIMEOUT + Duration::from_secs(1), handle.query(Inspection::template, (), options)).await {
        Ok(Ok(template)) => Ok(template),
        Ok(Err(e)) => Err(query_error(e)),
        Err(_) => Err(EngineError::Unavailable("the query timed out".into())),
    }
}

/// [`view`] through the console's line: refused at once while Temporal is away.
pub async fn live_view(temporal: &Temporal, matter_id: &str) -> Result<MatterView, EngineError> {
    view(&temporal.client()?, matter_id).await
}

/// The one-line summary the Temporal UI shows for a workflow: the facility, then what it is.
pub fn summary(facility: &FacilityFacts, what: &str) -> String {
    if facility.name.is_empty() { what.to_string() } else { format!("{}：{what}", facility.name) }
}

pub fn start_error(e: WorkflowStartError) -> EngineError {
    let text = e.to_string();
    match unregistered_attribute(&text) {
        Some((name, ty)) => EngineError::Unregistered { name, ty },
        None => EngineError::Unavailable(text),
    }
}

/// The custom search attribute a start was refused for, if the server's answer names one of ours
/// as unknown (`INVALID_ARGUMENT` with "… search attribute QinglingKind …").
pub fn unregistered_attribute(server_answer: &str) -> Option<(&'static str, &'static str)> {
    if !server_answer.to_lowercase().contains("search attribute") {
        return None;
    }
    visibility::declared().into_iter().find(|(name, _)| server_answer.contains(name))
}

fn query_error(e: WorkflowQueryError) -> EngineError {
    match e {
        WorkflowQueryError::NotFound(_) => EngineError::Gone,
        other => EngineError::Unavailable(other.to_string()),
    }
}

fn update_error(e: WorkflowUpdateError) -> EngineError {
    match e {
        WorkflowUpdateError::Failed(failure) => match refusal_in(&failure) {
            Some(r) => EngineError::Refused(r),
            None => EngineError::Unavailable(format!("the update failed: {}", failure.message)),
        },
        WorkflowUpdateError::NotFound(_) => EngineError::Gone,
        other => EngineError::Unavailable(other.to_string()),
    }
}

/// The refusal a failed update carries: the validator's error text is the failure's message,
/// possibly wrapped in causes.
fn refusal_in(failure: &Failure) -> Option<Refusal> {
    let mut current = Some(failure);
    while let Some(f) = current {
        if let Some(r) = Refusal::from_wire(&f.message) {
            return Some(r);
        }
        current = f.cause.as_deref();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_is_found_in_the_failure_or_its_causes() {
        let wire = Refusal::new("reject.wrong_state").arg("status", "status.issued").to_wire();
        let direct = Failure { message: wire.clone(), ..Default::default() };
        assert_eq!(refusal_in(&direct).map(|r| r.code), Some("reject.wrong_state".to_string()));
        let wrapped = Failure {
            message: "update failed".into(),
            cause: Some(Box::new(Failure { message: format!("validator: {wire}"), ..Default::default() })),
            ..Default::default()
        };
        assert_eq!(refusal_in(&wrapped).map(|r| r.code), Some("reject.wrong_state".to_string()));
        assert!(refusal_in(&Failure { message: "panic".into(), ..Default::default() }).is_none());
    }

    #[test]
    fn an_update_refused_for_a_failed_workflow_task_is_sent_again() {
        let answer = "Server error: code: 'The system is not in a state required for the operation's execution', message: \"Unable to perform workflow execution update due to unexpected workflow task failure.\"";
        assert!(task_failed_under_it(answer));
        assert!(!task_failed_under_it("workflow execution already completed"));
    }

    #[test]
    fn an_unregistered_search_attribute_is_named() {
        let answer = "status: InvalidArgument, message: \"Namespace default has no mapping defined for search attribute QinglingRegion\"";
        assert_eq!(unregistered_attribute(answer), Some(("QinglingRegion", "Keyword")));
        assert_eq!(unregistered_attribute("connection refused"), None);
    }
}

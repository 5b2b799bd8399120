//! 双随机 campaigns in the console: what the JSON API (`api.rs`) and the pages (`pages.rs`)
//! share. Plan one (checked by `rules::campaign::check_plan`, then its workflow commits before
//! anything is drawn), enter the draw with its witnesses, reassign one inspector of a drawn team
//! with a reason, confirm the teams, publish the results. Administrators and supervisors only; a
//! campaign outside the caller's region does not exist for them (404), through both front doors.

pub mod api;
pub mod pages;

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::http::wait_for;
use qingling_activities::db::entities::{campaign, campaign_plan};
use qingling_rules::campaign::{CampaignStatus, DrawRequest, Known, PlanInput, Reassignment, Run, SupersedeRequest, check_cron, check_plan, timezone_name};
use qingling_rules::matter::Role;
use qingling_rules::policy::Policy;
use qingling_rules::refusal::Refusal;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How long a request waits for the worker to store the step it asked for.
const STORED_WITHIN: Duration = Duration::from_secs(20);

/// How many upcoming runs a recurring plan shows.
pub const RUNS_SHOWN: usize = 5;

/// Administrators and supervisors.
fn oversight(ctx: &Ctx) -> Result<Arc<Signed>, Error> {
    let who = ctx.signed()?;
    if matches!(who.role, Role::Admin | Role::Supervisor) { Ok(who) } else { Err(Error::Forbidden) }
}

/// The campaign, if the caller may see it; otherwise not found.
async fn visible(shared: &Shared, who: &Signed, id: &str) -> Result<campaign::Model, Error> {
    if id.len() > 64 {
        return Err(Error::NotFound);
    }
    shared.app.store.campaign_for(&who.user, id).await?.ok_or(Error::NotFound)
}

/// Waits until the stored campaign satisfies `done`; `None` if it did not in time.
async fn stored_when(shared: &Shared, id: &str, done: impl Fn(&campaign::Model) -> bool) -> Result<Option<campaign::Model>, Error> {
    let store = &shared.app.store;
    wait_for(STORED_WITHIN, || async { Ok(store.campaign(id).await?.filter(|c| done(c))) }).await
}

/// A campaign's workflow input from a plan a person sent: the plan checked against the policy in
/// force, the catalogue and the districts the person plans for; its templates pinned; its region
/// the planner's (an administrator's: the first district's). One-off and recurring plans alike.
async fn campaign_input(
    shared: &Shared,
    who: &Signed,
    policy: Policy,
    input: &PlanInput,
    id: String,
    schedule_id: Option<String>,
) -> Result<qingling_workflows::CampaignInput, Error> {
    let store = &shared.app.store;
    let catalog = &shared.app.checklists;
    let templates: BTreeSet<String> = catalog.iter().map(|t| t.id.clone()).collect();
    let districts = store.plannable_districts(&who.user).await?;
    let plan = check_plan(input, &policy, &Known { templates: &templates, districts: &districts })?;
    let pinned = plan.templates.iter().filter_map(|t| catalog.latest(t).cloned()).collect();
    let region_id = match who.user.region_id {
        Some(r) => r,
        None => store.district_id(&plan.districts[0]).await?.ok_or(Error::NotFound)?,
    };
    Ok(qingling_workflows::CampaignInput { id, region_id, plan, templates: pinned, planned_by: who.actor(), policy, schedule_id })
}

/// A one-off campaign planned and started; answers with its id and, once its workflow has stored
/// the commitment (it does at once), the stored row.
async fn plan_once(shared: &Shared, who: &Signed, input: &PlanInput) -> Result<(String, Option<campaign::Model>), Error> {
    let id = uuid::Uuid::new_v4().to_string();
    tracing::Span::current().record("campaign_id", id.as_str());
    let input = campaign_input(shared, who, shared.policy_in_force().await?, input, id.clone(), None).await?;
    crate::engine::start_campaign(&shared.app.temporal.client()?, input).await?;
    // The commitment is stored by one activity and the status by the record after it: wait for both.
    let stored = stored_when(shared, &id, |c| c.commitment.is_some() && c.status != CampaignStatus::Planned.as_str()).await?;
    Ok((id, stored))
}

/// A recurring plan made: its Temporal Schedule runs the plan on the cron expression (Beijing
/// time); each run is a campaign of its own.
pub struct Recurring {
    pub plan_id: String,
    pub schedule_id: String,
    pub cron: String,
    pub timezone: String,
    pub next_runs: Vec<Run>,
}

async fn plan_recurring(shared: &Shared, who: &Signed, plan: &PlanInput, cron: &str) -> Result<Recurring, Error> {
    let policy = shared.policy_in_force().await?;
    let now = now_ms();
    let cron = check_cron(cron, &policy, now)?;
    let timezone = timezone_name(policy.calendar.utc_offset_secs).ok_or_else(|| Error::Internal("the policy's UTC offset is not whole hours".into()))?;
    let plan_id = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    tracing::Span::current().record("plan_id", plan_id.as_str());
    let next_runs = cron.next_runs(&policy.calendar, now, RUNS_SHOWN);
    // Each run names itself from its workflow id (the workflow sets `id`).
    let input = campaign_input(shared, who, policy, plan, String::new(), Some(plan_id.clone())).await?;
    // What every run starts from, policy included: a run keeps the rules of the day it was planned.
    let row = campaign_plan::Model {
        id: plan_id.clone(),
        schedule_id: qingling_workflows::ids::campaign_schedule_id(&plan_id),
        region_id: input.region_id,
        title: input.plan.title.clone(),
        cron: cron.text.clone(),
        timezone: timezone.clone(),
        input: serde_json::to_string(&input).map_err(|e| Error::Internal(e.to_string()))?,
        created_by: who.user.id,
        created_at_ms: now,
        stopped_by: None,
        stopped_at_ms: None,
    };
    let schedule_id = crate::engine::create_campaign_schedule(&shared.app.temporal.client()?, &plan_id, input, &cron.text, &timezone).await?;
    shared.app.store.save_campaign_plan(campaign_plan::Model { schedule_id: schedule_id.clone(), ..row }).await?;
    Ok(Recurring { plan_id, schedule_id, cron: cron.text, timezone, next_runs })
}

/// The next runs of a cron expression (checked as a plan's would be), each with the working day
/// it counts from.
async fn next_runs(shared: &Shared, cron: &str) -> Result<(String, Vec<Run>), Error> {
    let policy = shared.policy_in_force().await?;
    let now = now_ms();
    let cron = check_cron(cron, &policy, now)?;
    let runs = cron.next_runs(&policy.calendar, now, RUNS_SHOWN);
    Ok((cron.text, runs))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawInput {
    pub values: Vec<String>,
    pub witnesses: Vec<String>,
}

/// The draw entered (the workflow's validator refuses a wrong count of values, no witness, a
/// second draw); answers once it is stored (`None`: not in time).
async fn draw(shared: &Shared, who: &Signed, c: &campaign::Model, input: DrawInput) -> Result<Option<campaign::Model>, Error> {
    let req = DrawRequest { values: input.values, witnesses: input.witnesses, operator: who.actor() };
    crate::engine::draw_campaign(&shared.app.temporal.client()?, &c.workflow_id, req).await?;
    stored_when(shared, &c.id, |c| c.status != CampaignStatus::Committed.as_str()).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignInput {
    pub target: String,
    pub out: String,
    #[serde(rename = "in")]
    pub replacement: String,
    pub reason: String,
}

/// One inspector of a drawn team replaced, with a reason: checked here against the committed
/// directory (so the person is told at once), then by the workflow, which records it (or why
/// the directory refused it) as an event; answers once that event is stored.
async fn reassign(shared: &Shared, who: &Signed, c: &campaign::Model, input: ReassignInput) -> Result<(), Error> {
    let store = &shared.app.store;
    let not_drawn = || Error::Refused(Refusal::new("campaign.not_drawn").arg("target", input.target.clone()));
    let bundle = qingling_activities::campaign::bundle(store, &c.id).await?.ok_or_else(not_drawn)?;
    let team = store.campaign_targets(&c.id).await?.into_iter().find(|t| t.target_code == input.target).ok_or_else(not_drawn)?;
    let members: Vec<String> = serde_json::from_str(&team.team).unwrap_or_default();
    let target = bundle.targets.iter().find(|t| t.id == input.target).ok_or(Error::NotFound)?;
    let as_team = qingling_rules::draw::Team { target: input.target.clone(), inspectors: members, picks: vec![] };
    qingling_rules::draw::check_replacement(&bundle.commitment.plan, &bundle.inspectors, target, &as_team, &input.replacement)?;
    let before = store.campaign_events(&c.id).await?.len();
    let r = Reassignment { target: input.target, out: input.out, replacement: input.replacement, reason: input.reason, by: who.actor() };
    crate::engine::reassign_campaign(&shared.app.temporal.client()?, &c.workflow_id, r).await?;
    wait_for(STORED_WITHIN, || async { Ok((store.campaign_events(&c.id).await?.len() > before).then_some(())) }).await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupersedeInput {
    pub reason: String,
}

/// The current draw set aside with a reason (before the teams go); answers once the campaign is
/// back to committed, ready for a new draw.
async fn supersede(shared: &Shared, who: &Signed, c: &campaign::Model, input: SupersedeInput) -> Result<Option<campaign::Model>, Error> {
    let req = SupersedeRequest { reason: input.reason, by: who.actor() };
    // Checked here on the stored state (so a blank or hostile reason never reaches the engine),
    // and again by the workflow's validator on its own.
    if let Ok(case) = serde_json::from_str::<qingling_rules::campaign::Campaign>(&c.state) {
        case.check_supersede(&req, shared.app.policy.campaign.max_supersessions)?;
    }
    crate::engine::supersede_campaign(&shared.app.temporal.client()?, &c.workflow_id, req).await?;
    stored_when(shared, &c.id, |c| c.status == CampaignStatus::Committed.as_str()).await
}

/// The drawn teams confirmed; the inspections start.
async fn assign(shared: &Shared, who: &Signed, c: &campaign::Model) -> Result<Option<campaign::Model>, Error> {
    crate::engine::assign_campaign(&shared.app.temporal.client()?, &c.workflow_id, who.actor()).await?;
    stored_when(shared, &c.id, |c| c.status == CampaignStatus::Assigned.as_str() || c.status == CampaignStatus::Closed.as_str()).await
}

/// The results published.
async fn publish(shared: &Shared, who: &Signed, c: &campaign::Model) -> Result<Option<campaign::Model>, Error> {
    crate::engine::publish_campaign(&shared.app.temporal.client()?, &c.workflow_id, who.actor()).await?;
    stored_when(shared, &c.id, |c| c.published_at_ms.is_some()).await
}

/// Runs as the API and the pages show them: the local time, and the working day it counts from.
fn runs_json(runs: &[Run]) -> Vec<serde_json::Value> {
    runs.iter()
        .map(|r| serde_json::json!({ "at": r.at.format("%Y-%m-%d %H:%M:%S").to_string(), "effective": r.effective.to_string(), "moved": r.moved }))
        .collect()
}

/// Stops a recurring plan the person may see (the campaigns it started go on); a plan of
/// another region is not found. Stopping a stopped plan changes nothing.
async fn stop_recurring(shared: &Shared, who: &Signed, id: &str) -> Result<(), Error> {
    if id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::NotFound);
    }
    let plan = shared.app.store.campaign_plan_for(&who.user, id).await?.ok_or(Error::NotFound)?;
    if plan.stopped_at_ms.is_some() {
        return Ok(());
    }
    crate::engine::delete_campaign_schedule(&shared.app.temporal.client()?, &plan.schedule_id).await?;
    shared.app.store.stop_campaign_plan(id, who.user.id, now_ms()).await?;
    Ok(())
}

/// The recurring plans a person may see, each with its next runs (none once stopped) under
/// `policy` (the one in force, which the caller has read already).
async fn recurring_plans(shared: &Shared, who: &Signed, policy: &Policy) -> Result<Vec<(campaign_plan::Model, Vec<Run>)>, Error> {
    let now = now_ms();
    let mut out = vec![];
    for p in shared.app.store.campaign_plans_for(&who.user).await? {
        let runs = match (p.stopped_at_ms, check_cron(&p.cron, policy, now)) {
            (None, Ok(cron)) => cron.next_runs(&policy.calendar, now, RUNS_SHOWN),
            _ => vec![],
        };
        out.push((p, runs));
    }
    Ok(out)
}

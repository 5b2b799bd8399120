//! 双随机 campaigns in the console's API: plan one (checked by `rules::campaign::check_plan`,
//! then its workflow commits before anything is drawn), enter the draw with its witnesses,
//! reassign one inspector of a drawn team with a reason, confirm the teams, publish the results;
//! and read a campaign with its commitment, events, homes and bundle (which `qingling draw
//! verify` and `scripts/verify-draw.py` re-run). Administrators and supervisors only; a campaign
//! outside the caller's region is a 404.

use crate::Shared;
use crate::context::{Ctx, Signed};
use crate::error::Error;
use crate::http::{parse_json, wait_for};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use qingling_activities::db::entities::campaign;
use qingling_rules::campaign::{CampaignStatus, DrawRequest, Known, PlanInput, Reassignment, check_plan};
use qingling_rules::matter::Role;
use qingling_rules::refusal::Refusal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

type S = State<Arc<Shared>>;

/// How long a request waits for the worker to store the step it asked for.
const STORED_WITHIN: Duration = Duration::from_secs(20);

fn oversight(ctx: &Ctx) -> Result<Arc<Signed>, Error> {
    let who = ctx.signed()?;
    if matches!(who.role, Role::Admin | Role::Supervisor) { Ok(who) } else { Err(Error::Forbidden) }
}

fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
}

async fn campaign_json(shared: &Shared, c: &campaign::Model) -> Result<Value, Error> {
    let store = &shared.app.store;
    let events: Vec<Value> = store
        .campaign_events(&c.id)
        .await?
        .into_iter()
        .map(|e| json!({ "seq": e.seq, "kind": e.kind, "payload": parsed(Some(&e.payload)), "actor_id": e.actor_id, "at_ms": e.at_ms }))
        .collect();
    let homes: Vec<Value> = store
        .campaign_targets(&c.id)
        .await?
        .into_iter()
        .map(|t| json!({ "target": t.target_code, "facility_id": t.facility_id, "team": parsed(Some(&t.team)), "inspection_id": t.inspection_id }))
        .collect();
    Ok(json!({
        "id": c.id,
        "title": c.title,
        "status": c.status,
        "region_id": c.region_id,
        "state": parsed(Some(&c.state)),
        "commitment": parsed(c.commitment.as_deref()),
        "commitment_sha256": c.commitment_sha256,
        "bundle_sha256": c.bundle_sha256,
        "publish_by_ms": c.publish_by_ms,
        "published_at_ms": c.published_at_ms,
        "created_at_ms": c.created_at_ms,
        "events": events,
        "homes": homes,
    }))
}

/// The campaign, if the caller may see it; otherwise not found.
async fn visible(shared: &Shared, who: &Signed, id: &str) -> Result<campaign::Model, Error> {
    if id.len() > 64 {
        return Err(Error::NotFound);
    }
    shared.app.store.campaign_for(&who.user, id).await?.ok_or(Error::NotFound)
}

/// Waits until the stored campaign satisfies `done`; returns it as JSON (202 if it did not in time).
async fn answer_when(shared: &Shared, id: &str, done: impl Fn(&campaign::Model) -> bool) -> Result<Response, Error> {
    let store = &shared.app.store;
    let found = wait_for(STORED_WITHIN, || async { Ok(store.campaign(id).await?.filter(|c| done(c))) }).await?;
    match found {
        Some(c) => Ok((StatusCode::OK, Json(json!({ "campaign": campaign_json(shared, &c).await? }))).into_response()),
        None => Ok((StatusCode::ACCEPTED, Json(json!({ "campaign_id": id }))).into_response()),
    }
}

/// A campaign's workflow input from a plan a person sent: the plan checked against the policy in
/// force, the catalogue and the districts the person plans for; its templates pinned; its region
/// the planner's (an administrator's: the first district's). One-off and recurring plans alike.
async fn campaign_input(
    shared: &Shared,
    who: &Signed,
    input: &PlanInput,
    id: String,
    schedule_id: Option<String>,
) -> Result<qingling_workflows::CampaignInput, Error> {
    let store = &shared.app.store;
    let policy = shared.policy_in_force().await?;
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

/// `POST /api/campaigns`: plans a one-off campaign; its workflow publishes the commitment at once.
#[tracing::instrument(skip_all, fields(campaign_id))]
pub async fn api_plan(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let input: PlanInput = parse_json(&body)?;
    let id = uuid::Uuid::new_v4().to_string();
    tracing::Span::current().record("campaign_id", id.as_str());
    let input = campaign_input(&shared, &who, &input, id.clone(), None).await?;
    crate::engine::start_campaign(&shared.app.temporal.client()?, input).await?;
    let r = answer_when(&shared, &id, |c| c.commitment.is_some()).await?;
    Ok(if r.status() == StatusCode::OK { (StatusCode::CREATED, r).into_response() } else { r })
}

/// `GET /api/campaigns`
pub async fn api_list(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = oversight(&ctx)?;
    let rows = shared.app.store.campaigns_for(&who.user).await?;
    let list: Vec<Value> = rows.iter().map(|c| json!({ "id": c.id, "title": c.title, "status": c.status, "created_at_ms": c.created_at_ms })).collect();
    Ok(Json(json!({ "campaigns": list })))
}

/// `GET /api/campaigns/{id}`
pub async fn api_show(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    Ok(Json(json!({ "campaign": campaign_json(&shared, &c).await? })))
}

/// `GET /api/campaigns/{id}/bundle`: the draw's bundle, as `qingling draw verify` reads it.
pub async fn api_bundle(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let bundle = qingling_activities::campaign::bundle(&shared.app.store, &c.id).await?.ok_or(Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], qingling_rules::draw::canonical_json(&bundle)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawInput {
    pub values: Vec<String>,
    pub witnesses: Vec<String>,
}

/// `POST /api/campaigns/{id}/draw`: the sources' values and the witnesses present.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_draw(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let input: DrawInput = parse_json(&body)?;
    let req = DrawRequest { values: input.values, witnesses: input.witnesses, operator: who.actor() };
    crate::engine::draw_campaign(&shared.app.temporal.client()?, &c.workflow_id, req).await?;
    answer_when(&shared, &id, |c| c.status != CampaignStatus::Committed.as_str()).await
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

/// `POST /api/campaigns/{id}/reassign`: one inspector of a drawn team replaced, with a reason;
/// checked here against the committed directory, then by the workflow.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_reassign(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let input: ReassignInput = parse_json(&body)?;
    let store = &shared.app.store;
    let bundle = qingling_activities::campaign::bundle(store, &c.id)
        .await?
        .ok_or_else(|| Error::Refused(Refusal::new("campaign.not_drawn").arg("target", input.target.clone())))?;
    let team = store
        .campaign_targets(&c.id)
        .await?
        .into_iter()
        .find(|t| t.target_code == input.target)
        .ok_or_else(|| Error::Refused(Refusal::new("campaign.not_drawn").arg("target", input.target.clone())))?;
    let members: Vec<String> = serde_json::from_str(&team.team).unwrap_or_default();
    let target = bundle.targets.iter().find(|t| t.id == input.target).ok_or(Error::NotFound)?;
    let as_team = qingling_rules::draw::Team { target: input.target.clone(), inspectors: members, picks: vec![] };
    qingling_rules::draw::check_replacement(&bundle.commitment.plan, &bundle.inspectors, target, &as_team, &input.replacement)?;
    let before = store.campaign_events(&c.id).await?.len();
    let r = Reassignment { target: input.target, out: input.out, replacement: input.replacement, reason: input.reason, by: who.actor() };
    crate::engine::reassign_campaign(&shared.app.temporal.client()?, &c.workflow_id, r).await?;
    // The workflow records the reassignment (or why the directory refused it) as an event.
    wait_for(STORED_WITHIN, || async { Ok((store.campaign_events(&id).await?.len() > before).then_some(())) }).await?;
    let now = store.campaign(&id).await?.ok_or(Error::NotFound)?;
    Ok(Json(json!({ "campaign": campaign_json(&shared, &now).await? })).into_response())
}

/// `POST /api/campaigns/{id}/assign`: the drawn teams confirmed; the inspections start.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_assign(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    crate::engine::assign_campaign(&shared.app.temporal.client()?, &c.workflow_id, who.actor()).await?;
    answer_when(&shared, &id, |c| c.status == CampaignStatus::Assigned.as_str() || c.status == CampaignStatus::Closed.as_str()).await
}

/// `POST /api/campaigns/{id}/publish`: the results published.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_publish(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    crate::engine::publish_campaign(&shared.app.temporal.client()?, &c.workflow_id, who.actor()).await?;
    answer_when(&shared, &id, |c| c.published_at_ms.is_some()).await
}

/// How many upcoming runs a recurring plan shows.
const RUNS_SHOWN: usize = 5;

fn runs_json(runs: &[qingling_rules::campaign::Run]) -> Vec<Value> {
    runs.iter().map(|r| json!({ "at": r.at.format("%Y-%m-%d %H:%M:%S").to_string(), "effective": r.effective.to_string(), "moved": r.moved })).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringInput {
    pub plan: PlanInput,
    pub cron: String,
}

/// `POST /api/campaign-plans`: a recurring plan, run by a Temporal Schedule on its cron
/// expression (Beijing time); each run is a campaign of its own. Answers with the next runs, each
/// moved to the next working day when it falls on a day off.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn api_plan_recurring(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let input: RecurringInput = parse_json(&body)?;
    let policy = shared.policy_in_force().await?;
    let now = crate::context::now_ms();
    let cron = qingling_rules::campaign::check_cron(&input.cron, &policy, now)?;
    let timezone = qingling_rules::campaign::timezone_name(policy.calendar.utc_offset_secs)
        .ok_or_else(|| Error::Internal("the policy's UTC offset is not whole hours".into()))?;
    let plan_id = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    tracing::Span::current().record("plan_id", plan_id.as_str());
    let runs = cron.next_runs(&policy.calendar, now, RUNS_SHOWN);
    // Each run names itself from its workflow id (the workflow sets `id`).
    let input = campaign_input(&shared, &who, &input.plan, String::new(), Some(plan_id.clone())).await?;
    let schedule_id = crate::engine::create_campaign_schedule(&shared.app.temporal.client()?, &plan_id, input, &cron.text, &timezone).await?;
    let body = json!({ "plan_id": plan_id, "schedule_id": schedule_id, "cron": cron.text, "timezone": timezone, "next_runs": runs_json(&runs) });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct RunsQuery {
    #[serde(default)]
    cron: String,
}

/// `GET /api/campaign-plans/runs?cron=…`: the next runs of a cron expression, in Beijing time,
/// each with the working day it counts from.
pub async fn api_next_runs(State(shared): S, ctx: Ctx, axum::extract::Query(q): axum::extract::Query<RunsQuery>) -> Result<Json<Value>, Error> {
    oversight(&ctx)?;
    let policy = shared.policy_in_force().await?;
    let now = crate::context::now_ms();
    let cron = qingling_rules::campaign::check_cron(&q.cron, &policy, now)?;
    Ok(Json(json!({ "cron": cron.text, "next_runs": runs_json(&cron.next_runs(&policy.calendar, now, RUNS_SHOWN)) })))
}

/// `DELETE /api/campaign-plans/{id}`: stops a recurring plan (the campaigns it started go on).
pub async fn api_stop_recurring(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    oversight(&ctx)?;
    if id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::NotFound);
    }
    crate::engine::delete_campaign_schedule(&shared.app.temporal.client()?, &qingling_workflows::ids::campaign_schedule_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! The campaigns' JSON API: plan (one-off or recurring), read one with its commitment, events,
//! homes and bundle (which `qingling draw verify` and `scripts/verify-draw.py` re-run), enter the
//! draw, reassign, assign, publish. The decisions are the module's (`super`), shared with the pages.

use super::{DrawInput, ReassignInput, SupersedeInput, oversight, runs_json, visible};
use crate::Shared;
use crate::context::Ctx;
use crate::error::Error;
use crate::http::parse_json;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use qingling_activities::db::entities::campaign;
use qingling_rules::campaign::PlanInput;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

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
    let draws: Vec<Value> = qingling_activities::campaign::draws(store, &c.id)
        .await?
        .into_iter()
        .map(|d| json!({ "seq": d.seq, "bundle_sha256": d.bundle_sha256, "created_at_ms": d.created_at_ms, "superseded_reason": d.superseded_reason, "superseded_at_ms": d.superseded_at_ms }))
        .collect();
    Ok(json!({
        "id": c.id,
        "title": c.title,
        "draws": draws,
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

/// The stored campaign as JSON (200), or 202 with its id when the worker has not stored the step yet.
async fn answer(shared: &Shared, id: &str, stored: Option<campaign::Model>) -> Result<Response, Error> {
    match stored {
        Some(c) => Ok((StatusCode::OK, Json(json!({ "campaign": campaign_json(shared, &c).await? }))).into_response()),
        None => Ok((StatusCode::ACCEPTED, Json(json!({ "campaign_id": id }))).into_response()),
    }
}

/// `POST /api/campaigns`: plans a one-off campaign; its workflow publishes the commitment at once.
#[tracing::instrument(skip_all, fields(campaign_id))]
pub async fn api_plan(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let input: PlanInput = parse_json(&body)?;
    let (id, stored) = super::plan_once(&shared, &who, &input).await?;
    let created = stored.is_some();
    let r = answer(&shared, &id, stored).await?;
    Ok(if created { (StatusCode::CREATED, r).into_response() } else { r })
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

/// `GET /api/campaigns/{id}/bundle[?draw=N]`: the current draw's bundle (or draw N's, superseded
/// or not), as `qingling draw verify` reads it.
pub async fn api_bundle(
    State(shared): S,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DrawQuery>,
) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let store = &shared.app.store;
    let bundle = match q.draw {
        Some(n) => qingling_activities::campaign::bundle_of_draw(store, &c.id, n).await?,
        None => qingling_activities::campaign::bundle(store, &c.id).await?,
    };
    let bundle = bundle.ok_or(Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], qingling_rules::draw::canonical_json(&bundle)).into_response())
}

/// `POST /api/campaigns/{id}/draw`: the sources' values and the witnesses present.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_draw(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let input: DrawInput = parse_json(&body)?;
    let stored = super::draw(&shared, &who, &c, input).await?;
    answer(&shared, &id, stored).await
}

/// `POST /api/campaigns/{id}/reassign`: one inspector of a drawn team replaced, with a reason.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_reassign(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let input: ReassignInput = parse_json(&body)?;
    super::reassign(&shared, &who, &c, input).await?;
    let now = shared.app.store.campaign(&id).await?.ok_or(Error::NotFound)?;
    Ok(Json(json!({ "campaign": campaign_json(&shared, &now).await? })).into_response())
}

/// `POST /api/campaigns/{id}/supersede`: the current draw set aside with a reason; a new draw follows.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_supersede(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let input: SupersedeInput = parse_json(&body)?;
    let stored = super::supersede(&shared, &who, &c, input).await?;
    answer(&shared, &id, stored).await
}

#[derive(Deserialize)]
pub struct DrawQuery {
    #[serde(default)]
    draw: Option<i32>,
}

/// `POST /api/campaigns/{id}/assign`: the drawn teams confirmed; the inspections start.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_assign(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let stored = super::assign(&shared, &who, &c).await?;
    answer(&shared, &id, stored).await
}

/// `POST /api/campaigns/{id}/publish`: the results published.
#[tracing::instrument(skip_all, fields(campaign_id = %id))]
pub async fn api_publish(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let stored = super::publish(&shared, &who, &c).await?;
    answer(&shared, &id, stored).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringInput {
    pub plan: PlanInput,
    pub cron: String,
}

/// `POST /api/campaign-plans`: a recurring plan, run by a Temporal Schedule on its cron
/// expression (Beijing time). Answers with the next runs, each moved to the next working day
/// when it falls on a day off.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn api_plan_recurring(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let input: RecurringInput = parse_json(&body)?;
    let r = super::plan_recurring(&shared, &who, &input.plan, &input.cron).await?;
    let body = json!({ "plan_id": r.plan_id, "schedule_id": r.schedule_id, "cron": r.cron, "timezone": r.timezone, "next_runs": runs_json(&r.next_runs) });
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
    let (cron, runs) = super::next_runs(&shared, &q.cron).await?;
    Ok(Json(json!({ "cron": cron, "next_runs": runs_json(&runs) })))
}

/// `DELETE /api/campaign-plans/{id}`: stops a recurring plan (the campaigns it started go on).
pub async fn api_stop_recurring(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    super::stop_recurring(&shared, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/campaign-plans`: the recurring plans the caller may see, with their next runs.
pub async fn api_list_recurring(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = oversight(&ctx)?;
    let plans: Vec<Value> = super::recurring_plans(&shared, &who, &shared.policy_in_force().await?)
        .await?
        .into_iter()
        .map(|(p, runs)| {
            json!({ "plan_id": p.id, "schedule_id": p.schedule_id, "title": p.title, "cron": p.cron, "timezone": p.timezone,
                "created_at_ms": p.created_at_ms, "stopped_at_ms": p.stopped_at_ms, "next_runs": runs_json(&runs) })
        })
        .collect();
    Ok(Json(json!({ "plans": plans })))
}

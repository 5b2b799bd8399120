//! Operational health for administrators: workflows held on a step they could not store (a
//! failure retrying cannot fix), with "try again" once the cause is mended; and the same as JSON
//! for monitoring (`GET /api/health`).

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::http::parse_json;
use crate::http::{FormFields, field};
use crate::views::{local_time, render};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use qingling_activities::db::entities::stuck_workflow;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// The page lists at most this many held workflows (the count is exact).
const LISTED: u64 = 200;

fn admin(ctx: &Ctx) -> Result<Arc<Signed>, Error> {
    let who = ctx.signed()?;
    who.require_admin()?;
    Ok(who)
}

fn stuck_json(s: &stuck_workflow::Model) -> Value {
    json!({
        "workflow_id": s.workflow_id,
        "kind": s.kind,
        "subject_id": s.subject_id,
        "error": s.error,
        "first_ms": s.first_ms,
        "last_ms": s.last_ms,
        "failures": s.failures,
    })
}

/// `GET /admin/health`
pub async fn show(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    admin(&ctx)?;
    let held = shared.app.store.stuck_workflows(LISTED).await?;
    let count = shared.app.store.stuck_count().await?;
    let offset = shared.app.policy.calendar.utc_offset_secs;
    let rows: Vec<Value> = held
        .iter()
        .map(|s| {
            let mut v = stuck_json(s);
            v["since"] = local_time(s.first_ms, offset).into();
            v["last"] = local_time(s.last_ms, offset).into();
            v
        })
        .collect();
    let done = ctx.path.contains("done=repair");
    Ok(render(&shared, &ctx, "health.html", context! { held => rows, count => count, done => done })?.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    pub workflow_id: String,
}

/// Sends the held workflow its `repair` signal (it tries the step again) and marks the entry
/// resolved; a workflow that fails again is listed again.
async fn repair(shared: &Shared, who: &Signed, workflow_id: &str) -> Result<(), Error> {
    let Some(held) = shared.app.store.stuck_workflow(workflow_id).await? else {
        return Err(Error::NotFound);
    };
    crate::engine::repair(&shared.app.temporal.client()?, &held.workflow_id, &held.kind, &who.user.username).await?;
    shared.app.store.resolve_stuck(&held.workflow_id, now_ms()).await?;
    tracing::warn!(workflow_id = %held.workflow_id, by = %who.user.username, "held workflow given another attempt");
    Ok(())
}

/// `POST /admin/health/repair` (form: `workflow_id`).
pub async fn repair_form(State(shared): S, ctx: Ctx, Form(fields): Form<FormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    who.require_admin()?;
    repair(&shared, &who, field(&fields, "workflow_id")).await?;
    Ok(Redirect::to("/admin/health?done=repair").into_response())
}

/// `GET /api/health`: the held workflows, for monitoring.
pub async fn api_show(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    admin(&ctx)?;
    let held = shared.app.store.stuck_workflows(LISTED).await?;
    Ok(Json(json!({ "stuck": shared.app.store.stuck_count().await?, "stuck_workflows": held.iter().map(stuck_json).collect::<Vec<_>>() })))
}

/// `POST /api/health/repair` `{"workflow_id": …}`
pub async fn api_repair(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Json<Value>, Error> {
    let who = admin(&ctx)?;
    let req: RepairRequest = parse_json(&body)?;
    repair(&shared, &who, &req.workflow_id).await?;
    Ok(Json(json!({ "repaired": req.workflow_id })))
}

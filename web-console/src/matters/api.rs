//! The JSON API. Errors are `{"error": {"code", "message"}}` (see [`crate::error`]); every
//! cookie-authenticated write carries `X-CSRF-Token` (checked in [`crate::context`]).

use crate::Shared;
use crate::context::{Ctx, now_ms};
use crate::error::Error;
use crate::http::{Uploads, Visible, facility_json, parse_json, read_uploads};
use crate::matters::forms::{IssueInput, IssueRequest};
use crate::matters::{self, event_json, evidence_json, matter_json, notice_json};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qingling_activities::db::entities::matter;
use qingling_rules::matter::Action;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// `GET /api/facilities`
pub async fn facilities(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let list = shared.app.store.facilities_for(&who.user).await?;
    Ok(Json(Value::Array(list.iter().map(facility_json).collect())))
}

/// `POST /api/matters`
#[tracing::instrument(skip_all, fields(matter_id))]
pub async fn issue(State(shared): S, ctx: Ctx, headers: axum::http::HeaderMap, body: Bytes) -> Result<Response, Error> {
    let who = ctx.signed()?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let key = matters::idempotency_key(headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}")))?;
    let input: IssueInput = parse_json(&body)?;
    let req = IssueRequest::parse(&input, &shared.app.policy.input)?;
    let issued = matters::issue(&shared, &who, req, key.as_deref()).await?;
    // Not yet written by the worker: the workflow runs, the number follows.
    let status = if issued.stored { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(json!(issued))).into_response())
}

async fn rows_json(shared: &Shared, rows: &[matter::Model]) -> Result<Vec<Value>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let numbers = shared.app.store.notice_numbers(&ids).await?;
    let policy = shared.policy_in_force().await?;
    Ok(rows.iter().map(|m| matter_json(m, numbers.get(&m.id).map(String::as_str), &policy.calendar)).collect())
}

/// `GET /api/matters`
pub async fn list(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let rows = shared.app.store.matters_for(&who.user).await?;
    Ok(Json(Value::Array(rows_json(&shared, &rows).await?)))
}

/// `GET /api/matters/{id}`: the stored matter, and the workflow's live view when it answers.
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn show(State(shared): S, Visible(row): Visible<matter::Model>) -> Result<Json<Value>, Error> {
    let id = row.id.clone();
    let record = shared.app.store.matter_record(&id).await?;
    let (events, evidence, notice) = (&record.events, &record.evidence, &record.notice);
    let live = match crate::engine::live_view(&shared.app.temporal, &id).await {
        Ok(view) => serde_json::to_value(view).unwrap_or(Value::Null),
        Err(e) => {
            tracing::debug!(error = %e, "no live view");
            Value::Null
        }
    };
    Ok(Json(json!({
        "matter": matter_json(&row, notice.as_ref().map(|n| n.number.as_str()), &shared.policy_in_force().await?.calendar),
        "live": live,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "evidence": evidence.iter().map(evidence_json).collect::<Vec<_>>(),
        "notice": notice.as_ref().map(notice_json),
        // The printable notice and its PDF, when the notice has a document.
        "notice_document": record.document.as_ref().map(|d| crate::notice_document::links(&id, d)),
    })))
}

/// `POST /api/matters/{id}/actions`
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn act(State(shared): S, ctx: Ctx, Visible(row): Visible<matter::Model>, body: Bytes) -> Result<Json<Value>, Error> {
    // Visibility first (the extractor): someone else's matter is not found, whatever the body says.
    let who = ctx.signed()?;
    let action: Action = parse_json(&body)?;
    let view = matters::act(&shared, &who, &row, action).await?;
    Ok(Json(json!({ "view": view })))
}

/// `POST /api/matters/{id}/evidence`
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn upload(State(shared): S, ctx: Ctx, Visible(row): Visible<matter::Model>, multipart: Uploads) -> Result<Response, Error> {
    let who = ctx.signed()?;
    if !matters::may_upload(&who) {
        return Err(Error::Forbidden);
    }
    let (files, _) = read_uploads(multipart, shared.app.policy.evidence.max_bytes).await?;
    let refs = matters::store_evidence(&shared, &who, &row, files).await?;
    Ok((StatusCode::CREATED, Json(json!({ "evidence": refs }))).into_response())
}

/// `GET /api/matters/{id}/evidence/{sha256}`: the file, to those who may see the matter.
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn evidence_file(State(shared): S, Visible(row): Visible<matter::Model>, Path((_, sha256)): Path<(String, String)>) -> Result<Response, Error> {
    let (file, path) = matters::evidence_file(&shared, &row, &sha256).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| Error::Internal(format!("evidence {}: {e}", path.display())))?;
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    let disposition = format!("inline; filename=\"evidence\"; filename*=UTF-8''{}", crate::http::url_encode(&file.original_name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// `GET /api/board`
pub async fn board(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let b = shared.app.store.board(&who.user, now_ms(), &shared.app.policy.calendar).await?;
    let mut levels = vec![];
    for (level, rows) in &b.by_level {
        levels.push(json!({ "level": level, "step": crate::views::step_id(&shared.app.policy, *level), "matters": rows_json(&shared, rows).await? }));
    }
    Ok(Json(json!({
        "due_today": rows_json(&shared, &b.due_today).await?,
        "due_within_3_days": rows_json(&shared, &b.due_within_3_days).await?,
        "overdue": rows_json(&shared, &b.overdue).await?,
        "awaiting_decision": rows_json(&shared, &b.awaiting_decision).await?,
        "by_level": levels,
    })))
}

//! Inspections over the JSON API: assign one (oversight), open it, keep a tablet's draft, take
//! photos, submit it signed by two inspectors, and read its results and notices.
//!
//! The workflow decides (it validates the submission against the pinned template); this module
//! checks who is asking, verifies the co-signer's password, and reads the database's copy.

use crate::Shared;
use crate::api::{parse_json, read_uploads};
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::i18n::t;
use crate::matters::facility_json;
use crate::signin::check_password;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qingling_activities::db::entities::{inspection, inspection_notice, user};
use qingling_activities::store::{InspectionRow, user_can_see_inspection};
use qingling_checklists::{Answer, Filled};
use qingling_rules::matter::{Actor, Role};
use qingling_rules::messages::Locale;
use qingling_workflows::inspection::{InspectionRefusal, SubmitRequest};
use qingling_workflows::{Inspection, InspectionInput, InspectionView};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use temporalio_client::WorkflowExecuteUpdateOptions;
use temporalio_client::errors::WorkflowUpdateError;

type S = State<Arc<Shared>>;

fn refused(status: StatusCode, code: &str, args: &[(&str, String)]) -> Error {
    Error::Inspection { status, code: code.to_string(), args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), problems: vec![] }
}

/// A decision of `rules::inspection` that went against the request.
fn ruled(r: qingling_rules::inspection::Refused) -> Error {
    refused(StatusCode::UNPROCESSABLE_ENTITY, r.code, &r.args)
}

/// The signers' certificate numbers, as stored now.
fn certified(users: &[&user::Model]) -> Result<(), Error> {
    qingling_rules::inspection::check_certified(users.iter().map(|u| (u.display_name.as_str(), u.certificate.as_deref()))).map_err(ruled)
}

/// The inspection if the caller may see it; otherwise not found (never "forbidden").
async fn visible(shared: &Shared, who: &Signed, id: &str) -> Result<InspectionRow, Error> {
    match shared.app.store.inspection(id).await? {
        Some(row) if user_can_see_inspection(&who.user, &row) => Ok(row),
        _ => Err(Error::NotFound),
    }
}

fn actor_of(u: &user::Model) -> Actor {
    Actor { user_id: u.id, name: u.display_name.clone(), role: Role::parse(&u.role).unwrap_or(Role::Inspector), facility_id: u.facility_id }
}

/// An inspection as the API shows it. `publish_by_provisional`: the publication date was counted
/// over a year whose holiday schedule is not published.
pub fn inspection_json(row: &InspectionRow, calendar: &qingling_rules::Calendar) -> Value {
    let i = &row.inspection;
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let publish_by_provisional = match (day(&i.date), i.publish_by.as_deref().and_then(day)) {
        (Some(from), Some(to)) => !calendar.provisional_years(from, to).is_empty(),
        _ => false,
    };
    json!({
        "id": i.id, "facility": facility_json(&row.facility), "template_id": i.template_id,
        "template_version": i.template_version, "title": i.title, "status": i.status, "date": i.date,
        "inspectors": row.inspectors.iter().map(|(u, signed)| json!({ "id": u.id, "name": u.display_name, "username": u.username, "signed_at_ms": signed })).collect::<Vec<_>>(),
        "submitted_key": i.submission_key, "submitted_at_ms": i.submitted_at_ms, "findings": i.findings, "points": i.points,
        "publish_by": i.publish_by, "publish_by_provisional": publish_by_provisional,
    })
}

fn summary_json(i: &inspection::Model) -> Value {
    json!({ "id": i.id, "facility_id": i.facility_id, "title": i.title, "template_id": i.template_id, "template_version": i.template_version, "date": i.date, "status": i.status, "findings": i.findings })
}

fn notice_json(n: &inspection_notice::Model) -> Value {
    json!({
        "idx": n.idx, "number": n.number, "matter_id": n.matter_id, "major_hazard": n.major_hazard,
        "html_url": format!("/inspections/{}/notices/{}/html", n.inspection_id, n.idx),
        "pdf_url": format!("/inspections/{}/notices/{}/pdf", n.inspection_id, n.idx),
        "html_sha256": n.html_sha256, "pdf_sha256": n.pdf_sha256,
    })
}

/// The submitted result as stored: findings, scores and notices.
async fn result_json(shared: &Shared, row: &InspectionRow) -> Result<Value, Error> {
    let Some(evaluation) = row.inspection.evaluation.as_deref() else { return Ok(Value::Null) };
    let evaluation: Value = serde_json::from_str(evaluation).unwrap_or(Value::Null);
    let notices = shared.app.store.inspection_notices(&row.inspection.id).await?;
    Ok(json!({
        "findings": evaluation["findings"], "scores": evaluation["sections"], "total": evaluation["total"],
        "notices": notices.iter().map(notice_json).collect::<Vec<_>>(),
        "complete": row.inspection.status == "completed",
    }))
}

#[derive(Deserialize)]
pub struct AssignInput {
    pub facility_id: i64,
    pub template: String,
    #[serde(default)]
    pub version: Option<u32>,
    pub inspectors: Vec<i64>,
    #[serde(default)]
    pub date: Option<String>,
}

/// Starts an inspection after checking every input; returns its id and whether the worker has
/// already written its row.
pub async fn assign_inspection(shared: &Shared, who: &Signed, input: AssignInput) -> Result<(String, Option<InspectionRow>), Error> {
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let store = &shared.app.store;
    let policy = &crate::calendar::policy_in_force(shared).await?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let facility = store
        .facilities_for(&who.user)
        .await?
        .into_iter()
        .find(|f| f.id == input.facility_id)
        .ok_or_else(|| refused(unprocessable, "inspection.facility_unknown", &[]))?;
    let catalog = &shared.app.checklists;
    let template = match input.version {
        Some(v) => catalog.get(&input.template, v),
        None => catalog.latest(&input.template),
    }
    .ok_or_else(|| {
        refused(
            unprocessable,
            "inspection.template_unknown",
            &[("template", format!("{}@{}", input.template, input.version.map(|v| v.to_string()).unwrap_or_else(|| "latest".into())))],
        )
    })?
    .clone();
    let need = policy.inspection.min_inspectors as usize;
    let pool = store.inspectors_in(facility.region_id).await?;
    let mut chosen: Vec<&user::Model> = vec![];
    for id in &input.inspectors {
        match pool.iter().find(|u| u.id == *id) {
            Some(u) if !chosen.iter().any(|c| c.id == u.id) => chosen.push(u),
            Some(_) => {}
            None => return Err(refused(unprocessable, "inspection.inspectors_invalid", &[("need", need.to_string())])),
        }
    }
    if chosen.len() < need {
        return Err(refused(unprocessable, "inspection.inspectors_invalid", &[("need", need.to_string())]));
    }
    certified(&chosen)?;
    let today = policy.calendar.local_date(now_ms());
    let date = match input.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => today,
        // A year either side of today: anything else is a typing mistake (and `+12345-01-01`
        // would parse).
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .filter(|d| d.signed_duration_since(today).num_days().abs() <= 366)
            .ok_or_else(|| refused(unprocessable, "inspection.date_invalid", &[]))?,
    };
    let id = uuid::Uuid::new_v4().to_string();
    tracing::Span::current().record("inspection_id", id.as_str());
    let input = InspectionInput {
        id: id.clone(),
        facility_id: facility.id,
        date: date.to_string(),
        template,
        inspectors: chosen.iter().map(|u| actor_of(u)).collect(),
        assigned_by: who.actor(),
        policy: policy.clone(),
        facility: store.facility_facts(facility.id).await?,
    };
    crate::engine::start_inspection(&shared.app.temporal.client()?, input).await.map_err(|e| Error::Unavailable(e.to_string()))?;
    // The worker writes the row; wait briefly so the caller can open it at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Some(row) = store.inspection(&id).await? {
            return Ok((id, Some(row)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((id, None))
}

/// `POST /api/inspections`: oversight assigns an inspection of a facility with a template to
/// at least two inspectors of its region.
#[tracing::instrument(skip_all, fields(inspection_id))]
pub async fn assign(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = ctx.signed()?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let input: AssignInput = parse_json(&body)?;
    match assign_inspection(&shared, &who, input).await? {
        (id, Some(row)) => {
            let calendar = crate::calendar::policy_in_force(&shared).await?.calendar;
            Ok((StatusCode::CREATED, Json(json!({ "inspection_id": id, "inspection": inspection_json(&row, &calendar) }))).into_response())
        }
        (id, None) => Ok((StatusCode::ACCEPTED, Json(json!({ "inspection_id": id }))).into_response()),
    }
}

/// `GET /api/inspections`
pub async fn list(State(shared): S, ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let rows = shared.app.store.inspections_for(&who.user).await?;
    Ok(Json(Value::Array(rows.iter().map(summary_json).collect())))
}

/// `GET /api/inspections/{id}`: the inspection, its pinned template, the last synced draft and,
/// once submitted, the result.
pub async fn show(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let row = visible(&shared, &who, &id).await?;
    let i = &row.inspection;
    let template =
        shared.app.checklists.get(&i.template_id, i.template_version as u32).map(|t| serde_json::to_value(t).unwrap_or(Value::Null)).unwrap_or(Value::Null);
    let draft = i.draft.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()).unwrap_or_else(|| json!({}));
    Ok(Json(json!({
        "inspection": inspection_json(&row, &crate::calendar::policy_in_force(&shared).await?.calendar),
        "template": template,
        "draft": { "answers": draft, "rev": i.draft_rev },
        "result": result_json(&shared, &row).await?,
    })))
}

fn assigned_inspector(who: &Signed, row: &InspectionRow) -> Result<(), Error> {
    if who.role == Role::Inspector && row.is_assigned(who.user.id) { Ok(()) } else { Err(refused(StatusCode::FORBIDDEN, "inspection.not_assigned", &[])) }
}

/// Runs an update on the inspection's workflow, turning a refusal into its API error.
async fn update<F, Fut>(f: F) -> Result<InspectionView, Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<InspectionView, WorkflowUpdateError>>,
{
    match tokio::time::timeout(crate::engine::UPDATE_TIMEOUT, f()).await {
        Ok(Ok(view)) => Ok(view),
        Ok(Err(WorkflowUpdateError::Failed(failure))) => match crate::engine::refusal_in(&failure, InspectionRefusal::from_wire) {
            Some(r) => Err(refusal_error(r)),
            None => Err(Error::Unavailable(format!("the update failed: {}", failure.message))),
        },
        Ok(Err(e)) => Err(Error::Unavailable(e.to_string())),
        Err(_) => Err(Error::Unavailable("the workflow did not answer in time; is a worker running?".into())),
    }
}

fn refusal_error(r: InspectionRefusal) -> Error {
    let status = match r.code.as_str() {
        "inspection.already_submitted" | "inspection.key_reused" => StatusCode::CONFLICT,
        "inspection.not_assigned" => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let args = match &r.args {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect(),
        _ => vec![],
    };
    let problems = r.problems.iter().map(|p| json!({ "item": p.item, "code": p.code, "detail": p.message })).collect();
    Error::Inspection { status, code: r.code, args, problems }
}

/// Adds each problem's message in the reader's language.
fn localize(mut e: Error, locale: Locale) -> Error {
    if let Error::Inspection { problems, .. } = &mut e {
        for p in problems.iter_mut() {
            let key = format!("answer_problem.{}", p["code"].as_str().unwrap_or_default().replace('.', "_"));
            let msg = t(locale, &key, &[]);
            p["message"] = if msg == key { p["detail"].clone() } else { msg.into() };
        }
    }
    e
}

/// `POST /api/inspections/{id}/start`: an assigned inspector opens the checklist.
pub async fn start(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let row = visible(&shared, &who, &id).await?;
    assigned_inspector(&who, &row)?;
    if row.inspection.status == "assigned" {
        let client = shared.app.temporal.client()?;
        let handle = client.get_workflow_handle::<Inspection>(row.inspection.workflow_id.clone());
        update(|| handle.execute_update(Inspection::start, who.actor(), WorkflowExecuteUpdateOptions::default())).await?;
    }
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct DraftInput {
    answers: BTreeMap<String, Answer>,
    #[serde(default)]
    client_rev: Option<i64>,
}

/// `PUT /api/inspections/{id}/draft`: keeps the tablet's answers (the tablet stays the source
/// of truth until it submits).
pub async fn save_draft(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let row = visible(&shared, &who, &id).await?;
    assigned_inspector(&who, &row)?;
    let input: DraftInput = parse_json(&body)?;
    check_bounds(&shared, &row, &input.answers).map_err(|e| localize(e, ctx.locale))?;
    let answers = serde_json::to_value(&input.answers).map_err(|e| Error::Internal(e.to_string()))?;
    match shared.app.store.save_draft(&id, &answers).await? {
        Some(rev) => Ok(Json(json!({ "rev": rev, "client_rev": input.client_rev }))),
        None => Err(refused(StatusCode::CONFLICT, "inspection.already_submitted", &[])),
    }
}

/// Refuses answers out of bounds (too long, control characters, unknown items, malformed photo
/// references) before they are stored or sent: the same check as the workflow's validator.
fn check_bounds(shared: &Shared, row: &InspectionRow, answers: &BTreeMap<String, Answer>) -> Result<(), Error> {
    let pinned = u32::try_from(row.inspection.template_version).ok().and_then(|v| shared.app.checklists.get(&row.inspection.template_id, v));
    let Some(template) = pinned else {
        return Err(Error::Internal(format!("checklist {}@{} is not in the catalogue", row.inspection.template_id, row.inspection.template_version)));
    };
    let problems = qingling_checklists::check_bounds(template, answers, qingling_workflows::inspection::answer_limits(&shared.app.policy));
    if problems.is_empty() { Ok(()) } else { Err(refusal_error(qingling_workflows::inspection::invalid_answers(problems))) }
}

/// `POST /api/inspections/{id}/photos`: one photo for an answer, stored by content hash.
pub async fn upload_photo(State(shared): S, ctx: Ctx, Path(id): Path<String>, multipart: Multipart) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let row = visible(&shared, &who, &id).await?;
    assigned_inspector(&who, &row)?;
    let max = shared.app.policy.inspection.photo_max_bytes;
    let (files, _) = read_uploads(multipart, max).await?;
    let file = match files.as_slice() {
        [file] => file,
        [] => return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "inspection.photo_empty", &[])),
        _ => return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "inspection.photo_one", &[("count", files.len().to_string())])),
    };
    use qingling_activities::evidence::Error as E;
    match qingling_activities::evidence::store_photo(&shared.app.store, max, &file.bytes).await {
        Ok(photo) => {
            shared.app.store.add_inspection_photo(&id, &photo, who.user.id, now_ms()).await?;
            Ok((StatusCode::CREATED, Json(json!(photo))).into_response())
        }
        Err(E::Empty) => Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "inspection.photo_empty", &[])),
        Err(E::TooLarge { max, got }) => {
            Err(refused(StatusCode::PAYLOAD_TOO_LARGE, "inspection.photo_too_large", &[("max", max.to_string()), ("got", got.to_string())]))
        }
        Err(E::UnknownType | E::TypeNotAllowed(_)) => Err(refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "inspection.photo_not_image", &[])),
        Err(E::Store(e)) => Err(Error::Internal(e.to_string())),
    }
}

/// `GET /api/inspections/{id}/photos/{sha256}`
pub async fn photo(State(shared): S, ctx: Ctx, Path((id, sha256)): Path<(String, String)>) -> Result<Response, Error> {
    let who = ctx.signed()?;
    visible(&shared, &who, &id).await?;
    // Only photos taken for this inspection: the store is shared with other files.
    if !shared.app.store.inspection_photos(&id).await?.contains(&sha256) {
        return Err(Error::NotFound);
    }
    let path = qingling_activities::evidence::path_of(&shared.app.store, &sha256);
    let bytes = tokio::fs::read(&path).await.map_err(|_| Error::NotFound)?;
    let ct = qingling_activities::evidence::sniff(&bytes).filter(|t| t.starts_with("image/")).ok_or(Error::NotFound)?;
    file_response(bytes, ct, None)
}

pub(crate) fn file_response(bytes: Vec<u8>, content_type: &str, download_name: Option<&str>) -> Result<Response, Error> {
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|e| Error::Internal(e.to_string()))?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    if let Some(name) = download_name
        && let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"notice\"; filename*=UTF-8''{}", crate::pages::url_encode(name)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
struct Cosigner {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct SubmitInput {
    idempotency_key: String,
    answers: Value,
    #[serde(default)]
    cosigner: Option<Cosigner>,
}

/// `POST /api/inspections/{id}/submit`: the signed checklist. The same idempotency key again
/// returns the first outcome, also after the inspection has completed.
#[tracing::instrument(skip_all, fields(inspection_id = %id))]
pub async fn submit(State(shared): S, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let row = visible(&shared, &who, &id).await?;
    assigned_inspector(&who, &row)?;
    let input: SubmitInput = parse_json(&body)?;
    let key = input.idempotency_key.trim().to_string();
    if key.is_empty() || key.len() > 64 {
        return Err(Error::BadRequest("idempotency_key must be 1 to 64 characters".into()));
    }
    let filled = Filled {
        template: row.inspection.template_id.clone(),
        version: row.inspection.template_version as u32,
        answers: serde_json::from_value(input.answers).map_err(|e| Error::BadRequest(format!("answers: {e}")))?,
    };
    check_bounds(&shared, &row, &filled.answers).map_err(|e| localize(e, ctx.locale))?;
    // Already submitted with this key (the workflow may even have finished): the same outcome
    // for the same answers; different answers under a used key are refused, never dropped.
    if row.inspection.submission_key.as_deref() == Some(key.as_str()) {
        let stored: Option<Filled> = row.inspection.answers.as_deref().and_then(|a| serde_json::from_str(a).ok());
        if stored.as_ref() != Some(&filled) {
            return Err(refused(StatusCode::CONFLICT, "inspection.key_reused", &[]));
        }
        return done(&shared, &id).await;
    }
    if row.inspection.submission_key.is_some() {
        return Err(refused(StatusCode::CONFLICT, "inspection.already_submitted", &[]));
    }
    // Every photo an answer cites must have been taken for this inspection.
    let taken = shared.app.store.inspection_photos(&id).await?;
    let strangers: Vec<Value> = filled
        .answers
        .iter()
        .flat_map(|(item, a)| {
            a.photos
                .iter()
                .filter(|p| !taken.contains(*p))
                .map(move |p| json!({ "item": item, "code": "answer.unknown_photo", "detail": format!("photo {p} was not taken for this inspection") }))
        })
        .collect();
    if !strangers.is_empty() {
        let count = strangers.len().to_string();
        let e = Error::Inspection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "inspection.invalid_answers".into(),
            args: vec![("count".into(), count)],
            problems: strangers,
        };
        return Err(localize(e, ctx.locale));
    }
    let today = crate::calendar::policy_in_force(&shared).await?.calendar.local_date(now_ms());
    if let Ok(date) = chrono::NaiveDate::parse_from_str(&row.inspection.date, "%Y-%m-%d") {
        qingling_rules::inspection::check_submission_day(date, today).map_err(ruled)?;
    }
    let mut signers = vec![who.actor()];
    let mut signing = vec![who.user.clone()];
    if let Some(c) = &input.cosigner {
        if c.username.trim() == who.user.username {
            return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "inspection.cosigner_same", &[]));
        }
        // Throttled like a sign-in of that inspector: a wait is a 429, not a wrong password.
        let user = check_password(&shared, &ctx, &c.username, &c.password).await.map_err(|e| match e {
            Error::BadCredentials | Error::Field { .. } => refused(StatusCode::UNPROCESSABLE_ENTITY, "inspection.cosigner_invalid", &[]),
            other => other,
        })?;
        signers.push(actor_of(&user));
        signing.push(user);
    }
    certified(&signing.iter().collect::<Vec<_>>())?;
    let req = SubmitRequest { key: key.clone(), filled, submitted_by: who.actor(), signers };
    let client = shared.app.temporal.client()?;
    let handle = client.get_workflow_handle::<Inspection>(row.inspection.workflow_id.clone());
    // The key is also the update id, so Temporal itself deduplicates a retried request.
    let options = WorkflowExecuteUpdateOptions::builder().update_id(format!("submit-{key}")).build();
    update(|| handle.execute_update(Inspection::submit, req, options)).await.map_err(|e| localize(e, ctx.locale))?;
    done(&shared, &id).await
}

/// Waits (briefly) for the submission to be stored, then answers with the stored result.
async fn done(shared: &Shared, id: &str) -> Result<Response, Error> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = shared.app.store.inspection(id).await?.ok_or(Error::NotFound)?;
        let finished = row.inspection.status == "completed";
        if finished || std::time::Instant::now() > deadline {
            let status = if finished { StatusCode::OK } else { StatusCode::ACCEPTED };
            return Ok((status, Json(json!({ "inspection": inspection_json(&row, &crate::calendar::policy_in_force(shared).await?.calendar), "result": result_json(shared, &row).await? }))).into_response());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET /inspections/{id}/notices/{idx}/{format}`: a notice as stored (HTML or PDF), to those
/// who may see the inspection or the matter it became.
pub async fn notice_document(State(shared): S, ctx: Ctx, Path((id, idx, format)): Path<(String, i32, String)>) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let notices = shared.app.store.inspection_notices(&id).await?;
    let notice = notices.into_iter().find(|n| n.idx == idx).ok_or(Error::NotFound)?;
    let may = match shared.app.store.inspection(&id).await? {
        Some(row) if user_can_see_inspection(&who.user, &row) => true,
        _ => shared.app.store.matter(&notice.matter_id).await?.is_some_and(|m| shared.app.store.user_can_see(&who.user, &m)),
    };
    if !may {
        return Err(Error::NotFound);
    }
    crate::notice_document::respond(&shared, &notice.number, notice.html_sha256.as_deref(), notice.pdf_sha256.as_deref(), &format).await
}

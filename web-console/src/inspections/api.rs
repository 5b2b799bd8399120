//! Inspections over the JSON API: assign one (oversight), open it, keep a tablet's draft, take
//! photos, submit it signed by two inspectors, and read its results and notices.
//!
//! The rules decide (`qingling_rules::inspection`: who may submit, what a submission carries,
//! which inspectors an assignment may name); the workflow applies them again for a client that
//! talks to Temporal directly. This module reads the database's copy, checks the co-signer's
//! password, asks the rules, and reaches the workflow through [`crate::engine`].

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::http::{Uploads, Visible, facility_json, file_response, parse_json, read_uploads};
use crate::signin::check_password;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qingling_activities::db::entities::{inspection, inspection_notice, user};
use qingling_activities::store::{InspectionRow, user_can_see_inspection};
use qingling_checklists::{Answer, Filled};
use qingling_rules::inspection::{self as rules, SubmitRequest};
use qingling_rules::matter::{Actor, Role};
use qingling_rules::refusal::{Class, Refusal};
use qingling_workflows::InspectionInput;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

type S = State<Arc<Shared>>;

/// A refusal under `inspection.`.
fn refusal(code: &str) -> Refusal {
    Refusal::new(format!("inspection.{code}"))
}

/// The signers' certificate numbers, as stored now.
fn certified(users: &[&user::Model]) -> Result<(), Error> {
    Ok(rules::check_certified(users.iter().map(|u| (u.display_name.as_str(), u.certificate.as_deref())))?)
}

/// An inspection is named by `{id}` in its routes; handlers take it as `Visible<InspectionRow>`.
impl crate::http::Scoped for InspectionRow {
    fn find(shared: &Shared, who: &Signed, id: &str) -> impl Future<Output = Result<Self, Error>> + Send {
        visible(shared, who, id)
    }
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
    let policy = &shared.policy_in_force().await?;
    let facility = store.facility_for(&who.user, input.facility_id).await?.ok_or_else(|| refusal("facility_unknown"))?;
    let catalog = &shared.app.checklists;
    let template = match input.version {
        Some(v) => catalog.get(&input.template, v),
        None => catalog.latest(&input.template),
    }
    .ok_or_else(|| {
        refusal("template_unknown").arg("template", format!("{}@{}", input.template, input.version.map(|v| v.to_string()).unwrap_or_else(|| "latest".into())))
    })?
    .clone();
    let pool = store.inspectors_in(facility.region_id).await?;
    let ids: Vec<i64> = pool.iter().map(|u| u.id).collect();
    let chosen_ids = rules::choose_inspectors(&ids, &input.inspectors, policy.inspection.min_inspectors)?;
    let chosen: Vec<&user::Model> = chosen_ids.iter().filter_map(|id| pool.iter().find(|u| u.id == *id)).collect();
    certified(&chosen)?;
    let date = rules::assignment_date(input.date.as_deref(), policy.calendar.local_date(now_ms()))?;
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
    let row = crate::http::wait_for(Duration::from_secs(15), || async { Ok(store.inspection(&id).await?) }).await?;
    Ok((id, row))
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
            let calendar = shared.policy_in_force().await?.calendar;
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
pub async fn show(State(shared): S, Visible(row): Visible<InspectionRow>) -> Result<Json<Value>, Error> {
    let i = &row.inspection;
    let template = serde_json::to_value(pinned_template(&shared, &row).await?).unwrap_or(Value::Null);
    let draft = i.draft.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()).unwrap_or_else(|| json!({}));
    Ok(Json(json!({
        "inspection": inspection_json(&row, &shared.policy_in_force().await?.calendar),
        "template": template,
        "draft": { "answers": draft, "rev": i.draft_rev },
        "result": result_json(&shared, &row).await?,
    })))
}

/// The caller is one of the inspection's assigned inspectors (the rules' [`rules::check_start`]).
fn assigned_inspector(who: &Signed, row: &InspectionRow) -> Result<(), Error> {
    let team: Vec<Actor> = row.inspectors.iter().map(|(u, _)| actor_of(u)).collect();
    Ok(rules::check_start(&team, &who.actor())?)
}

/// `POST /api/inspections/{id}/start`: an assigned inspector opens the checklist.
pub async fn start(State(shared): S, ctx: Ctx, Visible(row): Visible<InspectionRow>) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    assigned_inspector(&who, &row)?;
    if row.inspection.status == "assigned" {
        crate::engine::open_inspection(&shared.app.temporal.client()?, &row.inspection.workflow_id, who.actor()).await?;
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
pub async fn save_draft(State(shared): S, ctx: Ctx, Visible(row): Visible<InspectionRow>, body: Bytes) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    let id = row.inspection.id.clone();
    assigned_inspector(&who, &row)?;
    let input: DraftInput = parse_json(&body)?;
    check_bounds(&shared, &row, &input.answers).await?;
    let answers = serde_json::to_value(&input.answers).map_err(|e| Error::Internal(e.to_string()))?;
    match shared.app.store.save_draft(&id, &answers).await? {
        Some(rev) => Ok(Json(json!({ "rev": rev, "client_rev": input.client_rev }))),
        None => Err(refusal("already_submitted").class(Class::Conflict).into()),
    }
}

/// Refuses answers out of bounds (too long, control characters, unknown items, malformed photo
/// references) before they are stored or sent: the same check as the workflow's validator.
async fn check_bounds(shared: &Shared, row: &InspectionRow, answers: &BTreeMap<String, Answer>) -> Result<(), Error> {
    let template = pinned_template(shared, row).await?;
    Ok(rules::check_answer_bounds(&template, answers, &shared.app.policy)?)
}

/// The template the inspection was assigned: the catalogue's copy when its content hash is the
/// one the inspection recorded (always, for the built-in versions, which are pinned), otherwise
/// the copy its workflow carries — a template file changed since the assignment is never what
/// the tablet shows or what answers are checked against.
async fn pinned_template(shared: &Shared, row: &InspectionRow) -> Result<qingling_checklists::Template, Error> {
    let i = &row.inspection;
    let version = u32::try_from(i.template_version).ok();
    let catalogued = version.and_then(|v| shared.app.checklists.get(&i.template_id, v));
    let catalogued_hash = version.and_then(|v| shared.app.checklists.content_hash(&i.template_id, v));
    match (catalogued, i.template_sha256.as_deref()) {
        (Some(t), None) => Ok(t.clone()),
        (Some(t), Some(pin)) if catalogued_hash == Some(pin) => Ok(t.clone()),
        (_, Some(pin)) => {
            tracing::warn!(inspection_id = %i.id, template = %format!("{}@{}", i.template_id, i.template_version), %pin, "the catalogue's copy differs from the assigned template; serving the workflow's copy");
            let template = crate::engine::inspection_template(&shared.app.temporal.client()?, &i.workflow_id).await?;
            if template.content_hash() == pin { Ok(template) } else { Err(Error::Internal(format!("the workflow's template does not hash to {pin}"))) }
        }
        (None, None) => Err(Error::Internal(format!("checklist {}@{} is not in the catalogue", i.template_id, i.template_version))),
    }
}

/// `POST /api/inspections/{id}/photos`: one photo for an answer, stored by content hash.
pub async fn upload_photo(State(shared): S, ctx: Ctx, Visible(row): Visible<InspectionRow>, multipart: Uploads) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let id = row.inspection.id.clone();
    assigned_inspector(&who, &row)?;
    let max = shared.app.policy.inspection.photo_max_bytes;
    let (files, _) = read_uploads(multipart, max).await?;
    let file = match files.as_slice() {
        [file] => file,
        [] => return Err(refusal("photo_empty").into()),
        _ => return Err(refusal("photo_one").arg("count", files.len().to_string()).into()),
    };
    use qingling_activities::evidence::Error as E;
    match qingling_activities::evidence::store_photo(&shared.app.store, max, &file.bytes).await {
        Ok(photo) => {
            shared.app.store.add_inspection_photo(&id, &photo, who.user.id, now_ms()).await?;
            Ok((StatusCode::CREATED, Json(json!(photo))).into_response())
        }
        Err(E::Empty) => Err(refusal("photo_empty").into()),
        Err(E::TooLarge { max, got }) => Err(refusal("photo_too_large").arg("max", max.to_string()).arg("got", got.to_string()).class(Class::TooLarge).into()),
        Err(E::UnknownType | E::TypeNotAllowed(_)) => Err(refusal("photo_not_image").class(Class::UnsupportedType).into()),
        Err(E::Store(e)) => Err(Error::Internal(e.to_string())),
    }
}

/// `GET /api/inspections/{id}/photos/{sha256}`
pub async fn photo(State(shared): S, Visible(row): Visible<InspectionRow>, Path((_, sha256)): Path<(String, String)>) -> Result<Response, Error> {
    let id = row.inspection.id.clone();
    // Only photos taken for this inspection: the store is shared with other files.
    if !shared.app.store.inspection_photos(&id).await?.contains(&sha256) {
        return Err(Error::NotFound);
    }
    let path = qingling_activities::evidence::path_of(&shared.app.store, &sha256);
    let bytes = tokio::fs::read(&path).await.map_err(|_| Error::NotFound)?;
    let ct = qingling_activities::evidence::sniff(&bytes).filter(|t| t.starts_with("image/")).ok_or(Error::NotFound)?;
    file_response(bytes, ct, None)
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
#[tracing::instrument(skip_all, fields(inspection_id = %row.inspection.id))]
pub async fn submit(State(shared): S, ctx: Ctx, Visible(row): Visible<InspectionRow>, body: Bytes) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let id = row.inspection.id.clone();
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
    check_bounds(&shared, &row, &filled.answers).await?;
    // Already submitted (the workflow may even have finished): the same key and answers get the
    // same outcome; different answers under a used key, or another key, are refused.
    let stored: Filled = row.inspection.answers.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
    if rules::check_resubmission(row.inspection.submission_key.as_deref().map(|k| (k, &stored)), &key, &filled)? {
        return done(&shared, &id).await;
    }
    // Every photo an answer cites must have been taken for this inspection.
    rules::check_photos(&filled, &shared.app.store.inspection_photos(&id).await?)?;
    let today = shared.policy_in_force().await?.calendar.local_date(now_ms());
    if let Ok(date) = chrono::NaiveDate::parse_from_str(&row.inspection.date, "%Y-%m-%d") {
        rules::check_submission_day(date, today)?;
    }
    let mut signers = vec![who.actor()];
    let mut signing = vec![who.user.clone()];
    if let Some(c) = &input.cosigner {
        rules::check_cosigner(&who.user.username, &c.username)?;
        // Throttled like a sign-in of that inspector: a wait is a 429, not a wrong password.
        let user = check_password(&shared, &ctx, &c.username, &c.password).await.map_err(|e| match e {
            Error::BadCredentials | Error::Field { .. } => refusal("cosigner_invalid").into(),
            other => other,
        })?;
        signers.push(actor_of(&user));
        signing.push(user);
    }
    certified(&signing.iter().collect::<Vec<_>>())?;
    let req = SubmitRequest { key: key.clone(), filled, submitted_by: who.actor(), signers };
    crate::engine::submit_inspection(&shared.app.temporal.client()?, &row.inspection.workflow_id, req).await?;
    done(&shared, &id).await
}

/// Waits (briefly) for the submission to be stored, then answers with the stored result.
async fn done(shared: &Shared, id: &str) -> Result<Response, Error> {
    let store = &shared.app.store;
    let completed = crate::http::wait_for(Duration::from_secs(30), || async {
        Ok(store.inspection(id).await?.filter(|row| rules::InspectionStatus::parse(&row.inspection.status) == Some(rules::InspectionStatus::Completed)))
    })
    .await?;
    let (status, row) = match completed {
        Some(row) => (StatusCode::OK, row),
        None => (StatusCode::ACCEPTED, store.inspection(id).await?.ok_or(Error::NotFound)?),
    };
    let calendar = shared.policy_in_force().await?.calendar;
    Ok((status, Json(json!({ "inspection": inspection_json(&row, &calendar), "result": result_json(shared, &row).await? }))).into_response())
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

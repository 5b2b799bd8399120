//! The HTML pages. Forms post back here with a hidden `csrf` field; a refused action re-renders
//! the page with the reason in the reader's language, an accepted one redirects back with a
//! short confirmation (`?done=<action>`).

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::http::{FormFields, facility_names, field};
use crate::http::{Visible, read_uploads, url_encode};
use crate::matters;
use crate::matters::forms::{IssueFormFields, IssueRequest, action_from_form};
use crate::views::{self, CardData, card, render};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use qingling_activities::db::entities::matter;
use qingling_rules::matter::{Action, Matter, MatterKind, Role, Severity, Status};
use serde::Deserialize;
use std::sync::Arc;

type S = State<Arc<Shared>>;

async fn cards(shared: &Shared, who: &Signed, policy: &qingling_rules::Policy, rows: &[matter::Model]) -> Result<Vec<views::Card>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let numbers = shared.app.store.notice_numbers(&ids).await?;
    let facilities = facility_names(shared, who).await?;
    let data = CardData { policy, numbers: &numbers, facilities: &facilities, now_ms: now_ms() };
    Ok(rows.iter().map(|m| card(m, &data)).collect())
}

/// `GET /board`
#[tracing::instrument(skip_all)]
pub async fn board(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let b = shared.app.store.board(&who.user, now_ms(), &shared.app.policy.calendar).await?;
    let policy = shared.policy_in_force().await?;
    let mut levels = vec![];
    for (level, rows) in &b.by_level {
        levels.push(context! { level => level, step => views::step_id(&shared.app.policy, *level), cards => cards(&shared, &who, &policy, rows).await? });
    }
    let sections = vec![
        context! { id => "decide", key => "web.board.awaiting_decision", cards => cards(&shared, &who, &policy, &b.awaiting_decision).await? },
        context! { id => "overdue", key => "web.board.overdue", cards => cards(&shared, &who, &policy, &b.overdue).await? },
        context! { id => "today", key => "web.board.due_today", cards => cards(&shared, &who, &policy, &b.due_today).await? },
        context! { id => "soon", key => "web.board.due_within_3_days", cards => cards(&shared, &who, &policy, &b.due_within_3_days).await? },
    ];
    let page = context! { sections => sections, levels => levels, today => shared.app.policy.calendar.local_date(now_ms()).to_string() };
    Ok(render(&shared, &ctx, "board.html", page)?.into_response())
}

/// `GET /notices`: the matters the caller may see (a facility: its own).
pub async fn notices(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let rows = shared.app.store.matters_for(&who.user).await?;
    let (open, ended): (Vec<_>, Vec<_>) = rows.into_iter().partition(|m| !Status::parse(&m.status).is_some_and(Status::is_ended));
    let heading = if who.role == Role::Facility { "web.notices.title" } else { "web.matters.title" };
    let policy = shared.policy_in_force().await?;
    let page = context! {
        heading => heading,
        intro => "web.notices.intro",
        groups => vec![
            context! { key => "web.notices.open", cards => cards(&shared, &who, &policy, &open).await? },
            context! { key => "web.notices.ended", cards => cards(&shared, &who, &policy, &ended).await? },
        ],
    };
    Ok(render(&shared, &ctx, "list.html", page)?.into_response())
}

/// `GET /rechecks`: matters whose evidence awaits a re-check, the most urgent first.
pub async fn rechecks(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let mut rows: Vec<_> = shared.app.store.matters_for(&who.user).await?.into_iter().filter(|m| m.status == Status::EvidenceSubmitted.as_str()).collect();
    rows.sort_by_key(|m| m.next_due_ms.unwrap_or(i64::MAX));
    let policy = shared.policy_in_force().await?;
    let page = context! {
        heading => "web.rechecks.title",
        intro => "web.rechecks.intro",
        groups => vec![context! { key => "web.rechecks.queue", cards => cards(&shared, &who, &policy, &rows).await? }],
    };
    Ok(render(&shared, &ctx, "list.html", page)?.into_response())
}

async fn new_matter_page(shared: &Shared, ctx: &Ctx, who: &Signed, values: &IssueFormFields, error: Option<&Error>) -> Result<Response, Error> {
    let facilities: Vec<Value> =
        shared.app.store.facilities_for(&who.user).await?.into_iter().map(|f| context! { id => f.id.to_string(), name => f.name }).collect();
    let page = context! {
        facilities => facilities,
        kinds => MatterKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        values => values,
        error => error.map(|e| e.message(ctx.locale)),
        error_field => error.and_then(Error::field),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, render(shared, ctx, "matter_new.html", page)?).into_response())
}

/// `GET /matters/new`
pub async fn new_matter(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    // A fresh key per form: sending the same form twice (a double click, a reload) issues once.
    let defaults =
        IssueFormFields { kind: "rectification".into(), severity: "ordinary".into(), idempotency_key: uuid::Uuid::new_v4().to_string(), ..Default::default() };
    new_matter_page(&shared, &ctx, &who, &defaults, None).await
}

/// `POST /matters/new`
#[tracing::instrument(skip_all, fields(matter_id))]
pub async fn issue(State(shared): S, ctx: Ctx, Form(f): Form<IssueFormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(&f.csrf)?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let parsed = f.input().and_then(|i| IssueRequest::parse(&i, &shared.app.policy.input));
    let req = match parsed {
        Ok(r) => r,
        Err(e @ Error::Field { .. }) => return new_matter_page(&shared, &ctx, &who, &f, Some(&e)).await,
        Err(e) => return Err(e),
    };
    let key = matters::idempotency_key(Some(&f.idempotency_key))?;
    match matters::issue(&shared, &who, req, key.as_deref()).await {
        Ok(issued) => Ok(Redirect::to(&format!("/matters/{}?done=issued", issued.matter_id)).into_response()),
        Err(e @ Error::Unavailable(_)) => new_matter_page(&shared, &ctx, &who, &f, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Builds the matter page, with a confirmation or an error to show.
async fn matter_page(shared: &Shared, ctx: &Ctx, who: &Signed, row: &matter::Model, done: Option<&str>, error: Option<&Error>) -> Result<Response, Error> {
    let store = &shared.app.store;
    let offset = shared.app.policy.calendar.utc_offset_secs;
    let now = now_ms();
    let live = crate::engine::live_view(&shared.app.temporal, &row.id).await.ok();
    // The live state is the freshest; the stored snapshot serves while Temporal is away.
    let state: Option<Matter> = live.as_ref().map(|v| v.matter.clone()).or_else(|| serde_json::from_str(&row.snapshot).ok());
    let numbers = shared.app.store.notice_numbers(std::slice::from_ref(&row.id)).await?;
    let facilities = facility_names(shared, who).await?;
    let policy = shared.policy_in_force().await?;
    let data = CardData { policy: &policy, numbers: &numbers, facilities: &facilities, now_ms: now };
    let mut summary = card(row, &data);
    if let Some(m) = &state {
        // The live status may be ahead of the stored row for a moment.
        summary.status = m.status.as_str().to_string();
    }
    let record = store.matter_record(&row.id).await?;
    let (events, evidence) = (&record.events, &record.evidence);
    let forms = state.as_ref().map(|m| views::forms_for(&who.actor(), m, now_ms(), &shared.app.policy)).unwrap_or_default();
    let pending = state.as_ref().and_then(|m| m.pending_extension.as_ref()).map(|p| {
        context! {
            deadline => p.deadline.as_str(), extend_by => p.extend_by.words(ctx.locale), reason => p.reason,
            requested_by => p.requested_by.name, requested_at => views::local_time(p.requested_ms, offset),
        }
    });
    let plan: Vec<Value> = state.as_ref().map(|m| m.plan.iter().map(|p| context! { date => p.date.to_string(), what => p.what }).collect()).unwrap_or_default();
    // The Temporal UI has no sign-in of its own and can terminate workflows: administrators only.
    let temporal_url = shared
        .app
        .temporal_ui_url
        .as_ref()
        .filter(|_| who.role == Role::Admin)
        .map(|ui| format!("{}/namespaces/default/workflows/{}", ui.trim_end_matches('/'), url_encode(&row.workflow_id)));
    let page = context! {
        m => summary,
        description => row.description,
        basis => row.basis,
        deadlines => state.as_ref().map(|m| views::deadline_rows(m, &policy.calendar, now)).unwrap_or_default(),
        plan => plan,
        pending => pending,
        extensions_granted => state.as_ref().map(|m| m.extensions_granted).unwrap_or(0),
        reopen_count => state.as_ref().map(|m| m.reopen_count).unwrap_or(0),
        timeline => events.iter().map(|e| views::event_row(e, ctx.locale, offset)).collect::<Vec<_>>(),
        evidence => evidence.iter().map(|e| views::evidence_row(e, offset)).collect::<Vec<_>>(),
        forms => forms.clone(),
        any_form => forms.any(),
        live => live.is_some(),
        temporal_url => temporal_url,
        // Every matter whose notice has a document links it; older matters have none.
        notice_doc => record.document.as_ref().map(|d| crate::notice_document::links(&row.id, d)),
        done => done.filter(|d| crate::i18n::lookup(ctx.locale, &format!("web.done.{d}")).is_some()),
        error => error.map(|e| e.message(ctx.locale)),
        accept => shared.app.policy.evidence.types.join(","),
        max_size => crate::error::human_bytes(shared.app.policy.evidence.max_bytes),
        today => shared.app.policy.calendar.local_date(now).to_string(),
    };
    let status = error.map(Error::status).unwrap_or(StatusCode::OK);
    Ok((status, render(shared, ctx, "matter.html", page)?).into_response())
}

/// `GET /matters/{id}`
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn matter(State(shared): S, ctx: Ctx, Visible(row): Visible<matter::Model>, Query(q): Query<DoneQuery>) -> Result<Response, Error> {
    let who = ctx.signed()?;
    matter_page(&shared, &ctx, &who, &row, q.done.as_deref(), None).await
}

/// Errors a person can fix by changing the form: shown on the page rather than as an error page.
fn shown_on_page(e: &Error) -> bool {
    matches!(e, Error::Refused(_) | Error::Field { .. } | Error::BadRequest(_) | Error::Unavailable(_) | Error::Gone | Error::NoAnswer)
}

async fn finish(
    shared: &Shared,
    ctx: &Ctx,
    who: &Signed,
    row: &matter::Model,
    action: &'static str,
    result: Result<qingling_workflows::MatterView, Error>,
) -> Result<Response, Error> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/matters/{}?done={action}", row.id)).into_response()),
        Err(e) if shown_on_page(&e) => matter_page(shared, ctx, who, row, None, Some(&e)).await,
        Err(e) => Err(e),
    }
}

/// `POST /matters/{id}/act`: one action form.
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn act(State(shared): S, ctx: Ctx, Visible(row): Visible<matter::Model>, Form(fields): Form<FormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    let result = match action_from_form(&fields) {
        Ok(action) => {
            let name = action.name();
            (name, matters::act(&shared, &who, &row, action).await)
        }
        Err(e) => ("", Err(e)),
    };
    finish(&shared, &ctx, &who, &row, result.0, result.1).await
}

/// `POST /matters/{id}/evidence`: uploads the chosen files, then submits them in one step.
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn submit_evidence(State(shared): S, ctx: Ctx, Visible(row): Visible<matter::Model>, multipart: crate::http::Uploads) -> Result<Response, Error> {
    // Who and which matter first (the extractor): the form's fields (its CSRF token among them) come after.
    let (files, fields) = read_uploads(multipart, shared.app.policy.evidence.max_bytes).await?;
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    let result = async {
        let evidence = matters::store_evidence(&shared, &who, &row, files).await?;
        let action = Action::SubmitEvidence { note: field(&fields, "note").to_string(), evidence };
        matters::act(&shared, &who, &row, action).await
    }
    .await;
    finish(&shared, &ctx, &who, &row, "submit_evidence", result).await
}

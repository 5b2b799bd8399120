//! The Qingling web console: server-rendered pages for supervisors, inspectors and facilities,
//! and the JSON API the tests and scripts use. It reads the database through the store, sends
//! every change to the matter's workflow, and writes nothing itself except sessions and
//! evidence files (both through `qingling-activities`).
//!
//! Invariants: every route decides authorization on the server, from the session; a matter the
//! caller may not see answers 404; every string a person reads comes from the message catalogue.
//!
//! The route table is [`router`], in this file.

mod accounts;
mod api;
mod calendar;
mod context;
pub mod engine;
mod error;
mod forms;
mod health;
mod http;
mod i18n;
mod inspection_pages;
mod inspections;
mod matters;
mod middleware;
mod notice_document;
mod pages;
mod signin;
mod views;

pub use error::Error;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::sync::Arc;

/// What the console needs to run.
#[derive(Clone)]
pub struct AppState {
    pub store: qingling_activities::store::Store,
    /// Temporal, connected or not: the console serves from the database while it is away.
    pub temporal: engine::Temporal,
    pub policy: Arc<qingling_rules::Policy>,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The Temporal UI, for links from a matter to its workflow.
    pub temporal_ui_url: Option<String>,
    /// The checklist templates inspections can be assigned.
    pub checklists: Arc<qingling_checklists::Catalog>,
}

/// The state handlers share: the app's and the template environment.
pub(crate) struct Shared {
    pub app: AppState,
    pub views: minijinja::Environment<'static>,
}

const CSS: &str = include_str!("../assets/app.css");

/// Headroom above the largest evidence file for the rest of a multipart body.
const UPLOAD_HEADROOM: usize = 1024 * 1024;

/// The routes anyone may reach without signing in: liveness, assets, the service worker,
/// signing in and out, the language switch, and the front door (which sends a stranger to the
/// sign-in page). Every other path needs a session, checked by the request-context middleware
/// before any handler (or body extractor) runs, so a new route cannot forget it.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/healthz" | "/login" | "/logout" | "/sw.js" | "/api/session") || path.starts_with("/assets/") || path.starts_with("/lang/")
}

/// The console's routes.
pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(usize::try_from(state.policy.evidence.max_bytes).unwrap_or(usize::MAX).saturating_add(UPLOAD_HEADROOM));
    let photo_limit = DefaultBodyLimit::max(usize::try_from(state.policy.inspection.photo_max_bytes).unwrap_or(usize::MAX).saturating_add(UPLOAD_HEADROOM));
    let shared = Arc::new(Shared { app: state, views: views::environment() });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/assets/app.css", get(css))
        // JSON API
        .route("/api/session", post(api::login).delete(api::logout))
        .route("/api/me", get(api::me))
        .route("/api/me/sessions/end", post(accounts::api_end_mine))
        .route("/api/users/{id}/sessions/end", post(accounts::api_end_theirs))
        .route("/api/facilities", get(api::facilities))
        .route("/api/matters", get(api::list).post(api::issue))
        .route("/api/matters/{id}", get(api::show))
        .route("/api/matters/{id}/actions", post(api::act))
        .route("/api/matters/{id}/evidence", post(api::upload).layer(upload_limit))
        .route("/api/matters/{id}/evidence/{sha256}", get(api::evidence_file))
        .route("/api/board", get(api::board))
        .route("/api/calendar", get(calendar::api_show).post(calendar::api_load))
        .route("/api/health", get(health::api_show))
        .route("/api/health/repair", post(health::api_repair))
        .route("/api/inspections", get(inspections::list).post(inspections::assign))
        .route("/api/inspections/{id}", get(inspections::show))
        .route("/api/inspections/{id}/start", post(inspections::start))
        .route("/api/inspections/{id}/draft", axum::routing::put(inspections::save_draft))
        .route("/api/inspections/{id}/photos", post(inspections::upload_photo).layer(photo_limit))
        .route("/api/inspections/{id}/photos/{sha256}", get(inspections::photo))
        .route("/api/inspections/{id}/submit", post(inspections::submit))
        .route("/inspections/{id}/notices/{idx}/{format}", get(inspections::notice_document))
        .route("/matters/{id}/notice/{format}", get(notice_document::matter_notice))
        // Pages
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::switch_language))
        .route("/board", get(pages::board))
        .route("/notices", get(pages::notices))
        .route("/rechecks", get(pages::rechecks))
        .route("/admin/calendar", get(calendar::show).post(calendar::submit))
        .route("/admin/health", get(health::show))
        .route("/admin/health/repair", post(health::repair_form))
        .route("/account", get(accounts::account_page))
        .route("/account/sessions/end", post(accounts::end_mine))
        .route("/admin/users", get(accounts::users_page))
        .route("/admin/users/{id}/sessions/end", post(accounts::end_theirs))
        .route("/matters/new", get(pages::new_matter).post(pages::issue))
        .route("/matters/{id}", get(pages::matter))
        .route("/matters/{id}/act", post(pages::act))
        .route("/matters/{id}/evidence", post(pages::submit_evidence).layer(upload_limit))
        // ── Inspection pages: the list, the tablet checklist, its offline worker and assets ──
        .route("/inspections", get(inspection_pages::list))
        .route("/inspections/new", get(inspection_pages::new_form).post(inspection_pages::assign))
        .route("/inspections/{id}/fill", get(inspection_pages::fill))
        .route("/sw.js", get(inspection_pages::service_worker))
        .route("/assets/checklist.js", get(inspection_pages::checklist_js))
        .route("/assets/checklist-rules.js", get(inspection_pages::checklist_rules_js))
        .route("/assets/checklist.css", get(inspection_pages::checklist_css))
        .route("/assets/logout.js", get(inspection_pages::logout_js))
        // ── end of the inspection pages ──
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), middleware::context))
        .with_state(shared)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn css() -> axum::response::Response {
    asset("text/css; charset=utf-8", "public, max-age=3600", CSS)
}

/// An embedded file with its type and caching.
pub(crate) fn asset(content_type: &'static str, cache: &'static str, body: &'static str) -> axum::response::Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CACHE_CONTROL, HeaderValue::from_static(cache))], body).into_response()
}

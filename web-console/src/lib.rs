//! The Qingling web console: server-rendered pages for supervisors, inspectors and facilities,
//! and the JSON API the tests and scripts use. It reads the database through the store, sends
//! every change to the matter's workflow, and writes nothing itself except sessions and
//! evidence files (both through `qingling-activities`).
//!
//! Invariants: every route decides authorization on the server, from the session; a matter the
//! caller may not see answers 404; every string a person reads comes from the message catalogue.
//!
//! The route table is [`router`], in this file.

// The shared layer: request context and extractors, errors, texts, Temporal, rendering.
mod context;
pub mod engine;
mod error;
mod http;
mod i18n;
mod middleware;
mod notice_document;
mod signin;
mod views;

// The features: each with its pages and its API, using the shared layer and nothing of another
// feature (web-console/tests/modules.rs checks both).
mod accounts;
mod calendar;
mod campaigns;
mod directory;
mod health;
mod inspections;
mod matters;
mod public;
mod session;

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

impl Shared {
    /// The policy new matters and inspections are issued under, and the calendar pages show:
    /// the configured one with the holiday schedules loaded in the console.
    pub async fn policy_in_force(&self) -> Result<qingling_rules::Policy, Error> {
        Ok(self.app.store.policy_in_force(&self.app.policy).await?)
    }
}

const CSS: &str = include_str!("../assets/app.css");

/// Headroom above the largest evidence file for the rest of a multipart body.
const UPLOAD_HEADROOM: usize = 1024 * 1024;

/// The routes anyone may reach without signing in: liveness, assets, the service worker,
/// signing in and out, the language switch, the public site (`/public…`), and the front door (which sends a stranger to the
/// sign-in page). Every other path needs a session, checked by the request-context middleware
/// before any handler (or body extractor) runs, so a new route cannot forget it.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/healthz" | "/login" | "/logout" | "/sw.js" | "/api/session" | "/public")
        || path.starts_with("/assets/")
        || path.starts_with("/lang/")
        || path.starts_with("/public/")
}

/// The console's routes.
pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(usize::try_from(state.policy.evidence.max_bytes).unwrap_or(usize::MAX).saturating_add(UPLOAD_HEADROOM));
    let photo_limit = DefaultBodyLimit::max(usize::try_from(state.policy.inspection.photo_max_bytes).unwrap_or(usize::MAX).saturating_add(UPLOAD_HEADROOM));
    let table_limit = DefaultBodyLimit::max(directory::MAX_FILE_BYTES.saturating_add(UPLOAD_HEADROOM));
    let shared = Arc::new(Shared { app: state, views: views::environment() });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/assets/app.css", get(css))
        // JSON API
        .route("/api/session", post(session::api_login).delete(session::api_logout))
        .route("/api/me", get(session::api_me))
        .route("/api/me/sessions/end", post(accounts::api_end_mine))
        .route("/api/users/{id}/sessions/end", post(accounts::api_end_theirs))
        .route("/api/facilities", get(matters::api::facilities))
        .route("/api/matters", get(matters::api::list).post(matters::api::issue))
        .route("/api/matters/{id}", get(matters::api::show))
        .route("/api/matters/{id}/actions", post(matters::api::act))
        .route("/api/matters/{id}/evidence", post(matters::api::upload).layer(upload_limit))
        .route("/api/matters/{id}/evidence/{sha256}", get(matters::api::evidence_file))
        .route("/api/board", get(matters::api::board))
        .route("/api/calendar", get(calendar::api_show).post(calendar::api_load))
        .route("/api/campaigns", get(campaigns::api::api_list).post(campaigns::api::api_plan))
        .route("/api/campaign-plans", get(campaigns::api::api_list_recurring).post(campaigns::api::api_plan_recurring))
        .route("/api/campaign-plans/runs", get(campaigns::api::api_next_runs))
        .route("/api/campaign-plans/{id}", axum::routing::delete(campaigns::api::api_stop_recurring))
        .route("/api/campaigns/{id}", get(campaigns::api::api_show))
        .route("/api/campaigns/{id}/bundle", get(campaigns::api::api_bundle))
        .route("/api/campaigns/{id}/draw", post(campaigns::api::api_draw))
        .route("/api/campaigns/{id}/reassign", post(campaigns::api::api_reassign))
        .route("/api/campaigns/{id}/supersede", post(campaigns::api::api_supersede))
        .route("/api/campaigns/{id}/assign", post(campaigns::api::api_assign))
        .route("/api/campaigns/{id}/publish", post(campaigns::api::api_publish))
        .route("/api/directory/snapshots", get(directory::api_snapshots))
        .route("/api/directory/snapshots/{kind}/{sha256}", get(directory::api_snapshot))
        .route("/api/directory/{kind}", get(directory::api_rows))
        .route("/api/directory/{kind}/import", post(directory::api_import).layer(table_limit))
        .route("/api/health", get(health::api_show))
        .route("/api/health/repair", post(health::api_repair))
        .route("/api/inspections", get(inspections::api::list).post(inspections::api::assign))
        .route("/api/inspections/{id}", get(inspections::api::show))
        .route("/api/inspections/{id}/start", post(inspections::api::start))
        .route("/api/inspections/{id}/draft", axum::routing::put(inspections::api::save_draft))
        .route("/api/inspections/{id}/photos", post(inspections::api::upload_photo).layer(photo_limit))
        .route("/api/inspections/{id}/photos/{sha256}", get(inspections::api::photo))
        .route("/api/inspections/{id}/submit", post(inspections::api::submit))
        .route("/inspections/{id}/notices/{idx}/{format}", get(inspections::api::notice_document))
        .route("/matters/{id}/notice/{format}", get(notice_document::matter_notice))
        // Pages
        .route("/", get(session::home))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang/{code}", get(session::switch_language))
        // ── The public site (一公开): no sign-in ──
        .route("/public", get(public::index))
        .route("/public/feed.json", get(public::feed_json))
        .route("/public/feed.atom", get(public::feed_atom))
        .route("/public/campaigns/{id}", get(public::campaign_page))
        .route("/public/campaigns/{id}/commitment.json", get(public::commitment))
        .route("/public/campaigns/{id}/bundle.json", get(public::bundle))
        .route("/public/facilities/{id}", get(public::facility_page))
        .route("/board", get(matters::pages::board))
        .route("/notices", get(matters::pages::notices))
        .route("/rechecks", get(matters::pages::rechecks))
        .route("/admin/calendar", get(calendar::show).post(calendar::submit))
        .route("/campaigns", get(campaigns::pages::list).post(campaigns::pages::submit))
        .route("/campaigns/plans/{id}/stop", post(campaigns::pages::stop_plan))
        .route("/campaigns/{id}", get(campaigns::pages::show))
        .route("/campaigns/{id}/draw", post(campaigns::pages::draw))
        .route("/campaigns/{id}/reassign", post(campaigns::pages::reassign))
        .route("/campaigns/{id}/supersede", post(campaigns::pages::supersede))
        .route("/campaigns/{id}/assign", post(campaigns::pages::assign))
        .route("/campaigns/{id}/publish", post(campaigns::pages::publish))
        .route("/directory", get(directory::show))
        .route("/directory/import", post(directory::submit).layer(table_limit))
        .route("/directory/{kind}/row", post(directory::save_row))
        .route("/directory/{kind}/remove", post(directory::remove_row))
        .route("/directory/{kind}/export/{format}", get(directory::export))
        .route("/admin/health", get(health::show))
        .route("/admin/health/repair", post(health::repair_form))
        .route("/account", get(accounts::account_page))
        .route("/account/sessions/end", post(accounts::end_mine))
        .route("/admin/users", get(accounts::users_page))
        .route("/admin/users/{id}/sessions/end", post(accounts::end_theirs))
        .route("/matters/new", get(matters::pages::new_matter).post(matters::pages::issue))
        .route("/matters/{id}", get(matters::pages::matter))
        .route("/matters/{id}/act", post(matters::pages::act))
        .route("/matters/{id}/evidence", post(matters::pages::submit_evidence).layer(upload_limit))
        // ── Inspection pages: the list, the tablet checklist, its offline worker and assets ──
        .route("/inspections", get(inspections::pages::list))
        .route("/inspections/new", get(inspections::pages::new_form).post(inspections::pages::assign))
        .route("/inspections/{id}/fill", get(inspections::pages::fill))
        .route("/sw.js", get(inspections::pages::service_worker))
        .route("/assets/checklist.js", get(inspections::pages::checklist_js))
        .route("/assets/checklist-rules.js", get(inspections::pages::checklist_rules_js))
        .route("/assets/checklist.css", get(inspections::pages::checklist_css))
        .route("/assets/logout.js", get(inspections::pages::logout_js))
        // ── end of the inspection pages ──
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), middleware::context))
        .with_state(shared)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Any other path.
async fn not_found() -> Error {
    Error::NotFound
}

async fn css() -> axum::response::Response {
    asset("text/css; charset=utf-8", "public, max-age=3600", CSS)
}

/// An embedded file with its type and caching.
pub(crate) fn asset(content_type: &'static str, cache: &'static str, body: &'static str) -> axum::response::Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CACHE_CONTROL, HeaderValue::from_static(cache))], body).into_response()
}

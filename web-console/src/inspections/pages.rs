//! The inspector's pages for on-site inspections: the list of inspections, the tablet checklist
//! page, and the service worker and assets that let the checklist work without a network.
//!
//! The checklist page is a shell: `assets/checklist.js` reads the inspection, its template and the
//! server's draft from the JSON API (`/api/inspections/{id}`, in `api.rs`), keeps every
//! answer in the tablet's IndexedDB as it is given, and syncs when it can. The shell itself holds
//! nothing about the inspection but its id, so the API alone decides who may see it.

use crate::Shared;
use crate::context::Ctx;
use crate::error::Error;
use crate::http::Visible;
use crate::i18n::{own_keys, t};
use crate::views::render;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use qingling_activities::store::InspectionRow;
use qingling_rules::messages::Locale;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

type S = State<Arc<Shared>>;

const CHECKLIST_JS: &str = include_str!("../../assets/checklist.js");
const CHECKLIST_RULES_JS: &str = include_str!("../../assets/checklist-rules.js");
const CHECKLIST_CSS: &str = include_str!("../../assets/checklist.css");
const SERVICE_WORKER: &str = include_str!("../../assets/sw.js");
const LOGOUT_JS: &str = include_str!("../../assets/logout.js");

/// The catalogue prefix of every text the checklist script shows.
const MESSAGE_PREFIX: &str = "web.checklist.";

/// One inspection in the list, display-ready.
#[derive(Debug, Clone, Serialize)]
pub struct ListItem {
    pub id: String,
    /// The facility's name.
    pub facility: String,
    /// The template's title in the reader's language.
    pub template_title: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `assigned | in_progress | submitted | completed`.
    pub status: String,
}

/// The list page for a set of inspections.
pub fn list_page(shared: &Shared, ctx: &Ctx, items: &[ListItem]) -> Result<Response, Error> {
    let can_assign = ctx.session.as_ref().is_some_and(|s| s.is_oversight());
    let done = ctx.path.contains("done=assigned");
    Ok(render(shared, ctx, "inspections.html", context! { items => items, can_assign => can_assign, done => done })?.into_response())
}

/// `GET /inspections`: the inspections the signed-in person may see (an inspector: those
/// assigned to them), the latest day first.
#[tracing::instrument(skip_all)]
pub async fn list(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let rows = shared.app.store.inspections_for(&who.user).await?;
    let facilities = crate::http::facility_names(&shared, &who).await?;
    let items: Vec<ListItem> = rows
        .into_iter()
        .map(|i| {
            // The row keeps the Chinese title; the pinned template has both.
            let title = match ctx.locale {
                Locale::En => u32::try_from(i.template_version).ok().and_then(|v| shared.app.checklists.get(&i.template_id, v)).map(|t| t.title.en.clone()),
                Locale::ZhCn => None,
            };
            ListItem {
                facility: facilities.get(&i.facility_id).cloned().unwrap_or_else(|| format!("#{}", i.facility_id)),
                template_title: title.unwrap_or(i.title),
                id: i.id,
                date: i.date,
                status: i.status,
            }
        })
        .collect();
    list_page(&shared, &ctx, &items)
}

/// The `web.checklist.*` texts of a locale as a JSON object keyed without the prefix, for the
/// script. Built once per locale: the catalogue is compiled in.
fn messages_json(locale: Locale) -> &'static str {
    static ZH: OnceLock<String> = OnceLock::new();
    static EN: OnceLock<String> = OnceLock::new();
    let cell = match locale {
        Locale::ZhCn => &ZH,
        Locale::En => &EN,
    };
    cell.get_or_init(|| {
        let map: BTreeMap<&str, String> =
            own_keys(locale).into_iter().filter_map(|k| k.strip_prefix(MESSAGE_PREFIX).map(|short| (short, t(locale, k, &[])))).collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
    })
}

/// `GET /inspections/{id}/fill`: the tablet checklist page.
#[tracing::instrument(skip_all, fields(inspection_id = %row.inspection.id))]
pub async fn fill(State(shared): S, ctx: Ctx, Visible(row): Visible<InspectionRow>) -> Result<Response, Error> {
    let who = ctx.signed()?;
    // The page shows nothing by itself, but an inspection the caller may not see is not found
    // here either, as everywhere (the extractor).
    let id = row.inspection.id.clone();
    let me = serde_json::json!({ "id": who.user.id, "username": who.user.username, "name": who.user.display_name });
    let page = context! {
        inspection_id => id,
        lang => ctx.locale.code(),
        me_json => me.to_string(),
        messages_json => messages_json(ctx.locale),
    };
    let mut r = render(&shared, &ctx, "inspection_fill.html", page)?.into_response();
    // The service worker keeps its own copy for offline use; the HTTP cache must not serve a
    // page with another session's token.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(r)
}

fn script(body: &'static str, cache: &'static str) -> Response {
    crate::asset("application/javascript; charset=utf-8", cache, body)
}

/// `GET /sw.js`: the service worker. Served from the root so that it may control
/// `/inspections/…` (it registers itself for that scope only); `no-cache` so a new release is
/// picked up on the next visit.
pub async fn service_worker() -> Response {
    let mut r = script(SERVICE_WORKER, "no-cache");
    r.headers_mut().insert("service-worker-allowed", HeaderValue::from_static("/"));
    r
}

/// `GET /assets/checklist.js`
pub async fn checklist_js() -> Response {
    script(CHECKLIST_JS, "public, max-age=3600")
}

/// `GET /assets/checklist-rules.js`: the checklist's rules on the device (which items show, what
/// fails, what a failure needs), loaded before checklist.js.
pub async fn checklist_rules_js() -> Response {
    script(CHECKLIST_RULES_JS, "public, max-age=3600")
}

/// `GET /assets/logout.js`: tidies the tablet's offline data when someone signs out.
pub async fn logout_js() -> Response {
    script(LOGOUT_JS, "public, max-age=3600")
}

/// `GET /assets/checklist.css`
pub async fn checklist_css() -> Response {
    crate::asset("text/css; charset=utf-8", "public, max-age=3600", CHECKLIST_CSS)
}

// ---- assigning an inspection (oversight) ----

/// The assign form's fields, as the browser posts them: `inspector` repeats, once per box ticked.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn assign_page(shared: &Shared, ctx: &Ctx, who: &crate::context::Signed, fields: &[(String, String)], error: Option<&Error>) -> Result<Response, Error> {
    let store = &shared.app.store;
    let facilities = store.facilities_for(&who.user).await?;
    let mut regions: Vec<i64> = facilities.iter().map(|f| f.region_id).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut inspectors = vec![];
    for r in regions {
        for u in store.inspectors_in(r).await? {
            inspectors.push(context! { id => u.id.to_string(), name => u.display_name, certificate => u.certificate });
        }
    }
    let zh = ctx.locale == Locale::ZhCn;
    let mut templates: Vec<_> = shared.app.checklists.iter().collect();
    templates.sort_by(|a, b| a.id.cmp(&b.id).then(b.version.cmp(&a.version)));
    templates.dedup_by(|a, b| a.id == b.id);
    let templates: Vec<_> = templates
        .iter()
        .map(|t| context! { key => t.id.clone(), title => if zh { t.title.zh.clone() } else { t.title.en.clone() }, version => t.version, basis => t.basis.clone(), items => t.item_count() })
        .collect();
    let chosen: Vec<&str> = fields.iter().filter(|(k, _)| k == "inspector").map(|(_, v)| v.as_str()).collect();
    let today = shared.app.policy.calendar.local_date(crate::context::now_ms()).to_string();
    let page = context! {
        facilities => facilities.iter().map(|f| context! { id => f.id.to_string(), name => f.name.clone() }).collect::<Vec<_>>(),
        templates => templates,
        inspectors => inspectors,
        need => shared.app.policy.inspection.min_inspectors,
        values => context! {
            facility_id => field(fields, "facility_id").unwrap_or_default(),
            template => field(fields, "template").unwrap_or_default(),
            date => field(fields, "date").map(str::to_string).unwrap_or(today),
            inspectors => chosen,
        },
        error => error.map(|e| e.message(ctx.locale)),
    };
    let status = if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    Ok((status, render(shared, ctx, "inspection_new.html", page)?).into_response())
}

/// `GET /inspections/new`
pub async fn new_form(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    assign_page(&shared, &ctx, &who, &[], None).await
}

/// `POST /inspections/new`
#[tracing::instrument(skip_all, fields(inspection_id))]
pub async fn assign(State(shared): S, ctx: Ctx, axum::Form(fields): axum::Form<Vec<(String, String)>>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf").unwrap_or_default())?;
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let facility_id = field(&fields, "facility_id").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let inspectors = fields.iter().filter(|(k, _)| k == "inspector").filter_map(|(_, v)| v.parse().ok()).collect();
    let input = super::api::AssignInput {
        facility_id,
        template: field(&fields, "template").unwrap_or_default().to_string(),
        version: None,
        inspectors,
        date: field(&fields, "date").map(str::to_string),
    };
    match super::api::assign_inspection(&shared, &who, input).await {
        Ok(_) => Ok(axum::response::Redirect::to("/inspections?done=assigned").into_response()),
        Err(e @ (Error::Refused(_) | Error::Unavailable(_))) => assign_page(&shared, &ctx, &who, &fields, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Signed;
    use crate::views::{environment, render_with};
    use qingling_activities::db::entities::user;
    use qingling_rules::matter::Role;

    fn inspector(locale: Locale) -> Ctx {
        let user = user::Model {
            id: 4,
            username: "inspector1".into(),
            display_name: "李检查".into(),
            email: "inspector1@example.test".into(),
            role: "inspector".into(),
            region_id: Some(3),
            facility_id: None,
            password_hash: String::new(),
            locale: locale.code().into(),
            created_at_ms: 0,
            certificate: None,
        };
        let signed = Signed { user, role: Role::Inspector, csrf: "csrf-<token>".into(), token: "t".into() };
        Ctx {
            locale,
            session: Some(Arc::new(signed)),
            path: "/inspections/i-1/fill".into(),
            calendar_missing: None,
            stuck_count: None,
            engine_down: false,
            client: None,
        }
    }

    /// Attribute values as the browser reads them.
    fn unescape(html: &str) -> String {
        html.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#x2f;", "/").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    }

    fn attribute(html: &str, name: &str) -> String {
        let start = html.find(&format!("{name}=\"")).map(|i| i + name.len() + 2).unwrap_or_else(|| panic!("no {name} in the page"));
        let end = html[start..].find('"').map(|i| start + i).unwrap_or(start);
        unescape(&html[start..end])
    }

    #[test]
    fn the_fill_page_carries_what_the_script_needs_in_both_languages() {
        let env = environment();
        for locale in Locale::ALL {
            let page = context! { inspection_id => "i-1", lang => locale.code(), me_json => r#"{"id":4,"username":"inspector1","name":"李检查"}"#, messages_json => messages_json(locale) };
            let html = render_with(&env, &inspector(locale), "inspection_fill.html", page).unwrap_or_else(|e| panic!("{locale:?}: {e}")).0;
            assert_eq!(attribute(&html, "data-inspection-id"), "i-1");
            assert_eq!(attribute(&html, "data-csrf"), "csrf-<token>", "the token survives escaping");
            let messages: serde_json::Value =
                serde_json::from_str(&attribute(&html, "data-messages")).unwrap_or_else(|e| panic!("{locale:?}: messages are JSON: {e}"));
            assert_eq!(messages["yes"], if locale == Locale::En { "Yes" } else { "是" });
            let me: serde_json::Value = serde_json::from_str(&attribute(&html, "data-me")).unwrap_or_default();
            assert_eq!(me["username"], "inspector1");
            assert!(html.contains("/assets/checklist.js") && html.contains("/assets/checklist.css"), "{html}");
        }
    }

    #[test]
    fn the_list_page_links_each_inspection_to_its_checklist() {
        let env = environment();
        let items = [ListItem {
            id: "i-1".into(),
            facility: "朝阳区第一社会福利院".into(),
            template_title: "养老机构服务安全检查表".into(),
            date: "2026-11-18".into(),
            status: "in_progress".into(),
        }];
        for locale in Locale::ALL {
            let html = render_with(&env, &inspector(locale), "inspections.html", context! { items => items }).unwrap_or_else(|e| panic!("{locale:?}: {e}")).0;
            assert!(unescape(&html).contains("href=\"/inspections/i-1/fill\""), "{html}");
            assert!(html.contains(&t(locale, "web.checklist.status_in_progress", &[])));
            let empty =
                render_with(&env, &inspector(locale), "inspections.html", context! { items => Vec::<ListItem>::new() }).unwrap_or_else(|e| panic!("{e}")).0;
            assert!(empty.contains(&t(locale, "web.checklist.list_empty", &[])));
        }
    }

    #[test]
    fn every_text_the_script_asks_for_is_in_both_catalogues() {
        // The script looks texts up as `msg('key'` (see `msg` in checklist.js).
        let mut asked = 0;
        for piece in CHECKLIST_JS.split("msg('").skip(1) {
            let Some((key, _)) = piece.split_once('\'') else { continue };
            asked += 1;
            for locale in Locale::ALL {
                assert!(crate::i18n::lookup(locale, &format!("{MESSAGE_PREFIX}{key}")).is_some(), "checklist.js asks for {key}, missing in {locale:?}");
            }
        }
        assert!(asked > 30, "the script's texts were found ({asked})");
    }

    #[test]
    fn the_service_worker_may_control_the_inspection_pages_from_the_root() {
        let r = block_on(service_worker());
        assert_eq!(r.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/javascript; charset=utf-8"));
        assert_eq!(r.headers().get("service-worker-allowed").and_then(|v| v.to_str().ok()), Some("/"));
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|e| panic!("runtime: {e}"))
    }
}

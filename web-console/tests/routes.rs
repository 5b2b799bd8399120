//! Every route of the console is guarded, and a new one cannot be added without saying how.
//!
//! The route table is read from `src/lib.rs` (the one place routes are declared). Each route
//! must be listed below with its guard; an unlisted route fails the test. Then, against a real
//! database with demo data:
//! - without a session, every guarded route refuses (401 for the API; the sign-in page for a
//!   page; 403 for a write without the CSRF token), and nothing answers 2xx;
//! - a signed-in user of another district or facility asks for a matter or inspection that is
//!   not theirs (or a campaign of another district): every method of every route that names it
//!   answers 404, never 2xx, 403 or 422, so nobody learns that it exists;
//! - the administrators' routes refuse everyone else, and the directories' routes everyone but
//!   administrators and supervisors.

mod common;

use axum::http::StatusCode;
use common::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Guard {
    /// Open to everyone: sign-in, assets, the language switch, liveness.
    Public,
    /// Any signed-in person; what they see is scoped inside.
    Signed,
    /// Names a matter (`{id}`): outside the caller's scope it is a 404.
    Matter,
    /// Names an inspection (`{id}`): outside the caller's scope it is a 404.
    Inspection,
    /// Administrators (or oversight) only.
    Admin,
    /// Those who maintain the directories: administrators and supervisors.
    Maintainer,
    /// Names a campaign (`{id}`): administrators and supervisors, and outside the caller's
    /// region it is a 404.
    Campaign,
}

/// How each route is guarded. A route added to `src/lib.rs` without a line here fails
/// [`every_route_declares_its_guard`].
const GUARDS: &[(&str, Guard)] = &[
    ("/healthz", Guard::Public),
    ("/assets/app.css", Guard::Public),
    ("/api/session", Guard::Public),
    ("/api/me", Guard::Signed),
    ("/api/me/sessions/end", Guard::Signed),
    ("/api/users/{id}/sessions/end", Guard::Admin),
    ("/api/facilities", Guard::Signed),
    ("/api/matters", Guard::Signed),
    ("/api/matters/{id}", Guard::Matter),
    ("/api/matters/{id}/actions", Guard::Matter),
    ("/api/matters/{id}/evidence", Guard::Matter),
    ("/api/matters/{id}/evidence/{sha256}", Guard::Matter),
    ("/api/board", Guard::Signed),
    ("/api/calendar", Guard::Signed),
    ("/api/campaigns", Guard::Maintainer),
    ("/api/campaign-plans", Guard::Maintainer),
    ("/api/campaign-plans/runs", Guard::Maintainer),
    ("/api/campaign-plans/{id}", Guard::Maintainer),
    ("/api/campaigns/{id}", Guard::Campaign),
    ("/api/campaigns/{id}/bundle", Guard::Campaign),
    ("/api/campaigns/{id}/draw", Guard::Campaign),
    ("/api/campaigns/{id}/reassign", Guard::Campaign),
    ("/api/campaigns/{id}/supersede", Guard::Campaign),
    ("/api/campaigns/{id}/assign", Guard::Campaign),
    ("/api/campaigns/{id}/publish", Guard::Campaign),
    ("/api/directory/snapshots", Guard::Maintainer),
    ("/api/directory/snapshots/{kind}/{sha256}", Guard::Maintainer),
    ("/api/directory/{kind}", Guard::Maintainer),
    ("/api/directory/{kind}/import", Guard::Maintainer),
    ("/campaigns", Guard::Maintainer),
    ("/campaigns/plans/{id}/stop", Guard::Maintainer),
    ("/campaigns/{id}", Guard::Campaign),
    ("/campaigns/{id}/draw", Guard::Campaign),
    ("/campaigns/{id}/reassign", Guard::Campaign),
    ("/campaigns/{id}/supersede", Guard::Campaign),
    ("/campaigns/{id}/assign", Guard::Campaign),
    ("/campaigns/{id}/publish", Guard::Campaign),
    ("/directory", Guard::Maintainer),
    ("/directory/import", Guard::Maintainer),
    ("/directory/{kind}/row", Guard::Maintainer),
    ("/directory/{kind}/remove", Guard::Maintainer),
    ("/directory/{kind}/export/{format}", Guard::Maintainer),
    ("/api/health", Guard::Admin),
    ("/api/health/repair", Guard::Admin),
    ("/api/inspections", Guard::Signed),
    ("/api/inspections/{id}", Guard::Inspection),
    ("/api/inspections/{id}/start", Guard::Inspection),
    ("/api/inspections/{id}/draft", Guard::Inspection),
    ("/api/inspections/{id}/photos", Guard::Inspection),
    ("/api/inspections/{id}/photos/{sha256}", Guard::Inspection),
    ("/api/inspections/{id}/submit", Guard::Inspection),
    ("/inspections/{id}/notices/{idx}/{format}", Guard::Inspection),
    ("/matters/{id}/notice/{format}", Guard::Matter),
    ("/", Guard::Public),
    ("/login", Guard::Public),
    ("/logout", Guard::Public),
    ("/lang/{code}", Guard::Public),
    ("/public", Guard::Public),
    ("/public/feed.json", Guard::Public),
    ("/public/feed.atom", Guard::Public),
    ("/public/campaigns/{id}", Guard::Public),
    ("/public/campaigns/{id}/commitment.json", Guard::Public),
    ("/public/campaigns/{id}/bundle.json", Guard::Public),
    ("/public/facilities/{id}", Guard::Public),
    ("/board", Guard::Signed),
    ("/notices", Guard::Signed),
    ("/rechecks", Guard::Signed),
    ("/admin/calendar", Guard::Admin),
    ("/admin/health", Guard::Admin),
    ("/admin/health/repair", Guard::Admin),
    ("/account", Guard::Signed),
    ("/account/sessions/end", Guard::Signed),
    ("/admin/users", Guard::Admin),
    ("/admin/users/{id}/sessions/end", Guard::Admin),
    ("/matters/new", Guard::Signed),
    ("/matters/{id}", Guard::Matter),
    ("/matters/{id}/act", Guard::Matter),
    ("/matters/{id}/evidence", Guard::Matter),
    ("/inspections", Guard::Signed),
    ("/inspections/new", Guard::Signed),
    ("/inspections/{id}/fill", Guard::Inspection),
    ("/sw.js", Guard::Public),
    ("/assets/checklist.js", Guard::Public),
    ("/assets/checklist-rules.js", Guard::Public),
    ("/assets/checklist.css", Guard::Public),
    ("/assets/logout.js", Guard::Public),
];

/// `(path, methods)` of every `.route(..)` in `src/lib.rs`.
fn declared_routes() -> Vec<(String, Vec<&'static str>)> {
    let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("src/lib.rs");
    let mut out = vec![];
    for line in source.lines() {
        let Some(at) = line.find(".route(\"") else { continue };
        let rest = &line[at + ".route(\"".len()..];
        let Some(end) = rest.find('"') else { continue };
        let (path, handlers) = (&rest[..end], &rest[end..]);
        let methods: Vec<&'static str> = [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("delete(", "DELETE"), ("patch(", "PATCH")]
            .into_iter()
            .filter(|(call, _)| handlers.match_indices(call).any(|(i, _)| i == 0 || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric()))
            .map(|(_, m)| m)
            .collect();
        assert!(!methods.is_empty(), "no method found for route {path}: {line}");
        out.push((path.to_string(), methods));
    }
    out
}

fn guard_of(path: &str) -> Option<Guard> {
    GUARDS.iter().find(|(p, _)| *p == path).map(|(_, g)| *g)
}

#[test]
fn every_route_declares_its_guard() {
    let routes = declared_routes();
    assert!(routes.len() >= 40, "the route table was read ({} routes)", routes.len());
    let missing: Vec<&str> = routes.iter().map(|(p, _)| p.as_str()).filter(|p| guard_of(p).is_none()).collect();
    assert!(missing.is_empty(), "routes without a declared guard (add them to GUARDS in web-console/tests/routes.rs, and check their scope): {missing:?}");
    let gone: Vec<&str> = GUARDS.iter().map(|(p, _)| *p).filter(|p| !routes.iter().any(|(r, _)| r == p)).collect();
    assert!(gone.is_empty(), "GUARDS lists routes that no longer exist: {gone:?}");
}

/// The concrete URI of a route, with `{id}` filled in.
fn uri(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{sha256}", &"a".repeat(64))
        .replace("{idx}", "1")
        .replace("{format}", "html")
        .replace("{code}", "en")
        .replace("{kind}", "targets")
}

#[tokio::test]
async fn without_a_session_every_guarded_route_refuses() {
    let app = app("routes-anon").await;
    let matter = stored_matter(&app.store).await;
    for (path, methods) in declared_routes() {
        let guard = guard_of(&path).expect("declared (see every_route_declares_its_guard)");
        if guard == Guard::Public {
            continue;
        }
        for method in methods {
            let r = app.send(request(method, &uri(&path, &matter), None)).await;
            let to_login = r.status == StatusCode::SEE_OTHER && r.headers.get("location").is_some_and(|l| l.to_str().unwrap_or_default().starts_with("/login"));
            let refused = matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) || to_login;
            assert!(refused, "{method} {path} without a session answered {}: {}", r.status, r.text());
        }
    }
}

#[test]
fn the_public_routes_are_the_ones_the_middleware_lets_through() {
    for (path, _) in declared_routes() {
        let public = guard_of(&path) == Some(Guard::Public);
        assert_eq!(qingling_web::is_public(&uri(&path, "x")), public, "{path}");
    }
}

#[tokio::test]
async fn a_case_outside_the_callers_scope_is_not_found_on_every_route_that_names_it() {
    let app = app("routes-scope").await;
    let matter = stored_matter(&app.store).await;
    let inspection = stored_inspection(&app.store).await;
    let campaign = stored_campaign(&app.store).await;
    let nobody = uuid::Uuid::new_v4().to_string();
    // Haidian's supervisor and a facility of Haidian; the matter and inspection are Chaoyang's.
    for user in ["haidian", "facility3"] {
        let (cookie, csrf) = app.login(user).await;
        for (path, methods) in declared_routes() {
            let id = match guard_of(&path) {
                Some(Guard::Matter) => &matter,
                Some(Guard::Inspection) => &inspection,
                // A facility may not touch campaigns at all (403 for any id); another district's
                // supervisor finds none.
                Some(Guard::Campaign) if user == "haidian" => &campaign,
                _ => continue,
            };
            for method in methods {
                // With a body of the route's own kind, the answer is "not found"; with any body, it
                // is exactly what a case that does not exist gets, so nothing tells the two apart.
                let form = method != "GET" && !path.starts_with("/api/");
                let r = app.send(request_with(method, &uri(&path, id), (&cookie, &csrf), form)).await;
                let absent = app.send(request_with(method, &uri(&path, &nobody), (&cookie, &csrf), form)).await;
                assert!(!r.status.is_success(), "{user}: {method} {path} of another district answered {}", r.status);
                assert_eq!(r.status, absent.status, "{user}: {method} {path}: another district's case and no case must look the same ({})", r.text());
                let bad_body = app.send(request(method, &uri(&path, id), Some((&cookie, &csrf)))).await;
                let bad_absent = app.send(request(method, &uri(&path, &nobody), Some((&cookie, &csrf)))).await;
                assert_eq!(bad_body.status, bad_absent.status, "{user}: {method} {path} with a malformed body");
                if method == "GET" || !matches!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY) {
                    assert_eq!(r.status, StatusCode::NOT_FOUND, "{user}: {method} {path} of another district answered {}: {}", r.status, r.text());
                }
            }
        }
    }
    // The same routes answer (not 404) for those whose case it is, so the 404 above is the scope.
    let (cookie, _) = app.login("supervisor").await;
    for path in ["/api/matters/{id}", "/matters/{id}"] {
        let r = app.send(get(&uri(path, &matter), Some(&cookie))).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    }
    let r = app.send(get(&uri("/api/inspections/{id}", &inspection), Some(&cookie))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.send(get(&uri("/api/campaigns/{id}", &campaign), Some(&cookie))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn the_administrators_routes_refuse_everyone_else() {
    let app = app("routes-admin").await;
    for (user, refused) in [
        ("supervisor", &[Guard::Admin][..]),
        ("inspector1", &[Guard::Admin, Guard::Maintainer, Guard::Campaign]),
        ("facility1", &[Guard::Admin, Guard::Maintainer, Guard::Campaign]),
    ] {
        let (cookie, csrf) = app.login(user).await;
        for (path, methods) in declared_routes() {
            if !guard_of(&path).is_some_and(|g| refused.contains(&g)) {
                continue;
            }
            for method in methods {
                let form = method != "GET" && !path.starts_with("/api/");
                let r = app.send(request_with(method, &uri(&path, "1"), (&cookie, &csrf), form)).await;
                assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{user}: {method} {path} answered {}: {}", r.status, r.text());
            }
        }
    }
}

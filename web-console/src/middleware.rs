//! The request middleware: resolves the session cookie and the locale once per request, refuses
//! a stranger on every route that is not public ([`crate::is_public`]) before any handler or
//! body extractor runs, enforces the CSRF header on the JSON API, answers a control character in
//! the path with 404, and renders the errors handlers return (JSON under `/api/`, a page
//! elsewhere), axum's own plain-text refusals and a panicking handler included.

use crate::Shared;
use crate::context::{CSRF_HEADER, Ctx, SESSION_COOKIE, Signed, api_needs_csrf, cookie, csrf_matches, now_ms};
use crate::error::{Carried, Error};
use crate::i18n::{LANG_COOKIE, negotiate};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use futures::FutureExt;
use qingling_rules::matter::Role;
use std::sync::Arc;

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The pages' content security policy: scripts, styles and everything else from this origin only
/// (the templates have no inline script or style), images also from `blob:`/`data:` (the
/// tablet's photo previews), never framed.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; \
                        object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A stored notice document: its own inline styles and embedded images, nothing else.
pub static DOCUMENT_CSP: std::sync::LazyLock<HeaderValue> =
    std::sync::LazyLock::new(|| HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"));

/// The headers every response carries; a response that set its own CSP (a notice document)
/// keeps it. Signed-in responses are never stored by a cache.
fn security_headers(response: &mut Response, signed_in: bool) {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"));
    // A download that chose its own caching (private evidence files) keeps it.
    if signed_in && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The middleware: resolve, run, render errors, add the security headers.
pub async fn context(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let assets = req.uri().path().starts_with("/assets/") || req.uri().path() == "/healthz" || req.uri().path() == "/sw.js";
    let mut response = resolve(shared, req, next).await;
    // Assets keep their own caching; everything a signed-in person is shown is not stored.
    let signed_in = !assets && response.extensions().get::<SignedIn>().is_some();
    security_headers(&mut response, signed_in);
    response
}

/// Marks a response given to a signed-in person.
#[derive(Clone, Copy)]
struct SignedIn;

async fn resolve(shared: Arc<Shared>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/assets/") || path == "/healthz" {
        return next.run(req).await;
    }
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
    let headers = req.headers();
    let lang_cookie = cookie(headers, LANG_COOKIE).map(str::to_string);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let token = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()).map(str::to_string);
    let client = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());

    let session = match token {
        Some(token) => match shared.app.store.session(&token, now_ms()).await {
            Ok(Some((user, csrf))) => Role::parse(&user.role).map(|role| Arc::new(Signed { user, role, csrf, token })),
            Ok(None) => None,
            Err(e) => {
                let locale = negotiate(lang_cookie.as_deref(), None, accept.as_deref());
                let ctx = Ctx { locale, session: None, path: path_and_query, calendar_missing: None, stuck_count: None, engine_down: false, client };
                return render_error(&shared, &ctx, is_api(&path), Error::from(e));
            }
        },
        None => None,
    };
    let locale = negotiate(lang_cookie.as_deref(), session.as_ref().map(|s| s.user.locale.as_str()), accept.as_deref());
    // Administrators are told on every page while next year's schedule is missing.
    let calendar_missing = match session.as_ref().filter(|s| s.role == Role::Admin && !is_api(&path)) {
        Some(_) => match shared.app.store.policy_in_force(&shared.app.policy).await {
            Ok(p) => p.calendar.schedule_missing(p.calendar.local_date(now_ms())),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the loaded working-day schedules");
                None
            }
        },
        None => None,
    };
    let stuck_count = match session.as_ref().filter(|s| s.role == Role::Admin && !is_api(&path)) {
        Some(_) => match shared.app.store.stuck_count().await {
            Ok(n) => Some(n).filter(|n| *n > 0),
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the held workflows");
                None
            }
        },
        None => None,
    };
    let engine_down = session.is_some() && !is_api(&path) && !shared.app.temporal.reachable();
    let ctx = Ctx { locale, session, path: path_and_query, calendar_missing, stuck_count, engine_down, client };

    if is_api(&path) && api_needs_csrf(req.method(), &path) {
        let verdict = match &ctx.session {
            None => Err(Error::Unauthenticated),
            Some(s) => {
                let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if csrf_matches(&s.csrf, sent) { Ok(()) } else { Err(Error::Csrf) }
            }
        };
        if let Err(e) = verdict {
            return render_error(&shared, &ctx, true, e);
        }
    }

    // A control character in the path (`%00`, `%0A` …) names nothing; PostgreSQL would refuse the
    // NUL in a query (where SQLite just finds no row), so it never reaches one.
    if path_has_control_chars(req.uri().path()) {
        return render_error(&shared, &ctx, is_api(&path), Error::NotFound);
    }
    // No session: only the public routes answer (see `crate::is_public`).
    if ctx.session.is_none() && !crate::is_public(&path) {
        return render_error(&shared, &ctx, is_api(&path), Error::Unauthenticated);
    }
    req.extensions_mut().insert(ctx.clone());
    // A panicking handler answers like any other failure, instead of dropping the connection.
    let mut response = match std::panic::AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(path = %path, "a request handler panicked");
            return render_error(&shared, &ctx, is_api(&path), Error::Internal("a request handler panicked".into()));
        }
    };
    let response = match response.extensions_mut().remove::<Carried>() {
        Some(Carried(error)) => render_error(&shared, &ctx, is_api(&path), (*error).clone()),
        None => match foreign_error(&shared, &path, response).await {
            Ok(response) => response,
            Err(error) => render_error(&shared, &ctx, is_api(&path), error),
        },
    };
    let mut response = response;
    if ctx.session.is_some() {
        response.extensions_mut().insert(SignedIn);
    }
    response
}

/// Whether the percent-decoded path holds a control character.
fn path_has_control_chars(path: &str) -> bool {
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        let b = match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    (h * 16 + l) as u8
                }
                _ => b'%',
            },
            b => b,
        };
        if b < 0x20 || b == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}

/// A refusal made by axum itself (a body over the limit, a form with the wrong content type, a
/// method the route lacks, an unparsable path or query) comes as plain English text; it becomes
/// the console's own error, so clients get the API's JSON and people the readable page.
async fn foreign_error(shared: &Shared, path: &str, response: Response) -> Result<Response, Error> {
    let status = response.status();
    let plain = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|t| t.starts_with("text/plain"));
    if status.as_u16() < 400 || !plain {
        return Ok(response);
    }
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).chars().filter(|c| !c.is_control()).take(300).collect::<String>(),
        Err(_) => String::new(),
    };
    let policy = &shared.app.policy;
    Err(match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            let max_bytes = if path.contains("/photos") { policy.inspection.photo_max_bytes } else { policy.evidence.max_bytes };
            Error::TooLarge { max_bytes }
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedType,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::NOT_FOUND => Error::NotFound,
        s if s.is_server_error() => Error::Internal(format!("{s}: {text}")),
        _ => Error::BadRequest(text),
    })
}

/// The error as the client should see it.
fn render_error(shared: &Shared, ctx: &Ctx, api: bool, error: Error) -> Response {
    let status = error.status();
    if api {
        let mut r = (status, axum::Json(error.to_json(ctx.locale))).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        retry_after(&mut r, &error);
        return r;
    }
    if matches!(error, Error::Unauthenticated) {
        return Redirect::to(&format!("/login?next={}", crate::http::url_encode(&ctx.path))).into_response();
    }
    match crate::views::error_page(shared, ctx, &error) {
        Ok(html) => {
            let mut r = (status, html).into_response();
            retry_after(&mut r, &error);
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "the error page itself failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A throttled request says when to come back.
pub fn retry_after(response: &mut Response, error: &Error) {
    if let Error::Throttled { retry_after_secs } = error {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_character_in_the_path_is_seen_through_percent_encoding() {
        for bad in ["/api/matters/%00", "/api/matters/a%00b/actions", "/matters/%0a", "/x/%7F", "/x/%1b[2J"] {
            assert!(path_has_control_chars(bad), "{bad}");
        }
        for good in ["/api/matters/5f0c-11", "/matters/%E7%8E%8B", "/x/%", "/x/%2", "/x/%zz", "/x/%20"] {
            assert!(!path_has_control_chars(good), "{good}");
        }
    }
}

//! Signing in and out, the front door and the language switch: the login form and
//! `POST /api/session` (both throttled, see [`crate::signin`]), `GET /api/me`.

use crate::Shared;
use crate::context::{Ctx, SESSION_TTL_MS, clear_session_cookie, csrf_matches, lang_cookie, now_ms, session_cookie};
use crate::error::Error;
use crate::http::{parse_json, user_json, with_cookie};
use crate::signin::{self, check_password};
use crate::views::render;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use minijinja::context;
use qingling_rules::matter::Role;
use qingling_rules::messages::Locale;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// A redirect target from a query string, only if it stays on this site: a local path of
/// printable ASCII. Browsers drop tabs and line breaks from a URL and read `\\` as `/`, so
/// `/\t/host` or `/\\host` would leave the site; a CR or LF would break the header.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.len() <= 2048 && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') => n,
        _ => "/",
    }
}

fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Supervisor => "/board",
        Role::Facility => "/notices",
        Role::Inspector => "/rechecks",
    }
}

/// `GET /`
pub async fn home(ctx: Ctx) -> Response {
    match &ctx.session {
        Some(s) => Redirect::to(home_of(s.role)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form, with the reason of a refusal. It carries the pre-session CSRF token: the
/// browser's, or a new one set as a cookie.
fn login_page(shared: &Shared, ctx: &Ctx, headers: &HeaderMap, next: &str, username: &str, error: Option<&Error>) -> Result<Response, Error> {
    let (token, fresh) = match signin::login_token(headers) {
        Some(t) => (t, false),
        None => (signin::new_login_token(), true),
    };
    // What was typed is shown again only as far as it could be a username.
    let username: String = username.chars().filter(|c| !c.is_control()).take(signin::USERNAME_CHARS).collect();
    let page = context! { next => next, username => username, error => error.map(|e| e.message(ctx.locale)), login_csrf => token };
    let status = error.map(Error::status).unwrap_or(StatusCode::OK);
    let mut r = (status, render(shared, ctx, "login.html", page)?).into_response();
    if let Some(e) = error {
        crate::middleware::retry_after(&mut r, e);
    }
    Ok(if fresh { with_cookie(r, signin::login_cookie(&token, shared.app.secure_cookies)) } else { r })
}

/// `GET /login`
pub async fn login_form(State(shared): S, ctx: Ctx, headers: HeaderMap, Query(q): Query<NextQuery>) -> Result<Response, Error> {
    if ctx.session.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&shared, &ctx, &headers, safe_next(q.next.as_deref()), "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    /// The pre-session CSRF token (the `qingling_login` cookie's value).
    #[serde(default)]
    csrf: String,
}

/// `POST /login`: the form's token must match its cookie (else another site could sign the
/// browser in to an account of its choosing); then the password is checked, throttled (see
/// [`crate::signin`]). The session the browser already had ends; a new one begins.
#[tracing::instrument(skip_all)]
pub async fn login(State(shared): S, ctx: Ctx, headers: HeaderMap, Form(f): Form<LoginForm>) -> Result<Response, Error> {
    let next = safe_next(Some(&f.next)).to_string();
    let expected = signin::login_token(&headers).unwrap_or_default();
    if !csrf_matches(&expected, Some(&f.csrf)) {
        return login_page(&shared, &ctx, &headers, &next, &f.username, Some(&Error::Csrf));
    }
    let user = match signin::check_password(&shared, &ctx, &f.username, &f.password).await {
        Ok(u) => u,
        Err(e @ (Error::BadCredentials | Error::Throttled { .. } | Error::Field { .. })) => {
            return login_page(&shared, &ctx, &headers, &next, &f.username, Some(&e));
        }
        Err(e) => return Err(e),
    };
    if let Some(old) = &ctx.session {
        shared.app.store.delete_session(&old.token).await?;
    }
    let (token, _csrf) = shared.app.store.create_session(user.id, SESSION_TTL_MS, now_ms()).await?;
    tracing::info!(user_id = user.id, "signed in");
    let target = if next == "/" { Role::parse(&user.role).map(home_of).unwrap_or("/") } else { next.as_str() };
    let r = with_cookie(Redirect::to(target).into_response(), session_cookie(&token, shared.app.secure_cookies));
    Ok(with_cookie(r, signin::clear_login_cookie(shared.app.secure_cookies)))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`
pub async fn logout(State(shared): S, ctx: Ctx, Form(f): Form<CsrfForm>) -> Result<Response, Error> {
    let who = ctx.check_csrf(&f.csrf)?;
    shared.app.store.delete_session(&who.token).await?;
    Ok(with_cookie(Redirect::to("/login").into_response(), clear_session_cookie(shared.app.secure_cookies)))
}

/// `GET /lang/{code}?next=`: the language switch.
pub async fn switch_language(State(shared): S, Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let locale = Locale::from_code(&code).unwrap_or_default();
    with_cookie(Redirect::to(safe_next(q.next.as_deref())).into_response(), lang_cookie(locale, shared.app.secure_cookies))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/session`: throttled like the login form (see [`crate::signin`]). A session the
/// client already had ends: signing in always starts a new one.
#[tracing::instrument(skip_all)]
pub async fn api_login(State(shared): S, ctx: Ctx, headers: axum::http::HeaderMap, body: Bytes) -> Result<Response, Error> {
    // Only JSON: a cross-site form can post `text/plain` that parses as JSON, and would sign the
    // browser in to an account of its choosing; `application/json` needs a CORS preflight.
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).map(str::trim);
    if !json.is_some_and(|t| t.eq_ignore_ascii_case("application/json")) {
        return Err(Error::BadRequest("send the credentials as application/json".into()));
    }
    let creds: Credentials = parse_json(&body)?;
    let user = check_password(&shared, &ctx, &creds.username, &creds.password).await?;
    if let Some(old) = &ctx.session {
        shared.app.store.delete_session(&old.token).await?;
    }
    let (token, csrf) = shared.app.store.create_session(user.id, SESSION_TTL_MS, now_ms()).await?;
    tracing::info!(user_id = user.id, "signed in");
    let mut r = Json(json!({ "user": user_json(&user), "csrf": csrf })).into_response();
    let cookie = HeaderValue::from_str(&session_cookie(&token, shared.app.secure_cookies)).map_err(|e| Error::Internal(e.to_string()))?;
    r.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(r)
}

/// `DELETE /api/session`
#[tracing::instrument(skip_all)]
pub async fn api_logout(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    shared.app.store.delete_session(&who.token).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    let cookie = HeaderValue::from_str(&clear_session_cookie(shared.app.secure_cookies)).map_err(|e| Error::Internal(e.to_string()))?;
    r.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(r)
}

/// `GET /api/me`
pub async fn api_me(ctx: Ctx) -> Result<Json<Value>, Error> {
    let who = ctx.signed()?;
    Ok(Json(json!({ "user": user_json(&who.user), "csrf": who.csrf, "locale": ctx.locale.code() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/matters/x?done=1")), "/matters/x?done=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        for attack in ["/\t/evil.example/", "/\n/evil.example", "/\\evil.example", "/\r\nSet-Cookie: x=1", "/ /evil", "/\u{3000}/evil"] {
            assert_eq!(safe_next(Some(attack)), "/", "{attack:?}");
        }
        assert_eq!(safe_next(Some("/matters/%E7%85%A7?next=%2F")), "/matters/%E7%85%A7?next=%2F");
    }
}

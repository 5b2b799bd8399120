//! Who is asking and in which language: the request context (`Ctx`, `Signed`) the middleware
//! (`middleware.rs`) resolves once per request, and the session and CSRF primitives.

use crate::error::Error;
use crate::i18n::LANG_COOKIE;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use qingling_activities::db::entities::user;
use qingling_rules::matter::{Actor, Role};
use qingling_rules::messages::Locale;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "qingling_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a sign-in lasts: one working day and a bit.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user: user::Model,
    pub role: Role,
    pub csrf: String,
    pub token: String,
}

impl Signed {
    /// Administrators only: anyone else is forbidden.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.role == Role::Admin { Ok(()) } else { Err(Error::Forbidden) }
    }

    /// The actor the workflow sees: filled from the session, never from the request body.
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.user.id, name: self.user.display_name.clone(), role: self.role, facility_id: self.user.facility_id }
    }
    pub fn is_oversight(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin)
    }
}

/// What every handler may know about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub locale: Locale,
    pub session: Option<Arc<Signed>>,
    /// Path and query, for the language switch and the sign-in redirect.
    pub path: String,
    /// For administrators: next year, when its holiday schedule is due and not loaded.
    pub calendar_missing: Option<i32>,
    /// For administrators' pages: how many workflows are held on a step they could not store.
    pub stuck_count: Option<u64>,
    /// For signed-in pages: Temporal does not answer, so actions are refused until it is back.
    pub engine_down: bool,
    /// The peer's address, which sign-in throttling counts against (none in a test router).
    pub client: Option<std::net::IpAddr>,
}

impl Ctx {
    /// The signed-in person, or `Unauthenticated`.
    pub fn signed(&self) -> Result<Arc<Signed>, Error> {
        self.session.clone().ok_or(Error::Unauthenticated)
    }

    /// Checks a form's CSRF field against the session's token.
    pub fn check_csrf(&self, sent: &str) -> Result<Arc<Signed>, Error> {
        let s = self.signed()?;
        if csrf_matches(&s.csrf, Some(sent)) { Ok(s) } else { Err(Error::Csrf) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| Error::Internal("request context missing".into()))
    }
}

/// Compares tokens in time independent of where they differ.
pub fn csrf_matches(expected: &str, sent: Option<&str>) -> bool {
    let Some(sent) = sent else { return false };
    let (a, b) = (expected.as_bytes(), sent.as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a JSON API request must carry the CSRF header: every method that can change
/// something, except signing in (there is no session yet to hold a token).
pub fn api_needs_csrf(method: &Method, path: &str) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let signing_in = path == "/api/session" && *method == Method::POST;
    !(safe || signing_in)
}

/// The value of one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value for the session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = SESSION_TTL_MS / 1000;
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{}", if secure { "; Secure" } else { "" })
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// A `Set-Cookie` value for the language switch: a year, readable by nothing but the server.
pub fn lang_cookie(locale: Locale, secure: bool) -> String {
    format!("{LANG_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=31536000{}", locale.code(), if secure { "; Secure" } else { "" })
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_csrf_token_must_match_exactly() {
        assert!(csrf_matches("abc123", Some("abc123")));
        assert!(!csrf_matches("abc123", Some("abc124")));
        assert!(!csrf_matches("abc123", Some("abc12")));
        assert!(!csrf_matches("abc123", None));
        assert!(!csrf_matches("", Some("")), "an empty token never matches");
    }

    #[test]
    fn every_api_write_needs_the_header_except_signing_in() {
        assert!(api_needs_csrf(&Method::POST, "/api/matters"));
        assert!(api_needs_csrf(&Method::POST, "/api/matters/x/actions"));
        assert!(api_needs_csrf(&Method::DELETE, "/api/session"));
        assert!(!api_needs_csrf(&Method::POST, "/api/session"));
        assert!(!api_needs_csrf(&Method::GET, "/api/matters"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; qingling_session=tok; qingling_lang=en"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_and_secure_when_asked() {
        let c = session_cookie("t", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/") && c.ends_with("; Secure"), "{c}");
        assert!(!session_cookie("t", false).contains("Secure"));
    }
}

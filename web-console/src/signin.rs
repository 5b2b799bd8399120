//! Checking a password: the one path every check takes (the login form, `POST /api/session`, an
//! inspection's co-signer). What is sent is bounded first; then the throttle of the policy's
//! `[signin]` counts the attempt against the typed username and the client address (a throttled
//! attempt is refused without checking anything); then the password is verified — against the
//! account's hash, or for an unknown username against a dummy hash of the same cost, so neither
//! the answer nor its timing tells which accounts exist.
//!
//! Also the login form's pre-session CSRF token: a short-lived cookie and the same value in a
//! hidden field (there is no session yet to hold a token).

use crate::Shared;
use crate::context::{Ctx, cookie, now_ms};
use crate::error::Error;
use axum::http::HeaderMap;
use qingling_activities::db::entities::user;
use qingling_activities::signin::{Attempt, Verdict};
use qingling_rules::input::{TextProblem, check_text};
use std::net::IpAddr;

/// Bounds of the format, not rules: no username is longer (the seed's are a dozen characters),
/// and a password longer than this is not a password anyone types.
pub const USERNAME_CHARS: usize = 100;
pub const PASSWORD_CHARS: usize = 512;

pub const LOGIN_CSRF_COOKIE: &str = "qingling_login";
/// How long a login form may stay open before it must be reloaded.
const LOGIN_CSRF_TTL_SECS: i64 = 3600;

/// The address an attempt is counted against: an IPv4 address, or the /64 network of an IPv6
/// one (a single host usually holds a whole /64). Without a peer address (a test router) every
/// attempt shares one counter.
pub fn address_key(addr: Option<IpAddr>) -> String {
    match addr.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
}

fn bounded(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    check_text(value, max, true).map_err(|p| match p {
        TextProblem::TooLong { .. } => Error::Field { field, code: "too_long" },
        TextProblem::Control => Error::Field { field, code: "control_chars" },
    })
}

/// Checks a username and password; returns the user. Refuses with `Field` (too long, control
/// characters), `Throttled` (without checking the password) or `BadCredentials` (a wrong password
/// and an unknown username alike). Argon2 is slow on purpose, so it runs off the async threads.
pub async fn check_password(shared: &Shared, ctx: &Ctx, username: &str, password: &str) -> Result<user::Model, Error> {
    let username = username.trim();
    bounded("username", username, USERNAME_CHARS)?;
    bounded("password", password, PASSWORD_CHARS)?;
    let rules = &shared.app.policy.signin;
    let store = &shared.app.store;
    let attempt = Attempt::new(username, &address_key(ctx.client));
    let now = now_ms();
    if let Verdict::Wait { until_ms } = store.signin_attempt(rules, &attempt, now).await? {
        tracing::warn!(address = %address_key(ctx.client), "sign-in throttled");
        return Err(Error::Throttled { retry_after_secs: qingling_rules::signin::retry_after_secs(until_ms, now) });
    }
    let user = store.user_by_username(username).await?;
    let (hash, pw) = (user.as_ref().map(|u| u.password_hash.clone()), password.to_string());
    let ok = tokio::task::spawn_blocking(move || qingling_activities::password::verify_sign_in(hash.as_deref(), &pw))
        .await
        .map_err(|e| Error::Internal(format!("password check: {e}")))?;
    match user {
        Some(user) if ok => {
            store.signin_succeeded(rules, &attempt).await?;
            Ok(user)
        }
        _ => Err(Error::BadCredentials),
    }
}

/// The login form's token from its cookie, if it has the shape this console gives it.
pub fn login_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LOGIN_CSRF_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_string)
}

/// A new unguessable token: 32 random bytes as hex (two v4 UUIDs from the OS's random source).
pub fn new_login_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A `Set-Cookie` value for the login form's token: only sent back to `/login`, never from
/// another site's page.
pub fn login_cookie(token: &str, secure: bool) -> String {
    format!("{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={LOGIN_CSRF_TTL_SECS}{}", if secure { "; Secure" } else { "" })
}

/// A `Set-Cookie` value that removes it once signed in.
pub fn clear_login_cookie(secure: bool) -> String {
    format!("{LOGIN_CSRF_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_per_host_and_per_ipv6_network() {
        assert_eq!(address_key(Some("203.0.113.7".parse().unwrap())), "203.0.113.7");
        assert_eq!(address_key(Some("::ffff:203.0.113.7".parse().unwrap())), "203.0.113.7", "a mapped IPv4 address is that address");
        let a = address_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, address_key(Some("2001:db8:1:2:ffff:1:2:3".parse().unwrap())), "one /64, one counter");
        assert_eq!(address_key(None), "unknown");
    }

    #[test]
    fn the_login_token_cookie_is_strict_and_only_a_well_formed_one_is_read() {
        let c = login_cookie("t", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/login") && c.ends_with("; Secure"), "{c}");
        let mut h = HeaderMap::new();
        let good = new_login_token();
        h.insert(axum::http::header::COOKIE, format!("{LOGIN_CSRF_COOKIE}={good}").parse().unwrap());
        assert_eq!(login_token(&h), Some(good));
        h.insert(axum::http::header::COOKIE, format!("{LOGIN_CSRF_COOKIE}=short").parse().unwrap());
        assert_eq!(login_token(&h), None);
    }
}

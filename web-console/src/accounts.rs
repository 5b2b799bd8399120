//! Sign out everywhere: a person ends every session of their own account (the account page and
//! `POST /api/me/sessions/end`); an administrator ends every session of another account (the
//! users page and `POST /api/users/{id}/sessions/end`). Pages post a `csrf` field; the API's
//! writes carry the CSRF header, checked in [`crate::context`].

use crate::Shared;
use crate::context::{Ctx, Signed, clear_session_cookie, now_ms};
use crate::error::Error;
use crate::http::with_cookie;
use crate::views::render;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, http::StatusCode};
use minijinja::context;
use qingling_activities::db::entities::user;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

type S = State<Arc<Shared>>;

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The account an administrator names; an id that is not a number names nobody.
async fn account(shared: &Shared, id: &str) -> Result<user::Model, Error> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    shared.app.store.user_by_id(id).await?.ok_or(Error::NotFound)
}

/// Ends every session of `target`; the caller's own cookie goes too when it was among them.
async fn end_sessions(shared: &Shared, who: &Signed, target: &user::Model) -> Result<u64, Error> {
    let ended = shared.app.store.delete_sessions_of(target.id).await?;
    tracing::info!(user_id = target.id, by = who.user.id, ended, "sessions ended");
    Ok(ended)
}

/// `GET /account`
pub async fn account_page(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let sessions = shared.app.store.live_sessions(now_ms()).await?.get(&who.user.id).copied().unwrap_or(0);
    let page = context! { username => who.user.username, role => who.role.as_str(), sessions => sessions };
    Ok(render(&shared, &ctx, "account.html", page)?.into_response())
}

/// `POST /account/sessions/end`: signs out everywhere, this browser included.
pub async fn end_mine(State(shared): S, ctx: Ctx, Form(f): Form<CsrfForm>) -> Result<Response, Error> {
    let who = ctx.check_csrf(&f.csrf)?;
    end_sessions(&shared, &who, &who.user).await?;
    Ok(with_cookie(Redirect::to("/login").into_response(), clear_session_cookie(shared.app.secure_cookies)))
}

/// `GET /admin/users`
pub async fn users_page(State(shared): S, ctx: Ctx, Query(q): Query<DoneQuery>) -> Result<Response, Error> {
    let who = ctx.signed()?;
    who.require_admin()?;
    let counts = shared.app.store.live_sessions(now_ms()).await?;
    let users: Vec<_> = shared
        .app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| context! { id => u.id, username => u.username, name => u.display_name, role => u.role, sessions => counts.get(&u.id).copied().unwrap_or(0) })
        .collect();
    let done = q.done.filter(|d| d == "sessions_ended");
    Ok(render(&shared, &ctx, "users.html", context! { users => users, done => done })?.into_response())
}

/// `POST /admin/users/{id}/sessions/end`
pub async fn end_theirs(State(shared): S, ctx: Ctx, Path(id): Path<String>, Form(f): Form<CsrfForm>) -> Result<Response, Error> {
    let who = ctx.check_csrf(&f.csrf)?;
    who.require_admin()?;
    let target = account(&shared, &id).await?;
    end_sessions(&shared, &who, &target).await?;
    if target.id == who.user.id {
        return Ok(with_cookie(Redirect::to("/login").into_response(), clear_session_cookie(shared.app.secure_cookies)));
    }
    Ok(Redirect::to("/admin/users?done=sessions_ended").into_response())
}

/// `POST /api/me/sessions/end`: `{"ended": n}`; this session is among them.
pub async fn api_end_mine(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = ctx.signed()?;
    let ended = end_sessions(&shared, &who, &who.user).await?;
    Ok(with_cookie((StatusCode::OK, Json(json!({ "ended": ended }))).into_response(), clear_session_cookie(shared.app.secure_cookies)))
}

/// `POST /api/users/{id}/sessions/end`: administrators only; `{"ended": n}`.
pub async fn api_end_theirs(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Json<serde_json::Value>, Error> {
    let who = ctx.signed()?;
    who.require_admin()?;
    let target = account(&shared, &id).await?;
    let ended = end_sessions(&shared, &who, &target).await?;
    Ok(Json(json!({ "ended": ended })))
}

//! Accounts and sessions: who signs in, and the sessions that keep them signed in. Only a
//! session token's hash is stored, so a copy of the database signs nobody in.

use super::Store;
use crate::db::entities::{session, user};
use crate::{Result, sha256_hex};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// A new unguessable token: 32 random bytes as hex (two v4 UUIDs, which come from the OS's
/// random source), so no extra random-number crate is needed.
fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Store {
    pub async fn user_by_username(&self, username: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find().filter(user::Column::Username.eq(username)).one(&self.db).await?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Every account, by username: the administrators' users page.
    pub async fn users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find().order_by_asc(user::Column::Username).all(&self.db).await?)
    }

    /// Starts a session; returns the cookie token and the CSRF token. Only the token's hash is
    /// stored.
    pub async fn create_session(&self, user_id: i64, ttl_ms: i64, now_ms: i64) -> Result<(String, String)> {
        let token = new_token();
        let csrf = new_token();
        let row = session::ActiveModel {
            id: Set(sha256_hex(&token)),
            user_id: Set(user_id),
            csrf_token: Set(csrf.clone()),
            created_at_ms: Set(now_ms),
            expires_at_ms: Set(now_ms + ttl_ms),
        };
        session::Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok((token, csrf))
    }

    /// The signed-in user and the session's CSRF token, if the token names a live session.
    pub async fn session(&self, token: &str, now_ms: i64) -> Result<Option<(user::Model, String)>> {
        let Some(s) = session::Entity::find_by_id(sha256_hex(token)).one(&self.db).await? else {
            return Ok(None);
        };
        if s.expires_at_ms <= now_ms {
            session::Entity::delete_by_id(s.id).exec(&self.db).await?;
            return Ok(None);
        }
        Ok(self.user_by_id(s.user_id).await?.map(|u| (u, s.csrf_token)))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        session::Entity::delete_by_id(sha256_hex(token)).exec(&self.db).await?;
        Ok(())
    }

    /// Ends every session of a person ("sign out everywhere"); returns how many there were.
    pub async fn delete_sessions_of(&self, user_id: i64) -> Result<u64> {
        Ok(session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(&self.db).await?.rows_affected)
    }

    /// How many live sessions each person has, for the account and users pages.
    pub async fn live_sessions(&self, now_ms: i64) -> Result<std::collections::HashMap<i64, u64>> {
        let rows = session::Entity::find().filter(session::Column::ExpiresAtMs.gt(now_ms)).all(&self.db).await?;
        let mut counts = std::collections::HashMap::new();
        for s in rows {
            *counts.entry(s.user_id).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

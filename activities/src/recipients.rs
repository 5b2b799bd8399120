//! Who receives a notification: the people an [`Audience`] names for a case of one facility,
//! overseen in one region. Any kind of case that mails uses this.
//!
//! * `Facility`: the facility's own address (if it has one), then its accounts;
//! * `Inspector`, `Supervisor`: the accounts of that role in the region;
//! * `Admin`: every administrator.
//!
//! Invariant: every recipient has an address lettre can use (a blank or unparsable one is left
//! out, with a warning, rather than failing the step for ever), and nobody appears twice however
//! many audiences name them (addresses compared without case; the first mention wins). Order:
//! the audiences' order, then account id. Checked by `tests/it/recipients.rs`.

use crate::Result;
use crate::db::entities::{facility, user};
use qingling_rules::messages::Locale;
use qingling_rules::policy::Audience;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashSet;

/// Someone a mail goes to, and the language they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: String,
    pub locale: Locale,
}

/// The recipients of a notification to `audience` about a case of `facility`, overseen by
/// `region_id` (a matter keeps the region it was issued in).
pub async fn resolve(db: &impl ConnectionTrait, audience: &[Audience], facility: &facility::Model, region_id: i64) -> Result<Vec<Recipient>> {
    resolve_for(db, audience, Some(facility), region_id).await
}

/// The recipients of a notification about a case of no single facility (a campaign), overseen
/// by `region_id`: `Facility` names nobody.
pub async fn resolve_in_region(db: &impl ConnectionTrait, audience: &[Audience], region_id: i64) -> Result<Vec<Recipient>> {
    resolve_for(db, audience, None, region_id).await
}

async fn resolve_for(db: &impl ConnectionTrait, audience: &[Audience], facility: Option<&facility::Model>, region_id: i64) -> Result<Vec<Recipient>> {
    let mut out = vec![];
    for a in audience {
        let query = user::Entity::find().order_by_asc(user::Column::Id);
        let query = match (a, facility) {
            (Audience::Facility, None) => continue,
            (Audience::Facility, Some(facility)) => {
                if let Some(email) = facility.email.as_deref().filter(|e| !e.trim().is_empty()) {
                    // The office's address names no reader to ask for a language: Chinese, its notices' language.
                    out.push(Recipient { email: email.trim().to_string(), name: facility.name.clone(), locale: Locale::ZhCn });
                }
                query.filter(user::Column::Role.eq("facility")).filter(user::Column::FacilityId.eq(facility.id))
            }
            (Audience::Inspector, _) => query.filter(user::Column::Role.eq("inspector")).filter(user::Column::RegionId.eq(region_id)),
            (Audience::Supervisor, _) => query.filter(user::Column::Role.eq("supervisor")).filter(user::Column::RegionId.eq(region_id)),
            (Audience::Admin, _) => query.filter(user::Column::Role.eq("admin")),
        };
        for u in query.all(db).await? {
            let locale = Locale::from_code(&u.locale).unwrap_or_default();
            out.push(Recipient { email: u.email.trim().to_string(), name: u.display_name, locale });
        }
    }
    let mut seen = HashSet::new();
    out.retain(|r| {
        if r.email.is_empty() {
            return false;
        }
        if r.email.parse::<lettre::Address>().is_err() {
            tracing::warn!(email = %r.email, "skipping a recipient whose address cannot be used");
            return false;
        }
        seen.insert(r.email.to_lowercase())
    });
    Ok(out)
}

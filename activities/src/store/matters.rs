//! Matters as the console reads them: the scoped list, one matter, its event log, evidence
//! files and mails.

use super::{Store, in_scope, scope_condition};
use crate::Result;
use crate::audit::MatterLog;
use crate::chain;
use crate::db::entities::{evidence_file, mail, matter, matter_event, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// Whether a person may see a matter (the same rule as the scoped queries); for callers without
/// a store at hand.
pub fn user_can_see(user: &user::Model, matter: &matter::Model) -> bool {
    in_scope(user, matter.facility_id, matter.region_id)
}

impl Store {
    /// The matters a person may see, newest first.
    pub async fn matters_for(&self, user: &user::Model) -> Result<Vec<matter::Model>> {
        Ok(matter::Entity::find()
            .filter(scope_condition(user, matter::Column::RegionId, matter::Column::FacilityId))
            .order_by_desc(matter::Column::IssuedAtMs)
            .order_by_desc(matter::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn matter(&self, id: &str) -> Result<Option<matter::Model>> {
        Ok(matter::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Whether a person may see a matter (the same rule as the scoped queries).
    pub fn user_can_see(&self, user: &user::Model, matter: &matter::Model) -> bool {
        user_can_see(user, matter)
    }

    /// A matter's event log in order.
    pub async fn events(&self, matter_id: &str) -> Result<Vec<matter_event::Model>> {
        chain::read::<MatterLog>(&self.db, matter_id).await
    }

    /// A matter's evidence files in upload order.
    pub async fn evidence_for(&self, matter_id: &str) -> Result<Vec<evidence_file::Model>> {
        Ok(evidence_file::Entity::find()
            .filter(evidence_file::Column::MatterId.eq(matter_id))
            .order_by_asc(evidence_file::Column::UploadedAtMs)
            .order_by_asc(evidence_file::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The mails a matter caused, in the order they were written.
    pub async fn mails_for(&self, matter_id: &str) -> Result<Vec<mail::Model>> {
        Ok(mail::Entity::find().filter(mail::Column::MatterId.eq(matter_id)).order_by_asc(mail::Column::Id).all(&self.db).await?)
    }
}

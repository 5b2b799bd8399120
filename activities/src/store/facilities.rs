//! Facilities and the regions (bureaus) that oversee them.

use super::{Store, in_scope, scope_condition};
use crate::db::entities::{facility, region, user};
use crate::{Error, Result};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

impl Store {
    pub async fn facility(&self, id: i64) -> Result<Option<facility::Model>> {
        Ok(facility::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// One facility, if the person may see it (the same rule as [`Store::facilities_for`]).
    pub async fn facility_for(&self, user: &user::Model, id: i64) -> Result<Option<facility::Model>> {
        Ok(self.facility(id).await?.filter(|f| in_scope(user, f.id, f.region_id)))
    }

    /// The facilities a person may see, by name.
    pub async fn facilities_for(&self, user: &user::Model) -> Result<Vec<facility::Model>> {
        Ok(facility::Entity::find()
            .filter(scope_condition(user, facility::Column::RegionId, facility::Column::Id))
            .order_by_asc(facility::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn region(&self, id: i64) -> Result<Option<region::Model>> {
        Ok(region::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Region names by division code, for the codes given (one query).
    pub async fn region_names(&self, codes: &std::collections::BTreeSet<String>) -> Result<std::collections::HashMap<String, String>> {
        if codes.is_empty() {
            return Ok(Default::default());
        }
        let rows = region::Entity::find().filter(region::Column::Code.is_in(codes.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
    }

    /// A facility's name and its region's division code, which its workflows carry for
    /// Temporal's visibility (`QinglingRegion`, the memo).
    pub async fn facility_facts(&self, id: i64) -> Result<qingling_workflows::visibility::FacilityFacts> {
        let facility = self.facility(id).await?.ok_or_else(|| Error::NotFound(format!("facility {id}")))?;
        let region = self.region(facility.region_id).await?.ok_or_else(|| Error::NotFound(format!("region {}", facility.region_id)))?;
        Ok(qingling_workflows::visibility::FacilityFacts { name: facility.name, region: region.code })
    }
}

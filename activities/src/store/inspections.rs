//! Inspections as the console reads and drafts them: who may see one, the scoped list, the
//! inspectors to assign, a tablet's drafts and photos, the notices an inspection issued.

use super::Store;
use crate::db::entities::{facility, inspection, inspection_inspector, inspection_notice, inspection_photo, user};
use crate::{Error, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// An inspection with the people assigned to it.
#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub inspection: inspection::Model,
    pub facility: facility::Model,
    /// The assigned inspectors, each with when they signed.
    pub inspectors: Vec<(user::Model, Option<i64>)>,
}

impl InspectionRow {
    pub fn is_assigned(&self, user_id: i64) -> bool {
        self.inspectors.iter().any(|(u, _)| u.id == user_id)
    }
}

/// Whether a person may see an inspection: oversight in its region, its assigned inspectors,
/// and the inspected facility once the results are out.
pub fn user_can_see_inspection(user: &user::Model, row: &InspectionRow) -> bool {
    let i = &row.inspection;
    match user.role.as_str() {
        "admin" => true,
        "supervisor" => user.region_id == Some(i.region_id),
        "inspector" => row.is_assigned(user.id),
        "facility" => user.facility_id == Some(i.facility_id) && i.status == "completed",
        _ => false,
    }
}

impl Store {
    pub async fn inspection(&self, id: &str) -> Result<Option<InspectionRow>> {
        let Some(inspection) = inspection::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let facility = facility::Entity::find_by_id(inspection.facility_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("facility {}", inspection.facility_id)))?;
        let links = inspection_inspector::Entity::find()
            .filter(inspection_inspector::Column::InspectionId.eq(id))
            .order_by_asc(inspection_inspector::Column::Id)
            .all(&self.db)
            .await?;
        let users = user::Entity::find().filter(user::Column::Id.is_in(links.iter().map(|l| l.user_id))).all(&self.db).await?;
        let inspectors = links.into_iter().filter_map(|l| users.iter().find(|u| u.id == l.user_id).map(|u| (u.clone(), l.signed_at_ms))).collect();
        Ok(Some(InspectionRow { inspection, facility, inspectors }))
    }

    /// The inspections a person may see, newest first.
    pub async fn inspections_for(&self, user: &user::Model) -> Result<Vec<inspection::Model>> {
        let q = inspection::Entity::find().order_by_desc(inspection::Column::Date).order_by_desc(inspection::Column::CreatedAtMs);
        let q = match user.role.as_str() {
            "admin" => q,
            "supervisor" => q.filter(inspection::Column::RegionId.eq(user.region_id.unwrap_or(-1))),
            "inspector" => {
                let mine: Vec<String> = inspection_inspector::Entity::find()
                    .filter(inspection_inspector::Column::UserId.eq(user.id))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|l| l.inspection_id)
                    .collect();
                q.filter(inspection::Column::Id.is_in(mine))
            }
            "facility" => q.filter(inspection::Column::FacilityId.eq(user.facility_id.unwrap_or(-1))).filter(inspection::Column::Status.eq("completed")),
            _ => return Ok(vec![]),
        };
        Ok(q.all(&self.db).await?)
    }

    /// The inspectors of a region, to assign.
    pub async fn inspectors_in(&self, region_id: i64) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Role.eq("inspector"))
            .filter(user::Column::RegionId.eq(region_id))
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Keeps a tablet's draft, unless the inspection is already submitted. Returns the new
    /// revision, or `None` when the inspection no longer takes drafts. It leaves `updated_at_ms`
    /// alone: that column orders the workflow's records (workflow time), not the tablet's saves.
    pub async fn save_draft(&self, id: &str, answers: &serde_json::Value) -> Result<Option<i64>> {
        let updated = inspection::Entity::update_many()
            .col_expr(inspection::Column::Draft, Expr::value(answers.to_string()))
            .col_expr(inspection::Column::DraftRev, Expr::col(inspection::Column::DraftRev).add(1))
            .filter(inspection::Column::Id.eq(id))
            .filter(inspection::Column::Status.is_in(["assigned", "in_progress"]))
            .exec(&self.db)
            .await?
            .rows_affected;
        if updated == 0 {
            return Ok(None);
        }
        Ok(inspection::Entity::find_by_id(id).one(&self.db).await?.map(|i| i.draft_rev))
    }

    /// The notices an inspection issued, in order.
    pub async fn inspection_notices(&self, id: &str) -> Result<Vec<inspection_notice::Model>> {
        Ok(inspection_notice::Entity::find()
            .filter(inspection_notice::Column::InspectionId.eq(id))
            .order_by_asc(inspection_notice::Column::Idx)
            .all(&self.db)
            .await?)
    }

    /// Records that a stored photo was taken for an inspection (once).
    pub async fn add_inspection_photo(&self, inspection_id: &str, photo: &crate::evidence::StoredPhoto, uploaded_by: i64, now_ms: i64) -> Result<()> {
        let row = inspection_photo::ActiveModel {
            id: Default::default(),
            inspection_id: Set(inspection_id.to_string()),
            sha256: Set(photo.sha256.clone()),
            content_type: Set(photo.content_type.clone()),
            bytes: Set(photo.bytes as i64),
            uploaded_by: Set(uploaded_by),
            uploaded_at_ms: Set(now_ms),
        };
        inspection_photo::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([inspection_photo::Column::InspectionId, inspection_photo::Column::Sha256]).do_nothing().to_owned(),
            )
            .do_nothing()
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// The hashes of the photos taken for an inspection.
    pub async fn inspection_photos(&self, inspection_id: &str) -> Result<std::collections::BTreeSet<String>> {
        Ok(inspection_photo::Entity::find()
            .filter(inspection_photo::Column::InspectionId.eq(inspection_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| p.sha256)
            .collect())
    }
}

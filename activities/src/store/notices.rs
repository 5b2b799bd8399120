//! A matter's notice: its number row and its document, whether the matter was issued by hand or
//! came from an inspection.

use super::Store;
use crate::Result;
use crate::db::entities::{inspection_notice, notice};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

impl Store {
    pub async fn notice_for(&self, matter_id: &str) -> Result<Option<notice::Model>> {
        Ok(notice::Entity::find().filter(notice::Column::MatterId.eq(matter_id)).one(&self.db).await?)
    }

    /// The document of a matter's notice (its own or its inspection's), if it has one.
    pub async fn notice_document(&self, matter_id: &str) -> Result<Option<crate::notices::StoredDocument>> {
        crate::notices::document_of(&self.db, matter_id).await
    }

    /// The inspection notice a matter was issued under, if it came from an inspection.
    pub async fn inspection_notice_for_matter(&self, matter_id: &str) -> Result<Option<inspection_notice::Model>> {
        Ok(inspection_notice::Entity::find().filter(inspection_notice::Column::MatterId.eq(matter_id)).one(&self.db).await?)
    }
}

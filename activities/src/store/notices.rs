//! A matter's notice: its number row and its document, whether the matter was issued by hand or
//! came from an inspection.

use super::Store;
use crate::Result;
use crate::db::entities::{evidence_file, inspection_notice, matter_event, notice};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Everything a matter's page and its API show besides the matter row: one question, one call.
#[derive(Debug, Clone)]
pub struct MatterRecord {
    pub events: Vec<matter_event::Model>,
    pub evidence: Vec<evidence_file::Model>,
    pub notice: Option<notice::Model>,
    /// The notice's document (its own or its inspection's), if it has one.
    pub document: Option<crate::notices::StoredDocument>,
}

impl Store {
    /// A matter's timeline, evidence, notice and notice document.
    pub async fn matter_record(&self, matter_id: &str) -> Result<MatterRecord> {
        Ok(MatterRecord {
            events: self.events(matter_id).await?,
            evidence: self.evidence_for(matter_id).await?,
            notice: self.notice_for(matter_id).await?,
            document: self.notice_document(matter_id).await?,
        })
    }

    /// The notice numbers of several matters, by matter id.
    pub async fn notice_numbers(&self, matter_ids: &[String]) -> Result<HashMap<String, String>> {
        if matter_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = notice::Entity::find().filter(notice::Column::MatterId.is_in(matter_ids.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|n| (n.matter_id, n.number)).collect())
    }

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

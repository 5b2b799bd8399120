//! Metadata of an evidence file attached to a matter; the bytes live content-addressed under the data directory (see [`crate::evidence`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sha256: String,
    pub matter_id: String,
    pub content_type: String,
    pub bytes: i64,
    pub original_name: String,
    pub uploaded_by: i64,
    pub uploaded_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

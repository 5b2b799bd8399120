//! A photo taken for an inspection's checklist (the bytes are in the content-addressed store).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inspection_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inspection_id: String,
    pub sha256: String,
    pub content_type: String,
    pub bytes: i64,
    pub uploaded_by: i64,
    pub uploaded_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

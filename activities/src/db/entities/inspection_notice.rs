//! A notice an inspection issued: numbered before its matter exists, rendered to HTML and PDF
//! (stored by content hash), mailed once.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inspection_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inspection_id: String,
    /// 1, 2, … within the inspection.
    pub idx: i32,
    #[sea_orm(unique)]
    pub matter_id: String,
    #[sea_orm(unique)]
    pub number: String,
    pub region_id: i64,
    pub year: i32,
    pub seq: i64,
    pub major_hazard: bool,
    /// The document's content (`NoticeDoc` as JSON).
    #[sea_orm(column_type = "Text")]
    pub doc: String,
    pub html_sha256: Option<String>,
    pub pdf_sha256: Option<String>,
    pub mailed_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

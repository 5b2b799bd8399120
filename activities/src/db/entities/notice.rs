//! A rectification notice: the numbered document a matter is issued under. A notice issued from
//! the console also keeps its document here (an inspection's notice keeps it on
//! `inspection_notices`); rows from before documents were kept have none.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The rendered number, e.g. 朝民养整改〔2026〕0007号.
    #[sea_orm(unique)]
    pub number: String,
    pub region_id: i64,
    pub year: i32,
    pub seq: i64,
    #[sea_orm(unique)]
    pub matter_id: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub issued_at_ms: i64,
    /// The document's content (`NoticeDoc` as JSON), written with the number.
    #[sea_orm(column_type = "Text", nullable)]
    pub doc: Option<String>,
    pub html_sha256: Option<String>,
    /// Empty until Chromium has printed it.
    pub pdf_sha256: Option<String>,
    pub mailed_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

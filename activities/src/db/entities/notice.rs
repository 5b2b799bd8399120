//! A rectification notice: the numbered document a matter is issued under.

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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

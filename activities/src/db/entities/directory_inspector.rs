//! An inspector in the inspectors directory (执法检查人员名录库), by certificate number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_inspectors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate: String,
    pub name: String,
    pub region_id: i64,
    pub qualification: String,
    /// Specialism codes, comma-separated, in order.
    pub specialisms: String,
    /// `available`, `leave` or `suspended`.
    pub availability: String,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

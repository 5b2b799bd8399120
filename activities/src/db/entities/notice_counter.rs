//! The notice-number counter of one region and year.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notice_counters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_id: i64,
    pub year: i32,
    /// The sequence number the next notice of this region and year receives.
    pub next_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

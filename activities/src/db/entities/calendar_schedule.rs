//! A published working-day schedule loaded after release (dates as JSON arrays of `YYYY-MM-DD`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub source: String,
    pub holidays: String,
    pub workdays: String,
    /// sha256 of the schedule's canonical form: the same schedule loaded twice has one digest.
    pub digest: String,
    pub loaded_by: i64,
    pub loaded_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A workflow stopped on a failure that retrying cannot fix, until an operator repairs it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stuck_workflows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workflow_id: String,
    /// `matter` or `inspection`.
    pub kind: String,
    /// The matter or inspection id.
    pub subject_id: String,
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub failures: i32,
    /// When an operator asked for another attempt; `None` while it is stuck.
    pub resolved_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

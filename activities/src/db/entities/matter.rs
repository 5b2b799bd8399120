//! The current projection of a matter, for lists and the board. The workflow owns the state; this row is rewritten after every persisted step.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workflow_id: String,
    pub facility_id: i64,
    pub region_id: i64,
    pub kind: String,
    pub severity: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub basis: String,
    pub status: String,
    pub escalation_level: i32,
    pub handler: Option<String>,
    /// The due instant of the earliest open deadline.
    pub next_due_ms: Option<i64>,
    /// Whether some open deadline has been missed (has taken an escalation step).
    pub overdue: bool,
    /// JSON of `qingling_rules::matter::Matter` as of `last_seq`.
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    pub issued_by: i64,
    pub issued_at_ms: i64,
    pub updated_at_ms: i64,
    /// The highest event number stored for the matter.
    pub last_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

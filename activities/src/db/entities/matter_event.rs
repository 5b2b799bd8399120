//! One event of a matter's append-only log, hash-chained to its predecessor (see [`crate::audit`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matter_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub matter_id: String,
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    /// The event payload as JSON text, hashed exactly as stored.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

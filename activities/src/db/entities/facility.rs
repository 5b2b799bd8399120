//! An elderly-care facility under supervision.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "facilities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_id: i64,
    pub name: String,
    pub address: String,
    /// The facility's own mailbox, told about its matters besides its users.
    pub email: Option<String>,
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A declared relation between an inspector and a facility: a reason to recuse.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_conflicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub certificate: String,
    pub facility_code: String,
    pub relation: String,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

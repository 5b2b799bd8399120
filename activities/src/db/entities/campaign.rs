//! A campaign as its workflow last stored it (`state` is the rules' `Campaign`, JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workflow_id: String,
    pub region_id: i64,
    pub title: String,
    pub status: String,
    pub state: String,
    /// The published commitment (`rules::draw::Commitment`, canonical JSON).
    pub commitment: Option<String>,
    pub commitment_sha256: Option<String>,
    pub bundle_sha256: Option<String>,
    pub schedule_id: Option<String>,
    pub created_by: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub publish_by_ms: Option<i64>,
    pub published_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

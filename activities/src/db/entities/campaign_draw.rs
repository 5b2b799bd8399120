//! A draw of a campaign: its whole bundle, never changed; superseded only with a reason.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: String,
    pub seq: i32,
    /// `rules::draw::Bundle`, canonical JSON.
    pub bundle: String,
    pub bundle_sha256: String,
    pub operator_id: i64,
    /// The witnesses' names, JSON.
    pub witnesses: String,
    pub created_at_ms: i64,
    pub superseded_reason: Option<String>,
    pub superseded_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

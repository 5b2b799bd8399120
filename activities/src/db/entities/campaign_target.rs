//! A home a campaign drew, its team and its inspection.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: String,
    pub target_code: String,
    pub facility_id: i64,
    /// The team's certificate numbers, JSON, in drawn order.
    pub team: String,
    pub inspection_id: Option<String>,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A recurring campaign plan: the Temporal Schedule that runs it and what it runs (the workflow
//! input as it was when the plan was made, policy included), until someone stops it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub schedule_id: String,
    pub region_id: i64,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub cron: String,
    pub timezone: String,
    /// The campaign workflow input each run starts from (JSON).
    #[sea_orm(column_type = "Text")]
    pub input: String,
    pub created_by: i64,
    pub created_at_ms: i64,
    pub stopped_by: Option<i64>,
    pub stopped_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

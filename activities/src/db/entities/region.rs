//! An administrative region (province, city, district) and the civil-affairs bureau that supervises it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The administrative division code, e.g. `110105` for 朝阳区.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// `province`, `city` or `district`.
    pub level: String,
    pub parent_id: Option<i64>,
    /// The issuing authority named on notices, e.g. 朝阳区民政局.
    pub bureau_name: String,
    /// The short bureau name that opens a notice number, e.g. 朝民.
    pub notice_prefix: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

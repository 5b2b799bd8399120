//! A person who signs in to the console.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// `admin`, `supervisor`, `inspector` or `facility`.
    pub role: String,
    /// The region a supervisor or inspector oversees.
    pub region_id: Option<i64>,
    /// The facility a facility user works for.
    pub facility_id: Option<i64>,
    /// An argon2 PHC string; see [`crate::password`].
    pub password_hash: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub created_at_ms: i64,
    /// An inspector's enforcement certificate number (执法证号), printed on notices.
    pub certificate: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

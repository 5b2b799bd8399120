//! A sign-in throttle counter: wrong passwords for one account name or from one client address
//! (see `qingling_rules::signin`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signin_throttle")]
pub struct Model {
    /// Hex SHA-256 of `<subject>:<account name or address>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// `account` or `address`.
    pub subject: String,
    pub failures: i32,
    pub last_failure_ms: i64,
    pub blocked_until_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

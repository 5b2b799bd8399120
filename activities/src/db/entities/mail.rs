//! A mail a matter event causes, written in the same transaction as the event and sent after commit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub matter_id: String,
    /// The event that caused the mail.
    pub seq: i64,
    /// `issued`, `escalated`, `closed` or `reopened`.
    pub notice_kind: String,
    pub recipient_email: String,
    pub recipient_name: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `pending` or `sent`.
    pub status: String,
    pub sent_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

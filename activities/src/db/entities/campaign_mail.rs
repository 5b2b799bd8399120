//! A mail a campaign event causes (an escalation), written in the same transaction as the event
//! and sent after commit: the campaigns' outbox.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_mails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: String,
    /// The event that caused the mail.
    pub seq: i64,
    /// `campaign_escalated`.
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

//! The campaigns' mail outbox (`campaign_mails`, the matters' `mails` for campaigns: written in
//! the transaction of the event that causes the mail, sent after it commits) and the recurring
//! plans (`campaign_plans`: what each Temporal Schedule runs, kept so the console can list and
//! stop them, with the policy and plan as they were when the plan was made).

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000010_campaign_mails_and_plans"
    }
}

#[derive(DeriveIden)]
enum CampaignMails {
    Table,
    Id,
    CampaignId,
    Seq,
    NoticeKind,
    RecipientEmail,
    RecipientName,
    Subject,
    Body,
    Status,
    SentAtMs,
}

#[derive(DeriveIden)]
enum CampaignPlans {
    Table,
    Id,
    ScheduleId,
    RegionId,
    Title,
    Cron,
    Timezone,
    Input,
    CreatedBy,
    CreatedAtMs,
    StoppedBy,
    StoppedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CampaignMails::Table)
                .col(ColumnDef::new(CampaignMails::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CampaignMails::CampaignId).string_len(64).not_null())
                .col(big(CampaignMails::Seq))
                .col(ColumnDef::new(CampaignMails::NoticeKind).string_len(32).not_null())
                .col(short(CampaignMails::RecipientEmail))
                .col(short(CampaignMails::RecipientName))
                .col(ColumnDef::new(CampaignMails::Subject).text().not_null())
                .col(ColumnDef::new(CampaignMails::Body).text().not_null())
                .col(ColumnDef::new(CampaignMails::Status).string_len(16).not_null())
                .col(ColumnDef::new(CampaignMails::SentAtMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_campaign_mails_key", CampaignMails::Table, &["campaign_id", "seq", "notice_kind", "recipient_email"], true)).await?;
        m.create_index(index("ix_campaign_mails_status", CampaignMails::Table, &["campaign_id", "status"], false)).await?;

        m.create_table(
            Table::create()
                .table(CampaignPlans::Table)
                .col(ColumnDef::new(CampaignPlans::Id).string_len(32).not_null().primary_key())
                .col(ColumnDef::new(CampaignPlans::ScheduleId).string_len(64).not_null())
                .col(big(CampaignPlans::RegionId))
                .col(ColumnDef::new(CampaignPlans::Title).text().not_null())
                .col(ColumnDef::new(CampaignPlans::Cron).string_len(128).not_null())
                .col(ColumnDef::new(CampaignPlans::Timezone).string_len(32).not_null())
                .col(ColumnDef::new(CampaignPlans::Input).text().not_null())
                .col(big(CampaignPlans::CreatedBy))
                .col(big(CampaignPlans::CreatedAtMs))
                .col(ColumnDef::new(CampaignPlans::StoppedBy).big_integer().null())
                .col(ColumnDef::new(CampaignPlans::StoppedAtMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_campaign_plans_region", CampaignPlans::Table, &["region_id", "created_at_ms"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CampaignPlans::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(CampaignMails::Table).to_owned()).await
    }
}

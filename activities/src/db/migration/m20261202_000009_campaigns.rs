//! 双随机 campaigns (RULES.md §2): the campaign as its workflow last stored it, its draws
//! (append-only: a draw is superseded with a reason, never deleted), the homes drawn with their
//! teams and inspections, and the campaign's events.

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000009_campaigns"
    }
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    WorkflowId,
    RegionId,
    Title,
    Status,
    State,
    Commitment,
    CommitmentSha256,
    BundleSha256,
    ScheduleId,
    CreatedBy,
    CreatedAtMs,
    UpdatedAtMs,
    PublishByMs,
    PublishedAtMs,
}

#[derive(DeriveIden)]
enum CampaignDraws {
    Table,
    Id,
    CampaignId,
    Seq,
    Bundle,
    BundleSha256,
    OperatorId,
    Witnesses,
    CreatedAtMs,
    SupersededReason,
    SupersededAtMs,
}

#[derive(DeriveIden)]
enum CampaignTargets {
    Table,
    Id,
    CampaignId,
    TargetCode,
    FacilityId,
    Team,
    InspectionId,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum CampaignEvents {
    Table,
    Id,
    CampaignId,
    Seq,
    Kind,
    Payload,
    ActorId,
    ActorName,
    ActorRole,
    AtMs,
    PrevHash,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Campaigns::Table)
                .col(ColumnDef::new(Campaigns::Id).string_len(64).not_null().primary_key())
                .col(short(Campaigns::WorkflowId))
                .col(big(Campaigns::RegionId))
                .col(short(Campaigns::Title))
                .col(ColumnDef::new(Campaigns::Status).string_len(16).not_null())
                .col(ColumnDef::new(Campaigns::State).text().not_null())
                .col(ColumnDef::new(Campaigns::Commitment).text().null())
                .col(ColumnDef::new(Campaigns::CommitmentSha256).string_len(64).null())
                .col(ColumnDef::new(Campaigns::BundleSha256).string_len(64).null())
                .col(ColumnDef::new(Campaigns::ScheduleId).string_len(128).null())
                .col(big(Campaigns::CreatedBy))
                .col(big(Campaigns::CreatedAtMs))
                .col(big(Campaigns::UpdatedAtMs))
                .col(ColumnDef::new(Campaigns::PublishByMs).big_integer().null())
                .col(ColumnDef::new(Campaigns::PublishedAtMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_campaigns_region", Campaigns::Table, &["region_id", "created_at_ms"], false)).await?;

        m.create_table(
            Table::create()
                .table(CampaignDraws::Table)
                .col(ColumnDef::new(CampaignDraws::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CampaignDraws::CampaignId).string_len(64).not_null())
                .col(ColumnDef::new(CampaignDraws::Seq).integer().not_null())
                .col(ColumnDef::new(CampaignDraws::Bundle).text().not_null())
                .col(ColumnDef::new(CampaignDraws::BundleSha256).string_len(64).not_null())
                .col(big(CampaignDraws::OperatorId))
                .col(ColumnDef::new(CampaignDraws::Witnesses).text().not_null())
                .col(big(CampaignDraws::CreatedAtMs))
                .col(ColumnDef::new(CampaignDraws::SupersededReason).text().null())
                .col(ColumnDef::new(CampaignDraws::SupersededAtMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_campaign_draws_seq", CampaignDraws::Table, &["campaign_id", "seq"], true)).await?;

        m.create_table(
            Table::create()
                .table(CampaignTargets::Table)
                .col(ColumnDef::new(CampaignTargets::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CampaignTargets::CampaignId).string_len(64).not_null())
                .col(ColumnDef::new(CampaignTargets::TargetCode).string_len(64).not_null())
                .col(big(CampaignTargets::FacilityId))
                .col(ColumnDef::new(CampaignTargets::Team).text().not_null())
                .col(ColumnDef::new(CampaignTargets::InspectionId).string_len(64).null())
                .col(big(CampaignTargets::UpdatedAtMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_campaign_targets", CampaignTargets::Table, &["campaign_id", "target_code"], true)).await?;
        m.create_index(index("ix_campaign_targets_facility", CampaignTargets::Table, &["facility_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(CampaignEvents::Table)
                .col(ColumnDef::new(CampaignEvents::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CampaignEvents::CampaignId).string_len(64).not_null())
                .col(big(CampaignEvents::Seq))
                .col(ColumnDef::new(CampaignEvents::Kind).string_len(32).not_null())
                .col(ColumnDef::new(CampaignEvents::Payload).text().not_null())
                .col(ColumnDef::new(CampaignEvents::ActorId).big_integer().null())
                .col(ColumnDef::new(CampaignEvents::ActorName).string_len(255).null())
                .col(ColumnDef::new(CampaignEvents::ActorRole).string_len(32).null())
                .col(big(CampaignEvents::AtMs))
                .col(ColumnDef::new(CampaignEvents::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(CampaignEvents::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_campaign_events_seq", CampaignEvents::Table, &["campaign_id", "seq"], true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [CampaignEvents::Table.into_iden(), CampaignTargets::Table.into_iden(), CampaignDraws::Table.into_iden(), Campaigns::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

//! The two directories of 双随机 (RULES.md §2) and their snapshots.
//!
//! - `directory_targets`: a facility's entry in the targets directory (检查对象名录库): its code,
//!   type, beds and risk class; its name and district are the facility's own (`facilities`).
//! - `directory_inspectors` (执法检查人员名录库) by certificate number, and `directory_conflicts`,
//!   the declared relations an inspector is recused for.
//! - `directory_snapshots`: the directory as a draw sees it, canonical JSON addressed by its
//!   SHA-256 (`rules::draw::digest`). A row is written on every change and when a campaign
//!   commits, never changed or deleted; the same content is one row.

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000008_directories"
    }
}

#[derive(DeriveIden)]
enum DirectoryTargets {
    Table,
    FacilityId,
    Code,
    FacilityType,
    Beds,
    Risk,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum DirectoryInspectors {
    Table,
    Certificate,
    Name,
    RegionId,
    Qualification,
    Specialisms,
    Availability,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum DirectoryConflicts {
    Table,
    Id,
    Certificate,
    FacilityCode,
    Relation,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum DirectorySnapshots {
    Table,
    Id,
    Kind,
    Sha256,
    Content,
    Rows,
    Cause,
    CreatedBy,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DirectoryTargets::Table)
                .col(ColumnDef::new(DirectoryTargets::FacilityId).big_integer().not_null().primary_key())
                .col(ColumnDef::new(DirectoryTargets::Code).string_len(64).not_null())
                .col(short(DirectoryTargets::FacilityType))
                .col(ColumnDef::new(DirectoryTargets::Beds).integer().not_null())
                .col(ColumnDef::new(DirectoryTargets::Risk).string_len(1).not_null())
                .col(big(DirectoryTargets::UpdatedAtMs))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_directory_targets_facility")
                        .from(DirectoryTargets::Table, DirectoryTargets::FacilityId)
                        .to(Facilities::Table, Facilities::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_directory_targets_code", DirectoryTargets::Table, &["code"], true)).await?;

        m.create_table(
            Table::create()
                .table(DirectoryInspectors::Table)
                .col(ColumnDef::new(DirectoryInspectors::Certificate).string_len(64).not_null().primary_key())
                .col(short(DirectoryInspectors::Name))
                .col(big(DirectoryInspectors::RegionId))
                .col(short(DirectoryInspectors::Qualification))
                .col(short(DirectoryInspectors::Specialisms))
                .col(ColumnDef::new(DirectoryInspectors::Availability).string_len(16).not_null())
                .col(big(DirectoryInspectors::UpdatedAtMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_directory_inspectors_region", DirectoryInspectors::Table, &["region_id", "certificate"], false)).await?;

        m.create_table(
            Table::create()
                .table(DirectoryConflicts::Table)
                .col(ColumnDef::new(DirectoryConflicts::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(DirectoryConflicts::Certificate).string_len(64).not_null())
                .col(ColumnDef::new(DirectoryConflicts::FacilityCode).string_len(64).not_null())
                .col(ColumnDef::new(DirectoryConflicts::Relation).string_len(32).not_null())
                .col(big(DirectoryConflicts::UpdatedAtMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_directory_conflicts", DirectoryConflicts::Table, &["certificate", "facility_code", "relation"], true)).await?;
        m.create_index(index("ix_directory_conflicts_facility", DirectoryConflicts::Table, &["facility_code"], false)).await?;

        m.create_table(
            Table::create()
                .table(DirectorySnapshots::Table)
                .col(ColumnDef::new(DirectorySnapshots::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(DirectorySnapshots::Kind).string_len(16).not_null())
                .col(ColumnDef::new(DirectorySnapshots::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(DirectorySnapshots::Content).text().not_null())
                .col(ColumnDef::new(DirectorySnapshots::Rows).integer().not_null())
                .col(short(DirectorySnapshots::Cause))
                .col(ColumnDef::new(DirectorySnapshots::CreatedBy).big_integer().null())
                .col(big(DirectorySnapshots::CreatedAtMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_directory_snapshots_digest", DirectorySnapshots::Table, &["kind", "sha256"], true)).await?;
        m.create_index(index("ix_directory_snapshots_kind", DirectorySnapshots::Table, &["kind", "id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            DirectorySnapshots::Table.into_iden(),
            DirectoryConflicts::Table.into_iden(),
            DirectoryInspectors::Table.into_iden(),
            DirectoryTargets::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

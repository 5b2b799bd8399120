//! Inspections: the assigned checklist, its inspectors and signatures, the submitted answers and
//! their evaluation, and the notices an inspection issued (numbered before their matters exist).
//! Inspectors get their enforcement certificate number, printed on notices.

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_inspections"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Certificate,
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Inspections {
    Table,
    Id,
    WorkflowId,
    FacilityId,
    RegionId,
    TemplateId,
    TemplateVersion,
    Title,
    Date,
    Status,
    AssignedBy,
    StartedBy,
    SubmissionKey,
    SubmittedBy,
    SubmittedAtMs,
    Answers,
    Evaluation,
    Findings,
    Points,
    Draft,
    DraftRev,
    PublishBy,
    CreatedAtMs,
    UpdatedAtMs,
}

#[derive(DeriveIden)]
enum InspectionInspectors {
    Table,
    Id,
    InspectionId,
    UserId,
    SignedAtMs,
}

#[derive(DeriveIden)]
enum InspectionPhotos {
    Table,
    Id,
    InspectionId,
    Sha256,
    ContentType,
    Bytes,
    UploadedBy,
    UploadedAtMs,
}

#[derive(DeriveIden)]
enum InspectionNotices {
    Table,
    Id,
    InspectionId,
    Idx,
    MatterId,
    Number,
    RegionId,
    Year,
    Seq,
    MajorHazard,
    Doc,
    HtmlSha256,
    PdfSha256,
    MailedAtMs,
    CreatedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Users::Table).add_column(ColumnDef::new(Users::Certificate).string_len(64).null()).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(Inspections::Table)
                .col(ColumnDef::new(Inspections::Id).string_len(64).not_null().primary_key())
                .col(short(Inspections::WorkflowId))
                .col(big(Inspections::FacilityId))
                .col(big(Inspections::RegionId))
                .col(short(Inspections::TemplateId))
                .col(ColumnDef::new(Inspections::TemplateVersion).integer().not_null())
                .col(short(Inspections::Title))
                .col(ColumnDef::new(Inspections::Date).string_len(10).not_null())
                .col(short(Inspections::Status))
                .col(big(Inspections::AssignedBy))
                .col(ColumnDef::new(Inspections::StartedBy).big_integer().null())
                .col(ColumnDef::new(Inspections::SubmissionKey).string_len(64).null())
                .col(ColumnDef::new(Inspections::SubmittedBy).big_integer().null())
                .col(ColumnDef::new(Inspections::SubmittedAtMs).big_integer().null())
                .col(ColumnDef::new(Inspections::Answers).text().null())
                .col(ColumnDef::new(Inspections::Evaluation).text().null())
                .col(ColumnDef::new(Inspections::Findings).integer().null())
                .col(ColumnDef::new(Inspections::Points).integer().null())
                .col(ColumnDef::new(Inspections::Draft).text().null())
                .col(big(Inspections::DraftRev).default(0))
                .col(ColumnDef::new(Inspections::PublishBy).string_len(10).null())
                .col(big(Inspections::CreatedAtMs))
                .col(big(Inspections::UpdatedAtMs))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inspections_facility")
                        .from(Inspections::Table, Inspections::FacilityId)
                        .to(Facilities::Table, Facilities::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inspections_region")
                        .from(Inspections::Table, Inspections::RegionId)
                        .to(Regions::Table, Regions::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_inspections_facility", Inspections::Table, &["facility_id"], false)).await?;
        m.create_index(index("ix_inspections_region_status", Inspections::Table, &["region_id", "status"], false)).await?;

        m.create_table(
            Table::create()
                .table(InspectionInspectors::Table)
                .col(ColumnDef::new(InspectionInspectors::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(InspectionInspectors::InspectionId).string_len(64).not_null())
                .col(big(InspectionInspectors::UserId))
                .col(ColumnDef::new(InspectionInspectors::SignedAtMs).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inspection_inspectors_inspection")
                        .from(InspectionInspectors::Table, InspectionInspectors::InspectionId)
                        .to(Inspections::Table, Inspections::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_inspection_inspectors", InspectionInspectors::Table, &["inspection_id", "user_id"], true)).await?;
        m.create_index(index("ix_inspection_inspectors_user", InspectionInspectors::Table, &["user_id"], false)).await?;

        // The photos taken for an inspection: a checklist may only cite these, and only those who
        // may see the inspection may fetch them.
        m.create_table(
            Table::create()
                .table(InspectionPhotos::Table)
                .col(ColumnDef::new(InspectionPhotos::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(InspectionPhotos::InspectionId).string_len(64).not_null())
                .col(ColumnDef::new(InspectionPhotos::Sha256).string_len(64).not_null())
                .col(short(InspectionPhotos::ContentType))
                .col(big(InspectionPhotos::Bytes))
                .col(big(InspectionPhotos::UploadedBy))
                .col(big(InspectionPhotos::UploadedAtMs))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inspection_photos_inspection")
                        .from(InspectionPhotos::Table, InspectionPhotos::InspectionId)
                        .to(Inspections::Table, Inspections::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_inspection_photos", InspectionPhotos::Table, &["inspection_id", "sha256"], true)).await?;

        // A notice is numbered here, in the same per-bureau, per-year counter as every notice,
        // before the matter it becomes exists; the matter's `notices` row reuses the number.
        m.create_table(
            Table::create()
                .table(InspectionNotices::Table)
                .col(ColumnDef::new(InspectionNotices::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(InspectionNotices::InspectionId).string_len(64).not_null())
                .col(ColumnDef::new(InspectionNotices::Idx).integer().not_null())
                .col(ColumnDef::new(InspectionNotices::MatterId).string_len(64).not_null())
                .col(short(InspectionNotices::Number))
                .col(big(InspectionNotices::RegionId))
                .col(ColumnDef::new(InspectionNotices::Year).integer().not_null())
                .col(big(InspectionNotices::Seq))
                .col(ColumnDef::new(InspectionNotices::MajorHazard).boolean().not_null())
                .col(ColumnDef::new(InspectionNotices::Doc).text().not_null())
                .col(ColumnDef::new(InspectionNotices::HtmlSha256).string_len(64).null())
                .col(ColumnDef::new(InspectionNotices::PdfSha256).string_len(64).null())
                .col(ColumnDef::new(InspectionNotices::MailedAtMs).big_integer().null())
                .col(big(InspectionNotices::CreatedAtMs))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inspection_notices_inspection")
                        .from(InspectionNotices::Table, InspectionNotices::InspectionId)
                        .to(Inspections::Table, Inspections::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_inspection_notices_idx", InspectionNotices::Table, &["inspection_id", "idx"], true)).await?;
        m.create_index(index("ux_inspection_notices_matter", InspectionNotices::Table, &["matter_id"], true)).await?;
        m.create_index(index("ux_inspection_notices_number", InspectionNotices::Table, &["number"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [InspectionNotices::Table.into_iden(), InspectionPhotos::Table.into_iden(), InspectionInspectors::Table.into_iden(), Inspections::Table.into_iden()]
        {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::Certificate).to_owned()).await?;
        Ok(())
    }
}

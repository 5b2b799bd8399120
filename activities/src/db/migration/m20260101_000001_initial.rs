//! The first schema: regions, facilities, users and sessions; notices and their counters;
//! matters with their hash-chained event log, evidence and mails.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000001_initial"
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
    Code,
    Name,
    Level,
    ParentId,
    BureauName,
    NoticePrefix,
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    Id,
    RegionId,
    Name,
    Address,
    Email,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Email,
    Role,
    RegionId,
    FacilityId,
    PasswordHash,
    Locale,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CsrfToken,
    CreatedAtMs,
    ExpiresAtMs,
}

#[derive(DeriveIden)]
enum NoticeCounters {
    Table,
    Id,
    RegionId,
    Year,
    NextSeq,
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    Number,
    RegionId,
    Year,
    Seq,
    MatterId,
    Title,
    IssuedAtMs,
}

#[derive(DeriveIden)]
enum Matters {
    Table,
    Id,
    WorkflowId,
    FacilityId,
    RegionId,
    Kind,
    Severity,
    Title,
    Description,
    Basis,
    Status,
    EscalationLevel,
    Handler,
    NextDueMs,
    Overdue,
    Snapshot,
    IssuedBy,
    IssuedAtMs,
    UpdatedAtMs,
    LastSeq,
}

#[derive(DeriveIden)]
enum MatterEvents {
    Table,
    Id,
    MatterId,
    Seq,
    AtMs,
    Kind,
    ActorId,
    ActorName,
    ActorRole,
    Payload,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum EvidenceFiles {
    Table,
    Id,
    Sha256,
    MatterId,
    ContentType,
    Bytes,
    OriginalName,
    UploadedBy,
    UploadedAtMs,
}

#[derive(DeriveIden)]
enum Mails {
    Table,
    Id,
    MatterId,
    Seq,
    NoticeKind,
    RecipientEmail,
    RecipientName,
    Subject,
    Body,
    Status,
    SentAtMs,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

pub(super) fn short<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(255).not_null().to_owned()
}

pub(super) fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden),
    to: (impl IntoIden + 'static, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(on_delete).to_owned()
}

pub(super) fn index(name: &str, table: impl IntoIden + 'static, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for col in cols {
        idx.col(Alias::new(*col));
    }
    if unique {
        idx.unique();
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        m.create_table(
            Table::create()
                .table(Regions::Table)
                .col(id(Regions::Id))
                .col(short(Regions::Code))
                .col(short(Regions::Name))
                .col(short(Regions::Level))
                .col(ColumnDef::new(Regions::ParentId).big_integer().null())
                .col(short(Regions::BureauName))
                .col(short(Regions::NoticePrefix))
                .foreign_key(&mut fk("fk_regions_parent", (Regions::Table, Regions::ParentId), (Regions::Table, Regions::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_regions_code", Regions::Table, &["code"], true)).await?;

        m.create_table(
            Table::create()
                .table(Facilities::Table)
                .col(id(Facilities::Id))
                .col(big(Facilities::RegionId))
                .col(short(Facilities::Name))
                .col(text(Facilities::Address))
                .col(ColumnDef::new(Facilities::Email).string_len(255).null())
                .col(big(Facilities::CreatedAtMs))
                .foreign_key(&mut fk("fk_facilities_region", (Facilities::Table, Facilities::RegionId), (Regions::Table, Regions::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_facilities_region", Facilities::Table, &["region_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(short(Users::Username))
                .col(short(Users::DisplayName))
                .col(short(Users::Email))
                .col(short(Users::Role))
                .col(ColumnDef::new(Users::RegionId).big_integer().null())
                .col(ColumnDef::new(Users::FacilityId).big_integer().null())
                .col(text(Users::PasswordHash))
                .col(short(Users::Locale))
                .col(big(Users::CreatedAtMs))
                .foreign_key(&mut fk("fk_users_region", (Users::Table, Users::RegionId), (Regions::Table, Regions::Id), SetNull))
                .foreign_key(&mut fk("fk_users_facility", (Users::Table, Users::FacilityId), (Facilities::Table, Facilities::Id), SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_users_username", Users::Table, &["username"], true)).await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(ColumnDef::new(Sessions::Id).string_len(64).not_null().primary_key())
                .col(big(Sessions::UserId))
                .col(short(Sessions::CsrfToken))
                .col(big(Sessions::CreatedAtMs))
                .col(big(Sessions::ExpiresAtMs))
                .foreign_key(&mut fk("fk_sessions_user", (Sessions::Table, Sessions::UserId), (Users::Table, Users::Id), Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", Sessions::Table, &["user_id"], false)).await?;

        // One counter row per region and year; the unique index is the conflict target of the
        // atomic `INSERT .. ON CONFLICT .. DO UPDATE` that allocates notice numbers.
        m.create_table(
            Table::create()
                .table(NoticeCounters::Table)
                .col(id(NoticeCounters::Id))
                .col(big(NoticeCounters::RegionId))
                .col(ColumnDef::new(NoticeCounters::Year).integer().not_null())
                .col(big(NoticeCounters::NextSeq))
                .foreign_key(&mut fk("fk_notice_counters_region", (NoticeCounters::Table, NoticeCounters::RegionId), (Regions::Table, Regions::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_notice_counters_region_year", NoticeCounters::Table, &["region_id", "year"], true)).await?;

        m.create_table(
            Table::create()
                .table(Matters::Table)
                .col(ColumnDef::new(Matters::Id).string_len(64).not_null().primary_key())
                .col(short(Matters::WorkflowId))
                .col(big(Matters::FacilityId))
                .col(big(Matters::RegionId))
                .col(short(Matters::Kind))
                .col(short(Matters::Severity))
                .col(text(Matters::Title))
                .col(text(Matters::Description))
                .col(text(Matters::Basis))
                .col(short(Matters::Status))
                .col(ColumnDef::new(Matters::EscalationLevel).integer().not_null())
                .col(ColumnDef::new(Matters::Handler).text().null())
                .col(ColumnDef::new(Matters::NextDueMs).big_integer().null())
                .col(ColumnDef::new(Matters::Overdue).boolean().not_null())
                .col(text(Matters::Snapshot))
                .col(big(Matters::IssuedBy))
                .col(big(Matters::IssuedAtMs))
                .col(big(Matters::UpdatedAtMs))
                .col(big(Matters::LastSeq))
                .foreign_key(&mut fk("fk_matters_facility", (Matters::Table, Matters::FacilityId), (Facilities::Table, Facilities::Id), Restrict))
                .foreign_key(&mut fk("fk_matters_region", (Matters::Table, Matters::RegionId), (Regions::Table, Regions::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_matters_facility", Matters::Table, &["facility_id"], false)).await?;
        m.create_index(index("ix_matters_region", Matters::Table, &["region_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(Notices::Table)
                .col(id(Notices::Id))
                .col(short(Notices::Number))
                .col(big(Notices::RegionId))
                .col(ColumnDef::new(Notices::Year).integer().not_null())
                .col(big(Notices::Seq))
                .col(ColumnDef::new(Notices::MatterId).string_len(64).not_null())
                .col(text(Notices::Title))
                .col(big(Notices::IssuedAtMs))
                .foreign_key(&mut fk("fk_notices_matter", (Notices::Table, Notices::MatterId), (Matters::Table, Matters::Id), Restrict))
                .foreign_key(&mut fk("fk_notices_region", (Notices::Table, Notices::RegionId), (Regions::Table, Regions::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_notices_number", Notices::Table, &["number"], true)).await?;
        m.create_index(index("ux_notices_matter", Notices::Table, &["matter_id"], true)).await?;
        // A second guard beside the counter: one sequence number per region and year.
        m.create_index(index("ux_notices_region_year_seq", Notices::Table, &["region_id", "year", "seq"], true)).await?;

        m.create_table(
            Table::create()
                .table(MatterEvents::Table)
                .col(id(MatterEvents::Id))
                .col(ColumnDef::new(MatterEvents::MatterId).string_len(64).not_null())
                .col(big(MatterEvents::Seq))
                .col(big(MatterEvents::AtMs))
                .col(short(MatterEvents::Kind))
                .col(ColumnDef::new(MatterEvents::ActorId).big_integer().null())
                .col(ColumnDef::new(MatterEvents::ActorName).text().null())
                .col(ColumnDef::new(MatterEvents::ActorRole).string_len(32).null())
                .col(text(MatterEvents::Payload))
                .col(ColumnDef::new(MatterEvents::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(MatterEvents::Hash).string_len(64).not_null())
                .foreign_key(&mut fk("fk_matter_events_matter", (MatterEvents::Table, MatterEvents::MatterId), (Matters::Table, Matters::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_matter_events_matter_seq", MatterEvents::Table, &["matter_id", "seq"], true)).await?;

        m.create_table(
            Table::create()
                .table(EvidenceFiles::Table)
                .col(id(EvidenceFiles::Id))
                .col(ColumnDef::new(EvidenceFiles::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(EvidenceFiles::MatterId).string_len(64).not_null())
                .col(short(EvidenceFiles::ContentType))
                .col(big(EvidenceFiles::Bytes))
                .col(text(EvidenceFiles::OriginalName))
                .col(big(EvidenceFiles::UploadedBy))
                .col(big(EvidenceFiles::UploadedAtMs))
                .foreign_key(&mut fk("fk_evidence_files_matter", (EvidenceFiles::Table, EvidenceFiles::MatterId), (Matters::Table, Matters::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_evidence_files_sha256_matter", EvidenceFiles::Table, &["sha256", "matter_id"], true)).await?;
        m.create_index(index("ix_evidence_files_matter", EvidenceFiles::Table, &["matter_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(Mails::Table)
                .col(id(Mails::Id))
                .col(ColumnDef::new(Mails::MatterId).string_len(64).not_null())
                .col(big(Mails::Seq))
                .col(ColumnDef::new(Mails::NoticeKind).string_len(32).not_null())
                .col(short(Mails::RecipientEmail))
                .col(short(Mails::RecipientName))
                .col(text(Mails::Subject))
                .col(text(Mails::Body))
                .col(ColumnDef::new(Mails::Status).string_len(16).not_null())
                .col(ColumnDef::new(Mails::SentAtMs).big_integer().null())
                .foreign_key(&mut fk("fk_mails_matter", (Mails::Table, Mails::MatterId), (Matters::Table, Matters::Id), Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_mails_matter_seq_kind_recipient", Mails::Table, &["matter_id", "seq", "notice_kind", "recipient_email"], true)).await?;
        m.create_index(index("ix_mails_status", Mails::Table, &["matter_id", "status"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Mails::Table.into_iden(),
            EvidenceFiles::Table.into_iden(),
            MatterEvents::Table.into_iden(),
            Notices::Table.into_iden(),
            Matters::Table.into_iden(),
            NoticeCounters::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Facilities::Table.into_iden(),
            Regions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

//! Published working-day schedules loaded after release: one row per load, never changed or
//! deleted. The newest row of a year is the schedule in force; older rows say what it replaced.

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_calendar"
    }
}

#[derive(DeriveIden)]
enum CalendarSchedules {
    Table,
    Id,
    Year,
    Source,
    Holidays,
    Workdays,
    Digest,
    LoadedBy,
    LoadedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CalendarSchedules::Table)
                .col(ColumnDef::new(CalendarSchedules::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(CalendarSchedules::Year).integer().not_null())
                .col(short(CalendarSchedules::Source))
                .col(ColumnDef::new(CalendarSchedules::Holidays).text().not_null())
                .col(ColumnDef::new(CalendarSchedules::Workdays).text().not_null())
                .col(ColumnDef::new(CalendarSchedules::Digest).string_len(64).not_null())
                .col(big(CalendarSchedules::LoadedBy))
                .col(big(CalendarSchedules::LoadedAtMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_calendar_schedules_year", CalendarSchedules::Table, &["year", "id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CalendarSchedules::Table).to_owned()).await
    }
}

//! Workflows that stopped on a failure retrying cannot fix (a constraint, an encoding error):
//! one row per workflow, kept after repair (`resolved_ms`) so an operator sees what happened.

use super::m20260101_000001_initial::{big, index, short};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000004_stuck"
    }
}

#[derive(DeriveIden)]
enum StuckWorkflows {
    Table,
    WorkflowId,
    Kind,
    SubjectId,
    Error,
    FirstMs,
    LastMs,
    Failures,
    ResolvedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StuckWorkflows::Table)
                .col(ColumnDef::new(StuckWorkflows::WorkflowId).string_len(255).not_null().primary_key())
                .col(short(StuckWorkflows::Kind))
                .col(short(StuckWorkflows::SubjectId))
                .col(ColumnDef::new(StuckWorkflows::Error).text().not_null())
                .col(big(StuckWorkflows::FirstMs))
                .col(big(StuckWorkflows::LastMs))
                .col(ColumnDef::new(StuckWorkflows::Failures).integer().not_null())
                .col(ColumnDef::new(StuckWorkflows::ResolvedMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_stuck_workflows_open", StuckWorkflows::Table, &["resolved_ms", "last_ms"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StuckWorkflows::Table).to_owned()).await
    }
}

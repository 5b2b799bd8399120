//! Sign-in throttling: one counter row per typed account name and per client address, so the
//! limits hold across restarts and across several console processes. The key is a hash of the
//! subject: typed usernames (sometimes a password typed into the wrong field) are not stored.

use super::m20260101_000001_initial::{big, index};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_signin"
    }
}

#[derive(DeriveIden)]
enum SigninThrottle {
    Table,
    Key,
    Subject,
    Failures,
    LastFailureMs,
    BlockedUntilMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SigninThrottle::Table)
                .col(ColumnDef::new(SigninThrottle::Key).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(SigninThrottle::Subject).string_len(16).not_null())
                .col(ColumnDef::new(SigninThrottle::Failures).integer().not_null())
                .col(big(SigninThrottle::LastFailureMs))
                .col(big(SigninThrottle::BlockedUntilMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_signin_throttle_last_failure", SigninThrottle::Table, &["last_failure_ms"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SigninThrottle::Table).to_owned()).await
    }
}

//! Every notice has its document: a notice issued from the console keeps its content, its HTML
//! and PDF (stored by content hash) and when it was mailed on its `notices` row, in the same
//! columns an inspection's notice has on `inspection_notices`. Rows from before stay empty.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_notice_documents"
    }
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Doc,
    HtmlSha256,
    PdfSha256,
    MailedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(Notices::Doc).text().null().to_owned(),
            ColumnDef::new(Notices::HtmlSha256).string_len(64).null().to_owned(),
            ColumnDef::new(Notices::PdfSha256).string_len(64).null().to_owned(),
            ColumnDef::new(Notices::MailedAtMs).big_integer().null().to_owned(),
        ] {
            m.alter_table(Table::alter().table(Notices::Table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Notices::MailedAtMs, Notices::PdfSha256, Notices::HtmlSha256, Notices::Doc] {
            m.alter_table(Table::alter().table(Notices::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

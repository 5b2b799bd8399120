//! An inspection names the exact template it was assigned: the content hash of the copy its
//! workflow carries (`Template::content_hash`), so the tablet is served that copy and not a
//! catalogue file that changed since. Rows from before stay empty (they were assigned from the
//! built-in catalogue, whose versions are pinned in `checklists/pinned.toml`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000007_template_pins"
    }
}

#[derive(DeriveIden)]
enum Inspections {
    Table,
    TemplateSha256,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let column = ColumnDef::new(Inspections::TemplateSha256).string_len(64).null().to_owned();
        m.alter_table(Table::alter().table(Inspections::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Inspections::Table).drop_column(Inspections::TemplateSha256).to_owned()).await
    }
}

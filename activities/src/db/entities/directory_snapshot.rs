//! A directory as a draw sees it, canonical JSON addressed by its SHA-256. Never changed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `targets` or `inspectors` (with their conflicts).
    pub kind: String,
    pub sha256: String,
    pub content: String,
    pub rows: i32,
    /// What made it: `import`, `edit`, `commitment`, `seed`.
    pub cause: String,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

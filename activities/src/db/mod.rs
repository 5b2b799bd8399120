//! The database: sea-orm entities (one module per table) and the migrator, which is the only
//! source of the schema. Everything here runs on SQLite and PostgreSQL alike.

pub mod entities;
pub mod migration;

pub use migration::Migrator;

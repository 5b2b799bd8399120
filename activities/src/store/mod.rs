//! The store: one database connection pool and the data directory, with the queries the console
//! and the worker share, one file per feature: accounts and sessions (`users`), facilities and
//! regions (`facilities`), matters (`matters`), the deadline board (`board`), notices
//! (`notices`), inspections (`inspections`), the two directories of 双随机 and their snapshots
//! (`directory`), campaigns (`campaigns`). Schedules (`crate::calendar`), the sign-in throttle
//! (`crate::signin`) and held workflows (`crate::ops`) add their own `impl Store` blocks in the
//! modules they belong to.
//!
//! Scoping rule, used by every read for a person: an admin sees everything; a supervisor or an
//! inspector sees the facilities and matters of their region; a facility user sees their own
//! facility. Anything else (an unknown role, a supervisor without a region) sees nothing. It is
//! written once, here ([`in_scope`], [`scope_condition`]); an inspection's rule is its own
//! ([`user_can_see_inspection`]).

mod board;
mod campaigns;
pub mod directory;
mod facilities;
mod inspections;
mod matters;
mod notices;
mod users;

pub use board::Board;
pub use campaigns::CampaignHome;
pub use inspections::{InspectionRow, user_can_see_inspection};
pub use matters::user_can_see;

use crate::db::entities::user;
use crate::db::migration::Migrator;
use crate::{Error, Result};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sea_orm::{ColumnTrait, ConnectOptions, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    /// Where evidence files and the mail outbox live.
    pub data_dir: PathBuf,
}

/// The file path inside a `sqlite:` URL, if it names a file (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// Whether a person may see a matter of this facility and region.
fn in_scope(user: &user::Model, facility_id: i64, region_id: i64) -> bool {
    match user.role.as_str() {
        "admin" => true,
        "supervisor" | "inspector" => user.region_id == Some(region_id),
        "facility" => user.facility_id == Some(facility_id),
        _ => false,
    }
}

/// The same rule as [`in_scope`], as a query condition on a table with `region_id` and a
/// facility column.
fn scope_condition<C: ColumnTrait>(user: &user::Model, region_col: C, facility_col: C) -> Condition {
    match (user.role.as_str(), user.region_id, user.facility_id) {
        ("admin", _, _) => Condition::all(),
        ("supervisor" | "inspector", Some(region), _) => Condition::all().add(region_col.eq(region)),
        ("facility", _, Some(facility)) => Condition::all().add(facility_col.eq(facility)),
        // Always false, written so that every database accepts it.
        _ => Condition::all().add(Expr::val(1).eq(0)),
    }
}

impl Store {
    /// Opens the database and creates the data directory. SQLite files (and their directory)
    /// are created when missing, and run in WAL mode with a busy timeout so the console's reads
    /// and the worker's writes do not fail on each other. (`sqlite::memory:` gives every pooled
    /// connection its own empty database, so it is no use beyond a quick experiment.)
    pub async fn connect(database_url: &str, data_dir: impl Into<PathBuf>) -> Result<Store> {
        let data_dir = data_dir.into();
        std::fs::create_dir_all(&data_dir)?;
        let mut url = database_url.to_string();
        if url.starts_with("sqlite:") {
            if let Some(parent) = sqlite_file(&url).map(Path::new).and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            if sqlite_file(&url).is_some() && !url.contains("mode=") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("mode=rwc");
            }
        } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Invalid(format!("unsupported database URL (use sqlite: or postgres:): {}", url.split(':').next().unwrap_or_default())));
        }
        let mut options = ConnectOptions::new(url);
        // Statement logging at INFO would flood the worker's log; slow statements still warn.
        options
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| o.journal_mode(SqliteJournalMode::Wal).busy_timeout(Duration::from_secs(15)));
        let db = Database::connect(options).await?;
        Ok(Store { db, data_dir })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("sqlite://data/q.db?mode=rwc"), Some("data/q.db"));
        assert_eq!(sqlite_file("sqlite:q.db"), Some("q.db"));
        assert_eq!(sqlite_file("sqlite:///tmp/q.db"), Some("/tmp/q.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }
}

//! Activities and storage for Qingling: the database schema and queries, the hash-chained event
//! log, the evidence store, mail, demo data and the `matter.persist` activity the `Rectification`
//! workflow calls.
//!
//! The building blocks every kind of case uses (matters now; campaigns, star ratings and credit
//! listings to come) are kind-neutral: [`chain`] (a keyed hash-chained event log), [`outbox`]
//! (mails queued in the step's transaction, sent after it), [`numbering`] (the per-bureau,
//! per-year notice register) and [`recipients`] (who an audience is). [`persist`] composes them
//! for matters; [`audit`] verifies and anchors the matters' chains.
//!
//! Invariant: this is the only crate that writes the database. The rules crate decides; the
//! workflow orders; the activity here makes it durable, in one transaction per workflow step.

pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod chain;
pub mod db;
pub mod evidence;
pub mod inspection;
pub mod mail;
pub mod notice_doc;
pub mod notices;
pub mod numbering;
pub mod ops;
pub mod outbox;
pub mod password;
pub mod persist;
pub mod recipients;
pub mod seed;
pub mod signin;
pub mod store;
pub mod tables;

/// Everything that can go wrong in this crate, except evidence refusals (see [`evidence::Error`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("mail: {0}")]
    Mail(String),
    /// A mail or document template failed to render.
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Headless Chromium failed, timed out or wrote no PDF; the message ends with its stderr.
    #[error("PDF rendering: {0}")]
    Pdf(String),
    /// Something the caller named does not exist (a facility, a region). Retrying cannot help.
    #[error("not found: {0}")]
    NotFound(String),
    /// The stored data is not yet in the state the request assumes (an event's predecessor is
    /// missing). Another attempt may find it.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    /// A setting or an argument that can never work (an unsupported database URL, a bad address).
    #[error("invalid: {0}")]
    Invalid(String),
}

impl Error {
    /// Whether trying again later may succeed: infrastructure failures yes, business and
    /// programming errors no. Activities use this to pick retryable or non-retryable failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Db(e) => !db_error_is_permanent(e),
            Error::Io(_) | Error::Mail(_) | Error::Pdf(_) | Error::Inconsistent(_) => true,
            _ => false,
        }
    }
}

/// Whether the database refused the data itself, so the same statement fails every time: a
/// data exception (PostgreSQL class 22: an invalid byte sequence such as NUL, a value too long)
/// or an integrity violation other than a duplicate key (class 23: a missing reference, a null,
/// a check); in SQLite a constraint other than uniqueness, a value too big or a type mismatch.
/// A duplicate key stays retryable: the writes are idempotent, and a retry that finds the row
/// skips it (two attempts of one activity can race).
pub fn db_error_is_permanent(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(db))) | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(db)))) = e else {
        return false;
    };
    let Some(code) = db.code() else { return false };
    if code.len() == 5 {
        // A PostgreSQL SQLSTATE (SQLite's extended result codes have at most four digits).
        return code.starts_with("22") || (code.starts_with("23") && code != "23505");
    }
    // A SQLite extended result code: the primary code is the low byte.
    match code.parse::<i32>() {
        Ok(n) => {
            let unique = n == 2067 || n == 1555;
            matches!(n & 0xff, 18 | 20) || (n & 0xff == 19 && !unique)
        }
        Err(_) => false,
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The lowercase hex SHA-256 of some bytes; used for event hashes, evidence and session ids.
pub(crate) fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes.as_ref()))
}

//! Activities and storage for Qingling: the database schema and queries, the hash-chained event
//! log, the evidence store, mail, demo data and the `matter.persist` activity the `Rectification`
//! workflow calls.
//!
//! Invariant: this is the only crate that writes the database. The rules crate decides; the
//! workflow orders; the activity here makes it durable, in one transaction per workflow step.

pub mod audit;
pub mod calendar;
pub mod db;
pub mod evidence;
pub mod inspection;
pub mod mail;
pub mod notice_doc;
pub mod password;
pub mod persist;
pub mod seed;
pub mod signin;
pub mod store;

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
        matches!(self, Error::Db(_) | Error::Io(_) | Error::Mail(_) | Error::Pdf(_) | Error::Inconsistent(_))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The lowercase hex SHA-256 of some bytes; used for event hashes, evidence and session ids.
pub(crate) fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes.as_ref()))
}

//! The evidence store: files a facility uploads to prove a rectification. The type is read from
//! the file's first bytes (never from its name or the browser's claim), checked against the
//! policy, and the bytes are kept content-addressed under `data_dir/evidence/<ab>/<sha256>`, so
//! the same photo uploaded twice is stored once and a stored file can never change.

use crate::db::entities::evidence_file;
use crate::sha256_hex;
use crate::store::Store;
use qingling_rules::matter::EvidenceRef;
use qingling_rules::policy::EvidenceRules;
use sea_orm::EntityTrait;
use sea_orm::Set;
use sea_orm::sea_query::OnConflict;
use std::path::PathBuf;

/// Why a file was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {got} bytes; at most {max} bytes are allowed")]
    TooLarge { max: u64, got: u64 },
    #[error("the file is not a JPEG, PNG, WEBP or PDF file")]
    UnknownType,
    #[error("{0} files are not accepted as evidence")]
    TypeNotAllowed(String),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Store(e.into())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Store(e.into())
    }
}

/// The content type a file's magic bytes announce, if it is one the store knows.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("application/pdf"),
        _ => None,
    }
}

/// Where the bytes of a stored file live, for serving it.
pub fn path_of(store: &Store, sha256: &str) -> PathBuf {
    let shard = sha256.get(..2).unwrap_or("00");
    store.data_dir.join("evidence").join(shard).join(sha256)
}

/// Writes bytes under their content hash (once; the same bytes again are a no-op) and returns
/// the hash. Used for evidence, checklist photos and rendered notices alike.
pub async fn put_file(store: &Store, bytes: &[u8]) -> std::io::Result<String> {
    let sha256 = sha256_hex(bytes);
    let path = path_of(store, &sha256);
    if !tokio::fs::try_exists(&path).await? {
        let dir = path.parent().expect("evidence paths have a shard directory");
        tokio::fs::create_dir_all(dir).await?;
        // A unique temporary name, then an atomic rename: a concurrent upload of the same file
        // or a crash never leaves a half-written file under the final name.
        let tmp = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
    }
    Ok(sha256)
}

/// A checklist photo as stored: its hash, type and size.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredPhoto {
    pub sha256: String,
    pub content_type: String,
    pub bytes: u64,
}

/// Checks and stores a photo taken for a checklist answer: an image (JPEG, PNG or WEBP, by its
/// bytes) of at most `max_bytes`. Refusals leave nothing behind.
pub async fn store_photo(store: &Store, max_bytes: u64, bytes: &[u8]) -> Result<StoredPhoto, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(Error::TooLarge { max: max_bytes, got: size });
    }
    let content_type = sniff(bytes).ok_or(Error::UnknownType)?;
    if !content_type.starts_with("image/") {
        return Err(Error::TypeNotAllowed(content_type.to_string()));
    }
    let sha256 = put_file(store, bytes).await?;
    Ok(StoredPhoto { sha256, content_type: content_type.to_string(), bytes: size })
}

/// The last component of a name a browser sent (some send `C:\fakepath\photo.jpg`).
fn base_name(original: &str) -> String {
    let name = original.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() { "evidence".to_string() } else { name.chars().take(qingling_rules::input::FILE_NAME_CHARS).collect() }
}

/// Checks an uploaded file and describes it as the store will keep it (hash, type from its first
/// bytes, size, cleaned name), without storing anything.
pub fn describe(rules: &EvidenceRules, bytes: &[u8], original_name: &str) -> Result<EvidenceRef, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let size = bytes.len() as u64;
    if size > rules.max_bytes {
        return Err(Error::TooLarge { max: rules.max_bytes, got: size });
    }
    let content_type = sniff(bytes).ok_or(Error::UnknownType)?;
    if !rules.types.iter().any(|t| t == content_type) {
        return Err(Error::TypeNotAllowed(content_type.to_string()));
    }
    Ok(EvidenceRef { sha256: crate::sha256_hex(bytes), name: base_name(original_name), content_type: content_type.to_string(), bytes: size })
}

/// Checks and stores an uploaded file for a matter; returns the reference the matter's
/// `submit_evidence` action carries. Storing the same file for the same matter again is a no-op.
pub async fn store(
    store: &Store,
    rules: &EvidenceRules,
    bytes: &[u8],
    original_name: &str,
    matter_id: &str,
    uploaded_by: i64,
    now_ms: i64,
) -> Result<EvidenceRef, Error> {
    let described = describe(rules, bytes, original_name)?;
    let sha256 = put_file(store, bytes).await?;
    debug_assert_eq!(sha256, described.sha256);
    let EvidenceRef { name, content_type, bytes: size, .. } = described;
    let row = evidence_file::ActiveModel {
        id: Default::default(),
        sha256: Set(sha256.clone()),
        matter_id: Set(matter_id.to_string()),
        content_type: Set(content_type.clone()),
        bytes: Set(size as i64),
        original_name: Set(name.clone()),
        uploaded_by: Set(uploaded_by),
        uploaded_at_ms: Set(now_ms),
    };
    evidence_file::Entity::insert(row)
        .on_conflict(OnConflict::columns([evidence_file::Column::Sha256, evidence_file::Column::MatterId]).do_nothing().to_owned())
        .do_nothing()
        .exec_without_returning(&store.db)
        .await?;
    Ok(EvidenceRef { sha256, name, content_type, bytes: size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_magic_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"\xFF\xD8"), None);
    }

    #[test]
    fn browser_paths_are_cut_to_the_file_name() {
        assert_eq!(base_name("C:\\fakepath\\整改照片.jpg"), "整改照片.jpg");
        assert_eq!(base_name("a/b/c.png"), "c.png");
        assert_eq!(base_name("  "), "evidence");
    }
}

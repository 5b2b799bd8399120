//! A keyed hash chain any kind of case keeps its event log in: appending events, and checking a
//! chain as stored. The matter log ([`crate::audit::MatterLog`]) is its first user; a campaign,
//! a star rating or a credit listing gets its own by implementing [`Log`] (a table of its own,
//! or rows of a shared table told apart by a `kind` column).
//!
//! Invariant: a subject's events are numbered 1, 2, 3 … with no gap and no repeat; event 1's
//! `prev_hash` is [`GENESIS`], every later event's `prev_hash` is its predecessor's `hash`, and
//! every `hash` is [`event_hash`]: `HMAC-SHA256(key, prev_hash + "\n" + canonical)` in lowercase
//! hex, `canonical` being [`EventContent::canonical`]. The key ([`AuditKey`]) lives in a file
//! outside the database, so someone who can write the database but not read that file can
//! neither edit an event and recompute its hash, nor insert or append one. [`append`] writes only
//! such links, skipping events already stored (so a retried or replayed write is a no-op), and
//! [`check`] names the first link that breaks the rule.
//!
//! Checked by the tests at the end of this file (a tampered chain fails, and the matter log's
//! hashes are pinned to values computed independently of this code, so every stored row still
//! verifies) and by `tests/it/chain.rs` on a real database (append is idempotent, a missing
//! predecessor is refused, two kinds share a table with a `kind` column, a row edited or moved
//! to another kind is found).

use crate::{Error, Result};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The `prev_hash` of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The secret that keys every chain (and the anchor file): 32 random bytes, written as 64 hex
/// digits in a file.
#[derive(Clone)]
pub struct AuditKey(Arc<[u8; 32]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

impl AuditKey {
    pub fn generate() -> Self {
        AuditKey(Arc::new(rand::random()))
    }

    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim()).map_err(|e| Error::Invalid(format!("the audit key is not hex: {e}")))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| Error::Invalid("the audit key must be 64 hex digits (32 bytes)".into()))?;
        Ok(AuditKey(Arc::new(key)))
    }

    /// Reads the key file; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => AuditKey::from_hex(&text).map(Some).map_err(|e| Error::Invalid(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a new key to `path`, readable by its owner only; fails if the file exists.
    pub fn create(path: &Path) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let key = AuditKey::generate();
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        writeln!(f, "{}", hex::encode(key.0.as_ref()))?;
        f.sync_all()?;
        Ok(key)
    }

    /// The lowercase hex HMAC-SHA256 of a message under this key.
    pub(crate) fn mac(&self, message: &[u8]) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.as_ref()).expect("HMAC takes a key of any length");
        mac.update(message);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// What an event's hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventContent<'a> {
    /// The log's tag ([`Log::KIND`]): `None` for the matter log, whose format came before any
    /// other kind; every other kind names itself, so an event copied into another kind's log
    /// (or given another `kind` in a shared table) no longer verifies.
    pub log: Option<&'a str>,
    /// The case the event belongs to (a matter id).
    pub subject: &'a str,
    pub seq: i64,
    pub at_ms: i64,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    /// The payload's JSON text as stored, so the MAC covers exactly the bytes in the database.
    pub payload: &'a str,
}

impl<'a> EventContent<'a> {
    /// The content of a stored row.
    pub fn of<R: Stored>(row: &'a R) -> Self {
        row.link().content
    }

    /// A deterministic serialisation: a JSON array has one spelling for given values, and no
    /// field can bleed into the next the way plain concatenation would allow. The matter log's
    /// array is `[subject, seq, at_ms, kind, actor_id, actor_name, actor_role, payload]`, as it
    /// always was; a tagged log puts its tag first, and a nine-element array is never an
    /// eight-element one, so the two formats cannot collide.
    pub fn canonical(&self) -> String {
        let EventContent { log, subject, seq, at_ms, kind, actor_id, actor_name, actor_role, payload } = *self;
        match log {
            None => serde_json::json!([subject, seq, at_ms, kind, actor_id, actor_name, actor_role, payload]),
            Some(log) => serde_json::json!([log, subject, seq, at_ms, kind, actor_id, actor_name, actor_role, payload]),
        }
        .to_string()
    }
}

/// The hash of an event that follows `prev_hash`. The writer and the verifier both use this.
pub fn event_hash(key: &AuditKey, prev_hash: &str, content: &EventContent<'_>) -> String {
    key.mac(format!("{prev_hash}\n{}", content.canonical()).as_bytes())
}

/// A stored event as the chain sees it: its content and its two hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    pub content: EventContent<'a>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// A row of a chained log.
pub trait Stored {
    fn link(&self) -> Link<'_>;
}

type Entity<L> = <L as Log>::Entity;
type Column<L> = <Entity<L> as EntityTrait>::Column;
type ActiveModel<L> = <Entity<L> as EntityTrait>::ActiveModel;
type Model<L> = <Entity<L> as EntityTrait>::Model;

/// Where one kind keeps its chains: the table, which of its rows are one subject's chain, and
/// how a row is made.
pub trait Log {
    type Entity: EntityTrait<Model: Stored>;
    /// The tag every event of this log names in its hash ([`EventContent::log`]).
    const KIND: Option<&'static str>;
    /// What a subject is called in messages (`matter`).
    const NOUN: &'static str;
    /// The rows of one subject's chain (with a shared table, also of this kind only).
    fn subject(id: &str) -> Condition;
    fn seq() -> Column<Self>;
    fn hash() -> Column<Self>;
    /// A new row holding this link (the id left to the database).
    fn row(link: &Link<'_>) -> ActiveModel<Self>;
}

/// Appends events to one subject's chain, in sequence order, skipping any already stored. Each
/// new event must follow a stored one (or be event 1): a missing predecessor is
/// [`Error::Inconsistent`], which a later attempt may find resolved. Run it in the transaction
/// that stores the rest of the step, so a step is never half-chained. Returns how many events
/// were written.
pub async fn append<L: Log>(db: &impl ConnectionTrait, key: &AuditKey, events: &[EventContent<'_>]) -> Result<usize>
where
    Model<L>: IntoActiveModel<ActiveModel<L>>,
{
    let Some(first) = events.iter().map(|e| e.seq).min() else {
        return Ok(0);
    };
    let subject = events[0].subject;
    if let Some(e) = events.iter().find(|e| e.subject != subject || e.log != L::KIND) {
        return Err(Error::Invalid(format!("one append writes one {} log's chain: {:?}/{} among {:?}/{subject}", L::NOUN, e.log, e.subject, L::KIND)));
    }
    let mut hashes: BTreeMap<i64, String> = L::Entity::find()
        .select_only()
        .column(L::seq())
        .column(L::hash())
        .filter(L::subject(subject))
        .filter(L::seq().gte(first - 1))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut ordered: Vec<&EventContent<'_>> = events.iter().collect();
    ordered.sort_by_key(|e| e.seq);
    let mut written = 0;
    for content in ordered {
        let seq = content.seq;
        if hashes.contains_key(&seq) {
            continue;
        }
        let prev_hash = match seq {
            1 => GENESIS.to_string(),
            _ => hashes
                .get(&(seq - 1))
                .cloned()
                .ok_or_else(|| Error::Inconsistent(format!("{} {subject}: event {} is missing before event {seq}", L::NOUN, seq - 1)))?,
        };
        let hash = event_hash(key, &prev_hash, content);
        L::Entity::insert(L::row(&Link { content: *content, prev_hash: &prev_hash, hash: &hash })).exec_without_returning(db).await?;
        hashes.insert(seq, hash);
        written += 1;
    }
    Ok(written)
}

/// One subject's events in sequence order, as [`check`] takes them.
pub async fn read<L: Log>(db: &impl ConnectionTrait, subject: &str) -> Result<Vec<Model<L>>> {
    Ok(L::Entity::find().filter(L::subject(subject)).order_by_asc(L::seq()).all(db).await?)
}

/// The first place a chain breaks the rule: the event's sequence number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub why: String,
}

/// Checks one subject's events (in sequence order) and returns the first broken link.
/// `recorded_last_seq` is what the subject's own row says was written, and `anchored` a head
/// recorded outside the database (sequence number and hash): both catch a removed tail, which
/// a chain cannot show by itself.
pub fn check<R: Stored>(key: &AuditKey, events: &[R], recorded_last_seq: Option<i64>, anchored: Option<(i64, &str)>) -> Option<Break> {
    check_with(|prev_hash, content| event_hash(key, prev_hash, content), events, recorded_last_seq, anchored)
}

/// [`check`] under another hash rule (the matter log's unkeyed rule from before the key).
pub fn check_with<R: Stored>(
    hash: impl Fn(&str, &EventContent<'_>) -> String,
    events: &[R],
    recorded_last_seq: Option<i64>,
    anchored: Option<(i64, &str)>,
) -> Option<Break> {
    let broken = |seq: i64, why: String| Some(Break { seq, why });
    let mut prev: Option<Link<'_>> = None;
    for row in events {
        let e = row.link();
        let seq = e.content.seq;
        let expected = prev.map_or(1, |p| p.content.seq + 1);
        if seq != expected {
            let why = if seq < expected { "inserted event: sequence number repeated".to_string() } else { format!("sequence gap: expected {expected}") };
            return broken(seq, why);
        }
        if hash(e.prev_hash, &e.content) != e.hash {
            return broken(seq, "hash does not match content".into());
        }
        match prev {
            None if e.prev_hash != GENESIS => return broken(seq, "prev_hash is not the genesis value".into()),
            Some(p) if e.prev_hash != p.hash => return broken(seq, format!("prev_hash does not match event {}", p.content.seq)),
            _ => {}
        }
        if let Some((anchored_seq, anchored_hash)) = anchored
            && anchored_seq == seq
            && anchored_hash != e.hash
        {
            return broken(seq, "differs from the anchored head".into());
        }
        prev = Some(e);
    }
    let last = prev.map_or(0, |p| p.content.seq);
    if let Some((seq, _)) = anchored
        && seq > last
    {
        return broken(last + 1, format!("truncated: the anchor file recorded events up to {seq}, the database ends at {last}"));
    }
    match recorded_last_seq {
        Some(recorded) if recorded > last => broken(last + 1, format!("sequence gap: expected {}", last + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event held in memory, of the matter log or of a tagged one.
    #[derive(Debug, Clone)]
    struct Row {
        log: Option<&'static str>,
        subject: String,
        seq: i64,
        at_ms: i64,
        kind: String,
        actor_name: Option<String>,
        payload: String,
        prev_hash: String,
        hash: String,
    }

    impl Stored for Row {
        fn link(&self) -> Link<'_> {
            Link {
                content: EventContent {
                    log: self.log,
                    subject: &self.subject,
                    seq: self.seq,
                    at_ms: self.at_ms,
                    kind: &self.kind,
                    actor_id: Some(7),
                    actor_name: self.actor_name.as_deref(),
                    actor_role: Some("facility"),
                    payload: &self.payload,
                },
                prev_hash: &self.prev_hash,
                hash: &self.hash,
            }
        }
    }

    fn key() -> AuditKey {
        AuditKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn chain(log: Option<&'static str>, n: i64) -> Vec<Row> {
        let mut out: Vec<Row> = vec![];
        for seq in 1..=n {
            let prev_hash = out.last().map_or(GENESIS.to_string(), |p| p.hash.clone());
            let mut e = Row {
                log,
                subject: "s".into(),
                seq,
                at_ms: 1000 * seq,
                kind: "k".into(),
                actor_name: Some("张三".into()),
                payload: format!("{{\"n\":{seq}}}"),
                prev_hash,
                hash: String::new(),
            };
            e.hash = event_hash(&key(), &e.prev_hash, &EventContent::of(&e));
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_and_each_kind_of_tampering_is_named() {
        for log in [None, Some("campaign")] {
            assert_eq!(check(&key(), &chain(log, 4), Some(4), None), None);

            let mut c = chain(log, 4);
            c[2].payload = "{\"n\":99}".into();
            assert_eq!(check(&key(), &c, None, None), Some(Break { seq: 3, why: "hash does not match content".into() }));

            // Recomputing the edited event's hash with another key does not help.
            let mut c = chain(log, 4);
            c[1].payload = "{}".into();
            c[1].hash = event_hash(&AuditKey::generate(), &c[1].prev_hash, &EventContent::of(&c[1]));
            assert_eq!(check(&key(), &c, None, None).map(|b| b.seq), Some(2));

            // An event re-chained onto another predecessor.
            let mut c = chain(log, 3);
            c[2].prev_hash = c[0].hash.clone();
            c[2].hash = event_hash(&key(), &c[2].prev_hash, &EventContent::of(&c[2]));
            assert_eq!(check(&key(), &c, None, None), Some(Break { seq: 3, why: "prev_hash does not match event 2".into() }));

            let mut c = chain(log, 4);
            c.remove(1);
            assert_eq!(check(&key(), &c, None, None), Some(Break { seq: 3, why: "sequence gap: expected 2".into() }));

            let mut c = chain(log, 4);
            let copy = c[1].clone();
            c.insert(2, copy);
            assert_eq!(check(&key(), &c, None, None), Some(Break { seq: 2, why: "inserted event: sequence number repeated".into() }));

            // A cut tail passes on its own; the recorded last number or an anchor names it.
            let c = chain(log, 3);
            assert_eq!(check(&key(), &c[..2], None, None), None);
            assert_eq!(check(&key(), &c[..2], Some(3), None), Some(Break { seq: 3, why: "sequence gap: expected 3".into() }));
            let b = check(&key(), &c[..2], Some(2), Some((3, &c[2].hash))).unwrap();
            assert!(b.seq == 3 && b.why.starts_with("truncated"), "{b:?}");
            assert_eq!(check(&key(), &c, None, Some((3, &c[1].hash))), Some(Break { seq: 3, why: "differs from the anchored head".into() }));
        }
    }

    #[test]
    fn an_event_moved_into_another_kinds_log_fails() {
        let matter = chain(None, 2);
        let moved: Vec<Row> = matter.iter().cloned().map(|r| Row { log: Some("rating"), ..r }).collect();
        assert_eq!(check(&key(), &moved, None, None).map(|b| b.seq), Some(1));
        let campaign = chain(Some("campaign"), 2);
        let moved: Vec<Row> = campaign.iter().cloned().map(|r| Row { log: Some("rating"), ..r }).collect();
        assert_eq!(check(&key(), &moved, None, None).map(|b| b.seq), Some(1));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let a = Row { kind: "ab".into(), actor_name: Some("c".into()), ..chain(None, 1).remove(0) };
        let b = Row { kind: "a".into(), actor_name: Some("bc".into()), ..chain(None, 1).remove(0) };
        assert_ne!(EventContent::of(&a).canonical(), EventContent::of(&b).canonical());
    }

    /// The matter log's stored format, pinned: these hashes were computed with Python's `hmac`
    /// and `json` modules (not with this code) and match what the code before `chain.rs` wrote,
    /// so every matter event already in a database still verifies.
    #[test]
    fn the_matter_log_format_is_unchanged() {
        let key = AuditKey::from_hex(&"5a".repeat(32)).unwrap();
        let first = EventContent {
            log: None,
            subject: "m-golden",
            seq: 1,
            at_ms: 1795404000000,
            kind: "issued",
            actor_id: Some(7),
            actor_name: Some("李监管（朝阳区民政局）"),
            actor_role: Some("supervisor"),
            payload: r#"{"title":"消防通道堵塞","n":1}"#,
        };
        assert_eq!(
            first.canonical(),
            r#"["m-golden",1,1795404000000,"issued",7,"李监管（朝阳区民政局）","supervisor","{\"title\":\"消防通道堵塞\",\"n\":1}"]"#
        );
        let h1 = event_hash(&key, GENESIS, &first);
        assert_eq!(h1, "68999c6e7d0e059c581d8857793cce9afd1406a4ec2f2dedfebc9f96c73ceeb7");
        let second = EventContent {
            log: None,
            subject: "m-golden",
            seq: 2,
            at_ms: 1795404060000,
            kind: "acknowledged",
            actor_id: None,
            actor_name: None,
            actor_role: None,
            payload: "{}",
        };
        assert_eq!(event_hash(&key, &h1, &second), "979116d96f3310d24a0df691d091204a49500c2d18ddddd9efb51936f2a178ba");
        assert_ne!(event_hash(&key, GENESIS, &EventContent { log: Some("campaign"), ..first }), h1, "a tagged log hashes its tag");
    }

    #[test]
    fn a_key_file_round_trips_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/audit.key");
        assert!(AuditKey::load(&path).unwrap().is_none());
        let k = AuditKey::create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = AuditKey::load(&path).unwrap().unwrap();
        assert_eq!(k.mac(b"x"), again.mac(b"x"));
        assert!(AuditKey::create(&path).is_err(), "an existing key is never overwritten");
        std::fs::write(&path, "not hex").unwrap();
        assert!(AuditKey::load(&path).is_err());
    }
}

//! The audit trail of matters: every matter's event log is a keyed hash chain ([`crate::chain`],
//! whose first user this is: [`MatterLog`]), and the chain heads are anchored outside the
//! database.
//!
//! * Each event's `hash` is `HMAC-SHA256(key, prev_hash + "\n" + canonical)` in lowercase hex,
//!   where `canonical` is the JSON array `[matter_id, seq, at_ms, kind, actor_id, actor_name,
//!   actor_role, payload]` (payload as the stored JSON *text*, so the MAC covers exactly the bytes
//!   in the database). The first event's `prev_hash` is [`GENESIS`]. The key ([`AuditKey`]) lives
//!   in a file outside the database, so someone who can write the database but not read that
//!   file can neither edit an event and recompute its hash, nor insert or append one.
//! * What a keyed chain cannot show by itself is a cut: deleting a matter's last events (or the
//!   whole matter) leaves a shorter chain that is still valid. So the worker periodically appends
//!   an [`Anchor`] to an append-only file outside the database (`QINGLING_AUDIT_ANCHORS`): the
//!   head (last sequence number and hash) of every matter that changed, each line MAC'd and
//!   chained to the previous line. [`verify`] checks that every anchored head is still in the
//!   database, so a truncated chain or a deleted matter is named, as far back as the last anchor.
//!   The latest anchor's MAC is short enough to publish (`qingling audit anchor` prints it).
//!
//! Databases written before chains were keyed carry plain SHA-256 chains; [`seal_legacy`]
//! verifies such a chain under the old rule and re-signs it with the key, once, when the key is
//! first created.

pub use crate::chain::{AuditKey, EventContent, GENESIS, event_hash};

use crate::chain::{self, Link, Log, Stored};
use crate::db::entities::{campaign, matter, matter_event};
use crate::{Error, Result, sha256_hex};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

/// At most this many broken links are listed by [`verify`] (the count is exact).
pub const MAX_LISTED: usize = 1000;

/// The matters' event log: table `matter_events`, one chain per `matter_id`, untagged (its
/// format came before any other kind's).
pub struct MatterLog;

impl Log for MatterLog {
    type Entity = matter_event::Entity;
    const KIND: Option<&'static str> = None;
    const NOUN: &'static str = "matter";

    fn subject(id: &str) -> Condition {
        Condition::all().add(matter_event::Column::MatterId.eq(id))
    }

    fn seq() -> matter_event::Column {
        matter_event::Column::Seq
    }

    fn hash() -> matter_event::Column {
        matter_event::Column::Hash
    }

    fn row(link: &Link<'_>) -> matter_event::ActiveModel {
        let c = &link.content;
        matter_event::ActiveModel {
            id: NotSet,
            matter_id: Set(c.subject.to_string()),
            seq: Set(c.seq),
            at_ms: Set(c.at_ms),
            kind: Set(c.kind.to_string()),
            actor_id: Set(c.actor_id),
            actor_name: Set(c.actor_name.map(str::to_string)),
            actor_role: Set(c.actor_role.map(str::to_string)),
            payload: Set(c.payload.to_string()),
            prev_hash: Set(link.prev_hash.to_string()),
            hash: Set(link.hash.to_string()),
        }
    }
}

impl Stored for matter_event::Model {
    fn link(&self) -> Link<'_> {
        Link {
            content: EventContent {
                log: MatterLog::KIND,
                subject: &self.matter_id,
                seq: self.seq,
                at_ms: self.at_ms,
                kind: &self.kind,
                actor_id: self.actor_id,
                actor_name: self.actor_name.as_deref(),
                actor_role: self.actor_role.as_deref(),
                payload: &self.payload,
            },
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// The unkeyed hash chains were written with before the key existed.
fn legacy_hash(prev_hash: &str, content: &EventContent<'_>) -> String {
    sha256_hex(format!("{prev_hash}\n{}", content.canonical()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub matters: usize,
    pub events: usize,
    /// Campaigns and their events (each campaign's chain is checked as stored; the anchor file
    /// covers matters only).
    pub campaigns: usize,
    pub campaign_events: usize,
    /// Anchor lines read, and the time of the latest.
    pub anchors: usize,
    pub latest_anchor_ms: Option<i64>,
    /// Every problem found (at most [`MAX_LISTED`]): the first broken link of each matter, in
    /// matter id order, then problems of the anchor file itself.
    pub broken: Vec<BrokenLink>,
    /// How many problems there are in all.
    pub broken_count: usize,
}

impl AuditReport {
    pub fn first_broken(&self) -> Option<&BrokenLink> {
        self.broken.first()
    }

    fn push(&mut self, link: BrokenLink) {
        self.broken_count += 1;
        if self.broken.len() < MAX_LISTED {
            self.broken.push(link);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// What the chain belongs to: `matter` or `campaign`.
    pub subject: &'static str,
    /// The matter's or campaign's id.
    pub matter_id: String,
    pub seq: i64,
    pub why: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} event {}: {}", self.subject, self.matter_id, self.seq, self.why)
    }
}

/// Checks one matter's events (in sequence order) and returns the first broken link.
/// `recorded_last_seq` is what the matter row says was written, and `anchored` the head the
/// anchor file last recorded (sequence number and hash): both catch a removed tail.
pub fn check_chain(
    key: &AuditKey,
    matter_id: &str,
    events: &[matter_event::Model],
    recorded_last_seq: Option<i64>,
    anchored: Option<(i64, &str)>,
) -> Option<BrokenLink> {
    chain::check(key, events, recorded_last_seq, anchored).map(|b| BrokenLink { subject: "matter", matter_id: matter_id.to_string(), seq: b.seq, why: b.why })
}

/// Verifies every matter's chain, and every head the anchor file recorded. Reads one matter at a
/// time so memory stays flat however long the histories grow (the anchored heads are held: about
/// 100 bytes per matter).
pub async fn verify<C: ConnectionTrait>(db: &C, key: &AuditKey, anchors: Option<&Path>) -> Result<AuditReport> {
    let mut report =
        AuditReport { matters: 0, events: 0, campaigns: 0, campaign_events: 0, anchors: 0, latest_anchor_ms: None, broken: vec![], broken_count: 0 };
    let mut heads: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut anchor_problems = vec![];
    if let Some(path) = anchors {
        let log = AnchorLog::read(key, path)?;
        report.anchors = log.lines;
        report.latest_anchor_ms = log.last.as_ref().map(|a| a.at_ms);
        heads = log.heads;
        anchor_problems = log.problems;
    }
    let matters: Vec<(String, i64)> = matter::Entity::find()
        .select_only()
        .column(matter::Column::Id)
        .column(matter::Column::LastSeq)
        .order_by_asc(matter::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    report.matters = matters.len();
    for (matter_id, last_seq) in matters {
        let events = chain::read::<MatterLog>(db, &matter_id).await?;
        report.events += events.len();
        let anchored = heads.remove(&matter_id);
        let anchored = anchored.as_ref().map(|(s, h)| (*s, h.as_str()));
        if let Some(b) = check_chain(key, &matter_id, &events, Some(last_seq), anchored) {
            report.push(explain_legacy(b, &events));
        }
    }
    // Anchored matters the database no longer has at all.
    for (matter_id, (seq, _)) in heads {
        report.push(BrokenLink {
            subject: "matter",
            matter_id,
            seq: 1,
            why: format!("deleted: the anchor file recorded this matter up to event {seq}, the database has no such matter"),
        });
    }
    for p in anchor_problems {
        report.push(p);
    }
    let campaigns: Vec<String> =
        campaign::Entity::find().select_only().column(campaign::Column::Id).order_by_asc(campaign::Column::Id).into_tuple().all(db).await?;
    report.campaigns = campaigns.len();
    for id in campaigns {
        let events = chain::read::<crate::campaign::CampaignLog>(db, &id).await?;
        report.campaign_events += events.len();
        if let Some(b) = chain::check(key, &events, None, None) {
            report.push(BrokenLink { subject: "campaign", matter_id: id, seq: b.seq, why: b.why });
        }
    }
    Ok(report)
}

/// A chain whose first event is hashed under the unkeyed rule was either written before the key
/// and left unsigned (it was already broken when the key was made) or forged by someone without
/// the key: the link named stays the keyed rule's, with a hint.
fn explain_legacy(b: BrokenLink, events: &[matter_event::Model]) -> BrokenLink {
    let unkeyed = events.first().is_some_and(|e| legacy_hash(&e.prev_hash, &EventContent::of(e)) == e.hash);
    match unkeyed {
        true => BrokenLink { why: format!("{} (event 1 is hashed without the key: a chain from before the audit key, or a forgery)", b.why), ..b },
        false => b,
    }
}

/// Re-signs, with `key`, every chain still hashed under the unkeyed rule, after checking it under
/// that rule. A chain that does not check out is left as it is (and `verify` will name it).
/// Returns (chains re-signed, chains left broken).
pub async fn seal_legacy<C: ConnectionTrait + TransactionTrait>(db: &C, key: &AuditKey) -> Result<(usize, usize)> {
    let ids: Vec<String> = matter::Entity::find().select_only().column(matter::Column::Id).order_by_asc(matter::Column::Id).into_tuple().all(db).await?;
    let (mut sealed, mut left) = (0, 0);
    for matter_id in ids {
        let txn = db.begin().await?;
        let events = chain::read::<MatterLog>(&txn, &matter_id).await?;
        if events.is_empty() || chain::check(key, &events, None, None).is_none() {
            continue;
        }
        if let Some(b) = chain::check_with(legacy_hash, &events, None, None) {
            let b = BrokenLink { subject: "matter", matter_id: matter_id.clone(), seq: b.seq, why: b.why };
            tracing::error!(%b, "an unkeyed chain is already broken; left as it is");
            left += 1;
            continue;
        }
        let mut prev_hash = GENESIS.to_string();
        for e in events {
            let hash = event_hash(key, &prev_hash, &EventContent::of(&e));
            let row = matter_event::ActiveModel { id: Set(e.id), prev_hash: Set(prev_hash), hash: Set(hash.clone()), ..Default::default() };
            matter_event::Entity::update(row).exec(&txn).await?;
            prev_hash = hash;
        }
        txn.commit().await?;
        sealed += 1;
    }
    Ok((sealed, left))
}

/// Whether the database holds events and its oldest one is hashed under the unkeyed rule.
pub async fn holds_legacy_chains<C: ConnectionTrait>(db: &C) -> Result<Option<bool>> {
    let Some(first) = matter_event::Entity::find().filter(matter_event::Column::Seq.eq(1)).order_by_asc(matter_event::Column::Id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(legacy_hash(&first.prev_hash, &EventContent::of(&first)) == first.hash))
}

/// One line of the anchor file: the heads of the matters that changed since the anchor before
/// the previous one (the overlap covers a transaction that committed late), MAC'd and chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// 1, 2, 3… in the file.
    pub n: u64,
    pub at_ms: i64,
    /// The event ids this anchor looked at: `since < id <= upto`.
    pub since_event_id: i64,
    pub upto_event_id: i64,
    /// `[matter_id, seq, hash]` of each matter's last event.
    pub heads: Vec<(String, i64, String)>,
    /// The previous line's `mac` ([`GENESIS`] for the first).
    pub prev: String,
    pub mac: String,
}

impl Anchor {
    fn signed_part(&self) -> String {
        serde_json::json!(["qingling-anchor-v1", self.n, self.at_ms, self.since_event_id, self.upto_event_id, self.heads, self.prev]).to_string()
    }
}

/// The anchor file as read back: the latest anchored head of each matter, and any problems.
struct AnchorLog {
    lines: usize,
    last: Option<Anchor>,
    /// The anchor before `last` (its `upto` is where the next anchor starts looking).
    before_last: Option<Anchor>,
    heads: BTreeMap<String, (i64, String)>,
    problems: Vec<BrokenLink>,
}

impl AnchorLog {
    fn read(key: &AuditKey, path: &Path) -> Result<AnchorLog> {
        let mut log = AnchorLog { lines: 0, last: None, before_last: None, heads: BTreeMap::new(), problems: vec![] };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(log),
            Err(e) => return Err(e.into()),
        };
        let problem =
            |line: usize, why: String| BrokenLink { subject: "matter", matter_id: format!("(anchor file {} line {line})", path.display()), seq: 0, why };
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            log.lines += 1;
            let a: Anchor = match serde_json::from_str(&line) {
                Ok(a) => a,
                Err(e) => {
                    log.problems.push(problem(i + 1, format!("not an anchor: {e}")));
                    continue;
                }
            };
            let (want_n, want_prev) = log.last.as_ref().map_or((1, GENESIS.to_string()), |p| (p.n + 1, p.mac.clone()));
            if key.mac(a.signed_part().as_bytes()) != a.mac {
                log.problems.push(problem(i + 1, "MAC does not match (edited, or written with another key)".into()));
            } else if a.n != want_n || a.prev != want_prev {
                log.problems.push(problem(i + 1, format!("anchor {} does not follow anchor {} (lines removed or reordered)", a.n, want_n - 1)));
            }
            for (matter_id, seq, hash) in &a.heads {
                let e = log.heads.entry(matter_id.clone()).or_insert((0, String::new()));
                if *seq >= e.0 {
                    *e = (*seq, hash.clone());
                }
            }
            log.before_last = log.last.replace(a);
        }
        Ok(log)
    }
}

/// Appends an anchor of the heads of every matter with events since the anchor before the last
/// one. Returns `None` when nothing changed since the last anchor (no line is written).
pub async fn anchor<C: ConnectionTrait>(db: &C, key: &AuditKey, path: &Path, now_ms: i64) -> Result<Option<Anchor>> {
    let log = AnchorLog::read(key, path)?;
    if let Some(p) = log.problems.first() {
        return Err(Error::Invalid(format!("the anchor file is damaged, not appending to it: {}: {}", p.matter_id, p.why)));
    }
    let last_upto = log.last.as_ref().map_or(0, |a| a.upto_event_id);
    let since = log.before_last.as_ref().map_or(0, |a| a.upto_event_id);
    let rows: Vec<(i64, String, i64, String)> = matter_event::Entity::find()
        .select_only()
        .column(matter_event::Column::Id)
        .column(matter_event::Column::MatterId)
        .column(matter_event::Column::Seq)
        .column(matter_event::Column::Hash)
        .filter(matter_event::Column::Id.gt(since))
        .order_by_asc(matter_event::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let upto = rows.iter().map(|r| r.0).max().unwrap_or(last_upto).max(last_upto);
    if upto == last_upto && log.last.is_some() {
        return Ok(None);
    }
    let mut heads: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for (_, matter_id, seq, hash) in rows {
        let e = heads.entry(matter_id).or_insert((0, String::new()));
        if seq >= e.0 {
            *e = (seq, hash);
        }
    }
    let (n, prev) = log.last.as_ref().map_or((1, GENESIS.to_string()), |p| (p.n + 1, p.mac.clone()));
    let mut a = Anchor {
        n,
        at_ms: now_ms,
        since_event_id: since,
        upto_event_id: upto,
        heads: heads.into_iter().map(|(m, (s, h))| (m, s, h)).collect(),
        prev,
        mac: String::new(),
    };
    a.mac = key.mac(a.signed_part().as_bytes());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{}", serde_json::to_string(&a)?)?;
    f.sync_all()?;
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn chain(n: i64) -> Vec<matter_event::Model> {
        let mut out: Vec<matter_event::Model> = vec![];
        for seq in 1..=n {
            let prev_hash = out.last().map_or(GENESIS.to_string(), |p| p.hash.clone());
            let mut e = matter_event::Model {
                id: seq,
                matter_id: "m".into(),
                seq,
                at_ms: 1000 * seq,
                kind: "k".into(),
                actor_id: Some(7),
                actor_name: Some("张三".into()),
                actor_role: Some("facility".into()),
                payload: format!("{{\"n\":{seq}}}"),
                prev_hash,
                hash: String::new(),
            };
            e.hash = event_hash(&key(), &e.prev_hash, &EventContent::of(&e));
            out.push(e);
        }
        out
    }

    fn check(c: &[matter_event::Model], recorded: Option<i64>) -> Option<BrokenLink> {
        check_chain(&key(), "m", c, recorded, None)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(check(&chain(4), Some(4)), None);
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let mut c = chain(4);
        c[2].payload = "{\"n\":99}".into();
        assert_eq!(check(&c, None).unwrap().why, "hash does not match content");

        let mut c = chain(4);
        c.remove(1);
        let b = check(&c, None).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (3, "sequence gap: expected 2"));

        // Recomputing the hash of an edited event without the key does not help.
        let mut c = chain(4);
        c[1].payload = "{}".into();
        c[1].hash = legacy_hash(&c[1].prev_hash, &EventContent::of(&c[1]));
        let b = check(&c, None).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (2, "hash does not match content"));

        // With another key neither.
        let other = AuditKey::from_hex(&"cd".repeat(32)).unwrap();
        let mut c = chain(4);
        c[3].payload = "{}".into();
        c[3].hash = event_hash(&other, &c[3].prev_hash, &EventContent::of(&c[3]));
        assert_eq!(check(&c, None).unwrap().seq, 4);

        // An inserted event repeats a sequence number.
        let mut c = chain(4);
        let copy = c[1].clone();
        c.insert(2, copy);
        let b = check(&c, None).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (2, "inserted event: sequence number repeated"));

        let c = chain(3);
        let b = check(&c, Some(5)).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (4, "sequence gap: expected 4"));
    }

    #[test]
    fn a_cut_chain_is_found_against_its_anchor() {
        let c = chain(5);
        let head = (5, c[4].hash.as_str());
        assert_eq!(check_chain(&key(), "m", &c, Some(5), Some(head)), None);
        let cut = &c[..3];
        // The matter row was rewritten to match (recorded 3): only the anchor sees the cut.
        let b = check_chain(&key(), "m", cut, Some(3), Some(head)).unwrap();
        assert_eq!(b.seq, 4);
        assert!(b.why.starts_with("truncated"), "{b}");
        // An earlier head, still present, checks out.
        assert_eq!(check_chain(&key(), "m", cut, Some(3), Some((2, c[1].hash.as_str()))), None);
    }

    #[test]
    fn a_legacy_chain_is_recognised_as_such() {
        let mut c = chain(2);
        for i in 0..c.len() {
            c[i].prev_hash = if i == 0 { GENESIS.into() } else { c[i - 1].hash.clone() };
            c[i].hash = legacy_hash(&c[i].prev_hash, &EventContent::of(&c[i]));
        }
        assert!(chain::check_with(legacy_hash, &c, None, None).is_none());
        assert!(check(&c, None).is_some(), "an unkeyed chain does not pass as keyed");
    }
}

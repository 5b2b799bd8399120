//! The audit trail: every matter's event log is a hash chain. Each event's hash covers its own
//! content and its predecessor's hash, so changing, removing or inserting an event breaks the
//! chain from that point on, and [`verify`] names the first broken link.
//!
//! `hash = sha256_hex(prev_hash + "\n" + canonical)`, where `canonical` is the JSON array
//! `[matter_id, seq, at_ms, kind, actor_id, actor_name, actor_role, payload]` (payload as the
//! stored JSON *text*, so the hash covers exactly the bytes in the database). The first event's
//! `prev_hash` is [`GENESIS`].

use crate::db::entities::{matter, matter_event};
use crate::{Result, sha256_hex};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The `prev_hash` of a matter's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an event's hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventContent<'a> {
    pub matter_id: &'a str,
    pub seq: i64,
    pub at_ms: i64,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    /// The payload's JSON text as stored.
    pub payload: &'a str,
}

impl<'a> EventContent<'a> {
    pub fn of(row: &'a matter_event::Model) -> Self {
        EventContent {
            matter_id: &row.matter_id,
            seq: row.seq,
            at_ms: row.at_ms,
            kind: &row.kind,
            actor_id: row.actor_id,
            actor_name: row.actor_name.as_deref(),
            actor_role: row.actor_role.as_deref(),
            payload: &row.payload,
        }
    }

    /// A deterministic serialisation: a JSON array has one spelling for given values, and no
    /// field can bleed into the next the way plain concatenation would allow.
    pub fn canonical(&self) -> String {
        serde_json::json!([self.matter_id, self.seq, self.at_ms, self.kind, self.actor_id, self.actor_name, self.actor_role, self.payload]).to_string()
    }
}

/// The hash of an event that follows `prev_hash`. The writer and the verifier both use this.
pub fn event_hash(prev_hash: &str, content: &EventContent<'_>) -> String {
    sha256_hex(format!("{prev_hash}\n{}", content.canonical()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub matters: usize,
    pub events: usize,
    /// The first broken link found, matters taken in id order and events in sequence order.
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub matter_id: String,
    pub seq: i64,
    pub why: String,
}

/// Checks one matter's events (in sequence order) and returns the first broken link.
/// `recorded_last_seq` is what the matter row says was written, which catches a removed tail.
pub fn check_chain(matter_id: &str, events: &[matter_event::Model], recorded_last_seq: Option<i64>) -> Option<BrokenLink> {
    let broken = |seq: i64, why: String| Some(BrokenLink { matter_id: matter_id.to_string(), seq, why });
    let mut prev: Option<&matter_event::Model> = None;
    for e in events {
        let expected = prev.map_or(1, |p| p.seq + 1);
        if e.seq != expected {
            return broken(e.seq, format!("sequence gap: expected {expected}"));
        }
        if event_hash(&e.prev_hash, &EventContent::of(e)) != e.hash {
            return broken(e.seq, "hash does not match content".into());
        }
        match prev {
            None if e.prev_hash != GENESIS => return broken(e.seq, "prev_hash is not the genesis value".into()),
            Some(p) if e.prev_hash != p.hash => return broken(e.seq, format!("prev_hash does not match event {}", p.seq)),
            _ => {}
        }
        prev = Some(e);
    }
    let last = prev.map_or(0, |p| p.seq);
    match recorded_last_seq {
        Some(recorded) if recorded > last => broken(last + 1, format!("sequence gap: expected {}", last + 1)),
        _ => None,
    }
}

/// Verifies every matter's chain. Reads one matter at a time so memory stays flat however long
/// the history grows.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<AuditReport> {
    let matters: Vec<(String, i64)> = matter::Entity::find()
        .select_only()
        .column(matter::Column::Id)
        .column(matter::Column::LastSeq)
        .order_by_asc(matter::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut report = AuditReport { matters: matters.len(), events: 0, first_broken: None };
    for (matter_id, last_seq) in matters {
        let events = matter_event::Entity::find().filter(matter_event::Column::MatterId.eq(&matter_id)).order_by_asc(matter_event::Column::Seq).all(db).await?;
        report.events += events.len();
        if report.first_broken.is_none() {
            report.first_broken = check_chain(&matter_id, &events, Some(last_seq));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            e.hash = event_hash(&e.prev_hash, &EventContent::of(&e));
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(check_chain("m", &chain(4), Some(4)), None);
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let mut c = chain(4);
        c[2].payload = "{\"n\":99}".into();
        assert_eq!(check_chain("m", &c, None).unwrap().why, "hash does not match content");

        let mut c = chain(4);
        c.remove(1);
        let b = check_chain("m", &c, None).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (3, "sequence gap: expected 2"));

        // A forger who recomputes the changed event's hash still breaks the next link.
        let mut c = chain(4);
        c[1].payload = "{}".into();
        c[1].hash = event_hash(&c[1].prev_hash, &EventContent::of(&c[1]));
        let b = check_chain("m", &c, None).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (3, "prev_hash does not match event 2"));

        let c = chain(3);
        let b = check_chain("m", &c, Some(5)).unwrap();
        assert_eq!((b.seq, b.why.as_str()), (4, "sequence gap: expected 4"));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let a = matter_event::Model { kind: "ab".into(), actor_name: Some("c".into()), ..chain(1).remove(0) };
        let b = matter_event::Model { kind: "a".into(), actor_name: Some("bc".into()), ..chain(1).remove(0) };
        assert_ne!(EventContent::of(&a).canonical(), EventContent::of(&b).canonical());
    }
}

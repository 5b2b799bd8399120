//! The keyed chain and its anchors as stored: an intact log verifies; someone who can write the
//! database but does not hold the key cannot edit, insert, delete or cut off events unseen, and
//! `verify` names the matter and the event.

use crate::{Driver, Fixture, monday_10am, test_key};
use qingling_activities::audit::{self, AuditKey, EventContent, anchor, verify};
use qingling_rules::matter::Action;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> u64 {
    // `?` placeholders, numbered for PostgreSQL.
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => sql.to_string(),
    };
    db.execute(Statement::from_sql_and_values(backend, sql, values)).await.unwrap().rows_affected()
}

/// Three events per matter: issued, acknowledged, feedback.
async fn matters(fx: &Fixture, ids: &[&str]) {
    let acts = fx.activities();
    let now = monday_10am();
    for id in ids {
        let mut d = Driver::open(id, fx.facility_id, fx.supervisor_actor(), now);
        acts.persist_batch(&d.take_batch()).await.unwrap();
        d.act(&fx.facility_actor(), Action::Acknowledge { handler: "李主任".into() }, now + 1000);
        d.act(&fx.facility_actor(), Action::Feedback { text: "已清理通道".into(), plan: vec![] }, now + 2000);
        acts.persist_batch(&d.take_batch()).await.unwrap();
    }
}

/// What a forger without the key would write: the old unkeyed rule, or any other key.
fn forged_hash(prev_hash: &str, content: &EventContent<'_>) -> String {
    audit::event_hash(&AuditKey::generate(), prev_hash, content)
}

#[tokio::test]
async fn verify_names_each_kind_of_tampering_even_with_hashes_recomputed() {
    let fx = Fixture::new().await;
    let key = test_key();
    let anchors = fx.dir.path().join("anchors.jsonl");
    matters(&fx, &["a-edit", "b-insert", "c-delete", "d-cut", "e-gone", "f-intact"]).await;
    let first = anchor(&fx.store.db, &key, &anchors, monday_10am()).await.unwrap().expect("an anchor");
    assert_eq!((first.n, first.heads.len()), (1, 6));
    assert!(first.heads.iter().all(|(_, seq, _)| *seq == 3));
    assert_eq!(anchor(&fx.store.db, &key, &anchors, monday_10am()).await.unwrap(), None, "nothing new, no line");
    let intact = verify(&fx.store.db, &key, Some(&anchors)).await.unwrap();
    assert_eq!((intact.matters, intact.events, intact.anchors, intact.broken.len()), (6, 18, 1, 0));

    let db = &fx.store.db;

    // a: what the facility said is rewritten, and the hashes from there on recomputed.
    let mut a = fx.store.events("a-edit").await.unwrap();
    a[2].payload = r#"{"text":"按期完成","plan":[]}"#.into();
    let mut prev = a[1].hash.clone();
    for e in &mut a[2..] {
        e.prev_hash = prev.clone();
        e.hash = forged_hash(&e.prev_hash, &EventContent::of(e));
        prev = e.hash.clone();
        exec(
            db,
            "UPDATE matter_events SET payload = ?, prev_hash = ?, hash = ? WHERE id = ?",
            vec![e.payload.clone().into(), e.prev_hash.clone().into(), e.hash.clone().into(), e.id.into()],
        )
        .await;
    }

    // b: an event slipped in before the last one, the later one renumbered, hashes recomputed.
    let b = fx.store.events("b-insert").await.unwrap();
    exec(db, "UPDATE matter_events SET seq = 4 WHERE id = ?", vec![b[2].id.into()]).await;
    let mut slipped = b[1].clone();
    slipped.seq = 3;
    slipped.kind = "extension_approved".into();
    slipped.payload = r#"{"until_ms":0}"#.into();
    slipped.prev_hash = b[1].hash.clone();
    slipped.hash = forged_hash(&slipped.prev_hash, &EventContent::of(&slipped));
    exec(
        db,
        "INSERT INTO matter_events (matter_id, seq, at_ms, kind, actor_id, actor_name, actor_role, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            slipped.matter_id.clone().into(),
            slipped.seq.into(),
            slipped.at_ms.into(),
            slipped.kind.clone().into(),
            slipped.actor_id.into(),
            slipped.actor_name.clone().into(),
            slipped.actor_role.clone().into(),
            slipped.payload.clone().into(),
            slipped.prev_hash.clone().into(),
            slipped.hash.clone().into(),
        ],
    )
    .await;
    exec(db, "UPDATE matters SET last_seq = 4 WHERE id = 'b-insert'", vec![]).await;

    // c: an event deleted from the middle.
    assert_eq!(exec(db, "DELETE FROM matter_events WHERE matter_id = 'c-delete' AND seq = 2", vec![]).await, 1);

    // d: the last event cut off, and the matter row made to agree.
    assert_eq!(exec(db, "DELETE FROM matter_events WHERE matter_id = 'd-cut' AND seq = 3", vec![]).await, 1);
    exec(db, "UPDATE matters SET last_seq = 2 WHERE id = 'd-cut'", vec![]).await;

    // e: the whole matter removed, notice and all.
    exec(db, "DELETE FROM matter_events WHERE matter_id = 'e-gone'", vec![]).await;
    exec(db, "DELETE FROM notices WHERE matter_id = 'e-gone'", vec![]).await;
    exec(db, "DELETE FROM mails WHERE matter_id = 'e-gone'", vec![]).await;
    exec(db, "DELETE FROM matters WHERE id = 'e-gone'", vec![]).await;

    let report = verify(db, &key, Some(&anchors)).await.unwrap();
    let found: Vec<(String, i64, String)> = report.broken.iter().map(|b| (b.matter_id.clone(), b.seq, b.why.clone())).collect();
    assert_eq!(report.broken_count, 5, "{found:#?}");
    let why = |id: &str| found.iter().find(|b| b.0 == id).map(|b| (b.1, b.2.clone())).unwrap_or_else(|| panic!("{id} not found: {found:#?}"));
    assert_eq!(why("a-edit"), (3, "hash does not match content".into()));
    assert_eq!(why("b-insert"), (3, "hash does not match content".into()));
    assert_eq!(why("c-delete"), (3, "sequence gap: expected 2".into()));
    let (seq, text) = why("d-cut");
    assert_eq!(seq, 3);
    assert!(text.starts_with("truncated"), "{text}");
    let (seq, text) = why("e-gone");
    assert_eq!(seq, 1);
    assert!(text.starts_with("deleted"), "{text}");
    assert!(!found.iter().any(|b| b.0 == "f-intact"));

    // Without the anchors the cut chain passes: that is what the anchors are for.
    let unanchored = verify(db, &key, None).await.unwrap();
    assert!(!unanchored.broken.iter().any(|b| b.matter_id == "d-cut" || b.matter_id == "e-gone"));
}

#[tokio::test]
async fn an_edited_anchor_file_is_refused_and_named() {
    let fx = Fixture::new().await;
    let key = test_key();
    let anchors = fx.dir.path().join("anchors.jsonl");
    matters(&fx, &["m1"]).await;
    anchor(&fx.store.db, &key, &anchors, monday_10am()).await.unwrap().unwrap();
    matters(&fx, &["m2"]).await;
    let second = anchor(&fx.store.db, &key, &anchors, monday_10am() + 1).await.unwrap().unwrap();
    assert_eq!((second.n, second.since_event_id), (2, 0), "the second anchor looks back over the first's interval too");
    assert!(second.heads.iter().any(|h| h.0 == "m2"));
    // Lowering an anchored head to hide a later cut breaks the line's MAC.
    let text = std::fs::read_to_string(&anchors).unwrap();
    let edited = text.replacen(r#"["m1",3,"#, r#"["m1",2,"#, 1);
    assert_ne!(text, edited);
    std::fs::write(&anchors, edited).unwrap();
    let report = verify(&fx.store.db, &key, Some(&anchors)).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{:?}", report.broken);
    assert!(report.broken[0].matter_id.contains("line 1") && report.broken[0].why.starts_with("MAC does not match"), "{:?}", report.broken);
    assert!(anchor(&fx.store.db, &key, &anchors, monday_10am() + 2).await.is_err(), "no anchor is added to a damaged file");
    // Removing the first line breaks the line chain.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&anchors, format!("{}\n", lines[1])).unwrap();
    let report = verify(&fx.store.db, &key, Some(&anchors)).await.unwrap();
    assert!(report.broken.iter().any(|b| b.why.contains("does not follow")), "{:?}", report.broken);
}

#[tokio::test]
async fn unkeyed_chains_from_before_the_key_are_checked_and_re_signed_once() {
    use sha2::Digest;
    let fx = Fixture::new().await;
    let key = test_key();
    matters(&fx, &["old-1", "old-2"]).await;
    // Rewrite both chains under the old unkeyed rule, as a database from before the key holds them.
    for id in ["old-1", "old-2"] {
        let mut prev = audit::GENESIS.to_string();
        for e in fx.store.events(id).await.unwrap() {
            let hash = hex::encode(sha2::Sha256::digest(format!("{prev}\n{}", EventContent::of(&e).canonical())));
            exec(&fx.store.db, "UPDATE matter_events SET prev_hash = ?, hash = ? WHERE id = ?", vec![prev.clone().into(), hash.clone().into(), e.id.into()])
                .await;
            prev = hash;
        }
    }
    // One of them was tampered with before the upgrade: it must not be blessed by re-signing.
    exec(&fx.store.db, "UPDATE matter_events SET payload = '{}' WHERE matter_id = 'old-2' AND seq = 2", vec![]).await;
    assert_eq!(audit::holds_legacy_chains(&fx.store.db).await.unwrap(), Some(true));
    assert_eq!(verify(&fx.store.db, &key, None).await.unwrap().broken_count, 2);
    assert_eq!(audit::seal_legacy(&fx.store.db, &key).await.unwrap(), (1, 1));
    let report = verify(&fx.store.db, &key, None).await.unwrap();
    assert_eq!(report.broken.iter().map(|b| (b.matter_id.as_str(), b.seq)).collect::<Vec<_>>(), [("old-2", 1)]);
    assert!(report.broken[0].why.contains("hashed without the key"), "{:?}", report.broken);
    assert_eq!(audit::seal_legacy(&fx.store.db, &key).await.unwrap(), (0, 1), "a keyed chain is not signed again");
}

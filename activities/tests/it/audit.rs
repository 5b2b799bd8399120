//! The hash chain as stored: an intact log verifies, a changed payload is found and named.

use crate::{Driver, Fixture, monday_10am};
use qingling_activities::audit::verify;
use qingling_rules::matter::Action;
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn verify_names_the_matter_and_event_whose_payload_was_changed() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    for id in ["a-matter", "b-matter"] {
        let mut d = Driver::open(id, fx.facility_id, fx.supervisor_actor(), now);
        acts.persist_batch(&d.take_batch()).await.unwrap();
        d.act(&fx.facility_actor(), Action::Acknowledge { handler: "李主任".into() }, now + 1000);
        d.act(&fx.facility_actor(), Action::Feedback { text: "已清理通道".into(), plan: vec![] }, now + 2000);
        acts.persist_batch(&d.take_batch()).await.unwrap();
    }
    let intact = verify(&fx.store.db).await.unwrap();
    assert_eq!((intact.matters, intact.events, intact.first_broken), (2, 6, None));

    // Someone with database access rewrites what the facility said.
    let db = &fx.store.db;
    db.execute(Statement::from_string(
        db.get_database_backend(),
        "UPDATE matter_events SET payload = '{\"text\":\"按期完成\",\"plan\":[]}' WHERE matter_id = 'b-matter' AND seq = 3",
    ))
    .await
    .unwrap();
    let report = verify(db).await.unwrap();
    let broken = report.first_broken.expect("the change is found");
    assert_eq!((broken.matter_id.as_str(), broken.seq, broken.why.as_str()), ("b-matter", 3, "hash does not match content"));
    assert_eq!(report.events, 6);

    // Deleting an event from the middle breaks the sequence.
    db.execute(Statement::from_string(db.get_database_backend(), "DELETE FROM matter_events WHERE matter_id = 'a-matter' AND seq = 2")).await.unwrap();
    let broken = verify(db).await.unwrap().first_broken.unwrap();
    assert_eq!((broken.matter_id.as_str(), broken.seq, broken.why.as_str()), ("a-matter", 3, "sequence gap: expected 2"));
}

//! The `matter.persist` activity's work: idempotence, numbering, projection and mails.

use crate::{Driver, Fixture, monday_10am};
use qingling_activities::db::entities::notice;
use qingling_rules::matter::Action;
use sea_orm::{EntityTrait, QueryOrder};
use std::collections::BTreeSet;
use temporalio_common::ActivityDefinition;

#[test]
fn the_activity_is_registered_under_the_contract_name() {
    use qingling_activities::persist::MatterActivitiesImpl;
    use qingling_workflows::contract::MatterActivities;
    assert_eq!(MatterActivitiesImpl::persist.name(), "matter.persist");
    assert_eq!(MatterActivitiesImpl::persist.name(), MatterActivities::persist.name());
}

#[tokio::test]
async fn persisting_the_same_batch_twice_writes_events_and_mails_once() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    let mut d = Driver::open("m-idem", fx.facility_id, fx.supervisor_actor(), now);
    let batch = d.take_batch();

    let first = acts.persist_batch(&batch).await.unwrap();
    let again = acts.persist_batch(&batch).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.notice_number, "朝民养整改〔2026〕0001号");
    assert_eq!(first.last_seq, 1);

    let events = fx.store.events("m-idem").await.unwrap();
    assert_eq!(events.len(), 1);
    // Issued: the facility's user and the district's two inspectors.
    let mails = fx.store.mails_for("m-idem").await.unwrap();
    assert_eq!(mails.len(), 3, "{mails:#?}");
    assert!(mails.iter().all(|m| m.status == "sent" && m.sent_at_ms.is_some()));
    assert_eq!(fx.outbox_files().len(), 3, "a retried step sends nothing twice once sent");
    let english = mails.iter().find(|m| m.recipient_email == "inspector2@example.test").unwrap();
    assert!(english.subject.starts_with("[Notice] 朝民养整改〔2026〕0001号"), "{}", english.subject);
    let chinese = mails.iter().find(|m| m.recipient_email == "facility1@example.test").unwrap();
    assert!(chinese.body.contains("请于 2026-11-23 24:00 前签收"), "{}", chinese.body);
    assert!(chinese.body.contains("http://127.0.0.1:8080/matters/m-idem"), "{}", chinese.body);

    let row = fx.store.matter("m-idem").await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.last_seq, row.region_id), ("issued", 1, fx.region_id));
    assert_eq!(row.next_due_ms, d.matter.deadlines.iter().map(|d| d.due_ms).min());
    assert!(!row.overdue);

    // The next step: acknowledged, then the acknowledge deadline is long past for nothing (met).
    d.act(&fx.facility_actor(), Action::Acknowledge { handler: "李主任".into() }, now + 60_000);
    let step = d.take_batch();
    let done = acts.persist_batch(&step).await.unwrap();
    assert_eq!(done.last_seq, 2);
    assert_eq!(done.notice_number, first.notice_number);
    let row = fx.store.matter("m-idem").await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.handler.as_deref(), row.last_seq), ("acknowledged", Some("李主任"), 2));

    // A stale replay of the first batch neither rewinds the projection nor adds events.
    let replay = acts.persist_batch(&batch).await.unwrap();
    assert_eq!(replay.last_seq, 2);
    assert_eq!(fx.store.matter("m-idem").await.unwrap().unwrap().status, "acknowledged");
    assert_eq!(fx.store.events("m-idem").await.unwrap().len(), 2);
    let report = qingling_activities::audit::verify(&fx.store.db, &crate::test_key(), None).await.unwrap();
    assert_eq!((report.matters, report.events, report.broken), (1, 2, vec![]));
}

#[tokio::test]
async fn missed_deadlines_escalate_into_the_projection_and_mail_the_ladder() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    let mut d = Driver::open("m-late", fx.facility_id, fx.supervisor_actor(), now);
    acts.persist_batch(&d.take_batch()).await.unwrap();
    // Three days later nobody has acknowledged: the reminder and the first supervision order.
    d.tick(now + 3 * 86_400_000);
    let batch = d.take_batch();
    assert!(batch.events.iter().all(|e| e.kind == "escalated") && !batch.events.is_empty());
    let done = acts.persist_batch(&batch).await.unwrap();
    let row = fx.store.matter("m-late").await.unwrap().unwrap();
    assert!(row.overdue);
    assert!(row.escalation_level >= 1);
    assert_eq!(done.last_seq as i64, row.last_seq);
    let mails = fx.store.mails_for("m-late").await.unwrap();
    assert!(mails.iter().any(|m| m.notice_kind == "escalated" && m.subject.contains("逾期提醒")), "{mails:#?}");
}

#[tokio::test]
async fn an_unknown_facility_is_a_permanent_failure() {
    let fx = Fixture::new().await;
    let mut d = Driver::open("m-nofac", 9999, fx.supervisor_actor(), monday_10am());
    let err = fx.activities().persist_batch(&d.take_batch()).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(fx.store.matter("m-nofac").await.unwrap().is_none());
}

#[tokio::test]
async fn a_missing_predecessor_event_is_retryable() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    let mut d = Driver::open("m-gap", fx.facility_id, fx.supervisor_actor(), now);
    acts.persist_batch(&d.take_batch()).await.unwrap();
    d.act(&fx.facility_actor(), Action::Acknowledge { handler: "李主任".into() }, now + 1);
    d.act(&fx.facility_actor(), Action::Feedback { text: "已清理".into(), plan: vec![] }, now + 2);
    let mut batch = d.take_batch();
    batch.events.remove(0);
    let err = acts.persist_batch(&batch).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(fx.store.events("m-gap").await.unwrap().len(), 1, "the failed step wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notice_numbers_stay_unique_and_gap_free_under_concurrent_issues() {
    let fx = Fixture::new().await;
    let acts = std::sync::Arc::new(fx.activities());
    let now = monday_10am();
    let mut tasks = vec![];
    for i in 0..20 {
        let acts = acts.clone();
        // Half the matters at each Chaoyang facility: same region, same year, one counter.
        let facility = if i % 2 == 0 { fx.facility_id } else { fx.other_facility_id };
        let mut d = Driver::open(&format!("m-{i:02}"), facility, fx.supervisor_actor(), now + i);
        tasks.push(tokio::spawn(async move { acts.persist_batch(&d.take_batch()).await }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().unwrap().notice_number);
    }
    assert_eq!(numbers.len(), 20);
    let notices = notice::Entity::find().order_by_asc(notice::Column::Seq).all(&fx.store.db).await.unwrap();
    let seqs: Vec<i64> = notices.iter().map(|n| n.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    assert!(notices.iter().all(|n| numbers.contains(&n.number) && n.year == 2026 && n.region_id == fx.region_id));
    assert!(numbers.contains("朝民养整改〔2026〕0020号"));
}

/// A re-check fails on 2026-12-29: the new 7-day period ends in 2027, which has no published
/// schedule, so the mail marks the date 暂定 and footnotes why.
#[tokio::test]
async fn a_mail_about_a_date_in_a_provisional_year_marks_and_footnotes_it() {
    use chrono::TimeZone;
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let at = |d: u32, h: u32| chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap().timestamp_millis();
    let mut d = Driver::open("m-prov", fx.facility_id, fx.supervisor_actor(), at(28, 9));
    d.act(&fx.facility_actor(), Action::Acknowledge { handler: "李主任".into() }, at(28, 10));
    let evidence = vec![qingling_rules::matter::EvidenceRef { sha256: "a".repeat(64), name: "p.png".into(), content_type: "image/png".into(), bytes: 10 }];
    d.act(&fx.facility_actor(), Action::SubmitEvidence { note: "已整改".into(), evidence }, at(28, 11));
    acts.persist_batch(&d.take_batch()).await.unwrap();
    let issued = fx.store.mails_for("m-prov").await.unwrap();
    assert!(issued.iter().all(|m| !m.body.contains("暂定") && !m.body.contains("provisional")), "the issue mail's date is in 2026");
    d.act(&fx.supervisor_actor(), Action::Recheck { passed: false, note: "仍未更换".into() }, at(29, 9));
    acts.persist_batch(&d.take_batch()).await.unwrap();
    let mails = fx.store.mails_for("m-prov").await.unwrap();
    let reopened = mails.iter().find(|m| m.notice_kind == "reopened" && m.recipient_email == "facility1@example.test").expect("the facility is told");
    assert!(reopened.body.contains("2027-01-05 24:00（暂定）"), "{}", reopened.body);
    assert!(reopened.body.contains("※ 标注“暂定”的日期按法定节假日和周末计算，2027年的节假日安排尚未公布"), "{}", reopened.body);
}

#[tokio::test]
async fn a_notice_issued_by_hand_is_stored_once_with_its_document_and_html() {
    use qingling_activities::notice_doc::{NoticeDoc, NoticeSource, chinese_date, content_hash};
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    let mut d = Driver::open("m-doc", fx.facility_id, fx.supervisor_actor(), now);
    let batch = d.take_batch();
    let first = acts.persist_batch(&batch).await.unwrap();
    // A retried first step (the worker died after the commit) makes no second number or document.
    let again = acts.persist_batch(&batch).await.unwrap();
    assert_eq!(first, again);
    assert!(first.document, "a notice issued by hand has its own document");
    let rows = notice::Entity::find().all(&fx.store.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let doc: NoticeDoc = serde_json::from_str(row.doc.as_deref().unwrap()).unwrap();
    assert_eq!(doc.number, first.notice_number);
    assert!(matches!(&doc.source, NoticeSource::Direct { issuer, .. } if !issuer.is_empty()), "{doc:?}");
    let html = std::fs::read_to_string(qingling_activities::evidence::path_of(&fx.store, row.html_sha256.as_deref().unwrap())).unwrap();
    assert_eq!(content_hash(html.as_bytes()), row.html_sha256.clone().unwrap());
    assert!(html.contains(&first.notice_number) && html.contains(&chinese_date(doc.findings[0].deadline)), "{html}");
    // The PDF and its mail are `notice.deliver`'s work.
    assert_eq!((row.pdf_sha256.as_deref(), row.mailed_at_ms), (None, None));
}

/// A matter is numbered by the pattern of the policy it was issued under, which travels in its
/// batch, not by whatever policy the worker runs now; a batch from before the pattern travelled
/// falls back to the worker's.
#[tokio::test]
async fn a_matter_is_numbered_by_its_own_policy() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    let mut d = Driver::open("m-own-pattern", fx.facility_id, fx.supervisor_actor(), now);
    let mut batch = d.take_batch();
    batch.numbering = Some(qingling_rules::policy::Numbering { notice: "{bureau}督〔{year}〕{seq:3}号".into() });
    assert_eq!(acts.persist_batch(&batch).await.unwrap().notice_number, "朝民督〔2026〕001号");
    let mut old = Driver::open("m-old-batch", fx.facility_id, fx.supervisor_actor(), now);
    let mut batch = old.take_batch();
    batch.numbering = None;
    assert_eq!(acts.persist_batch(&batch).await.unwrap().notice_number, "朝民养整改〔2026〕0002号");
}

//! The inspection record and the tablet drafts: records never move backwards, drafts stop at
//! submission, and signatures are written once.

use crate::Fixture;
use qingling_activities::inspection::InspectionActivitiesImpl;
use qingling_activities::mail::{Mailer, Transport};
use qingling_rules::Policy;
use qingling_rules::matter::{Actor, Role};
use qingling_workflows::contract::{InspectionRecord, SubmissionRecord};
use serde_json::json;

fn activities(f: &Fixture) -> InspectionActivitiesImpl {
    let policy = Policy::builtin();
    InspectionActivitiesImpl {
        store: f.store.clone(),
        mailer: Mailer::new(Transport::Outbox { dir: f.outbox() }, "清零 <noreply@example.test>"),
        calendar: policy.calendar.clone(),
        policy,
        public_url: "http://127.0.0.1:8080/".into(),
        chromium: "/usr/bin/chromium".into(),
    }
}

async fn inspector(f: &Fixture, name: &str) -> Actor {
    let u = f.store.user_by_username(name).await.unwrap().unwrap();
    Actor { user_id: u.id, name: u.display_name, role: Role::Inspector, facility_id: None }
}

async fn record(f: &Fixture, status: &str, at: i64, submitted: bool) -> InspectionRecord {
    let (a, b) = (inspector(f, "inspector1").await, inspector(f, "inspector2").await);
    let sup = Actor { user_id: f.supervisor.id, name: f.supervisor.display_name.clone(), role: Role::Supervisor, facility_id: None };
    InspectionRecord {
        inspection_id: "i-1".into(),
        workflow_id: "inspection-i-1".into(),
        facility_id: f.facility_id,
        template_id: "gb38600-service-safety".into(),
        template_version: 1,
        template_sha256: Some("ab".repeat(32)),
        title: "养老机构服务安全检查表".into(),
        date: "2026-11-23".into(),
        status: status.into(),
        assigned_by: sup,
        inspectors: vec![a.clone(), b.clone()],
        started_by: Some(a.clone()),
        submission: submitted.then(|| SubmissionRecord {
            key: "k".into(),
            submitted_by: a.clone(),
            signers: vec![a, b],
            at_ms: at,
            filled: json!({ "template": "gb38600-service-safety", "version": 1, "answers": {} }),
            evaluation: json!({ "findings": [] }),
            findings: 0,
            points: None,
        }),
        notices: vec![],
        publish_by: None,
        updated_ms: at,
    }
}

#[tokio::test]
async fn records_never_move_an_inspection_backwards_and_drafts_stop_at_submission() {
    let f = Fixture::new().await;
    let acts = activities(&f);
    acts.record_inspection(&record(&f, "assigned", 1_000, false).await).await.unwrap();
    acts.record_inspection(&record(&f, "in_progress", 2_000, false).await).await.unwrap();
    let rev = f.store.save_draft("i-1", &json!({ "a": { "value": "yes" } })).await.unwrap();
    assert_eq!(rev, Some(1));
    assert_eq!(f.store.save_draft("i-1", &json!({ "a": { "value": "no" } })).await.unwrap(), Some(2));

    acts.record_inspection(&record(&f, "submitted", 3_000, true).await).await.unwrap();
    // A retried, older record changes nothing.
    acts.record_inspection(&record(&f, "in_progress", 2_000, false).await).await.unwrap();
    let row = f.store.inspection("i-1").await.unwrap().unwrap();
    assert_eq!(row.inspection.status, "submitted");
    assert_eq!(row.inspection.submission_key.as_deref(), Some("k"));
    assert_eq!(row.inspection.draft_rev, 2, "the record keeps the tablet's draft");
    assert!(row.inspectors.iter().all(|(_, signed)| *signed == Some(3_000)));

    // No drafts after submission; the stored one is left as it was.
    assert_eq!(f.store.save_draft("i-1", &json!({ "a": { "value": "yes" } })).await.unwrap(), None);
    let row = f.store.inspection("i-1").await.unwrap().unwrap();
    assert!(row.inspection.draft.unwrap().contains("\"no\""));

    // A repeated record of the same step leaves one row per inspector.
    acts.record_inspection(&record(&f, "submitted", 3_000, true).await).await.unwrap();
    assert_eq!(f.store.inspection("i-1").await.unwrap().unwrap().inspectors.len(), 2);
}

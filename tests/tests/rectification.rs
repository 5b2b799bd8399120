//! The rectification loop end to end: real Temporal dev server, real database (SQLite, or
//! PostgreSQL with QINGLING_TEST_DB=postgres), real SMTP server, the real `qingling` binary,
//! driven through the console's JSON API.

use qingling_tests::app::{TestApp, subject_and_to, tiny_png};
use serde_json::{Value, json};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn event_kinds(events: &[qingling_activities::db::entities::matter_event::Model]) -> Vec<String> {
    events.iter().map(|e| e.kind.clone()).filter(|k| k != "escalated").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matter_is_driven_to_closure() -> anyhow::Result<()> {
    let app = TestApp::start("closure").await?;
    let supervisor = app.login("supervisor").await?;
    // Signed in first, so the acknowledgement lands inside its 4 s deadline.
    let facility = app.login("facility1").await?;
    let issued = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期未更换").await?;
    let id = issued["matter_id"].as_str().unwrap().to_string();
    let number = issued["notice_number"].as_str().unwrap();
    assert!(number.starts_with("朝民养整改〔") && number.ends_with("0001号"), "{number}");

    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["view"]["matter"]["status"], "acknowledged");
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已采购新灭火器" })).await?;
    assert_eq!(s, 200, "{b}");
    let (s, up) = facility.upload(&id, "现场照片.png", tiny_png()).await?;
    assert_eq!(s, 201, "{up}");
    let evidence = up["evidence"].clone();
    assert_eq!(evidence[0]["content_type"], "image/png");
    let (s, b) = facility.act(&id, json!({ "action": "submit_evidence", "note": "已全部更换", "evidence": evidence })).await?;
    assert_eq!(s, 200, "{b}");
    // The inspectors hear that a re-check is due.
    app.smtp
        .wait_for(
            |m| {
                let (subject, to) = subject_and_to(m);
                to.contains("inspector1@example.test") && subject.contains("待复查")
            },
            LONG,
        )
        .await?;
    let inspector = app.login("inspector1").await?;
    let (s, b) = inspector.act(&id, json!({ "action": "recheck", "passed": true, "note": "复查合格" })).await?;
    assert_eq!(s, 200, "{b}");

    app.wait_for_db(&id, "closure in the database", LONG, |m, _| m.status == "closed").await?;
    let events = app.store.events(&id).await?;
    assert_eq!(event_kinds(&events), ["issued", "acknowledged", "feedback", "evidence_uploaded", "evidence_submitted", "recheck_passed", "closed"]);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "numbered without gaps");
    // The evidence file is stored by its content hash and served back to the facility.
    let sha = evidence[0]["sha256"].as_str().unwrap();
    let (s, _) = facility.get(&format!("/api/matters/{id}")).await?;
    assert_eq!(s, 200);
    assert_eq!(app.store.evidence_for(&id).await?.len(), 1);
    let out = app.command(&["audit", "verify"])?.output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    assert!(sha.len() == 64);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_feedback_deadline_sends_a_reminder_and_then_a_supervision_order() -> anyhow::Result<()> {
    let app = TestApp::start("escalation").await?;
    let supervisor = app.login("supervisor").await?;
    // Signed in before the notice is issued: the acknowledgement must land inside its 4 s (a
    // sign-in's password hash takes a second or two in a debug build, which made this miss).
    let facility = app.login("facility1").await?;
    let issued = supervisor.issue("第一社会福利院", "ordinary", "夜间巡查记录缺失").await?;
    let id = issued["matter_id"].as_str().unwrap().to_string();
    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "值班主任" })).await?;
    assert_eq!(s, 200, "{b}");
    // No feedback: the 4 s feedback deadline passes, the reminder goes out at once, the blue
    // supervision order 3 s later.
    let reminder = app
        .smtp
        .wait_for(
            |raw| {
                let (subj, to) = subject_and_to(raw);
                subj.contains("逾期提醒") && to.contains("facility1@")
            },
            LONG,
        )
        .await?;
    assert!(subject_and_to(&reminder).0.contains("进展反馈"), "{}", subject_and_to(&reminder).0);
    let order = app
        .smtp
        .wait_for(
            |raw| {
                let (subj, to) = subject_and_to(raw);
                subj.contains("督办单（蓝）") && to.contains("supervisor@")
            },
            LONG,
        )
        .await?;
    assert!(subject_and_to(&order).0.contains(issued["notice_number"].as_str().unwrap()));
    app.wait_for_db(&id, "two escalations of the feedback deadline", LONG, |m, events| {
        let steps: Vec<String> = events
            .iter()
            .filter(|e| e.kind == "escalated")
            .filter_map(|e| serde_json::from_str::<Value>(&e.payload).ok())
            .filter(|p| p["deadline"] == "feedback")
            .map(|p| p["step"].as_str().unwrap_or_default().to_string())
            .collect();
        steps.len() >= 2 && steps[0] == "reminder" && steps[1] == "supervision_blue" && m.escalation_level >= 2 && m.overdue
    })
    .await?;
    // Feedback stops the ladder for that deadline.
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已补齐记录" })).await?;
    assert_eq!(s, 200, "{b}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_extension_moves_the_deadline() -> anyhow::Result<()> {
    let app = TestApp::start("extension").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility2").await?;
    let id = supervisor.issue("康乐养老院", "ordinary", "防滑垫缺失").await?["matter_id"].as_str().unwrap().to_string();
    facility.act(&id, json!({ "action": "acknowledge", "handler": "张护士长" })).await?;
    facility.act(&id, json!({ "action": "feedback", "text": "已下单" })).await?;
    let (_, before) = facility.get(&format!("/api/matters/{id}")).await?;
    let due_before = rectify_due(&before["live"]);
    let (s, b) = facility.act(&id, json!({ "action": "request_extension", "deadline": "rectify", "extend_by": "2m", "reason": "供货延迟" })).await?;
    assert_eq!(s, 200, "{b}");
    // The waiting request is in the supervisor's queue on the board, and mailed to them.
    let (_, board) = supervisor.get("/api/board").await?;
    assert!(board["awaiting_decision"].as_array().is_some_and(|a| a.iter().any(|m| m["id"] == id.as_str())), "{board}");
    app.smtp
        .wait_for(
            |m| {
                let (subject, to) = subject_and_to(m);
                to.contains("supervisor@example.test") && subject.contains("延期申请待审批")
            },
            LONG,
        )
        .await?;
    // Left undecided past its own date (3 s in the test policy), the request escalates to the
    // supervisors, not against the facility: no mail to it, no escalation level on the matter.
    app.wait_for_db(&id, "the late decision escalated", LONG, |_, events| {
        events.iter().any(|e| e.kind == "escalated" && serde_json::from_str::<Value>(&e.payload).is_ok_and(|p| p["deadline"] == "decide"))
    })
    .await?;
    app.smtp
        .wait_for(
            |m| {
                let (subject, to) = subject_and_to(m);
                to.contains("supervisor@example.test") && subject.contains("审批延期申请已逾期")
            },
            LONG,
        )
        .await?;
    assert!(
        !app.smtp.messages().iter().any(|m| {
            let (subject, to) = subject_and_to(m);
            !to.contains("supervisor@") && subject.contains("审批延期申请")
        }),
        "only supervisors hear of their late decision"
    );
    let (s, b) = supervisor.act(&id, json!({ "action": "decide_extension", "approve": true, "reason": "同意" })).await?;
    assert_eq!(s, 200, "{b}");
    let due_after = rectify_due(&b["view"]);
    assert_eq!(due_after - due_before, 120_000, "moved by exactly two minutes");
    let (_, board) = supervisor.get("/api/board").await?;
    assert!(!board["awaiting_decision"].as_array().is_some_and(|a| a.iter().any(|m| m["id"] == id.as_str())), "decided, off the queue: {board}");
    app.wait_for_db(&id, "the approval in the log", LONG, |_, events| {
        events
            .iter()
            .any(|e| e.kind == "extension_approved" && serde_json::from_str::<Value>(&e.payload).map(|p| p["new_due_ms"] == json!(due_after)).unwrap_or(false))
    })
    .await?;
    // The late decision did not count against the facility: the matter's level is what its own
    // missed dates reached (a slow machine may miss the 4 s acknowledgement), never the decision's.
    let facility_level = app
        .store
        .events(&id)
        .await?
        .iter()
        .filter(|e| e.kind == "escalated")
        .filter_map(|e| serde_json::from_str::<Value>(&e.payload).ok())
        .filter(|p| p["deadline"] != "decide")
        .filter_map(|p| p["level"].as_i64())
        .max()
        .unwrap_or(0);
    assert_eq!(app.store.matter(&id).await?.map(|m| i64::from(m.escalation_level)), Some(facility_level));
    // The live timer follows the new deadline: past the old due time nothing escalates.
    let wait = (due_before - chrono::Utc::now().timestamp_millis()).max(0) as u64 + 3000;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let events = app.store.events(&id).await?;
    assert!(
        !events.iter().any(|e| e.kind == "escalated" && e.payload.contains("\"rectify\"")),
        "no rectify escalation before the new due time: {:?}",
        events.iter().map(|e| &e.kind).collect::<Vec<_>>()
    );
    Ok(())
}

fn rectify_due(view: &Value) -> i64 {
    view["matter"]["deadlines"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["kind"] == "rectify" && d["met_ms"].is_null()))
        .and_then(|d| d["due_ms"].as_i64())
        .unwrap_or_else(|| panic!("an open rectify deadline in {view}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_worker_mid_matter_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let mut app = TestApp::start("crash").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "消防通道堵塞").await?["matter_id"].as_str().unwrap().to_string();
    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "安全员" })).await?;
    assert_eq!(s, 200, "{b}");
    // Kill at once: the acknowledgement is accepted by the workflow, its event may not be
    // written yet.
    app.kill_app();
    app.spawn_app().await?;
    let facility = app.login("facility1").await?;
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已清理" })).await?;
    assert_eq!(s, 200, "{b}");
    let (_, up) = facility.upload(&id, "通道.png", tiny_png()).await?;
    facility.act(&id, json!({ "action": "submit_evidence", "note": "通道畅通", "evidence": up["evidence"] })).await?;
    app.kill_app();
    app.spawn_app().await?;
    let inspector = app.login("inspector1").await?;
    let (s, b) = inspector.act(&id, json!({ "action": "recheck", "passed": true })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "closure after two crashes", LONG, |m, _| m.status == "closed").await?;
    let events = app.store.events(&id).await?;
    assert_eq!(
        event_kinds(&events),
        ["issued", "acknowledged", "feedback", "evidence_uploaded", "evidence_submitted", "recheck_passed", "closed"],
        "each exactly once"
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    let out = app.command(&["audit", "verify"])?.output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facility_cannot_read_or_act_on_another_facilitys_matter() -> anyhow::Result<()> {
    let app = TestApp::start("authz").await?;
    let supervisor = app.login("supervisor").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "床头呼叫器失灵").await?["matter_id"].as_str().unwrap().to_string();
    let other = app.login("facility2").await?;
    let (s, _) = other.get(&format!("/api/matters/{id}")).await?;
    assert_eq!(s, 404, "another facility's matter is invisible");
    let (s, b) = other.act(&id, json!({ "action": "acknowledge", "handler": "冒名者" })).await?;
    assert_eq!(s, 404, "{b}");
    let (_, list) = other.get("/api/matters").await?;
    assert!(!list.to_string().contains(&id), "not listed either");
    // The supervisor of another district cannot see it either.
    let haidian = app.login("haidian").await?;
    assert_eq!(haidian.get(&format!("/api/matters/{id}")).await?.0, 404);
    // Without a CSRF token a cookie-authenticated write is refused.
    let owner = app.login("facility1").await?;
    let res =
        reqwest::Client::new().post(format!("{}/api/matters/{id}/actions", app.base)).json(&json!({"action": "acknowledge", "handler": "x"})).send().await?;
    assert!(res.status() == 401 || res.status() == 403, "{}", res.status());
    // Only the issue (and, with the test policy's second-scale deadlines, escalations) is recorded.
    app.wait_for_db(&id, "the issued event", LONG, |m, events| {
        m.status == "issued" && events.first().is_some_and(|e| e.kind == "issued") && events.iter().all(|e| e.kind == "issued" || e.kind == "escalated")
    })
    .await?;
    let (s, b) = owner.get(&format!("/api/matters/{id}")).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["matter"]["status"], "issued", "nothing changed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_action_is_refused_with_a_clear_error() -> anyhow::Result<()> {
    let app = TestApp::start("invalid").await?;
    let supervisor = app.login("supervisor").await?;
    let id = supervisor.issue("第一社会福利院", "major", "建筑鉴定为C级危房").await?["matter_id"].as_str().unwrap().to_string();
    let facility = app.login("facility1").await?;
    let (s, b) = facility.act(&id, json!({ "action": "submit_evidence", "note": "x", "evidence": [] })).await?;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "reject.wrong_state");
    assert!(b["error"]["message"].as_str().unwrap().contains("已下发"), "{b}");
    let inspector = app.login("inspector1").await?;
    let (s, b) = inspector.act(&id, json!({ "action": "acknowledge", "handler": "x" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("reject.role_not_allowed")), "{b}");
    facility.act(&id, json!({ "action": "acknowledge", "handler": "院长" })).await?;
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "正在联系鉴定机构" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("reject.plan_required")), "a major matter needs a plan: {b}");
    let (s, b) = facility.act(&id, json!({ "action": "fly_away" })).await?;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "request.invalid");
    let (s, b) = facility.upload(&id, "notes.txt", b"not an image".to_vec()).await?;
    assert!(s == 415 || s == 422, "{s} {b}");
    assert!(app.store.evidence_for(&id).await?.is_empty(), "a refused file is not stored");
    app.wait_for_db(&id, "only issue and acknowledgement recorded", LONG, |m, events| {
        m.status == "acknowledged" && event_kinds(events) == ["issued", "acknowledged"]
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_event_is_detected_by_the_chain_check() -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, Statement};
    use sha2::Digest;
    let app = TestApp::start("tamper").await?;
    let supervisor = app.login("supervisor").await?;
    let id = supervisor.issue("望京颐养中心", "ordinary", "食品留样不全").await?["matter_id"].as_str().unwrap().to_string();
    // Withdrawn, so no escalation adds events while the test rewrites them.
    let (s, b) = supervisor.act(&id, json!({ "action": "withdraw", "reason": "重复下发" })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "withdrawn", LONG, |m, _| m.status == "withdrawn").await?;
    let last = app.store.matter(&id).await?.expect("the matter").last_seq;
    assert!(last >= 2);
    let anchored = app.command(&["audit", "anchor"])?.output()?;
    assert!(anchored.status.success(), "{}", String::from_utf8_lossy(&anchored.stderr));
    assert!(String::from_utf8_lossy(&anchored.stdout).contains("mac "), "prints the MAC to publish");
    let ok = app.command(&["audit", "verify"])?.output()?;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(" anchors, the latest at"), "{}", String::from_utf8_lossy(&ok.stdout));
    let backend = app.store.db.get_database_backend();
    let sql = |sqlite: &str| match backend {
        sea_orm::DatabaseBackend::Postgres => sqlite.replacen('?', "$1", 1).replacen('?', "$2", 1).replacen('?', "$3", 1),
        _ => sqlite.to_string(),
    };
    // Rewrite history behind the system's back, and recompute the hash as the old unkeyed
    // chain was computed: without the key file it cannot be made to match.
    let first = app.store.events(&id).await?.remove(0);
    let edited = first.payload.replace("食品留样不全", "一切正常");
    assert_ne!(edited, first.payload);
    let canonical = serde_json::json!([first.matter_id, first.seq, first.at_ms, first.kind, first.actor_id, first.actor_name, first.actor_role, edited]);
    let forged = hex::encode(sha2::Sha256::digest(format!("{}\n{canonical}", first.prev_hash)));
    let res = app
        .store
        .db
        .execute(Statement::from_sql_and_values(
            backend,
            sql("UPDATE matter_events SET payload = ?, hash = ? WHERE id = ?"),
            [edited.into(), forged.into(), first.id.into()],
        ))
        .await?;
    assert_eq!(res.rows_affected(), 1);
    let out = app.command(&["audit", "verify"])?.output()?;
    assert_eq!(out.status.code(), Some(3), "tampering must fail the check as a finding (3), not as a failure to check (1)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("matter {id} event 1: hash does not match content")), "names the first broken link: {err}");

    // Put it back, then cut off the last event and make the matter row agree: the anchor sees it.
    app.store
        .db
        .execute(Statement::from_sql_and_values(
            backend,
            sql("UPDATE matter_events SET payload = ?, hash = ? WHERE id = ?"),
            [first.payload.clone().into(), first.hash.clone().into(), first.id.into()],
        ))
        .await?;
    assert!(app.command(&["audit", "verify"])?.output()?.status.success());
    let res = app
        .store
        .db
        .execute(Statement::from_sql_and_values(backend, sql("DELETE FROM matter_events WHERE matter_id = ? AND seq = ?"), [id.clone().into(), last.into()]))
        .await?;
    assert_eq!(res.rows_affected(), 1);
    app.store
        .db
        .execute(Statement::from_sql_and_values(backend, sql("UPDATE matters SET last_seq = ? WHERE id = ?"), [(last - 1).into(), id.clone().into()]))
        .await?;
    let out = app.command(&["audit", "verify"])?.output()?;
    assert_eq!(out.status.code(), Some(3), "a cut chain must fail the check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&id) && err.contains(&format!("event {last}: truncated")), "{err}");

    // Without its key file a worker refuses to start on keyed chains rather than make a new key.
    let elsewhere = app.data_dir.join("no-such.key");
    let out = app.command(&["worker"])?.env("QINGLING_AUDIT_KEY_FILE", &elsewhere).output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audit key") && err.contains("restore the key file"), "{err}");
    assert!(!elsewhere.exists(), "no new key is made");
    let out = app.command(&["audit", "verify"])?.env("QINGLING_AUDIT_KEY_FILE", &elsewhere).output()?;
    assert!(out.status.code() == Some(1) && String::from_utf8_lossy(&out.stderr).contains("no audit key"), "without its key the check cannot run: 1");
    Ok(())
}

/// Polls the matter's JSON until its notice has a printed PDF.
async fn notice_document_with_pdf(session: &qingling_tests::app::Session, id: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let (s, b) = session.get(&format!("/api/matters/{id}")).await?;
        anyhow::ensure!(s == 200, "{s} {b}");
        if b["notice_document"]["pdf_url"].is_string() {
            return Ok(b);
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "no PDF of the notice within {LONG:?}: {b}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_issued_by_hand_has_its_numbered_document_and_its_pdf_is_mailed() -> anyhow::Result<()> {
    use qingling_activities::db::entities::notice;
    use qingling_activities::notice_doc::{chinese_date, content_hash};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

    let app = TestApp::start("notice-doc").await?;
    let supervisor = app.login("supervisor").await?;
    let issued = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期未更换").await?;
    let id = issued["matter_id"].as_str().unwrap().to_string();
    let number = issued["notice_number"].as_str().unwrap().to_string();

    // The facility reads its notice: the HTML right away, the PDF once Chromium printed it.
    let facility = app.login("facility1").await?;
    let b = notice_document_with_pdf(&facility, &id).await?;
    let doc = &b["notice_document"];
    assert_eq!(doc["number"], number.as_str());
    let (s, html) = facility.get_bytes(doc["html_url"].as_str().unwrap()).await?;
    assert_eq!(s, 200);
    let html = String::from_utf8(html)?;
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let due = chrono::DateTime::from_timestamp_millis(rectify_due(&b["live"]) - 1).unwrap().with_timezone(&offset).date_naive();
    for want in ["<h1>整改通知书</h1>", number.as_str(), "朝阳区第一社会福利院", "灭火器过期未更换", "检查发现", "GB 38600-2019 5.1", &chinese_date(due)]
    {
        assert!(html.contains(want), "the notice lacks {want}:\n{html}");
    }
    let stored = app.store.notice_for(&id).await?.expect("the notice row");
    assert_eq!(stored.html_sha256.as_deref(), Some(content_hash(html.as_bytes()).as_str()), "served as stored");
    assert!(stored.doc.is_some_and(|d| d.contains(&number)));
    let (s, pdf) = facility.get_bytes(doc["pdf_url"].as_str().unwrap()).await?;
    assert_eq!(s, 200);
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(stored.pdf_sha256.as_deref(), Some(content_hash(&pdf).as_str()));
    // One number, one document: the counter moved once.
    assert!(number.ends_with("0001号"), "{number}");

    // Mailed to the facility with the PDF attached.
    let mail = app
        .smtp
        .wait_for(
            |m| {
                let (subject, to) = subject_and_to(m);
                to.contains("facility1@example.test") && subject.contains(&number) && m.contains("application/pdf")
            },
            LONG,
        )
        .await?;
    assert!(mail.contains("Content-Disposition: attachment"), "{mail}");
    // … and recorded as mailed, so a retry does not mail it again.
    let until = tokio::time::Instant::now() + LONG;
    while app.store.notice_for(&id).await?.and_then(|n| n.mailed_at_ms).is_none() {
        anyhow::ensure!(tokio::time::Instant::now() < until, "the notice was never recorded as mailed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The matter's page links both.
    let (s, page) = facility.get_bytes(&format!("/matters/{id}")).await?;
    assert_eq!(s, 200);
    let page = String::from_utf8(page)?.replace("&#x2f;", "/");
    assert!(
        page.contains("打印通知书") && page.contains(&format!("/matters/{id}/notice/html")) && page.contains(&format!("/matters/{id}/notice/pdf")),
        "{page}"
    );

    // Another facility gets neither.
    let other = app.login("facility2").await?;
    for format in ["html", "pdf"] {
        assert_eq!(other.get_bytes(&format!("/matters/{id}/notice/{format}")).await?.0, 404, "{format}");
    }

    // A matter stored before notices had documents: its page still shows, without the links.
    notice::Entity::update_many()
        .col_expr(notice::Column::Doc, Expr::value(Option::<String>::None))
        .col_expr(notice::Column::HtmlSha256, Expr::value(Option::<String>::None))
        .col_expr(notice::Column::PdfSha256, Expr::value(Option::<String>::None))
        .filter(notice::Column::MatterId.eq(&id))
        .exec(&app.store.db)
        .await?;
    let (s, page) = facility.get_bytes(&format!("/matters/{id}")).await?;
    assert_eq!(s, 200);
    assert!(!String::from_utf8(page)?.contains("打印通知书"));
    assert_eq!(facility.get_bytes(&format!("/matters/{id}/notice/html")).await?.0, 404);
    let (s, b) = facility.get(&format!("/api/matters/{id}")).await?;
    assert_eq!((s, &b["notice_document"]), (200, &Value::Null), "{b}");
    Ok(())
}

//! What a careless user or an attacker sends is refused at the edge with the API's JSON error
//! naming the field, on SQLite and on PostgreSQL, and the same rule refuses it again in the
//! workflow's validator for a client that talks to Temporal directly. Before these limits, a NUL
//! in a title or a handler was accepted and then froze the matter on PostgreSQL (its persist
//! activity failed on every retry), and a 300,000-character handler went into the history.

use qingling_rules::matter::{Action, Actor, Role};
use qingling_tests::app::TestApp;
use qingling_workflows::rectification::ActionRequest;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_and_oversized_texts_are_refused_and_nothing_freezes() -> anyhow::Result<()> {
    let app = TestApp::start("input-limits").await?;
    let supervisor = app.login("supervisor").await?;
    let (_, facilities) = supervisor.get("/api/facilities").await?;
    let facility = facilities.as_array().unwrap().iter().find(|f| f["name"] == "朝阳区第一社会福利院").unwrap()["id"].clone();
    let issue =
        |title: &str| json!({ "facility_id": facility, "kind": "rectification", "severity": "ordinary", "title": title, "description": "", "basis": "" });

    // A NUL in the title: refused, nothing stored.
    let (s, b) = supervisor.post("/api/matters", issue("灭火器\u{0}过期")).await?;
    assert_eq!((s, b["error"]["code"].as_str(), b["error"]["field"].as_str()), (422, Some("validation.control_chars"), Some("title")), "{b}");
    let (_, listed) = supervisor.get("/api/matters").await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "nothing was issued: {listed}");

    let (s, issued) = supervisor.post("/api/matters", issue("灭火器过期")).await?;
    assert_eq!(s, 201, "{issued}");
    let id = issued["matter_id"].as_str().unwrap().to_string();
    let facility_user = app.login("facility1").await?;
    for (handler, code) in
        [("王主任\u{0}", "reject.control_chars"), ("王\u{1b}[2J主任", "reject.control_chars"), (&"王".repeat(300_000)[..], "reject.too_long")]
    {
        let (s, b) = facility_user.act(&id, json!({ "action": "acknowledge", "handler": handler })).await?;
        assert_eq!(
            (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
            (422, Some(code), Some("handler")),
            "{}",
            &b.to_string()[..200.min(b.to_string().len())]
        );
    }
    // A client that talks to Temporal directly meets the same rule in the workflow's validator.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let forged = ActionRequest {
        actor: Actor { user_id: facility_user.user["id"].as_i64().unwrap(), name: "x".into(), role: Role::Facility, facility_id: facility.as_i64() },
        action: Action::Acknowledge { handler: "王主任\u{0}".into() },
    };
    match qingling_web::engine::act(&client, &id, forged).await {
        Err(qingling_web::engine::EngineError::Refused(r)) => assert_eq!(r.code, "reject.control_chars"),
        other => panic!("the validator must refuse it: {other:?}"),
    }
    // Nothing froze: a clean action goes through and is stored on this database.
    let (s, b) = facility_user.act(&id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "the acknowledgement", Duration::from_secs(30), |m, _| m.status == "acknowledged").await?;
    let (s, b) = facility_user.act(&id, json!({ "action": "feedback", "text": "已采购\r\n下周更换" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("reject.control_chars")), "the JSON API takes newlines as LF: {b}");
    let (s, b) = facility_user.act(&id, json!({ "action": "feedback", "text": "已采购\n下周更换\t（两具）" })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "the feedback", Duration::from_secs(30), |m, _| m.status == "feedback_given").await?;
    let (s, b) = facility_user.act(&id, json!({ "action": "request_extension", "deadline": "rectify", "extend_by": "0s", "reason": "x" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("reject.extension_too_short")), "{b}");
    Ok(())
}

/// Evidence is what was uploaded to the matter: a reference to a file never uploaded, or to
/// another matter's file, is refused (before, it moved the matter to "evidence submitted"); the
/// stored event describes the file as the server stored it; an ended matter takes no uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_must_be_a_file_uploaded_to_that_matter() -> anyhow::Result<()> {
    use qingling_tests::app::tiny_png;
    let app = TestApp::start("evidence-own").await?;
    let supervisor = app.login("supervisor").await?;
    let a = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期").await?["matter_id"].as_str().unwrap().to_string();
    let b = supervisor.issue("第一社会福利院", "ordinary", "安全出口锁闭").await?["matter_id"].as_str().unwrap().to_string();
    let facility = app.login("facility1").await?;
    for id in [&a, &b] {
        let (s, r) = facility.act(id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
        assert_eq!(s, 200, "{r}");
    }
    let (s, up) = facility.upload(&b, "b.png", tiny_png()).await?;
    assert_eq!(s, 201, "{up}");
    let of_b = up["evidence"][0].clone();
    let forged = json!([{ "sha256": "ab".repeat(32), "name": "假证据.png", "content_type": "image/png", "bytes": 10 }]);
    for evidence in [forged, json!([of_b.clone()])] {
        let (s, r) = facility.act(&a, json!({ "action": "submit_evidence", "note": "已整改", "evidence": evidence })).await?;
        assert_eq!((s, r["error"]["code"].as_str(), r["error"]["field"].as_str()), (422, Some("reject.evidence_unknown"), Some("evidence")), "{r}");
    }
    app.wait_for_db(&a, "still acknowledged", Duration::from_secs(10), |m, _| m.status == "acknowledged").await?;

    // Every upload is an event on the matter's timeline (and in its hash chain).
    let uploaded = app.store.events(&b).await?.into_iter().find(|e| e.kind == "evidence_uploaded").expect("the upload is an event");
    assert!(uploaded.payload.contains("b.png") && uploaded.actor_role.as_deref() == Some("facility"), "{}", uploaded.payload);

    // The server's description of the file is what the event records, whatever the client says.
    let mut claimed = of_b.clone();
    claimed["name"] = json!("改过的名字.pdf");
    claimed["bytes"] = json!(1);
    let (s, r) = facility.act(&b, json!({ "action": "submit_evidence", "note": "已整改", "evidence": [claimed] })).await?;
    assert_eq!(s, 200, "{r}");
    app.wait_for_db(&b, "evidence submitted", Duration::from_secs(30), |m, _| m.status == "evidence_submitted").await?;
    let event = app.store.events(&b).await?.into_iter().find(|e| e.kind == "evidence_submitted").unwrap();
    let payload: serde_json::Value = serde_json::from_str(&event.payload)?;
    assert_eq!((payload["evidence"][0]["name"].as_str(), payload["evidence"][0]["bytes"].clone()), (Some("b.png"), of_b["bytes"].clone()));

    // An ended matter takes no more files.
    let (s, r) = supervisor.act(&a, json!({ "action": "withdraw", "reason": "重复下发" })).await?;
    assert_eq!(s, 200, "{r}");
    app.wait_for_db(&a, "withdrawn", Duration::from_secs(30), |m, _| m.status == "withdrawn").await?;
    let (s, r) = facility.upload(&a, "late.png", tiny_png()).await?;
    assert_eq!((s, r["error"]["code"].as_str()), (422, Some("reject.ended")), "{r}");
    assert!(app.store.evidence_for(&a).await?.is_empty(), "nothing stored for the ended matter");
    Ok(())
}

/// Issuing is idempotent: the same `Idempotency-Key` again answers with the first matter and
/// issues no second notice, even after the matter has ended; the same key with another request
/// is refused; another supervisor's same key is another matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_with_an_idempotency_key_issues_once() -> anyhow::Result<()> {
    let app = TestApp::start("issue-key").await?;
    let supervisor = app.login("supervisor").await?;
    let (_, facilities) = supervisor.get("/api/facilities").await?;
    let body = json!({ "facility_id": facilities[0]["id"], "kind": "rectification", "severity": "ordinary", "title": "夜间巡查记录缺失", "description": "", "basis": "" });
    let (s, first) = supervisor.post_keyed("/api/matters", "form-7f3a", body.clone()).await?;
    assert_eq!(s, 201, "{first}");
    let (s, again) = supervisor.post_keyed("/api/matters", "form-7f3a", body.clone()).await?;
    assert!(s == 201 || s == 202, "{again}");
    assert_eq!((again["matter_id"].clone(), again["notice_number"].clone()), (first["matter_id"].clone(), first["notice_number"].clone()));
    let mut other = body.clone();
    other["title"] = json!("另一件事");
    let (s, r) = supervisor.post_keyed("/api/matters", "form-7f3a", other).await?;
    assert_eq!((s, r["error"]["code"].as_str()), (409, Some("request.key_reused")), "{r}");
    let (s, r) = supervisor.post_keyed("/api/matters", "bad key", body.clone()).await?;
    assert_eq!((s, r["error"]["code"].as_str()), (400, Some("request.invalid")), "{r}");
    // Once the matter has ended, the same key still names it: no new matter is started.
    let id = first["matter_id"].as_str().unwrap().to_string();
    let (s, r) = supervisor.act(&id, json!({ "action": "withdraw", "reason": "测试" })).await?;
    assert_eq!(s, 200, "{r}");
    app.wait_for_db(&id, "withdrawn", Duration::from_secs(30), |m, _| m.status == "withdrawn").await?;
    let (_, after) = supervisor.post_keyed("/api/matters", "form-7f3a", body.clone()).await?;
    assert_eq!(after["matter_id"], first["matter_id"], "{after}");
    let (_, listed) = supervisor.get("/api/matters").await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "one matter, one notice: {listed}");
    let haidian = app.login("haidian").await?;
    let (_, theirs) = haidian.get("/api/facilities").await?;
    let mut mine = body.clone();
    mine["facility_id"] = theirs[0]["id"].clone();
    let (s, r) = haidian.post_keyed("/api/matters", "form-7f3a", mine).await?;
    assert_eq!(s, 201, "{r}");
    assert_ne!(r["matter_id"], first["matter_id"], "keys are per person");
    Ok(())
}

/// axum's own refusals (before a handler runs) used to come back as plain English text; they are
/// the API's JSON error under `/api/` and the readable page elsewhere, in the reader's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frameworks_own_refusals_speak_the_consoles_format() -> anyhow::Result<()> {
    use reqwest::Method;
    let app = TestApp::start("framework-refusals").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期").await?["matter_id"].as_str().unwrap().to_string();
    let json_error = |status: u16, ctype: &str, body: &str, want_status: u16, want_code: &str| {
        assert_eq!(status, want_status, "{body}");
        assert!(ctype.starts_with("application/json"), "{ctype}: {body}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        assert_eq!(v["error"]["code"], want_code, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    };
    // A NUL in a path id: not found (before, PostgreSQL refused the query and the answer was 500).
    for path in ["/api/matters/a%00b", "/api/matters/%00/actions", "/api/inspections/%00", "/api/matters/x%0a/evidence/y"] {
        let (s, t, b) = supervisor.raw(Method::GET, path, "application/json", vec![]).await?;
        json_error(s, &t, &b, 404, "http.not_found");
    }
    let (s, t, _) = supervisor.raw(Method::GET, "/matters/%00", "text/plain", vec![]).await?;
    assert_eq!((s, t.starts_with("text/html")), (404, true));
    // A method the route lacks.
    let (s, t, b) = supervisor.raw(Method::PUT, "/api/matters", "application/json", b"{}".to_vec()).await?;
    json_error(s, &t, &b, 405, "request.method");
    // An upload over the limit (the policy's 10 MB, plus headroom): 413 as JSON…
    let big = vec![0u8; 12 * 1024 * 1024];
    let boundary = "qinglingboundary";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes();
    body.extend_from_slice(&big);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ctype = format!("multipart/form-data; boundary={boundary}");
    // The console answers 413 before it has read the whole body and closes the connection; a
    // client still writing may see the closed connection instead of the answer, so it tries again.
    let oversized = |path: String, body: Vec<u8>| {
        let (facility, ctype) = (&facility, &ctype);
        async move {
            let mut last = None;
            for _ in 0..3 {
                match facility.raw(Method::POST, &path, ctype, body.clone()).await {
                    Ok(answer) => return Ok(answer),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("three attempts"))
        }
    };
    let (s, t, b) = oversized(format!("/api/matters/{id}/evidence"), body.clone()).await?;
    json_error(s, &t, &b, 413, "evidence.too_large");
    assert!(b.contains("10 MB"), "names the limit: {b}");
    // … and the readable page on the form's route.
    let (s, t, b) = oversized(format!("/matters/{id}/evidence"), body).await?;
    assert_eq!(s, 413);
    assert!(t.starts_with("text/html") && (b.contains("请求内容过大") || b.contains("文件过大")) && b.contains("10 MB"), "{t}: {}", &b[..b.len().min(300)]);
    // A form post with the wrong content type: the page, not "Expected request with `Content-Type: …`".
    // (The connection the 413 closed may still be in the client's pool: sent again if so.)
    let mut answer = facility.raw(Method::POST, &format!("/matters/{id}/act"), "application/json", b"{}".to_vec()).await;
    if answer.is_err() {
        answer = facility.raw(Method::POST, &format!("/matters/{id}/act"), "application/json", b"{}".to_vec()).await;
    }
    let (s, t, b) = answer?;
    assert_eq!(s, 415);
    assert!(t.starts_with("text/html") && b.contains("不支持该请求的内容类型"), "{t}: {}", &b[..b.len().min(300)]);
    // A query that does not parse.
    let admin = app.login("admin").await?;
    let (s, t, b) = admin.raw(Method::GET, "/admin/calendar?year=abc", "text/plain", vec![]).await?;
    assert_eq!(s, 400);
    assert!(t.starts_with("text/html") && b.contains("请求格式不正确"), "{t}: {}", &b[..b.len().min(300)]);
    Ok(())
}

/// Issuing in a loop while `qingling up` is killed (SIGKILL) and restarted under it, the client
/// retrying each key until it is answered: afterwards there is exactly one matter and one notice
/// per distinct key, and every answer for a key named the same matter. (Before idempotency
/// keys, 48 requests answered 201 and 49 notices existed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_through_crashes_makes_one_notice_per_key() -> anyhow::Result<()> {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;
    let mut app = TestApp::start("issue-kill").await?;
    let supervisor = Arc::new(app.login("supervisor").await?);
    let (_, facilities) = supervisor.get("/api/facilities").await?;
    let body =
        json!({ "facility_id": facilities[0]["id"], "kind": "rectification", "severity": "ordinary", "title": "崩溃中下发", "description": "", "basis": "" });
    const KEYS: usize = 30;
    let client = supervisor.clone();
    let issuing = tokio::spawn(async move {
        let mut answers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for i in 0..KEYS {
            let key = format!("crash-loop-{i:02}");
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            loop {
                // A dropped connection or a 5xx during a crash: the client tries the same key again.
                if let Ok((s, r)) = client.post_keyed("/api/matters", &key, body.clone()).await
                    && (s == 201 || s == 202)
                {
                    answers.entry(key.clone()).or_default().insert(r["matter_id"].as_str().unwrap_or_default().to_string());
                    // Ask once more, as a client that lost the first answer would.
                    if i % 3 == 0
                        && let Ok((_, again)) = client.post_keyed("/api/matters", &key, body.clone()).await
                        && let Some(id) = again["matter_id"].as_str()
                    {
                        answers.entry(key.clone()).or_default().insert(id.to_string());
                    }
                    break;
                }
                anyhow::ensure!(std::time::Instant::now() < deadline, "key {key} was never answered");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(answers)
    });
    // Three crashes while the loop runs.
    for pause_ms in [700, 1300, 900] {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        app.kill_app();
        app.spawn_app().await?;
    }
    let answers = issuing.await??;
    assert_eq!(answers.len(), KEYS);
    for (key, ids) in &answers {
        assert_eq!(ids.len(), 1, "key {key} answered with different matters: {ids:?}");
    }
    let distinct: BTreeSet<&String> = answers.values().flatten().collect();
    // Every accepted key's matter is stored with its notice, and nothing else is.
    for id in &distinct {
        app.wait_for_db(id, "the keyed matter", Duration::from_secs(60), |_, e| !e.is_empty()).await?;
    }
    let admin = app.store.user_by_username("admin").await?.expect("admin");
    let stored = app.store.matters_for(&admin).await?;
    assert_eq!(stored.len(), KEYS, "one matter per key");
    let mut notices = BTreeSet::new();
    for m in &stored {
        assert!(distinct.contains(&m.id), "a matter no answer named: {}", m.id);
        notices.insert(app.store.notice_for(&m.id).await?.expect("its notice").number);
    }
    assert_eq!(notices.len(), KEYS, "one notice per key: {notices:?}");
    Ok(())
}

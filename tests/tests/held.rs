//! A matter survives what retrying cannot fix and what ends its workflow:
//! * a step the database refuses for good holds the matter (the console says so instead of
//!   "accepted"), lists it for the administrators, refuses further actions with the reason, and
//!   carries on after an administrator's retry once the cause is mended;
//! * a workflow terminated behind the system's back is told apart from an unreachable engine,
//!   named by `qingling doctor` and restarted from the stored state by `qingling doctor --repair`;
//! * a long-lived matter continues as new and keeps its history short through hundreds of
//!   actions with large texts, its event numbering unbroken.

use qingling_tests::app::{TestApp, wait_for_listed};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use serde_json::json;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

/// Makes the database refuse, for good, any event whose payload contains `毒丸`.
async fn poison(app: &TestApp) -> anyhow::Result<()> {
    let db = &app.store.db;
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.payload LIKE '%毒丸%' THEN RAISE EXCEPTION 'poisoned payload' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            )
            .await?;
            db.execute_unprepared("CREATE TRIGGER poison BEFORE INSERT ON matter_events FOR EACH ROW EXECUTE FUNCTION poison()").await?;
        }
        _ => {
            db.execute_unprepared(
                "CREATE TRIGGER poison BEFORE INSERT ON matter_events WHEN NEW.payload LIKE '%毒丸%' BEGIN SELECT RAISE(ABORT, 'poisoned payload'); END",
            )
            .await?;
        }
    }
    Ok(())
}

async fn cure(app: &TestApp) -> anyhow::Result<()> {
    let db = &app.store.db;
    match db.get_database_backend() {
        DatabaseBackend::Postgres => db.execute_unprepared("DROP TRIGGER poison ON matter_events").await?,
        _ => db.execute_unprepared("DROP TRIGGER poison").await?,
    };
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_the_database_refuses_for_good_holds_the_matter_until_repaired() -> anyhow::Result<()> {
    let app = TestApp::start("held").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let admin = app.login("admin").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "消防通道堵塞").await?["matter_id"].as_str().unwrap().to_string();
    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    let (s, b) = admin.get("/api/health").await?;
    assert_eq!((s, b["stuck"].as_u64()), (200, Some(0)), "{b}");

    poison(&app).await?;
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已清理通道（毒丸）" })).await?;
    assert_eq!(s, 503, "the console must not call an action accepted that could not be stored: {b}");
    assert_eq!(b["error"]["code"], "reject.stuck", "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("已通知管理员"), "{b}");
    // Listed for the administrators, with the database's reason; the matter's workflow still runs.
    let (s, b) = admin.get("/api/health").await?;
    assert_eq!((s, b["stuck"].as_u64()), (200, Some(1)), "{b}");
    let held = &b["stuck_workflows"][0];
    assert_eq!(held["subject_id"], id.as_str());
    assert!(held["error"].as_str().unwrap().contains("poisoned payload"), "{held}");
    let (_, page) = admin.get_bytes("/board").await?;
    assert!(String::from_utf8_lossy(&page).contains("banner-stuck"), "the administrators' banner");
    let (_, page) = admin.get_bytes("/admin/health").await?;
    assert!(String::from_utf8_lossy(&page).contains(&id));
    let (s, _) = facility.get("/api/health").await?;
    assert_eq!(s, 403);
    // Nothing more is taken while it is held, and the refusal says why: 503, as the console's own check (the same refusal, the same status).
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "再次反馈" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (503, Some("reject.stuck")), "{b}");
    let stored = app.store.matter(&id).await?.unwrap();
    assert_eq!((stored.status.as_str(), stored.last_seq), ("acknowledged", 2));

    // Mended; the administrator retries; the same step is stored and the matter carries on.
    cure(&app).await?;
    let workflow_id = held["workflow_id"].as_str().unwrap().to_string();
    let (s, b) = admin.post("/api/health/repair", json!({ "workflow_id": workflow_id })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "the held feedback stored", LONG, |m, e| m.status == "feedback_given" && e.iter().any(|e| e.payload.contains("毒丸"))).await?;
    let (_, b) = admin.get("/api/health").await?;
    assert_eq!(b["stuck"].as_u64(), Some(0), "{b}");
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "整改进展：已完成" })).await?;
    assert_eq!(s, 200, "{b}");
    let (s, b) = admin.post("/api/health/repair", json!({ "workflow_id": workflow_id })).await?;
    assert_eq!(s, 404, "nothing is held any more: {b}");
    let ok = app.command(&["audit", "verify"])?.output()?;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_workflow_is_named_and_restarted_from_the_stored_state() -> anyhow::Result<()> {
    let app = TestApp::start("doctor").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期").await?["matter_id"].as_str().unwrap().to_string();
    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    let healthy = app.command(&["doctor"])?.output()?;
    assert!(healthy.status.success(), "{}", String::from_utf8_lossy(&healthy.stderr));

    // Someone terminates the workflow in Temporal's UI.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let workflow_id = qingling_workflows::ids::matter_workflow_id(&id);
    client
        .get_workflow_handle::<qingling_workflows::Rectification>(&workflow_id)
        .terminate(temporalio_client::WorkflowTerminateOptions::builder().reason("test").build())
        .await?;
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已更换" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("engine.gone")), "told apart from an unreachable engine: {b}");

    let out = app.command(&["doctor"])?.output()?;
    assert_eq!(out.status.code(), Some(3), "found a matter whose workflow is gone");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("matter {id}")) && text.contains("terminated"), "{text}");
    let out = app.command(&["doctor", "--repair"])?.output()?;
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("restarted from the stored state"));

    // The matter carries on where it was: the next event follows the stored ones.
    let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": "已更换" })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&id, "the feedback after the restart", LONG, |m, e| m.status == "feedback_given" && e.iter().any(|e| e.kind == "feedback")).await?;
    let events = app.store.events(&id).await?;
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1), "numbering unbroken: {:?}", events.iter().map(|e| e.seq).collect::<Vec<_>>());
    // The restarted run is searchable as the matter stands, and its memo names the notice.
    let running = "QinglingKind = 'matter' AND QinglingStatus = 'feedback_given' AND ExecutionStatus = 'Running'";
    let listed = wait_for_listed(&client, running, &[&workflow_id], LONG).await?;
    let notice = app.store.notice_for(&id).await?.map(|n| n.number);
    assert_eq!(listed[0].memo().get::<String>(qingling_workflows::visibility::MEMO_NOTICE)?, notice);
    assert!(app.command(&["doctor"])?.output()?.status.success());
    assert!(app.command(&["audit", "verify"])?.output()?.status.success());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_large_actions_keep_the_history_bounded() -> anyhow::Result<()> {
    let app = TestApp::start("long-lived").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let id = supervisor.issue("第一社会福利院", "ordinary", "长期整改").await?["matter_id"].as_str().unwrap().to_string();
    let (s, b) = facility.act(&id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    // The largest text the policy allows (5,000 characters, 15 KB in UTF-8), 300 times.
    const ACTIONS: usize = 300;
    for i in 0..ACTIONS {
        let text = format!("第{i}次进展反馈：{}", "整".repeat(4990));
        let (s, b) = facility.act(&id, json!({ "action": "feedback", "text": text })).await?;
        assert_eq!(s, 200, "action {i}: {b}");
    }
    app.wait_for_db(&id, "every feedback stored", LONG, |_, e| e.iter().filter(|e| e.kind == "feedback").count() == ACTIONS).await?;
    let events = app.store.events(&id).await?;
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1), "numbering unbroken across runs");
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let handle = client.get_workflow_handle::<qingling_workflows::Rectification>(qingling_workflows::ids::matter_workflow_id(&id));
    let d = handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await?;
    assert_eq!(d.status(), temporalio_client::WorkflowExecutionStatus::Running);
    // 300 updates alone make over 900 history events; the test policy continues as new at 200.
    assert!(d.history_length() < 400, "the current run's history: {} events", d.history_length());
    // The run it continued into is still found by its status, with its memo.
    let workflow_id = qingling_workflows::ids::matter_workflow_id(&id);
    let running = "QinglingKind = 'matter' AND QinglingStatus = 'feedback_given' AND ExecutionStatus = 'Running'";
    let listed = wait_for_listed(&client, running, &[&workflow_id], LONG).await?;
    assert_eq!(listed[0].memo().get::<String>(qingling_workflows::visibility::MEMO_TITLE)?.as_deref(), Some("长期整改"));
    assert!(listed[0].memo().contains_key(qingling_workflows::visibility::MEMO_NOTICE));
    let (s, b) = facility.get(&format!("/api/matters/{id}")).await?;
    assert_eq!(s, 200, "{b}");
    assert!(app.command(&["audit", "verify"])?.output()?.status.success());
    Ok(())
}

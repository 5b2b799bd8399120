//! Workflow code changes must not break the histories of workflows already running. Histories
//! recorded by earlier code are kept in `tests/histories/` and replayed on the current code; the
//! same scenario is also recorded live and replayed, so the current code replays its own.
//!
//! To record the scenario's histories into a directory (e.g. before a change to workflow code):
//! `QINGLING_RECORD_HISTORIES=tests/histories/<name> cargo test -p qingling-tests --test replay`.

use anyhow::Context;
use qingling_tests::app::TestApp;
use qingling_workflows::ids::{inspection_workflow_id, matter_workflow_id};
use serde_json::json;
use std::path::{Path, PathBuf};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowHistory};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn histories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories")
}

async fn replay(histories: Vec<(String, WorkflowHistory)>) -> anyhow::Result<()> {
    let options = WorkflowReplayerOptions::new()
        .register_workflow::<qingling_workflows::Rectification>()?
        .register_workflow::<qingling_workflows::Inspection>()?
        .register_workflow::<qingling_workflows::CalendarRollout>()?
        .register_workflow::<qingling_workflows::Campaign>()?
        .build();
    let replayer = WorkflowReplayer::new(options)?;
    let names: Vec<String> = histories.iter().map(|(n, _)| n.clone()).collect();
    let results = replayer.replay_workflows(histories.into_iter().map(|(_, h)| h)).await?;
    let failures: Vec<String> = names.iter().zip(&results).filter_map(|(name, r)| r.replay_failure.as_ref().map(|f| format!("{name}: {f:?}"))).collect();
    anyhow::ensure!(failures.is_empty(), "histories that no longer replay:\n{}", failures.join("\n"));
    Ok(())
}

fn recorded(dir: &Path) -> anyhow::Result<Vec<(String, WorkflowHistory)>> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(recorded(&path)?);
        } else if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path)?;
            out.push((path.display().to_string(), WorkflowHistory::from_json(&bytes).with_context(|| format!("parsing {}", path.display()))?));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_recorded_by_earlier_code_replay_on_the_current_code() -> anyhow::Result<()> {
    let histories = recorded(&histories_dir())?;
    assert!(!histories.is_empty(), "no recorded histories under {}", histories_dir().display());
    replay(histories).await
}

/// A matter issued, acknowledged and answered; an inspection assigned and opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_code_replays_its_own_histories() -> anyhow::Result<()> {
    let app = TestApp::start("replay").await?;
    let supervisor = app.login("supervisor").await?;
    let facility = app.login("facility1").await?;
    let matter_id = supervisor.issue("第一社会福利院", "ordinary", "消防通道堵塞").await?["matter_id"].as_str().context("matter id")?.to_string();
    let (s, b) = facility.act(&matter_id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    let (s, b) = facility.act(&matter_id, json!({ "action": "feedback", "text": "已清理通道" })).await?;
    assert_eq!(s, 200, "{b}");
    app.wait_for_db(&matter_id, "the feedback stored", std::time::Duration::from_secs(30), |m, _| m.status == "feedback_given").await?;

    let row = app.store.matter(&matter_id).await?.context("matter row")?;
    let inspectors =
        [app.store.user_by_username("inspector1").await?.context("inspector1")?.id, app.store.user_by_username("inspector2").await?.context("inspector2")?.id];
    let (s, b) =
        supervisor.post("/api/inspections", json!({ "facility_id": row.facility_id, "template": "fire-major-hazard", "inspectors": inspectors })).await?;
    assert_eq!(s, 201, "{b}");
    let inspection_id = b["inspection_id"].as_str().context("inspection id")?.to_string();
    let inspector = app.login("inspector1").await?;
    let (s, b) = inspector.post(&format!("/api/inspections/{inspection_id}/start"), json!({})).await?;
    assert_eq!(s, 200, "{b}");
    // The inspection records its new status before the next workflow task; give it a moment.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;

    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let mut live = vec![];
    for (name, id) in [("matter", matter_workflow_id(&matter_id)), ("inspection", inspection_workflow_id(&inspection_id))] {
        let json = client.get_workflow_handle::<qingling_workflows::Rectification>(&id).fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await?;
        if let Ok(dir) = std::env::var("QINGLING_RECORD_HISTORIES") {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(Path::new(&dir).join(format!("{name}.json")), &json)?;
        }
        live.push((name.to_string(), WorkflowHistory::from_json(&json)?));
    }
    replay(live).await
}

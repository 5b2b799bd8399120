//! Operators find a matter or an inspection in Temporal's UI and CLI: every workflow the console
//! starts is searchable by kind, facility, region and status (the status follows the matter), and
//! its memo says what it is. A cluster without Qingling's search attributes is named as such, at
//! the worker's start and at a workflow's start, instead of failing opaquely.

use anyhow::Context;
use qingling_rules::matter::{Actor, MatterKind, NewMatter, Role, Severity};
use qingling_tests::app::{TestApp, wait_for_listed};
use qingling_tests::harness::{DevServer, DevServerOptions};
use qingling_workflows::ids::{inspection_workflow_id, matter_workflow_id};
use qingling_workflows::visibility;
use serde_json::json;
use std::time::Duration;

/// Visibility lags the workflow by a moment; far less than this.
const SEEN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matters_and_inspections_are_found_by_facility_region_kind_and_status() -> anyhow::Result<()> {
    let app = TestApp::start("visibility").await?;
    let supervisor = app.login("supervisor").await?;
    let facility_user = app.login("facility1").await?;
    let issued = supervisor.issue("第一社会福利院", "ordinary", "消防通道堵塞").await?;
    let matter_id = issued["matter_id"].as_str().context("matter id")?.to_string();
    let row = app.store.matter(&matter_id).await?.context("the matter is stored")?;
    let facility = app.store.facility(row.facility_id).await?.context("facility")?;
    let region = app.store.region(facility.region_id).await?.context("region")?;
    let (fid, code) = (facility.id, region.code.clone());

    let inspectors =
        [app.store.user_by_username("inspector1").await?.context("inspector1")?.id, app.store.user_by_username("inspector2").await?.context("inspector2")?.id];
    // Another facility of the same region (the demo's own inspections are at the first one).
    let other = app.store.facilities_for(&app.store.user_by_username("supervisor").await?.context("supervisor")?).await?;
    let other = other.iter().find(|f| f.name.contains("康乐养老院")).context("the second demo facility")?;
    assert_eq!(other.region_id, facility.region_id);
    let oid = other.id;
    let (s, b) = supervisor.post("/api/inspections", json!({ "facility_id": oid, "template": "fire-major-hazard", "inspectors": inspectors })).await?;
    anyhow::ensure!(s == 201, "assign: {s} {b}");
    let inspection_id = b["inspection_id"].as_str().context("inspection id")?.to_string();

    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let matter_wf = matter_workflow_id(&matter_id);
    let inspection_wf = inspection_workflow_id(&inspection_id);

    // By facility and kind, by region and status.
    let listed = wait_for_listed(&client, &format!("QinglingFacility = {fid} AND QinglingKind = 'matter'"), &[&matter_wf], SEEN).await?;
    wait_for_listed(&client, &format!("QinglingFacility = {oid} AND QinglingKind = 'inspection'"), &[&inspection_wf], SEEN).await?;
    wait_for_listed(&client, &format!("QinglingFacility = {oid} AND QinglingKind = 'matter'"), &[], SEEN).await?;
    wait_for_listed(&client, &format!("QinglingRegion = '{code}' AND QinglingStatus = 'issued'"), &[&matter_wf], SEEN).await?;
    wait_for_listed(&client, &format!("QinglingRegion = '{code}' AND QinglingStatus = 'assigned' AND QinglingFacility = {oid}"), &[&inspection_wf], SEEN)
        .await?;
    wait_for_listed(&client, &format!("QinglingRegion = '{}' AND QinglingKind = 'matter'", code.clone() + "0"), &[], SEEN).await?;

    // The memo says what the workflow is.
    let memo = listed[0].memo();
    assert_eq!(memo.get::<String>(visibility::MEMO_TITLE)?.as_deref(), Some("消防通道堵塞"));
    assert_eq!(memo.get::<String>(visibility::MEMO_FACILITY)?.as_deref(), Some(facility.name.as_str()));
    let attributes = listed[0].search_attributes();
    assert_eq!(attributes.get(&visibility::REGION).as_deref(), Some(code.as_str()));
    let inspection = wait_for_listed(&client, &format!("QinglingKind = 'inspection' AND QinglingFacility = {oid}"), &[&inspection_wf], SEEN).await?;
    let memo = inspection[0].memo();
    assert_eq!(memo.get::<String>(visibility::MEMO_FACILITY)?.as_deref(), Some(other.name.as_str()));
    assert!(memo.get::<String>(visibility::MEMO_TITLE)?.is_some_and(|t| !t.is_empty()), "the checklist's title");

    // The status follows the matter: acknowledged, no longer issued; the notice number is known.
    let (s, b) = facility_user.act(&matter_id, json!({ "action": "acknowledge", "handler": "王主任" })).await?;
    assert_eq!(s, 200, "{b}");
    let listed = wait_for_listed(&client, &format!("QinglingFacility = {fid} AND QinglingStatus = 'acknowledged'"), &[&matter_wf], SEEN).await?;
    wait_for_listed(&client, "QinglingKind = 'matter' AND QinglingStatus = 'issued'", &[], SEEN).await?;
    let notice = app.store.notice_for(&matter_id).await?.context("the matter's notice")?.number;
    assert_eq!(listed[0].memo().get::<String>(visibility::MEMO_NOTICE)?, Some(notice));

    // And the inspection's: opened by an inspector, it is in progress.
    let inspector = app.login("inspector1").await?;
    let (s, b) = inspector.post(&format!("/api/inspections/{inspection_id}/start"), json!({})).await?;
    assert_eq!(s, 200, "{b}");
    wait_for_listed(&client, &format!("QinglingFacility = {oid} AND QinglingStatus = 'in_progress'"), &[&inspection_wf], SEEN).await?;
    wait_for_listed(&client, &format!("QinglingFacility = {oid} AND QinglingStatus = 'assigned'"), &[], SEEN).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_the_search_attributes_is_named_before_anything_starts() -> anyhow::Result<()> {
    let app = TestApp::start("unregistered").await?;
    let bare = DevServer::start(DevServerOptions { headless: true, ..Default::default() }).await?;

    // The worker refuses to start, naming the attributes and the command that registers them.
    let out = app.command(&["worker"])?.env("TEMPORAL_ADDRESS", &bare.address).output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    for (name, _) in visibility::declared() {
        assert!(text.contains(name), "names {name}: {text}");
    }
    assert!(text.contains("temporal operator search-attribute create --namespace default --name QinglingFacility --type Int"), "{text}");

    // A start (from a console whose worker runs elsewhere) is refused with the attribute's name.
    let client = qingling_app::app::connect_temporal(Some(&bare.address)).await?;
    let issuer = Actor { user_id: 1, name: "督查".into(), role: Role::Supervisor, facility_id: None };
    let new = NewMatter {
        id: uuid::Uuid::new_v4().to_string(),
        facility_id: 1,
        kind: MatterKind::Rectification,
        severity: Severity::Ordinary,
        title: "无属性".into(),
        description: String::new(),
        basis: String::new(),
        issued_by: issuer,
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let policy = qingling_rules::Policy::parse(&std::fs::read_to_string(qingling_tests::app::fast_policy())?)?;
    let facts = app.store.facility_facts(1).await?;
    let refused = qingling_web::engine::issue(&client, new, &policy, facts).await.expect_err("a start without registered attributes");
    let message = refused.to_string();
    assert!(matches!(refused, qingling_web::engine::EngineError::Unregistered { .. }), "{message}");
    assert!(message.contains("Qingling") && message.contains("temporal operator search-attribute create"), "{message}");
    bare.stop().await;
    Ok(())
}

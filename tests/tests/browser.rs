//! The console in a real browser: headless Chromium (Debian's, installed by
//! scripts/setup-tools.sh) driven by Playwright at a tablet viewport, against the real
//! `qingling up` with a real Temporal dev server and database.

use qingling_tests::app::TestApp;
use qingling_tests::browser::{run_script, run_script_with};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_worked_to_closure_through_the_pages_on_a_tablet() -> anyhow::Result<()> {
    let app = TestApp::start("browser-closure").await?;
    let result = run_script("rectification.mjs", &app.base, &app.data_dir).await?;
    let id = result["matter_id"].as_str().expect("the script names the matter").to_string();
    app.wait_for_db(&id, "closure", Duration::from_secs(30), |m, _| m.status == "closed").await?;
    let kinds: Vec<String> = app.store.events(&id).await?.into_iter().map(|e| e.kind).filter(|k| k != "escalated").collect();
    assert_eq!(kinds, ["issued", "acknowledged", "feedback", "evidence_uploaded", "evidence_submitted", "recheck_passed", "closed"]);
    let evidence = app.store.evidence_for(&id).await?;
    assert_eq!(evidence.len(), 1, "the photo uploaded through the page is stored once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checklist_filled_on_a_tablet_survives_going_offline_and_a_reload() -> anyhow::Result<()> {
    let app = TestApp::start("browser-checklist").await?;
    let sup = app.login("supervisor").await?;
    let (_, facilities) = sup.get("/api/facilities").await?;
    let facility = facilities.as_array().unwrap().iter().find(|f| f["name"] == "朝阳区第一社会福利院").unwrap()["id"].clone();
    let mut inspectors = vec![];
    for name in ["inspector1", "inspector2"] {
        inspectors.push(app.store.user_by_username(name).await?.unwrap().id);
    }
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": "gb38600-service-safety", "inspectors": inspectors })).await?;
    assert_eq!(s, 201, "{b}");
    let id = b["inspection_id"].as_str().unwrap().to_string();

    let result =
        run_script_with("checklist_offline.mjs", &app.base, &app.data_dir, &[("INSPECTION_ID", &id), ("INSPECTOR", "inspector1"), ("COSIGNER", "inspector2")])
            .await?;
    let numbers = result["notice_numbers"].as_array().expect("notice numbers");
    assert!(!numbers.is_empty(), "{result}");

    // What the tablet answered offline reached the server: one submission, with its findings.
    let row = app.store.inspection(&id).await?.unwrap();
    assert_eq!(row.inspection.status, "completed");
    assert!(row.inspection.findings.unwrap_or(0) >= 1);
    let stored: Vec<String> = app.store.inspection_notices(&id).await?.into_iter().map(|n| n.number).collect();
    let shown: Vec<String> = numbers.iter().map(|n| n.as_str().unwrap().to_string()).collect();
    assert_eq!(stored, shown);
    let answers: serde_json::Value = serde_json::from_str(row.inspection.answers.as_deref().unwrap())?;
    let with_photos = answers["answers"].as_object().unwrap().values().filter(|a| a["photos"].as_array().is_some_and(|p| !p.is_empty())).count();
    assert!(with_photos >= 1, "the photo taken offline was uploaded and kept: {answers}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_assigns_an_inspection_through_the_form() -> anyhow::Result<()> {
    let app = TestApp::start("browser-assign").await?;
    let result = run_script("assign.mjs", &app.base, &app.data_dir).await?;
    assert_eq!(result["assigned"], 1);
    let sup = app.store.user_by_username("supervisor").await?.unwrap();
    let rows = app.store.inspections_for(&sup).await?;
    let mine: Vec<_> = rows.iter().filter(|i| i.template_id == "gb38600-service-safety" && i.assigned_by == sup.id).collect();
    // The demo data assigns one service-safety inspection on first start; the form added one.
    assert_eq!(mine.len(), 2, "{rows:?}");
    let newest = mine.iter().max_by_key(|i| i.created_at_ms).unwrap();
    let full = app.store.inspection(&newest.id).await?.unwrap();
    assert_eq!(full.inspectors.len(), 2);
    assert_eq!(full.facility.name, "朝阳区第一社会福利院");
    Ok(())
}

/// The campaign pages in a browser: runs previewed, a plan, the draw ceremony with a refusal,
/// a draw set aside and made again, a refused replacement, the teams sent; the public page signed out. What the pages did is
/// checked as stored: the commitment shown is the one stored, the draw was recorded once with
/// both witnesses, the refused replacement changed nothing, and every home has its inspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_runs_a_campaign_through_the_pages_and_the_public_reads_it() -> anyhow::Result<()> {
    let app = TestApp::start("browser-campaign").await?;
    let result = run_script("campaign.mjs", &app.base, &app.data_dir).await?;
    let id = result["campaign_id"].as_str().expect("the script names the campaign").to_string();
    let c = app.store.campaign(&id).await?.expect("stored");
    assert_eq!(c.status, "assigned");
    assert_eq!(result["commitment"].as_str(), c.commitment_sha256.as_deref(), "the page showed the stored commitment");
    let events = app.store.campaign_events(&id).await?;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).filter(|k| *k != "escalated").collect();
    assert_eq!(
        kinds,
        ["planned", "committed", "drawn", "draw_superseded", "drawn", "assigned"],
        "the refused value and the refused replacement left nothing behind"
    );
    let draws = qingling_activities::campaign::draws(&app.store, &id).await?;
    assert_eq!(draws.iter().map(|d| d.superseded_reason.as_deref()).collect::<Vec<_>>(), [Some("红球号码录入错误"), None]);
    let drawn: serde_json::Value = serde_json::from_str(&events.iter().find(|e| e.kind == "drawn").expect("drawn").payload)?;
    let bundle = qingling_activities::campaign::bundle(&app.store, &id).await?.expect("a bundle");
    assert_eq!(bundle.witnesses, ["李见证", "张见证"], "both witnesses, one a line: {drawn}");
    let homes = app.store.campaign_homes(&id).await?;
    assert_eq!(homes.len() as u64, result["homes"].as_u64().unwrap_or_default());
    assert!(homes.iter().all(|h| h.inspection_status.as_deref() == Some("assigned") && h.team.len() == 2), "{homes:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_loads_a_years_schedule_through_the_calendar_page() -> anyhow::Result<()> {
    let app = TestApp::start("browser-calendar").await?;
    let policy = qingling_rules::Policy::builtin();
    let today = policy.calendar.local_date(chrono::Utc::now().timestamp_millis());
    use chrono::Datelike;
    let year = (today.year() + 1..).find(|y| policy.calendar.is_provisional(*y)).unwrap();
    let statutory: Vec<String> = policy.calendar.statutory_days(year).into_keys().map(|d| d.to_string()).collect();
    let banner = if policy.calendar.schedule_missing(today).is_some() { "1" } else { "0" };
    let result = run_script_with(
        "calendar.mjs",
        &app.base,
        &app.data_dir,
        &[("YEAR", &year.to_string()), ("HOLIDAYS", &statutory.join(",")), ("EXPECT_BANNER", banner)],
    )
    .await?;
    let loaded = app.store.loaded_years().await?;
    let schedule = loaded.get(&year).expect("the year is stored");
    assert_eq!(schedule.holidays.len(), statutory.len() + 2, "the statutory days and two bridging days");
    assert_eq!(schedule.workdays.iter().map(|d| d.to_string()).collect::<Vec<_>>(), vec![result["makeup"].as_str().unwrap().to_string()]);
    assert_eq!(app.store.calendar_schedules().await?.len(), 1, "the refused attempt stored nothing");
    Ok(())
}

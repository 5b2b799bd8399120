//! The console in a real browser: headless Chromium (Debian's, installed by
//! scripts/setup-tools.sh) driven by Playwright at a tablet viewport, against the real
//! `qingling up` with a real Temporal dev server and database.

use qingling_tests::app::TestApp;
use qingling_tests::browser::run_script;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_worked_to_closure_through_the_pages_on_a_tablet() -> anyhow::Result<()> {
    let app = TestApp::start("browser-closure").await?;
    let result = run_script("rectification.mjs", &app.base, &app.data_dir).await?;
    let id = result["matter_id"].as_str().expect("the script names the matter").to_string();
    app.wait_for_db(&id, "closure", Duration::from_secs(30), |m, _| m.status == "closed").await?;
    let kinds: Vec<String> = app.store.events(&id).await?.into_iter().map(|e| e.kind).filter(|k| k != "escalated").collect();
    assert_eq!(kinds, ["issued", "acknowledged", "feedback", "evidence_submitted", "recheck_passed", "closed"]);
    let evidence = app.store.evidence_for(&id).await?;
    assert_eq!(evidence.len(), 1, "the photo uploaded through the page is stored once");
    Ok(())
}

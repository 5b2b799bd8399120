//! A published holiday schedule reaches live matters: a matter issued with dates in a year that
//! has no schedule yet (provisional), then the year's schedule loaded by an administrator through
//! the API; its internal date (the next escalation step) is re-timed and recorded, its served
//! date (the correction deadline the facility was given) stands. Real dev server, real database.

use chrono::{Datelike, Days, NaiveDate};
use qingling_rules::calendar::Year;
use qingling_rules::{Policy, PolicyDuration};
use qingling_tests::app::TestApp;
use serde_json::{Value, json};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

/// The first year after this one that the built-in policy has no published schedule for.
fn provisional_year(policy: &Policy, today: NaiveDate) -> i32 {
    (today.year() + 1..).find(|y| policy.calendar.is_provisional(*y)).expect("some year is provisional")
}

fn working_days_between(policy: &Policy, from: NaiveDate, to: NaiveDate) -> u32 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d + Days::new(1);
        if policy.calendar.is_workday(d) {
            n += 1;
        }
    }
    n
}

async fn events_of(app: &TestApp, id: &str) -> anyhow::Result<Vec<qingling_activities::db::entities::matter_event::Model>> {
    Ok(app.store.events(id).await?)
}

/// What both tests share: the first provisional year, the schedule the test publishes for it
/// (the statutory days and 01-04..01-08 as bridging days off), and a policy whose complaint
/// matters have a served correction deadline on 01-05 of that year and, once the 2-second
/// acknowledgement is missed, a blue supervision order counted in working days to 01-20.
struct Setup {
    year: i32,
    schedule: Year,
    policy_file: std::path::PathBuf,
    policy: Policy,
    blue_wd: u32,
    rectify_days: i64,
    dir: std::path::PathBuf,
}

fn setup(name: &str) -> anyhow::Result<Setup> {
    let builtin = Policy::builtin();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let today = builtin.calendar.local_date(now_ms);
    let year = provisional_year(&builtin, today);
    // The schedule the test publishes: the statutory days, and 01-04..01-08 as bridging days off.
    let jan = |d: u32| NaiveDate::from_ymd_opt(year, 1, d).unwrap();
    let mut schedule = Year { source: Some(format!("国办发明电〔{}〕测试1号", year - 1)), ..Year::default() };
    schedule.holidays.extend(builtin.calendar.statutory_days(year).into_keys());
    schedule.holidays.extend((4..=8).map(jan));
    // Served: the correction deadline falls on 01-05 (a bridging day off once published).
    let rectify_days = (jan(5) - today).num_days();
    // Internal: the blue supervision order, counted in working days to 01-20 of that year.
    let blue_wd = working_days_between(&builtin, today, jan(20));
    let dir = qingling_tests::harness::unique_temp_dir(name)?;
    let policy_file = dir.join("policy.toml");
    std::fs::write(
        &policy_file,
        format!(
            "[policy]\nextends = \"builtin\"\nname = \"test-calendar\"\n\
             [deadlines.complaint.ordinary]\nacknowledge = \"2s\"\nfeedback = \"3d\"\nrectify = \"{rectify_days}d\"\nrecheck = \"3wd\"\n\
             [[escalation]]\nid = \"reminder\"\nafter = \"0s\"\nnotify = [\"facility\", \"inspector\"]\n\
             [[escalation]]\nid = \"supervision_blue\"\nafter = \"{blue_wd}wd\"\nnotify = [\"facility\", \"inspector\", \"supervisor\"]\n"
        ),
    )?;
    let policy = Policy::parse(&std::fs::read_to_string(&policy_file)?)?;
    Ok(Setup { year, schedule, policy_file, policy, blue_wd, rectify_days, dir })
}

/// Issues a complaint matter and waits for its reminder; returns its id and the reminder's instant.
async fn issue_and_wait_for_the_reminder(app: &TestApp, title: &str) -> anyhow::Result<(String, i64)> {
    let supervisor = app.login("supervisor").await?;
    let (_, facilities) = supervisor.get("/api/facilities").await?;
    let body =
        json!({ "facility_id": facilities[0]["id"], "kind": "complaint", "severity": "ordinary", "title": title, "description": "投诉核实", "basis": "" });
    let (s, issued) = supervisor.post("/api/matters", body).await?;
    anyhow::ensure!(s == 201, "issue: {s} {issued}");
    let id = issued["matter_id"].as_str().unwrap().to_string();
    app.wait_for_db(&id, "the reminder", LONG, |_, events| events.iter().any(|e| e.kind == "escalated")).await?;
    let reminder = events_of(app, &id).await?.into_iter().find(|e| e.kind == "escalated").unwrap();
    Ok((id, serde_json::from_str::<Value>(&reminder.payload)?["step_at_ms"].as_i64().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loaded_schedule_re_times_internal_dates_and_leaves_served_dates_as_served() -> anyhow::Result<()> {
    let Setup { year, schedule, policy_file, policy, blue_wd, rectify_days, .. } = setup("calendar-policy")?;
    let builtin = Policy::builtin();
    let jan = |d: u32| NaiveDate::from_ymd_opt(year, 1, d).unwrap();
    let app = TestApp::start_with_policy("calendar", policy_file).await?;

    let supervisor = app.login("supervisor").await?;
    let (s, facilities) = supervisor.get("/api/facilities").await?;
    assert_eq!(s, 200);
    let facility_id = facilities[0]["id"].clone();
    let issue = |title: &str| json!({ "facility_id": facility_id, "kind": "complaint", "severity": "ordinary", "title": title, "description": "投诉核实", "basis": "" });
    let (s, issued) = supervisor.post("/api/matters", issue("夜间值班人员不足")).await?;
    assert_eq!(s, 201, "{issued}");
    let id = issued["matter_id"].as_str().unwrap().to_string();
    let (s, other) = supervisor.post("/api/matters", issue("重复投诉")).await?;
    assert_eq!(s, 201, "{other}");
    let withdrawn = other["matter_id"].as_str().unwrap().to_string();
    let (s, b) = supervisor.act(&withdrawn, json!({ "action": "withdraw", "reason": "与前一事项重复" })).await?;
    assert_eq!(s, 200, "{b}");

    // Nobody acknowledges within 2 s: the reminder fires, the blue order waits for a day in the
    // provisional year.
    app.wait_for_db(&id, "the reminder", LONG, |_, events| events.iter().any(|e| e.kind == "escalated")).await?;
    let reminder = events_of(&app, &id).await?.into_iter().find(|e| e.kind == "escalated").unwrap();
    let reminder_at = serde_json::from_str::<Value>(&reminder.payload)?["step_at_ms"].as_i64().unwrap();
    let (s, before) = supervisor.get(&format!("/api/matters/{id}")).await?;
    assert_eq!(s, 200);
    let rectify = |m: &Value| m["matter"]["deadlines"].as_array().unwrap().iter().find(|d| d["kind"] == "rectify").cloned().unwrap();
    let served = rectify(&before);
    assert_eq!(served["provisional"], true, "{served}");
    assert_eq!(served["provisional_years"], json!([year]));
    let served_due = served["due_ms"].as_i64().unwrap();
    assert_eq!(served_due, builtin.calendar.due_ms(before["matter"]["issued_at_ms"].as_i64().unwrap(), PolicyDuration::Days(rectify_days as u32)));
    let blue_before =
        before["live"]["matter"]["deadlines"].as_array().unwrap().iter().find(|d| d["kind"] == "acknowledge").and_then(|d| d["next_step_ms"].as_i64()).unwrap();
    assert_eq!(blue_before, policy.calendar.due_ms(reminder_at, PolicyDuration::WorkingDays(blue_wd)));

    // Only an administrator loads a schedule; a bad one is refused with the date named.
    let body = |s: &Year, dry_run: bool| {
        json!({
            "year": year, "source": s.source, "dry_run": dry_run,
            "holidays": s.holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "workdays": s.workdays.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        })
    };
    let (s, b) = supervisor.post("/api/calendar", body(&schedule, false)).await?;
    assert_eq!(s, 403, "{b}");
    let admin = app.login("admin").await?;
    let mut bad = schedule.clone();
    bad.holidays.remove(&jan(1));
    let (s, b) = admin.post("/api/calendar", body(&bad, false)).await?;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "calendar.invalid_schedule");
    assert!(b["error"]["message"].as_str().unwrap().contains(&format!("{year}-01-01")), "{b}");
    let (s, b) = admin.post("/api/calendar", body(&schedule, true)).await?;
    assert_eq!((s, b["saved"].clone()), (200, json!(false)), "{b}");
    assert!(app.store.loaded_years().await?.is_empty(), "a dry run stores nothing");
    let (s, b) = admin.post("/api/calendar", body(&schedule, false)).await?;
    assert_eq!(s, 201, "{b}");
    assert!(b["rollout_workflow_id"].as_str().unwrap().starts_with(&format!("calendar-{year}-")));

    // The matter learns the year: the blue order moves by the bridging days, and says so.
    app.wait_for_db(&id, "the calendar update", LONG, |_, events| events.iter().any(|e| e.kind == "calendar_updated")).await?;
    let mut amended = policy.clone();
    amended.calendar.learn(year, schedule.clone())?;
    let blue_after = amended.calendar.due_ms(reminder_at, PolicyDuration::WorkingDays(blue_wd));
    assert!(blue_after > blue_before, "01-04..01-08 are days off now");
    let updates: Vec<Value> =
        events_of(&app, &id).await?.iter().filter(|e| e.kind == "calendar_updated").map(|e| serde_json::from_str(&e.payload).unwrap()).collect();
    assert_eq!(updates.len(), 1, "one date moved: {updates:?}");
    let u = &updates[0];
    assert_eq!((u["deadline"].as_str(), u["date"].as_str(), u["step"].as_str()), (Some("acknowledge"), Some("escalation"), Some("supervision_blue")));
    assert_eq!((u["old_ms"].as_i64(), u["new_ms"].as_i64()), (Some(blue_before), Some(blue_after)));
    assert_eq!(u["source"], json!(schedule.source));

    let (_, after) = supervisor.get(&format!("/api/matters/{id}")).await?;
    let served = rectify(&after);
    assert_eq!(served["due_ms"].as_i64(), Some(served_due), "the served deadline stands, though its day is now a holiday");
    assert_eq!(served["provisional"], false, "the year is published now");
    let live_blue =
        after["live"]["matter"]["deadlines"].as_array().unwrap().iter().find(|d| d["kind"] == "acknowledge").and_then(|d| d["next_step_ms"].as_i64());
    assert_eq!(live_blue, Some(blue_after), "the workflow's timer follows the new date");

    // The withdrawn matter is not touched; the chain still verifies; loading again is a no-op.
    assert!(events_of(&app, &withdrawn).await?.iter().all(|e| e.kind != "calendar_updated"));
    let out = app.command(&["audit", "verify"])?.output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (s, b) = admin.post("/api/calendar", body(&schedule, false)).await?;
    assert_eq!((s, b["saved"].clone()), (200, json!(false)), "{b}");
    // The CLI reads the loaded year: no longer provisional.
    let out = app.command(&["calendar", "is-workday", &jan(5).to_string()])?.output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "false");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("provisional"), "{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// The other way to load a schedule: a policy overlay with the year's `[calendar.YYYY]` table.
/// A matter issued before it is loaded learns it when the worker restarts with the file, and the
/// console's calendar lists the year as published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_in_a_policy_overlay_reaches_the_running_matters_at_restart() -> anyhow::Result<()> {
    let Setup { year, schedule, policy_file, policy, blue_wd, dir, .. } = setup("calendar-overlay")?;
    let mut app = TestApp::start_with_policy("calendar-overlay", policy_file.clone()).await?;
    let (id, reminder_at) = issue_and_wait_for_the_reminder(&app, "消防通道堵塞").await?;
    // The workflow has recorded the reminder's step, so the blue order is already scheduled on
    // the provisional calendar when the file arrives. (Were the worker killed before that, the
    // restarted workflow would learn the year first and count the order on it from the start,
    // with nothing to re-time.)
    let supervisor = app.login("supervisor").await?;
    let settled = tokio::time::Instant::now() + LONG;
    loop {
        let (_, m) = supervisor.get(&format!("/api/matters/{id}")).await?;
        if m["live"]["persisted_seq"].as_u64().is_some() && m["live"]["persisted_seq"] == m["live"]["last_seq"] {
            break;
        }
        anyhow::ensure!(tokio::time::Instant::now() < settled, "the workflow did not settle: {}", m["live"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let list = |s: &std::collections::BTreeSet<NaiveDate>| s.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", ");
    // Without a `source`: the file itself is named as the source.
    let overlay = format!("{}\n[calendar.{year}]\nholidays = [{}]\nworkdays = []\n", std::fs::read_to_string(&policy_file)?, list(&schedule.holidays));
    let with_year = dir.join("policy-with-year.toml");
    std::fs::write(&with_year, overlay)?;
    let out = app.command(&["policy", "check", with_year.to_str().unwrap()])?.output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    app.kill_app();
    app.set_policy(with_year);
    app.spawn_app().await?;
    app.wait_for_db(&id, "the calendar update", LONG, |_, events| events.iter().any(|e| e.kind == "calendar_updated")).await?;
    let mut amended = policy.clone();
    amended.calendar.learn(year, schedule.clone())?;
    let update: Value = serde_json::from_str(&events_of(&app, &id).await?.into_iter().find(|e| e.kind == "calendar_updated").unwrap().payload)?;
    assert_eq!(update["new_ms"].as_i64(), Some(amended.calendar.due_ms(reminder_at, PolicyDuration::WorkingDays(blue_wd))));
    let recorded = app.store.loaded_years().await?.get(&year).cloned().expect("recorded as loaded");
    assert_eq!(recorded.holidays, schedule.holidays);
    assert!(recorded.source.as_deref().is_some_and(|s| s.starts_with("QINGLING_POLICY ") && s.ends_with("policy-with-year.toml")), "{recorded:?}");
    assert_eq!(update["source"].as_str(), recorded.source.as_deref());
    let admin = app.login("admin").await?;
    let (_, cal) = admin.get("/api/calendar").await?;
    let row = cal["years"].as_array().unwrap().iter().find(|y| y["year"] == year).cloned().unwrap();
    assert_eq!((row["provisional"].clone(), row["source"].as_str()), (json!(false), recorded.source.as_deref()));
    // A second restart with the same file records and rolls out nothing again.
    app.kill_app();
    app.spawn_app().await?;
    assert_eq!(app.store.calendar_schedules().await?.len(), 1);
    assert!(app.log().matches("schedule is rolled out").nth(1).is_none(), "rolled out once:\n{}", app.log());
    Ok(())
}

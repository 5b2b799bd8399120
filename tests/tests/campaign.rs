//! A 双随机 campaign end to end on the real dev server: planned, committed to the directories'
//! snapshots before the draw, drawn with witnesses, its bundle verified by the engine and by the
//! independent script, an unassigned team escalating, a reassignment refused by the committed
//! directory, the teams assigned (one inspection per home), the window missed, publication on
//! time and late, the public site before and after, a Schedule starting campaigns, and the
//! campaign's history replayed on the current code.

use anyhow::Context;
use qingling_tests::app::{Session, TestApp};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowHistory};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn policy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("campaign-policy.toml")
}

fn plan(title: &str) -> Value {
    json!({
        "title": title,
        "templates": ["fire-major-hazard"],
        "ratio_permille": { "A": 1000, "B": 1000, "C": 1000, "D": 1000 },
        "window": "12s",
        "sources": [{ "name": "中国福利彩票双色球第2026140期开奖号码（红球）", "kind": "numbers" }],
    })
}

/// Polls the campaign until `done` holds (at most `within`).
async fn until(s: &Session, id: &str, within: Duration, what: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let (status, body) = s.get(&format!("/api/campaigns/{id}")).await?;
        anyhow::ensure!(status == 200, "GET campaign: {status} {body}");
        if done(&body["campaign"]) {
            return Ok(body["campaign"].clone());
        }
        anyhow::ensure!(start.elapsed() < within, "{what} did not happen within {within:?}: {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn events<'a>(c: &'a Value, kind: &str) -> Vec<&'a Value> {
    c["events"].as_array().map(|e| e.iter().filter(|e| e["kind"] == kind).collect()).unwrap_or_default()
}

fn escalated(c: &Value, deadline: &str) -> bool {
    events(c, "escalated").iter().any(|e| e["payload"]["deadline"] == deadline)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_commits_before_the_draw_verifies_escalates_and_publishes() -> anyhow::Result<()> {
    let mut app = TestApp::start_with_policy("campaign", policy()).await?;
    app.spawn_app().await?;
    let sup = app.login("supervisor").await?;

    // A bad plan is refused naming its field; a good one is committed at once.
    let (status, body) =
        sup.post("/api/campaigns", json!({ "title": "x", "templates": ["fire-major-hazard"], "window": "12s", "sources": [], "team_size": 1 })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.team_too_small")), "{body}");
    let (status, body) = sup.post("/api/campaigns", plan("朝阳区养老机构消防安全双随机抽查（准时公示）")).await?;
    assert_eq!(status, 201, "{body}");
    let on_time = body["campaign"]["id"].as_str().context("id")?.to_string();
    let commitment = &body["campaign"]["commitment"];
    let (_, snaps) = sup.get("/api/directory/snapshots?kind=targets").await?;
    assert_eq!(commitment["targets_sha256"], snaps["snapshots"][0]["sha256"], "the commitment names the directory snapshot taken for it");
    assert_eq!(commitment["plan"]["districts"], json!(["110105"]), "the supervisor's districts, written out");
    let (status, body) = sup.post("/api/campaigns", plan("朝阳区养老机构消防安全双随机抽查（逾期公示）")).await?;
    assert_eq!(status, 201, "{body}");
    let late = body["campaign"]["id"].as_str().context("id")?.to_string();

    // The draw needs one value per committed source and a witness; then it runs.
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/draw"), json!({ "values": ["1 2", "3"], "witnesses": ["李见证"] })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("draw.source_count")), "{body}");
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/draw"), json!({ "values": ["9 18 26 34 41 45"], "witnesses": [] })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.no_witness")), "{body}");
    for id in [&on_time, &late] {
        let (status, body) =
            sup.post(&format!("/api/campaigns/{id}/draw"), json!({ "values": ["9 18 26 34 41 45"], "witnesses": ["李见证", "张见证"] })).await?;
        assert_eq!((status, body["campaign"]["status"].as_str()), (200, Some("drawn")), "{body}");
        assert_eq!(body["campaign"]["homes"].as_array().map(Vec::len), Some(3), "every Chaoyang home at 1000‰: {body}");
    }
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/draw"), json!({ "values": ["1 2 3"], "witnesses": ["李见证"] })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("campaign.wrong_state")), "a draw is never redone: {body}");

    // A draw entered wrongly is set aside with a reason, kept and published, and drawn again on
    // the same commitment.
    let (_, first) = sup.get(&format!("/api/campaigns/{late}")).await?;
    let first_sha = first["campaign"]["bundle_sha256"].as_str().context("drawn")?.to_string();
    let (status, body) = sup.post(&format!("/api/campaigns/{late}/supersede"), json!({ "reason": " " })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.required")), "a reason is required: {body}");
    let (status, body) = sup.post(&format!("/api/campaigns/{late}/supersede"), json!({ "reason": "红球号码录入错误" })).await?;
    assert_eq!((status, body["campaign"]["status"].as_str()), (200, Some("committed")), "{body}");
    assert_eq!(body["campaign"]["homes"], json!([]), "the homes of the draw set aside are cleared: {body}");
    let (status, body) = sup.post(&format!("/api/campaigns/{late}/draw"), json!({ "values": ["9 18 26 34 41 46"], "witnesses": ["李见证", "张见证"] })).await?;
    assert_eq!((status, body["campaign"]["status"].as_str()), (200, Some("drawn")), "{body}");
    let draws = body["campaign"]["draws"].as_array().context("draws")?.clone();
    assert_eq!(draws.len(), 2, "{draws:?}");
    assert_eq!((draws[0]["bundle_sha256"].as_str(), draws[0]["superseded_reason"].as_str()), (Some(first_sha.as_str()), Some("红球号码录入错误")));
    assert!(draws[1]["superseded_at_ms"].is_null() && draws[1]["bundle_sha256"] != draws[0]["bundle_sha256"], "{draws:?}");
    let events_now = body["campaign"]["events"].as_array().context("events")?;
    assert!(events_now.iter().any(|e| e["kind"] == "draw_superseded" && e["payload"]["reason"] == "红球号码录入错误"), "{events_now:?}");
    // The draw set aside still re-runs from its own bundle, and the public sees it set aside.
    let (status, bytes) = sup.get_bytes(&format!("/api/campaigns/{late}/bundle?draw=1")).await?;
    assert_eq!(status, 200);
    let file = std::env::temp_dir().join(format!("bundle-{late}-1.json"));
    std::fs::write(&file, &bytes)?;
    let out = Command::new(qingling_tests::app::qingling_bin()?).args(["draw", "verify"]).arg(&file).env_remove("QINGLING_POLICY").output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "verified\n", "{}", String::from_utf8_lossy(&out.stderr));
    let page = reqwest::get(format!("{}/public/campaigns/{late}", app.base)).await?.text().await?;
    assert!(page.contains("红球号码录入错误") && page.contains(&first_sha), "the public page names the draw set aside and why");

    // Anyone can re-run it: the engine and the independent script agree.
    let (status, bytes) = sup.get_bytes(&format!("/api/campaigns/{on_time}/bundle")).await?;
    assert_eq!(status, 200);
    let file = std::env::temp_dir().join(format!("bundle-{on_time}.json"));
    std::fs::write(&file, &bytes)?;
    let out = Command::new(qingling_tests::app::qingling_bin()?).args(["draw", "verify"]).arg(&file).env_remove("QINGLING_POLICY").output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "verified\n", "{}", String::from_utf8_lossy(&out.stderr));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/verify-draw.py");
    let out = Command::new("python3").arg(script).arg(&file).output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified", "{}", String::from_utf8_lossy(&out.stderr));

    // Left unassigned past the deadline, the campaign climbs the ladder.
    let c = until(&sup, &on_time, Duration::from_secs(20), "the unassigned team escalating", |c| escalated(c, "assign")).await?;
    assert_eq!(events(&c, "escalated")[0]["payload"]["step"], "reminder");
    // Each escalation is mailed to the district's supervisors (never to a home: a drawn home is not
    // told before its inspection), once, in the reader's language.
    let mail = app
        .smtp
        .wait_for(
            |m| {
                let (subject, to) = qingling_tests::app::subject_and_to(m);
                to.contains("supervisor@example.test")
                    && subject.contains("【逾期提醒】双随机抽查「朝阳区养老机构消防安全双随机抽查（准时公示）」：派出检查组已逾期")
            },
            Duration::from_secs(20),
        )
        .await?;
    assert!(mail.contains("X-RcptTo: supervisor@example.test") || mail.contains("supervisor@example.test"), "{mail}");
    {
        use qingling_activities::db::entities::campaign_mail;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let stored = campaign_mail::Entity::find().filter(campaign_mail::Column::CampaignId.eq(on_time.clone())).all(&app.store.db).await?;
        assert!(stored.iter().any(|m| m.body.contains(&format!("/campaigns/{on_time}"))), "the mail links to the campaign's page: {stored:?}");
    }
    let campaign_mails: Vec<(String, String)> =
        app.smtp.messages().iter().map(|m| qingling_tests::app::subject_and_to(m)).filter(|(subject, _)| subject.contains("双随机抽查「")).collect();
    assert!(campaign_mails.iter().all(|(_, to)| !to.contains("facility")), "no home hears of the draw: {campaign_mails:?}");
    let reminders = campaign_mails.iter().filter(|(s, to)| s.contains("【逾期提醒】") && s.contains("（准时公示）") && to.contains("supervisor@")).count();
    assert_eq!(reminders, 1, "one reminder per recipient: {campaign_mails:?}");

    // A replacement the committed directory does not have is refused, and nothing changes.
    let team = c["homes"][0].clone();
    let body = json!({ "target": team["target"], "out": team["team"][0], "in": "京执999999-0000", "reason": "病假" });
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/reassign"), body).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.unknown_inspector")), "{body}");

    // Assigned: one inspection per home, to the drawn team.
    for id in [&on_time, &late] {
        let (status, body) = sup.post(&format!("/api/campaigns/{id}/assign"), json!({})).await?;
        assert_eq!((status, body["campaign"]["status"].as_str()), (200, Some("assigned")), "{body}");
    }
    let c = until(&sup, &on_time, Duration::from_secs(20), "the inspections stored", |c| {
        c["homes"].as_array().is_some_and(|h| h.iter().all(|h| h["inspection_id"].is_string()))
    })
    .await?;
    let first = c["homes"][0]["inspection_id"].as_str().context("inspection id")?;
    let (status, inspection) = sup.get(&format!("/api/inspections/{first}")).await?;
    assert_eq!(status, 200, "{inspection}");
    let inspectors: Vec<String> =
        inspection["inspection"]["inspectors"].as_array().context("inspectors")?.iter().filter_map(|i| i["username"].as_str().map(str::to_string)).collect();
    assert_eq!(inspectors.len(), 2, "{inspection}");
    // The team finds it on the tablet among its inspections, as one assigned by hand.
    let member = app.login(&inspectors[0]).await?;
    let (status, theirs) = member.get("/api/inspections").await?;
    assert_eq!(status, 200, "{theirs}");
    assert!(theirs.to_string().contains(first), "the drawn inspector's list has the campaign's inspection: {theirs}");

    // The campaign survives its process: killed (SIGKILL) while its inspections run and started
    // again, it goes on to its escalations and publication below.
    app.kill_app();
    app.spawn_app().await?;

    // The public site shows the commitment and the draw at once, but no drawn home before its
    // inspection, and not the bundle (it names them all) before publication.
    let public = |path: String| {
        let url = format!("{}{path}", app.base);
        async move {
            let r = reqwest::get(url).await?;
            let status = r.status().as_u16();
            // Pages escape "/" as &#x2f; (minijinja's HTML escaping); JSON has none.
            anyhow::Ok((status, r.text().await?.replace("&#x2f;", "/")))
        }
    };
    let (status, page) = public(format!("/public/campaigns/{on_time}")).await?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(c["commitment_sha256"].as_str().context("sha")?), "the commitment's digest");
    assert!(page.contains("9.18.26.34.41.45./"), "the key string");
    assert!(!page.contains("第一社会福利院") && !page.contains("康乐养老院"), "no drawn home named before its inspection: {page}");
    assert_eq!(public(format!("/public/campaigns/{on_time}/bundle.json")).await?.0, 404, "the bundle waits for publication");
    assert_eq!(public(format!("/public/campaigns/{on_time}/commitment.json")).await?.0, 200);

    // Publication before the window ends (and with inspections open) is refused.
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/publish"), json!({})).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.not_finished")), "{body}");
    // The window passes with nothing inspected: escalated, naming the homes still waiting.
    let c = until(&sup, &on_time, Duration::from_secs(30), "the missed window escalating", |c| escalated(c, "inspect")).await?;
    let missed = events(&c, "escalated").into_iter().find(|e| e["payload"]["deadline"] == "inspect").context("inspect")?;
    assert_eq!(missed["payload"]["waiting"].as_array().map(Vec::len), Some(3), "{missed}");

    // Published on time; the other one only after its publication deadline, recorded as late.
    let (status, body) = sup.post(&format!("/api/campaigns/{on_time}/publish"), json!({})).await?;
    assert_eq!(status, 200, "{body}");
    let c = until(&sup, &on_time, Duration::from_secs(20), "closed", |c| c["status"] == "closed").await?;
    assert_eq!(events(&c, "published")[0]["payload"]["on_time"], true);
    // Published: the homes are named (not inspected, as they were not), the bundle is public and
    // verifies, and the feeds carry the campaign.
    let (_, page) = public(format!("/public/campaigns/{on_time}")).await?;
    assert!(page.contains("第一社会福利院") && page.contains("尚未检查"), "{page}");
    let (status, public_bundle) = public(format!("/public/campaigns/{on_time}/bundle.json")).await?;
    assert_eq!((status, public_bundle.as_bytes()), (200, bytes.as_slice()), "the public bundle is the one verified above");
    let (_, feed) = public("/public/feed.json".to_string()).await?;
    assert!(feed.contains(&on_time), "{feed}");
    let (status, atom) = public("/public/feed.atom".to_string()).await?;
    assert!(status == 200 && atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">") && atom.contains("准时公示"), "{atom}");
    let c = until(&sup, &late, Duration::from_secs(40), "the late publication escalating", |c| escalated(c, "publish")).await?;
    assert!(c["published_at_ms"].is_null());
    let (status, body) = sup.post(&format!("/api/campaigns/{late}/publish"), json!({})).await?;
    assert_eq!(status, 200, "{body}");
    let c = until(&sup, &late, Duration::from_secs(20), "closed", |c| c["status"] == "closed").await?;
    assert_eq!(events(&c, "published")[0]["payload"]["on_time"], false);

    // A recurring plan: its cron expression is checked, its next runs shown in Beijing time,
    // and its Temporal Schedule starts campaigns of their own (every 2 s here).
    let (status, body) = sup.post("/api/campaign-plans", json!({ "plan": plan("每两秒"), "cron": "0 9 * * 1-5" })).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("campaign.cron")), "weekdays by number are refused: {body}");
    let (status, body) = sup.get("/api/campaign-plans/runs?cron=0%209%201%2010%20*").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next_runs"].as_array().map(Vec::len), Some(5));
    assert!(body["next_runs"][0]["at"].as_str().is_some_and(|at| at.ends_with("-10-01 09:00:00")), "{body}");
    assert_eq!(body["next_runs"][0]["moved"], true, "1 October is National Day: {body}");
    let (status, body) = sup.post("/api/campaign-plans", json!({ "plan": plan("朝阳区双随机抽查（周期）"), "cron": "*/2 * * * * * *" })).await?;
    assert_eq!(status, 201, "{body}");
    let plan_id = body["plan_id"].as_str().context("plan id")?.to_string();
    let start = Instant::now();
    let scheduled = loop {
        let (_, list) = sup.get("/api/campaigns").await?;
        let found = list["campaigns"].as_array().and_then(|l| l.iter().find(|c| c["id"].as_str().is_some_and(|id| id.starts_with(&plan_id))).cloned());
        if let Some(c) = found {
            break c;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(30), "no campaign from the schedule: {list}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let id = scheduled["id"].as_str().context("id")?.to_string();
    // On a working day it commits at once; on a day off it waits for the next working day.
    let c = until(&sup, &id, Duration::from_secs(20), "the scheduled campaign committed or moved", |c| {
        !c["commitment"].is_null() || !events(c, "moved").is_empty()
    })
    .await?;
    assert_eq!(c["state"]["plan"]["title"], "朝阳区双随机抽查（周期）");
    // The plan is listed with its next runs for its district only, and only its district stops it.
    let (_, plans) = sup.get("/api/campaign-plans").await?;
    let listed = plans["plans"].as_array().and_then(|p| p.iter().find(|p| p["plan_id"] == plan_id.as_str()).cloned()).context("the plan is listed")?;
    assert_eq!((listed["cron"].as_str(), listed["next_runs"].as_array().map(Vec::len)), (Some("*/2 * * * * * *"), Some(5)), "{listed}");
    let haidian = app.login("haidian").await?;
    let (_, theirs) = haidian.get("/api/campaign-plans").await?;
    assert_eq!(theirs["plans"], json!([]), "another district does not see the plan");
    let (status, _, _) = haidian.raw(reqwest::Method::DELETE, &format!("/api/campaign-plans/{plan_id}"), "application/json", vec![]).await?;
    assert_eq!(status, 404, "nor stop it");
    let (status, _, body) = sup.raw(reqwest::Method::DELETE, &format!("/api/campaign-plans/{plan_id}"), "application/json", vec![]).await?;
    assert_eq!(status, 204, "{body}");
    let (_, plans) = sup.get("/api/campaign-plans").await?;
    let stopped = plans["plans"].as_array().and_then(|p| p.iter().find(|p| p["plan_id"] == plan_id.as_str()).cloned()).context("still listed")?;
    assert!(stopped["stopped_at_ms"].is_i64() && stopped["next_runs"] == json!([]), "stopped, with no more runs: {stopped}");

    // The current code replays the campaign's own history (its select over timers, updates and
    // the children's completion is deterministic). QINGLING_RECORD_HISTORIES=DIR keeps it.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let id = qingling_workflows::ids::campaign_workflow_id(&on_time);
    let history = client.get_workflow_handle::<qingling_workflows::Campaign>(&id).fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await?;
    if let Ok(dir) = std::env::var("QINGLING_RECORD_HISTORIES") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(PathBuf::from(&dir).join("campaign.json"), &history)?;
    }
    let options =
        WorkflowReplayerOptions::new().register_workflow::<qingling_workflows::Campaign>()?.register_workflow::<qingling_workflows::Inspection>()?.build();
    let results = WorkflowReplayer::new(options)?.replay_workflows([WorkflowHistory::from_json(&history)?]).await?;
    assert!(
        results.iter().all(|r| r.replay_failure.is_none()),
        "the campaign's history no longer replays: {:?}",
        results.iter().map(|r| &r.replay_failure).collect::<Vec<_>>()
    );

    // Every step is an event in the campaign's keyed hash chain: it verifies as stored, and an
    // event edited in the database is found.
    let key = qingling_activities::chain::AuditKey::load(&app.data_dir.join("audit.key"))?.context("the worker's audit key")?;
    assert_eq!(qingling_activities::campaign::check_chain(&app.store, &key, &on_time).await?, None);
    let out = app.command(&["audit", "verify"])?.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("campaign events, every hash chain intact"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let kinds: Vec<String> = app.store.campaign_events(&on_time).await?.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("planned"));
    assert!(["committed", "drawn", "escalated", "assigned", "published", "closed"].iter().all(|k| kinds.iter().any(|x| x == k)), "{kinds:?}");
    {
        use qingling_activities::db::entities::campaign_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        campaign_event::Entity::update_many()
            .col_expr(campaign_event::Column::Payload, Expr::value("{\"on_time\":true,\"edited\":1}"))
            .filter(campaign_event::Column::CampaignId.eq(late.clone()))
            .filter(campaign_event::Column::Kind.eq("published"))
            .exec(&app.store.db)
            .await?;
    }
    assert!(qingling_activities::campaign::check_chain(&app.store, &key, &late).await?.is_some(), "an edited event breaks the chain");
    // `qingling audit verify` checks the campaigns' chains with the matters': it names the edit.
    let out = app.command(&["audit", "verify"])?.output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "a broken campaign chain fails the audit: {stderr}");
    assert!(stderr.contains(&format!("broken chain: campaign {late} event")), "{stderr}");
    assert!(!stderr.contains(&format!("campaign {on_time} ")), "the untouched campaign verifies: {stderr}");

    // Inspectors and facilities see no campaign.
    let inspector = app.login("inspector1").await?;
    assert_eq!(inspector.get(&format!("/api/campaigns/{on_time}")).await?.0, 403);
    Ok(())
}

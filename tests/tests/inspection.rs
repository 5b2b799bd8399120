//! Inspections end to end on the real dev server: assigned by a supervisor, filled and signed by
//! two inspectors, turned into numbered notices (HTML and PDF, mailed) and into the rectification
//! matters the 13710 rules track; refusals for bad input leave nothing half-stored.

use anyhow::Context;
use qingling_tests::app::{Session, TestApp, tiny_png};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const FIRE: &str = "fire-major-hazard";
/// An ordinary finding (photo and note) and a major hazard (photo) on the fire sheet.
const ORDINARY_ITEM: &str = "facilities.structure-visible";
const MAJOR_ITEM: &str = "management.exits-clear";

async fn user_id(app: &TestApp, username: &str) -> anyhow::Result<i64> {
    Ok(app.store.user_by_username(username).await?.context("demo user")?.id)
}

async fn facility_id(s: &Session, name: &str) -> anyhow::Result<Value> {
    let (_, list) = s.get("/api/facilities").await?;
    Ok(list.as_array().and_then(|a| a.iter().find(|f| f["name"].as_str().is_some_and(|n| n.contains(name)))).context("facility")?["id"].clone())
}

async fn assign(app: &TestApp, sup: &Session, template: &str) -> anyhow::Result<String> {
    let body = json!({
        "facility_id": facility_id(sup, "第一社会福利院").await?, "template": template,
        "inspectors": [user_id(app, "inspector1").await?, user_id(app, "inspector2").await?],
    });
    let (status, b) = sup.post("/api/inspections", body).await?;
    anyhow::ensure!(status == 201, "assign: {status} {b}");
    Ok(b["inspection_id"].as_str().context("id")?.to_string())
}

/// Answers every shown item of the template so that it passes, except `fail` (which fails with
/// a note and `photo`).
fn answers(template: &Value, fail: &[&str], photo: &str) -> Value {
    let mut out = Map::new();
    for section in template["sections"].as_array().unwrap() {
        for item in section["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            if let Some(cond) = item["show_if"].as_object() {
                let other = out.get(cond["item"].as_str().unwrap()).and_then(|a: &Value| a["value"].as_str().map(str::to_string));
                if other.as_deref() != cond["equals"].as_str() {
                    continue;
                }
            }
            let spec = &item["answer"];
            let failing = fail.contains(&id);
            let value = match spec["type"].as_str().unwrap() {
                "yes_no" => {
                    let pass = spec["pass"].as_str().unwrap_or("yes");
                    let fail_with = if pass == "yes" { "no" } else { "yes" };
                    json!(if failing { fail_with } else { pass })
                }
                "number" => {
                    let lo = spec["pass_min"].as_f64().or(spec["min"].as_f64()).unwrap();
                    json!(lo)
                }
                "choice" => {
                    let choices = spec["choices"].as_array().unwrap();
                    // Failing: the first failing choice; passing: the best-scoring passing one.
                    let fits = |c: &&Value| c["fails"].as_bool().unwrap_or(false) == failing;
                    let pick = if failing { choices.iter().find(fits) } else { choices.iter().filter(fits).max_by_key(|c| c["points"].as_u64().unwrap_or(0)) }
                        .unwrap_or(&choices[0]);
                    pick["id"].clone()
                }
                "text" => json!("情况正常"),
                _ => Value::Null,
            };
            let mut a = Map::new();
            if !value.is_null() {
                a.insert("value".into(), value);
            }
            if failing || spec["type"] == "photo" {
                a.insert("photos".into(), json!([photo]));
                a.insert("note".into(), json!("现场检查发现问题，已拍照取证。"));
            }
            out.insert(id.to_string(), Value::Object(a));
        }
    }
    Value::Object(out)
}

async fn fill(app: &TestApp, id: &str, fail: &[&str]) -> anyhow::Result<(Session, Value)> {
    let insp = app.login("inspector1").await?;
    let (s, b) = insp.post(&format!("/api/inspections/{id}/start"), json!({})).await?;
    anyhow::ensure!(s == 200, "start: {s} {b}");
    let (s, photo) = insp.upload_to(&format!("/api/inspections/{id}/photos"), "现场.png", tiny_png()).await?;
    anyhow::ensure!(s == 201, "photo: {s} {photo}");
    let (s, detail) = insp.get(&format!("/api/inspections/{id}")).await?;
    anyhow::ensure!(s == 200, "show: {s} {detail}");
    let a = answers(&detail["template"], fail, photo["sha256"].as_str().unwrap());
    Ok((insp, a))
}

fn cosigner() -> Value {
    json!({ "username": "inspector2", "password": "qingling-demo" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_inspection_with_failed_items_issues_notices_and_starts_their_matters() -> anyhow::Result<()> {
    let app = TestApp::start("inspection").await?;
    let sup = app.login("supervisor").await?;
    let id = assign(&app, &sup, FIRE).await?;
    let (insp, answers) = fill(&app, &id, &[ORDINARY_ITEM, MAJOR_ITEM]).await?;

    // A draft survives on the server too.
    let (s, b) = insp.put(&format!("/api/inspections/{id}/draft"), json!({ "answers": answers, "client_rev": 3 })).await?;
    assert_eq!(s, 200, "{b}");

    // Signed by one inspector only: refused, nothing stored.
    let key = uuid::Uuid::new_v4().to_string();
    let (s, b) = insp.post(&format!("/api/inspections/{id}/submit"), json!({ "idempotency_key": key, "answers": answers })).await?;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "inspection.signatures_required");
    assert!(b["error"]["message"].as_str().unwrap().contains('2'), "{b}");
    assert_eq!(app.store.inspection(&id).await?.unwrap().inspection.status, "in_progress");

    // Signed by both: the notices and their matters follow.
    let submit = json!({ "idempotency_key": key, "answers": answers, "cosigner": cosigner() });
    let (s, first) = insp.post(&format!("/api/inspections/{id}/submit"), submit.clone()).await?;
    assert_eq!(s, 200, "{first}");
    let notices = first["result"]["notices"].as_array().unwrap().clone();
    assert_eq!(notices.len(), 2, "one ordinary notice and one for the major hazard: {first}");
    assert_eq!(notices[0]["major_hazard"], false);
    assert_eq!(notices[1]["major_hazard"], true);
    assert_eq!(first["result"]["findings"].as_array().unwrap().len(), 2);

    // The same submission again: the same outcome, nothing new.
    let (s, again) = insp.post(&format!("/api/inspections/{id}/submit"), submit).await?;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["result"]["notices"], first["result"]["notices"]);
    assert_eq!(app.store.inspection_notices(&id).await?.len(), 2);
    // The same key with changed answers is refused, not silently answered with the first result.
    let mut changed = answers.clone();
    changed[ORDINARY_ITEM]["note"] = json!("提交后又改了说明");
    let (s, b) = insp.post(&format!("/api/inspections/{id}/submit"), json!({ "idempotency_key": key, "answers": changed, "cosigner": cosigner() })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("inspection.key_reused")), "{b}");
    // A different submission afterwards is refused.
    let (s, b) = insp.post(&format!("/api/inspections/{id}/submit"), json!({ "idempotency_key": "other", "answers": answers, "cosigner": cosigner() })).await?;
    assert_eq!(s, 409, "{b}");

    // Each notice became a rectification matter with the same number, tracked by 13710.
    for n in &notices {
        let matter_id = n["matter_id"].as_str().unwrap();
        app.wait_for_db(matter_id, "the matter of a notice", Duration::from_secs(30), |m, _| m.status == "issued").await?;
        let m = app.store.matter(matter_id).await?.unwrap();
        assert_eq!(m.severity, if n["major_hazard"] == true { "major" } else { "ordinary" });
        assert_eq!(m.kind, "fire_safety");
        assert_eq!(app.store.notice_for(matter_id).await?.unwrap().number, n["number"].as_str().unwrap());
        // The matter counts from the notice's issue, not from when its workflow started.
        let stored = app.store.inspection_notice_for_matter(matter_id).await?.unwrap();
        assert_eq!(m.issued_at_ms, stored.created_at_ms);
        if n["major_hazard"] == true {
            // Titled by the problem found, not by the requirement the checklist asks about.
            assert_eq!(m.title, "重大事故隐患：疏散通道、安全出口被占用、堵塞或锁闭");
            // "Immediate": measures the same day, confirmed by the facility, and the
            // rectification in a major hazard's period, never before the feedback due first.
            let snapshot: Value = serde_json::from_str(&m.snapshot)?;
            let due = |kind: &str| snapshot["deadlines"].as_array().and_then(|ds| ds.iter().find(|d| d["kind"] == kind)).and_then(|d| d["due_ms"].as_i64());
            let (feedback, rectify, measures) =
                (due("feedback").context("feedback")?, due("rectify").context("rectify")?, due("measures").context("measures")?);
            assert!(rectify > feedback && measures <= rectify, "feedback {feedback}, rectify {rectify}, measures {measures}");
            let fac = app.login("facility1").await?;
            let (s, b) = fac.act(matter_id, json!({ "action": "confirm_measures", "note": "已清除堵塞物并开启安全出口" })).await?;
            assert_eq!(s, 200, "{b}");
            app.wait_for_db(matter_id, "the measures confirmed", Duration::from_secs(30), |_, events| events.iter().any(|e| e.kind == "measures_confirmed"))
                .await?;
            let (s, b) = fac.act(matter_id, json!({ "action": "confirm_measures", "note": "再次确认" })).await?;
            assert_eq!((s, b["error"]["code"].as_str()), (422, Some("reject.measures_not_open")), "{b}");
        }
    }
    let numbers: Vec<&str> = notices.iter().map(|n| n["number"].as_str().unwrap()).collect();
    assert!(numbers[0].ends_with("0001号") && numbers[1].ends_with("0002号"), "{numbers:?}");

    // The matters are found in Temporal by the inspection's facility, each with its notice number
    // in the memo (filled in by the matter's own workflow), and the inspection as completed.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let facility = app.store.matter(notices[0]["matter_id"].as_str().unwrap()).await?.unwrap().facility_id;
    let wf_ids: Vec<String> = notices.iter().map(|n| qingling_workflows::ids::matter_workflow_id(n["matter_id"].as_str().unwrap())).collect();
    let wf_ids: Vec<&str> = wf_ids.iter().map(String::as_str).collect();
    let query = format!("QinglingKind = 'matter' AND QinglingFacility = {facility} AND QinglingStatus = 'issued'");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = qingling_tests::app::wait_for_listed(&client, &query, &wf_ids, Duration::from_secs(30)).await?;
        let mut memo_numbers: Vec<String> =
            found.iter().filter_map(|w| w.memo().get::<String>(qingling_workflows::visibility::MEMO_NOTICE).ok().flatten()).collect();
        memo_numbers.sort();
        if memo_numbers == numbers {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "notice numbers in the matters' memos: {memo_numbers:?}, want {numbers:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let inspection_wf = qingling_workflows::ids::inspection_workflow_id(&id);
    qingling_tests::app::wait_for_listed(
        &client,
        &format!("WorkflowId = '{inspection_wf}' AND QinglingStatus = 'completed'"),
        &[&inspection_wf],
        Duration::from_secs(30),
    )
    .await?;

    // The PDF opens and carries the Chinese text; the HTML is stored under its hash.
    let (s, pdf) = insp.get_bytes(notices[1]["pdf_url"].as_str().unwrap()).await?;
    assert_eq!(s, 200);
    assert!(pdf.starts_with(b"%PDF"));
    let path = app.data_dir.join("major.pdf");
    std::fs::write(&path, &pdf)?;
    let text = String::from_utf8(std::process::Command::new("pdftotext").arg(&path).arg("-").output()?.stdout)?;
    for want in ["重大事故隐患整改通知书", "朝阳区第一社会福利院", numbers[1], "立即采取"] {
        assert!(text.contains(want), "the PDF lacks {want}:\n{text}");
    }
    let (s, html) = insp.get_bytes(notices[0]["html_url"].as_str().unwrap()).await?;
    assert_eq!(s, 200);
    let html = String::from_utf8(html)?;
    assert!(html.contains("整改通知书") && html.contains(numbers[0]));
    assert_eq!(qingling_activities::notice_doc::content_hash(html.as_bytes()), notices[0]["html_sha256"].as_str().unwrap());

    // Mailed to the facility with the PDF attached.
    let mail = app.smtp.wait_for(|m| m.contains("facility1@example.test") && m.contains("application/pdf"), Duration::from_secs(30)).await?;
    assert!(mail.contains(".pdf"));

    // The facility sees the completed inspection and its notices; another facility does not.
    let fac = app.login("facility1").await?;
    let (s, b) = fac.get(&format!("/api/inspections/{id}")).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["inspection"]["status"], "completed");
    assert!(b["inspection"]["publish_by"].as_str().is_some());
    let other = app.login("facility2").await?;
    assert_eq!(other.get(&format!("/api/inspections/{id}")).await?.0, 404);
    assert_eq!(other.get_bytes(notices[0]["pdf_url"].as_str().unwrap()).await?.0, 404);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_message_and_nothing_is_half_stored() -> anyhow::Result<()> {
    let app = TestApp::start("inspection-bad").await?;
    let sup = app.login("supervisor").await?;

    // An unknown template version, or one inspector, cannot be assigned.
    let facility = facility_id(&sup, "第一社会福利院").await?;
    let (i1, i2) = (user_id(&app, "inspector1").await?, user_id(&app, "inspector2").await?);
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "version": 9, "inspectors": [i1, i2] })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.template_unknown")), "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("fire-major-hazard@9"), "{b}");
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "inspectors": [i1, i2], "date": "+12345-01-01" })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.date_invalid")), "{b}");
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "inspectors": [i1] })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.inspectors_invalid")), "{b}");
    let facility_user = app.login("facility1").await?;
    assert_eq!(facility_user.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "inspectors": [i1, i2] })).await?.0, 403);

    let id = assign(&app, &sup, FIRE).await?;
    let (insp, good) = fill(&app, &id, &[ORDINARY_ITEM]).await?;
    let url = format!("/api/inspections/{id}/submit");

    // A missing required answer and a number out of bounds, reported per item.
    let mut bad = good.clone();
    let obj = bad.as_object_mut().unwrap();
    obj.remove("qualification.fire-acceptance");
    let number_item = {
        let (_, d) = insp.get(&format!("/api/inspections/{id}")).await?;
        let items: Vec<Value> = d["template"]["sections"].as_array().unwrap().iter().flat_map(|s| s["items"].as_array().unwrap().clone()).collect();
        items.into_iter().find(|i| i["answer"]["type"] == "number" && i["show_if"].is_null()).context("a number item")?
    };
    let max = number_item["answer"]["max"].as_f64().unwrap();
    obj.insert(number_item["id"].as_str().unwrap().into(), json!({ "value": max + 1000.0 }));
    let (s, b) = insp.post(&url, json!({ "idempotency_key": "k1", "answers": bad, "cosigner": cosigner() })).await?;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "inspection.invalid_answers");
    let problems: BTreeSet<(String, String)> =
        b["error"]["problems"].as_array().unwrap().iter().map(|p| (p["item"].as_str().unwrap().to_string(), p["code"].as_str().unwrap().to_string())).collect();
    assert!(problems.contains(&("qualification.fire-acceptance".into(), "answer.required".into())), "{problems:?}");
    assert!(problems.contains(&(number_item["id"].as_str().unwrap().into(), "answer.out_of_bounds".into())), "{problems:?}");
    assert!(b["error"]["problems"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));

    // A photo not taken for this inspection cannot be cited, nor fetched through it.
    let foreign = "ab".repeat(32);
    let mut stolen = good.clone();
    stolen[ORDINARY_ITEM]["photos"] = json!([foreign]);
    let (s, b) = insp.post(&url, json!({ "idempotency_key": "k0", "answers": stolen, "cosigner": cosigner() })).await?;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["problems"][0]["code"], "answer.unknown_photo", "{b}");
    assert_eq!(insp.get_bytes(&format!("/api/inspections/{id}/photos/{foreign}")).await?.0, 404);

    // Answers are bounded like every text: a NUL (which PostgreSQL refuses), an escape sequence,
    // a note past the policy's text limit, an unknown item or a photo reference that is not a
    // hash are refused in a draft and in a submission, naming the item; the stored draft stays.
    let draft_url = format!("/api/inspections/{id}/draft");
    let (s, b) = insp.put(&draft_url, json!({ "answers": good, "client_rev": 1 })).await?;
    assert_eq!(s, 200, "{b}");
    let stored_draft = app.store.inspection(&id).await?.unwrap().inspection.draft;
    let long = "长".repeat(5001);
    let cases = [
        (ORDINARY_ITEM, json!({ "value": "no", "note": "灭火器\u{0}过期" }), "answer.control_char"),
        (ORDINARY_ITEM, json!({ "value": "no", "note": "\u{1b}[31m红字" }), "answer.control_char"),
        (ORDINARY_ITEM, json!({ "value": "no", "note": long }), "answer.too_long"),
        (ORDINARY_ITEM, json!({ "value": "no", "photos": ["../../audit.key"] }), "answer.bad_photo"),
        ("no.such-item", json!({ "value": "yes" }), "answer.unknown_item"),
    ];
    for (item, answer, code) in cases {
        let mut bad = good.clone();
        bad[item] = answer;
        let (s, b) = insp.put(&draft_url, json!({ "answers": bad, "client_rev": 2 })).await?;
        assert_eq!((s, b["error"]["code"].as_str(), b["error"]["problems"][0]["code"].as_str()), (422, Some("inspection.invalid_answers"), Some(code)), "{b}");
        assert_eq!(b["error"]["problems"][0]["item"], item, "{b}");
        assert!(b["error"]["problems"][0]["message"].as_str().is_some_and(|m| !m.is_empty() && !m.starts_with("answer_problem.")), "{b}");
        let (s, b) = insp.post(&url, json!({ "idempotency_key": "k-bounds", "answers": bad, "cosigner": cosigner() })).await?;
        assert_eq!((s, b["error"]["problems"][0]["code"].as_str()), (422, Some(code)), "{b}");
    }
    assert_eq!(app.store.inspection(&id).await?.unwrap().inspection.draft, stored_draft, "a refused draft changes nothing");
    // A client that talks to Temporal directly meets the same bounds in the workflow's validator.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let row = app.store.inspection(&id).await?.unwrap();
    let mut bad = good.clone();
    bad[ORDINARY_ITEM]["note"] = json!("灭火器\u{0}过期");
    let inspector = |name: &str| -> anyhow::Result<qingling_rules::matter::Actor> {
        Ok(qingling_rules::matter::Actor { user_id: 0, name: name.into(), role: qingling_rules::matter::Role::Inspector, facility_id: None })
    };
    let (mut by, mut co) = (inspector("赵检查")?, inspector("钱检查")?);
    by.user_id = user_id(&app, "inspector1").await?;
    co.user_id = user_id(&app, "inspector2").await?;
    let forged = qingling_workflows::inspection::SubmitRequest {
        key: "forged".into(),
        filled: qingling_checklists::Filled {
            template: row.inspection.template_id.clone(),
            version: row.inspection.template_version as u32,
            answers: serde_json::from_value(bad)?,
        },
        submitted_by: by.clone(),
        signers: vec![by, co],
    };
    let handle = client.get_workflow_handle::<qingling_workflows::Inspection>(row.inspection.workflow_id.clone());
    let refused = handle
        .execute_update(qingling_workflows::Inspection::submit, forged, temporalio_client::WorkflowExecuteUpdateOptions::default())
        .await
        .expect_err("the validator refuses it");
    assert!(format!("{refused:?}").contains("answer.control_char"), "{refused:?}");

    // A wrong co-signer password is refused before anything reaches the workflow.
    let (s, b) = insp.post(&url, json!({ "idempotency_key": "k2", "answers": good, "cosigner": { "username": "inspector2", "password": "wrong" } })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.cosigner_invalid")), "{b}");

    // Photos: not an image, too large.
    let (s, b) = insp.upload_to(&format!("/api/inspections/{id}/photos"), "notes.txt", b"just text".to_vec()).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (415, Some("inspection.photo_not_image")), "{b}");
    let mut huge = tiny_png();
    huge.resize(9 * 1024 * 1024, 0);
    let (s, _) = insp.upload_to(&format!("/api/inspections/{id}/photos"), "huge.png", huge).await?;
    assert_eq!(s, 413);

    // After all that, nothing was stored: still in progress, no notices, no matters.
    let row = app.store.inspection(&id).await?.unwrap();
    assert_eq!(row.inspection.status, "in_progress");
    assert!(row.inspection.submission_key.is_none());
    assert!(app.store.inspection_notices(&id).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_issued_concurrently_never_share_a_number() -> anyhow::Result<()> {
    let app = TestApp::start("inspection-concurrent").await?;
    let sup = app.login("supervisor").await?;
    let mut prepared = vec![];
    for _ in 0..4 {
        let id = assign(&app, &sup, FIRE).await?;
        let (insp, a) = fill(&app, &id, &[ORDINARY_ITEM, MAJOR_ITEM]).await?;
        prepared.push((id, insp, a));
    }
    let submits = prepared.iter().map(|(id, insp, a)| async move {
        insp.post(
            &format!("/api/inspections/{id}/submit"),
            json!({ "idempotency_key": uuid::Uuid::new_v4().to_string(), "answers": a, "cosigner": cosigner() }),
        )
        .await
    });
    let results = futures::future::join_all(submits).await;
    let mut numbers = vec![];
    for (r, (id, insp, _)) in results.into_iter().zip(&prepared) {
        let (s, mut b) = r?;
        // 202: submitted, the notices still being printed (four at once on a busy machine);
        // the inspection shows them when they are done.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while s == 202 && !b["result"]["notices"].as_array().is_some_and(|n| !n.is_empty() && n.iter().all(|n| n["pdf_sha256"].is_string())) {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the notices of {id} were never issued: {b}");
            tokio::time::sleep(Duration::from_millis(500)).await;
            b = insp.get(&format!("/api/inspections/{id}")).await?.1;
        }
        assert!(s == 200 || s == 202, "{b}");
        numbers.extend(b["result"]["notices"].as_array().unwrap().iter().map(|n| n["number"].as_str().unwrap().to_string()));
    }
    assert_eq!(numbers.len(), 8);
    let unique: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), 8, "{numbers:?}");
    // Gap-free: exactly 0001..0008 of the bureau's year.
    let mut seqs: Vec<u32> = numbers.iter().map(|n| n.trim_end_matches('号').rsplit('〕').next().unwrap().parse().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_rating_inspection_scores_full_points_and_issues_nothing() -> anyhow::Result<()> {
    let app = TestApp::start("inspection-rating").await?;
    let sup = app.login("supervisor").await?;
    let id = assign(&app, &sup, "gbt37276-rating").await?;
    let (insp, answers) = fill(&app, &id, &[]).await?;
    let (s, b) =
        insp.post(&format!("/api/inspections/{id}/submit"), json!({ "idempotency_key": "rating-1", "answers": answers, "cosigner": cosigner() })).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["result"]["complete"], true);
    assert!(b["result"]["findings"].as_array().unwrap().is_empty(), "{b}");
    assert!(b["result"]["notices"].as_array().unwrap().is_empty());
    // GB/T 37276: 120 + 130 + 150 + 600 points, every one awarded.
    assert_eq!(b["result"]["total"]["points_max"], 1000);
    assert_eq!(b["result"]["total"]["points_awarded"], 1000);
    let maxes: Vec<u64> = b["result"]["scores"].as_array().unwrap().iter().map(|s| s["points_max"].as_u64().unwrap()).collect();
    assert_eq!(maxes, [120, 130, 150, 600]);
    let row = app.store.inspection(&id).await?.unwrap();
    assert_eq!((row.inspection.status.as_str(), row.inspection.points, row.inspection.findings), ("completed", Some(1000), Some(0)));
    assert!(row.inspectors.iter().all(|(_, signed)| signed.is_some()), "both inspectors' signatures are recorded");
    assert!(app.store.inspection_notices(&id).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_worker_while_notices_are_issued_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let mut app = TestApp::start("inspection-kill").await?;
    let sup = app.login("supervisor").await?;
    let id = assign(&app, &sup, FIRE).await?;
    let (insp, answers) = fill(&app, &id, &[ORDINARY_ITEM, MAJOR_ITEM]).await?;
    let body = json!({ "idempotency_key": "kill-1", "answers": answers, "cosigner": cosigner() });

    // Submit, and kill the whole process (worker and console) as soon as the submission is
    // stored, while the notices are being numbered, printed and mailed.
    let url = format!("/api/inspections/{id}/submit");
    let pending = tokio::spawn({
        let body = body.clone();
        async move { insp.post(&url, body).await }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = app.store.inspection(&id).await?.unwrap();
        if row.inspection.submission_key.is_some() {
            anyhow::ensure!(row.inspection.status == "submitted", "the kill came too late: {}", row.inspection.status);
            break;
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "the submission was never stored");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.kill_app();
    let _ = pending.await; // the connection dropped with the process

    // Restarted, the workflow carries on from its history.
    app.spawn_app().await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while app.store.inspection(&id).await?.unwrap().inspection.status != "completed" {
        anyhow::ensure!(std::time::Instant::now() < deadline, "the inspection did not complete after the restart:\n{}", app.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let notices = app.store.inspection_notices(&id).await?;
    assert_eq!(notices.len(), 2, "each notice exactly once");
    let numbers: Vec<&str> = notices.iter().map(|n| n.number.as_str()).collect();
    assert!(numbers[0].ends_with("0001号") && numbers[1].ends_with("0002号"), "no number lost or skipped: {numbers:?}");
    for n in &notices {
        assert!(n.pdf_sha256.is_some() && n.html_sha256.is_some() && n.mailed_at_ms.is_some(), "{n:?}");
        app.wait_for_db(&n.matter_id, "the matter of a notice", Duration::from_secs(30), |m, _| m.status == "issued").await?;
        assert_eq!(app.store.events(&n.matter_id).await?.iter().filter(|e| e.kind == "issued").count(), 1);
    }
    let sup_user = app.store.user_by_username("supervisor").await?.unwrap();
    let matters: Vec<_> = app.store.matters_for(&sup_user).await?.into_iter().filter(|m| m.id.starts_with(&id)).collect();
    assert_eq!(matters.len(), 2, "one matter per notice, no duplicate");

    // The inspector's retry with the same key gets the one result.
    let insp = app.login("inspector1").await?;
    let (s, b) = insp.post(&format!("/api/inspections/{id}/submit"), body).await?;
    assert_eq!(s, 200, "{b}");
    let shown: Vec<&str> = b["result"]["notices"].as_array().unwrap().iter().map(|n| n["number"].as_str().unwrap()).collect();
    assert_eq!(shown, numbers);
    Ok(())
}

/// Two ways a submission used to reach `issue_notices` and fail there on every retry (the notice
/// refused to render): an inspector without a certificate number, and an inspection dated in the
/// future submitted early. Both are refused where the person can act on it, and by the workflow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncertified_signer_or_an_early_submission_is_refused_before_any_notice() -> anyhow::Result<()> {
    use qingling_activities::db::entities::user;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let app = TestApp::start("inspection-rules").await?;
    let sup = app.login("supervisor").await?;
    let facility = facility_id(&sup, "第一社会福利院").await?;
    let (i1, i2) = (user_id(&app, "inspector1").await?, user_id(&app, "inspector2").await?);
    let set_certificate = |id: i64, value: Option<String>| {
        let db = app.store.db.clone();
        async move {
            let mut u = user::Entity::find_by_id(id).one(&db).await?.context("user")?.into_active_model();
            u.certificate = Set(value);
            u.update(&db).await?;
            anyhow::Ok(())
        }
    };
    let stored_certificate = app.store.user_by_username("inspector2").await?.context("inspector2")?.certificate;

    // Assigned with an inspector who has no certificate number: refused, naming them.
    set_certificate(i2, None).await?;
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "inspectors": [i1, i2] })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.inspector_uncertified")), "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| m.contains("钱检查")), "{b}");

    // Certified when assigned, not any more when signing: refused at submission.
    set_certificate(i2, Some("京民执 9999".into())).await?;
    let id = assign(&app, &sup, FIRE).await?;
    let (insp, good) = fill(&app, &id, &[ORDINARY_ITEM]).await?;
    set_certificate(i2, None).await?;
    let (s, b) = insp.post(&format!("/api/inspections/{id}/submit"), json!({ "idempotency_key": "k1", "answers": good, "cosigner": cosigner() })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.inspector_uncertified")), "{b}");
    set_certificate(i2, stored_certificate).await?;

    // Dated tomorrow, submitted today: refused, by the console and by the workflow.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(1)).date_naive().to_string();
    let (s, b) = sup.post("/api/inspections", json!({ "facility_id": facility, "template": FIRE, "inspectors": [i1, i2], "date": tomorrow })).await?;
    anyhow::ensure!(s == 201, "assign for tomorrow: {s} {b}");
    let early = b["inspection_id"].as_str().context("id")?.to_string();
    let (insp, answers) = fill(&app, &early, &[ORDINARY_ITEM]).await?;
    let (s, b) = insp.post(&format!("/api/inspections/{early}/submit"), json!({ "idempotency_key": "k2", "answers": answers, "cosigner": cosigner() })).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.too_early")), "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| m.contains(&tomorrow)), "{b}");
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    let row = app.store.inspection(&early).await?.context("row")?;
    let signer = |user_id: i64, name: &str| qingling_rules::matter::Actor {
        user_id,
        name: name.into(),
        role: qingling_rules::matter::Role::Inspector,
        facility_id: None,
    };
    let forged = qingling_workflows::inspection::SubmitRequest {
        key: "direct".into(),
        filled: qingling_checklists::Filled {
            template: row.inspection.template_id.clone(),
            version: row.inspection.template_version as u32,
            answers: serde_json::from_value(answers)?,
        },
        submitted_by: signer(i1, "赵检查"),
        signers: vec![signer(i1, "赵检查"), signer(i2, "钱检查")],
    };
    let handle = client.get_workflow_handle::<qingling_workflows::Inspection>(row.inspection.workflow_id.clone());
    let refused = handle
        .execute_update(qingling_workflows::Inspection::submit, forged, temporalio_client::WorkflowExecuteUpdateOptions::default())
        .await
        .expect_err("the workflow refuses an early submission");
    assert!(format!("{refused:?}").contains("inspection.too_early"), "{refused:?}");

    // Nothing was submitted or issued.
    for id in [&id, &early] {
        let row = app.store.inspection(id).await?.context("row")?;
        assert_eq!(row.inspection.status, "in_progress", "{id}");
        assert!(app.store.inspection_notices(id).await?.is_empty());
    }
    Ok(())
}

/// A template file edited in place after an inspection was assigned (a bureau's own catalogue,
/// `QINGLING_CHECKLISTS`, where nothing pins a version): the inspection keeps the copy it was
/// assigned. The row records that copy's content hash, and the tablet is served the workflow's
/// copy, not the changed file, also after a restart.
#[tokio::test]
async fn the_tablet_is_served_the_template_it_was_assigned_after_the_file_changes() -> anyhow::Result<()> {
    let mut app = TestApp::start("pinned-template").await?;
    let dir = qingling_tests::harness::unique_temp_dir("pinned-templates")?;
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../checklists/templates");
    for entry in std::fs::read_dir(&shipped)? {
        let path = entry?.path();
        std::fs::copy(&path, dir.join(path.file_name().context("name")?))?;
    }
    app.kill_app();
    app.set_checklists(dir.clone());
    app.spawn_app().await?;

    let sup = app.login("supervisor").await?;
    let id = assign(&app, &sup, FIRE).await?;
    let inspector = app.login("inspector1").await?;
    let (s, before) = inspector.get(&format!("/api/inspections/{id}")).await?;
    anyhow::ensure!(s == 200, "{before}");
    let assigned: qingling_checklists::Template = serde_json::from_value(before["template"].clone())?;
    let row = app.store.inspection(&id).await?.context("row")?;
    assert_eq!(row.inspection.template_sha256.as_deref(), Some(assigned.content_hash().as_str()), "the row names the assigned copy");

    // The file changes in place: its first question now says something else.
    let file = dir.join(format!("{FIRE}@1.toml"));
    let question = &assigned.sections[0].items[0].text.zh;
    let text = std::fs::read_to_string(&file)?;
    anyhow::ensure!(text.contains(question.as_str()), "the first question is in the file");
    std::fs::write(&file, text.replacen(question.as_str(), "（已改动的问题）", 1))?;
    app.kill_app();
    app.spawn_app().await?;

    // The changed file is not served: the console asks the workflow for its copy (while the
    // restarted console connects to Temporal it answers 503 engine.unavailable, never the file).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (s, after) = loop {
        let (s, b) = inspector.get(&format!("/api/inspections/{id}")).await?;
        if s == 503 && b["error"]["code"] == "engine.unavailable" && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        break (s, b);
    };
    assert_eq!(s, 200, "{after}");
    let served: qingling_checklists::Template = serde_json::from_value(after["template"].clone())?;
    assert_eq!(&served.sections[0].items[0].text.zh, question, "the assigned question, not the edited file's");
    assert_eq!(served.content_hash(), assigned.content_hash());
    // A draft is checked against the same copy: an item of the assigned template is known.
    let item = &assigned.sections[0].items[0].id;
    let (s, b) = inspector.put(&format!("/api/inspections/{id}/draft"), json!({ "answers": { item: { "note": "草稿" } } })).await?;
    assert_eq!(s, 200, "{b}");
    Ok(())
}

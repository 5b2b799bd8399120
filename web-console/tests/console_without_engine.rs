//! The console against a real SQLite database and a Temporal client whose every call fails as
//! an unreachable server would: sign-in, CSRF, scoping, validation, evidence and the
//! "engine unavailable" path, without starting anything heavy. The full loop with a real
//! Temporal dev server lives in the workspace's `tests` crate.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use qingling_activities::db::entities::matter;
use qingling_rules::Policy;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

#[tokio::test]
async fn the_console_guards_every_door_and_reports_an_unreachable_engine() {
    let app = app("doors").await;
    let health = app.send(get("/healthz", None)).await;
    assert_eq!((health.status, health.text().as_str()), (StatusCode::OK, "ok"));

    // Sign-in.
    let bad = app.send(json_req("POST", "/api/session", None, json!({ "username": "supervisor", "password": "wrong" }))).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json()["error"]["code"], "auth.bad_credentials");
    assert!(bad.json()["error"]["message"].as_str().unwrap_or_default().contains("密码"), "Chinese by default: {}", bad.text());
    let (sup, sup_csrf) = app.login("supervisor").await;
    let me = app.send(get("/api/me", Some(&sup))).await;
    assert_eq!(me.json()["user"]["role"], "supervisor");
    assert!(me.json()["user"].get("password_hash").is_none());

    // CSRF and validation.
    let issue = json!({ "facility_id": 1, "kind": "rectification", "severity": "ordinary", "title": "消防通道堵塞" });
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, None)), issue.clone())).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("auth.csrf")));
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, Some("wrong"))), issue.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(json_req("POST", "/api/matters", None, issue.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let mut empty = issue.clone();
    empty["title"] = json!("  ");
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, Some(&sup_csrf))), empty)).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str(), r.json()["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation.required"), Some("title"))
    );
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("问题标题"), "{}", r.text());
    let mut kind = issue.clone();
    kind["kind"] = json!("inspection");
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, Some(&sup_csrf))), kind)).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));
    let mut haidian = issue.clone();
    haidian["facility_id"] = json!(4);
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, Some(&sup_csrf))), haidian)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another district's facility does not exist for this supervisor");

    // Temporal unreachable: 503, nothing stored.
    let r = app.send(json_req("POST", "/api/matters", Some((&sup, Some(&sup_csrf))), issue)).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("engine.unavailable")), "{}", r.text());
    assert_eq!(matter::Entity::find().count(&app.store.db).await.unwrap_or(99), 0);

    // Facilities see their own matters only; actions are checked for visibility first.
    let id = stored_matter(&app.store).await;
    let (f2, f2_csrf) = app.login("facility2").await;
    assert_eq!(app.send(get(&format!("/api/matters/{id}"), Some(&f2))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(get(&format!("/matters/{id}"), Some(&f2))).await.status, StatusCode::NOT_FOUND);
    let r = app
        .send(json_req("POST", &format!("/api/matters/{id}/actions"), Some((&f2, Some(&f2_csrf))), json!({ "action": "acknowledge", "handler": "x" })))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!app.send(get("/api/matters", Some(&f2))).await.text().contains(&id));

    let (f1, f1_csrf) = app.login("facility1").await;
    let r = app.send(get(&format!("/api/matters/{id}"), Some(&f1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["matter"]["status"].as_str(), r.json()["live"].is_null()), (Some("issued"), true));
    let r = app.send(json_req("POST", &format!("/api/matters/{id}/actions"), Some((&f1, Some(&f1_csrf))), json!({ "action": "fly_away" }))).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("request.invalid")));
    let r = app
        .send(json_req("POST", &format!("/api/matters/{id}/actions"), Some((&f1, Some(&f1_csrf))), json!({ "action": "acknowledge", "handler": "王主任" })))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());

    // Evidence: a refused file is not stored; a PNG is not stored either while the engine cannot
    // record the upload on the matter's timeline (every upload is an event); a stored file is
    // served back with its type.
    let upload = |name: &str, bytes: &[u8]| {
        let (ct, body) = multipart(name, bytes);
        Request::builder()
            .method("POST")
            .uri(format!("/api/matters/{id}/evidence"))
            .header(header::COOKIE, &f1)
            .header("X-CSRF-Token", &f1_csrf)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("request")
    };
    let r = app.send(upload("notes.txt", b"not an image")).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("evidence.unknown_type")));
    assert!(app.store.evidence_for(&id).await.unwrap_or_default().is_empty());
    let r = app.send(upload("现场.png", PNG)).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("engine.unavailable")), "{}", r.text());
    assert!(app.store.evidence_for(&id).await.unwrap_or_default().is_empty(), "nothing stored without its event");
    let policy = Policy::builtin();
    let stored = qingling_activities::evidence::store(&app.store, &policy.evidence, PNG, "现场.png", &id, 1, 0).await.expect("stored directly");
    let sha = stored.sha256;
    let file = app.send(get(&format!("/api/matters/{id}/evidence/{sha}"), Some(&f1))).await;
    assert_eq!((file.status, file.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())), (StatusCode::OK, Some("image/png")));
    assert_eq!(app.send(get(&format!("/api/matters/{id}/evidence/{sha}"), Some(&f2))).await.status, StatusCode::NOT_FOUND);

    // Pages: the matter page works from the stored snapshot while the engine is away.
    let page = app.send(get(&format!("/matters/{id}"), Some(&f1))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("灭火器过期未更换") && html.contains("签收并指定责任人") && html.contains("现场.png"), "{html}");
    // The Temporal UI (no sign-in of its own, can terminate workflows) is linked for administrators only.
    assert!(!html.contains("localhost:8233") && !html.contains("在 Temporal 中查看流程"), "no Temporal link for a facility");
    let (admin, _) = app.login("admin").await;
    let as_admin = app.send(get(&format!("/matters/{id}"), Some(&admin))).await.text();
    assert!(as_admin.contains("localhost:8233/namespaces/default/workflows/"), "the administrator's link");
    // Security headers on every page; a signed-in page is never stored.
    let h = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(
        h("content-security-policy").contains("script-src 'self'") && h("content-security-policy").contains("frame-ancestors 'none'"),
        "{}",
        h("content-security-policy")
    );
    assert!(!h("content-security-policy").contains("unsafe-inline"));
    assert_eq!(
        (h("x-frame-options"), h("referrer-policy"), h("x-content-type-options"), h("cache-control")),
        ("DENY".into(), "same-origin".into(), "nosniff".into(), "no-store".into())
    );
    assert!(!html.contains("onclick=") && !html.contains("<script>") && !html.contains("style="), "nothing inline that the CSP would block");
    let login = app.send(get("/login", None)).await;
    assert!(login.headers.get("content-security-policy").is_some() && login.headers.get("cache-control").is_none(), "anonymous pages get the headers too");
    // `next` cannot leave the site, whatever a browser would strip from it.
    for attack in ["/%09/evil.example/", "/%5Cevil.example", "/%0D%0ASet-Cookie:%20x=1", "//evil.example"] {
        let r = app.send(get(&format!("/lang/en?next={attack}"), None)).await;
        assert_eq!((r.status, r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())), (StatusCode::SEE_OTHER, Some("/")), "{attack}");
    }
    let english = app.send(get(&format!("/matters/{id}"), Some(&format!("{f1}; qingling_lang=en")))).await.text();
    assert!(english.contains("Acknowledge") && english.contains("Deadlines"), "{english}");
    let board = app.send(get("/board", Some(&sup))).await;
    assert_eq!(board.status, StatusCode::OK);
    let anonymous = app.send(get("/board", None)).await;
    assert!(anonymous.status.is_redirection());
    assert!(anonymous.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().starts_with("/login?next="));
    let home = app.send(get("/", Some(&f1))).await;
    assert_eq!(home.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()), Some("/notices"));

    // Signing out ends the session.
    let r = app.send(json_req("DELETE", "/api/session", Some((&f1, Some(&f1_csrf))), json!({}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(get("/api/me", Some(&f1))).await.status, StatusCode::UNAUTHORIZED);
}

/// A multipart form of the directory page: its fields and one file.
fn directory_form(cookie: &str, csrf: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Request<Body> {
    let boundary = "qinglingdirectory";
    let mut body = vec![];
    for (name, value) in [("csrf", csrf)].iter().chain(fields) {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n", file.0)
            .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri("/directory/import")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .expect("request")
}

fn csv_import(uri: &str, cookie: &str, csrf: &str, csv: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .expect("request")
}

#[tokio::test]
async fn a_directory_import_is_checked_first_refused_whole_and_exported_back() {
    use qingling_activities::db::entities::directory_target;
    let app = app("directory").await;
    let (sup, csrf) = app.login("supervisor").await;
    let seeded = directory_target::Entity::find().count(&app.store.db).await.unwrap();
    assert_eq!(seeded, 4, "the demo directory");

    // The API: bad rows refused whole, each named by row and column, in the reader's language.
    let bad = "机构编码,机构名称,所在区,机构类型,床位数,风险等级\nBJ110105-009,新院,110105,养老院,10,A\nBJ110108-001,温泉,110108,养老院,10,A\nBJ110105-010,另一院,110105,宾馆,x,A\n";
    let r = app.send(csv_import("/api/directory/targets/import", &sup, &csrf, bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!((e["code"].as_str(), e["total"].as_u64()), (Some("directory.refused"), Some(4)));
    let lines: Vec<&str> = e["problems"].as_array().unwrap().iter().map(|p| p["message"].as_str().unwrap()).collect();
    assert_eq!(lines[0], "3:所在区: 110108 不在您的管辖范围内；您只能修改 110105 的名录。", "{lines:?}");
    assert_eq!(lines[1], "3:机构编码: 110108 不在您的管辖范围内；您只能修改 110105 的名录。", "a Haidian home is not Chaoyang's to change");
    assert!(lines[2].starts_with("4:机构类型: 「宾馆」不在可选范围内"), "{lines:?}");
    assert!(lines[3].starts_with("4:床位数: 「x」不是 0 到 100000 之间的整数"), "{lines:?}");
    assert_eq!(directory_target::Entity::find().count(&app.store.db).await.unwrap(), seeded, "nothing written");

    // A dry run says what would happen; the import does it and names the new snapshot.
    let good = "code,name,district,facility_type,beds,risk\nBJ110105-009,新院,110105,nursing_home,10,A\n";
    let r = app.send(csv_import("/api/directory/targets/import?dry_run=true", &sup, &csrf, good)).await;
    assert_eq!(
        (r.status, r.json()["import"]["added"].as_u64(), r.json()["import"]["written"].as_bool()),
        (StatusCode::OK, Some(1), Some(false)),
        "{}",
        r.text()
    );
    let r = app.send(csv_import("/api/directory/targets/import", &sup, &csrf, good)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sha = r.json()["import"]["snapshot"]["sha256"].as_str().unwrap().to_string();
    let snapshot = app.send(get(&format!("/api/directory/snapshots/targets/{sha}"), Some(&sup))).await;
    assert_eq!(snapshot.status, StatusCode::OK);
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&snapshot.body).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(digest, sha, "the snapshot's bytes are what its name is the digest of");

    // The page: an .xlsx with a bad row lists every problem and writes nothing.
    let xlsx = qingling_activities::tables::write(
        qingling_activities::tables::Format::Xlsx,
        &["机构编码", "机构名称", "所在区", "机构类型", "床位数", "风险等级"],
        &[vec!["BJ110105-011".into(), "".into(), "110105".into(), "养老院".into(), "5".into(), "戊".into()]],
    )
    .unwrap();
    let r = app.send(directory_form(&sup, &csrf, &[("kind", "targets"), ("intent", "import"), ("mode", "merge")], ("homes.xlsx", &xlsx))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(page.contains("2:机构名称: 该单元格为空，需要填写。"), "{page}");
    assert!(page.contains("2:风险等级: 「戊」不在可选范围内"), "{page}");
    assert!(page.contains("该表有 2 处问题，未写入任何数据"), "{page}");
    let r = app.send(directory_form(&sup, &csrf, &[("kind", "targets"), ("intent", "check")], ("homes.txt", b"x"))).await;
    assert!(r.text().contains("「homes.txt」不是 .csv 或 .xlsx 文件。"), "{}", r.text());

    // The export reads back: CSV with a byte-order mark for Excel, and the page lists the rows.
    let r = app.send(get("/directory/targets/export/csv", Some(&sup))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
    let table = qingling_activities::tables::read(qingling_activities::tables::Format::Csv, &r.body).unwrap();
    assert_eq!(table.rows.len(), 4, "Chaoyang's three demo homes and the new one, not Haidian's: {:?}", table.rows);
    assert!(table.rows.iter().any(|row| row[0] == "BJ110105-009" && row[3] == "养老院"));
    let page = app.send(get("/directory?kind=targets", Some(&sup))).await;
    assert!(page.text().contains("BJ110105-009") && !page.text().contains("BJ110108-001"), "scoped to the supervisor's district");

    // Inspectors and facilities do not maintain directories.
    let (insp, insp_csrf) = app.login("inspector1").await;
    assert_eq!(app.send(csv_import("/api/directory/targets/import", &insp, &insp_csrf, good)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.send(get("/directory", Some(&insp))).await.status, StatusCode::FORBIDDEN);
}

/// The directory page's one-row form: `cell`s in the export's column order.
fn row_form(uri: &str, cookie: &str, csrf: &str, cells: &[&str]) -> Request<Body> {
    let encode = |v: &str| {
        v.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>()
    };
    let mut pairs = vec![format!("csrf={}", encode(csrf))];
    pairs.extend(cells.iter().map(|c| format!("cell={}", encode(c))));
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(pairs.join("&")))
        .expect("request")
}

#[tokio::test]
async fn one_directory_row_is_added_changed_and_removed_on_the_page_each_a_snapshot() {
    use qingling_activities::db::entities::{directory_snapshot, directory_target};
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = app("directory-rows").await;
    let (sup, csrf) = app.login("supervisor").await;
    let db = &app.store.db;
    let snapshots = || async { directory_snapshot::Entity::find().filter(directory_snapshot::Column::Cause.eq("edit")).count(db).await.unwrap() };
    let beds = |code: &'static str| async move {
        directory_target::Entity::find().filter(directory_target::Column::Code.eq(code)).one(db).await.unwrap().map(|t| t.beds)
    };

    // Added, then changed by its code: each write that changes what a draw sees (here the risk
    // class) a snapshot of cause "edit".
    let new = ["BJ110105-020", "朝阳区新开养老院", "110105", "养老院", "30", "B"];
    let r = app.send(row_form("/directory/targets/row", &sup, &csrf, &new)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((beds("BJ110105-020").await, snapshots().await), (Some(30), 1));
    let changed = ["BJ110105-020", "朝阳区新开养老院", "110105", "养老院", "45", "C"];
    assert_eq!(app.send(row_form("/directory/targets/row", &sup, &csrf, &changed)).await.status, StatusCode::OK);
    assert_eq!((beds("BJ110105-020").await, snapshots().await), (Some(45), 2));

    // A bad row is refused with its problems, nothing written, and the form keeps what was typed.
    let bad = ["BJ110105-020", "朝阳区新开养老院", "110105", "养老院", "很多", "C"];
    let r = app.send(row_form("/directory/targets/row", &sup, &csrf, &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("2:床位数:") && r.text().contains("value=\"很多\""), "{}", r.text());
    assert_eq!((beds("BJ110105-020").await, snapshots().await), (Some(45), 2));
    // Another district's home is not this supervisor's to write.
    let haidian = ["BJ110108-009", "海淀区某养老院", "110108", "养老院", "10", "A"];
    assert_eq!(app.send(row_form("/directory/targets/row", &sup, &csrf, &haidian)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(beds("BJ110108-009").await, None);
    // A row with the wrong number of cells is a field error, not a half row.
    assert_eq!(app.send(row_form("/directory/targets/row", &sup, &csrf, &new[..3])).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The edit link fills the form with the row; removing it takes exactly that row.
    let page = app.send(get("/directory?kind=targets&edit=0", Some(&sup))).await.text();
    assert!(page.contains("id=\"row-form\"") && page.contains("data-row=\"0\""), "{page}");
    let exported = app.send(get("/directory/targets/export/csv", Some(&sup))).await;
    let before = qingling_activities::tables::read(qingling_activities::tables::Format::Csv, &exported.body).unwrap().rows;
    let listed: Vec<&str> = before.iter().find(|r| r[0] == "BJ110105-020").unwrap().iter().map(String::as_str).collect();
    let r = app.send(row_form("/directory/targets/remove", &sup, &csrf, &listed)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Back to the seeded directory: a snapshot is named by its digest, so that one is the seed's.
    assert_eq!((beds("BJ110105-020").await, snapshots().await), (None, 2));
    let seeded = directory_snapshot::Entity::find().filter(directory_snapshot::Column::Cause.eq("seed")).all(db).await.unwrap();
    let now =
        qingling_activities::store::directory::take_snapshot(db, qingling_activities::store::directory::SnapshotKind::Targets, "check", None, 0).await.unwrap();
    assert!(seeded.iter().any(|s| s.sha256 == now.sha256), "the directory is the seeded one again");
    assert_eq!(directory_target::Entity::find().count(&app.store.db).await.unwrap() as usize, before.len() - 1 + 1, "only that row (Haidian's home stays)");
    // Removing it again finds nothing, and writes nothing.
    let r = app.send(row_form("/directory/targets/remove", &sup, &csrf, &listed)).await;
    assert_eq!((r.status, snapshots().await), (StatusCode::CONFLICT, 2));
    // Without the session's token, nothing.
    assert_eq!(app.send(row_form("/directory/targets/row", &sup, "wrong", &new)).await.status, StatusCode::FORBIDDEN);
}

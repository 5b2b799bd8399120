//! Seeded random requests to every route, as four signed-in roles and anonymously: bodies,
//! path and query values a careless client or an attacker might send. Whatever comes in:
//! * no answer is a 5xx;
//! * every refusal under `/api/` is the API's JSON error with a catalogue message, and every
//!   refused page is the readable HTML page;
//! * nothing is stored that the edge refuses (no control characters, nothing over the limits);
//! * no workflow is left failed, terminated or held (checked through the Temporal client, the
//!   doctor and the health list).
//!
//! `QINGLING_FUZZ_SEED` and `QINGLING_FUZZ_REQUESTS` change the seed (printed) and the count.

use qingling_tests::app::{Session, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};

/// Strings meant to break things: control characters, NUL, markup, traversal, huge, odd Unicode.
fn nasty(rng: &mut StdRng) -> String {
    let pool: &[&str] = &[
        "",
        " ",
        "\u{0}",
        "a\u{0}b",
        "\r\n",
        "\u{1b}[2J",
        "\u{7f}",
        "\u{202e}evil",
        "<script>alert(1)</script>",
        "\"'><img src=x onerror=alert(1)>",
        "../../etc/passwd",
        "%00",
        "%0d%0aSet-Cookie:x=1",
        "{{ 7*7 }}",
        "null",
        "-1",
        "9999-12-31",
        "+12345-01-01",
        "0d",
        "1mo",
        "99999999999999999999wd",
        "王主任",
        "😀",
        "\u{feff}",
    ];
    match rng.gen_range(0..10) {
        0 => "王".repeat(rng.gen_range(1..20_000)),
        1 => (0..rng.gen_range(1..40)).map(|_| char::from_u32(rng.gen_range(0..0x3000)).unwrap_or('?')).collect(),
        _ => pool[rng.gen_range(0..pool.len())].to_string(),
    }
}

fn value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 2 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!(rng.r#gen::<f64>() * 1e300),
        4 | 5 => json!(nasty(rng)),
        6 => {
            let most = if rng.gen_range(0..20) == 0 { 6000 } else { 5 };
            let len = rng.gen_range(0..most);
            Value::Array((0..len).map(|_| value(rng, depth + 1)).collect())
        }
        _ => {
            let keys = [
                "action",
                "handler",
                "text",
                "plan",
                "date",
                "what",
                "note",
                "evidence",
                "sha256",
                "deadline",
                "extend_by",
                "reason",
                "approve",
                "grant",
                "passed",
                "facility_id",
                "kind",
                "severity",
                "title",
                "description",
                "basis",
                "username",
                "password",
                "year",
                "holidays",
                "workdays",
                "answers",
                "inspectors",
                "template_id",
                "workflow_id",
                "dry_run",
                "key",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.gen_range(0..6) {
                m.insert(keys[rng.gen_range(0..keys.len())].to_string(), value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// A body shaped like a real request, with random values in the fields.
fn shaped(rng: &mut StdRng, facility_id: &Value) -> Value {
    let actions = ["acknowledge", "feedback", "submit_evidence", "request_extension", "decide_extension", "recheck", "withdraw", "explode"];
    match rng.gen_range(0..4) {
        0 => {
            let mut v = json!({ "action": actions[rng.gen_range(0..actions.len())] });
            for k in ["handler", "text", "note", "reason", "extend_by", "deadline"] {
                if rng.gen_bool(0.5) {
                    v[k] = json!(nasty(rng));
                }
            }
            if rng.gen_bool(0.3) {
                v["plan"] = json!([{ "date": nasty(rng), "what": nasty(rng) }]);
            }
            if rng.gen_bool(0.3) {
                v["evidence"] = json!([{ "sha256": nasty(rng), "name": nasty(rng), "content_type": "image/png", "bytes": rng.r#gen::<i64>() }]);
            }
            v
        }
        1 => {
            json!({ "facility_id": if rng.gen_bool(0.7) { facility_id.clone() } else { value(rng, 2) }, "kind": "rectification", "severity": if rng.gen_bool(0.5) { json!("ordinary") } else { value(rng, 2) }, "title": nasty(rng), "description": nasty(rng), "basis": nasty(rng) })
        }
        2 => json!({ "username": nasty(rng), "password": nasty(rng) }),
        _ => value(rng, 0),
    }
}

fn path_value(rng: &mut StdRng, valid: &[String]) -> String {
    if rng.gen_bool(0.4) && !valid.is_empty() {
        return valid[rng.gen_range(0..valid.len())].clone();
    }
    let raw = nasty(rng);
    // At most 600 characters (5 KB encoded), so a URL with several values stays under the
    // HTTP client's 64 KB limit for a URI.
    let raw: String = raw.chars().take(600).collect();
    // Percent-encode everything but unreserved characters, so the URL stays a URL.
    raw.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

struct Route {
    method: Method,
    path: &'static str,
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/api/me"),
    ("GET", "/api/facilities"),
    ("GET", "/api/matters"),
    ("POST", "/api/matters"),
    ("GET", "/api/matters/{id}"),
    ("POST", "/api/matters/{id}/actions"),
    ("POST", "/api/matters/{id}/evidence"),
    ("GET", "/api/matters/{id}/evidence/{sha}"),
    ("GET", "/api/board"),
    ("GET", "/api/calendar"),
    ("POST", "/api/calendar"),
    ("GET", "/api/health"),
    ("POST", "/api/health/repair"),
    ("GET", "/api/inspections"),
    ("POST", "/api/inspections"),
    ("GET", "/api/inspections/{iid}"),
    ("POST", "/api/inspections/{iid}/start"),
    ("PUT", "/api/inspections/{iid}/draft"),
    ("POST", "/api/inspections/{iid}/photos"),
    ("GET", "/api/inspections/{iid}/photos/{sha}"),
    ("POST", "/api/inspections/{iid}/submit"),
    ("GET", "/inspections/{iid}/notices/{n}/{n}"),
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/lang/{n}"),
    ("GET", "/board"),
    ("GET", "/notices"),
    ("GET", "/rechecks"),
    ("GET", "/admin/calendar"),
    ("GET", "/admin/health"),
    ("POST", "/admin/health/repair"),
    ("GET", "/matters/new"),
    ("POST", "/matters/new"),
    ("GET", "/matters/{id}"),
    ("POST", "/matters/{id}/act"),
    ("POST", "/matters/{id}/evidence"),
    ("GET", "/inspections"),
    ("GET", "/inspections/new"),
    ("POST", "/inspections/new"),
    ("GET", "/inspections/{iid}/fill"),
    ("GET", "/account"),
    ("GET", "/admin/users"),
    ("GET", "/{n}"),
    ("DELETE", "/api/matters/{id}"),
];

fn routes() -> Vec<Route> {
    ROUTES.iter().map(|(m, p)| Route { method: m.parse().unwrap(), path: p }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_to_every_route_break_nothing() -> anyhow::Result<()> {
    let seed: u64 = std::env::var("QINGLING_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261201);
    let count: usize = std::env::var("QINGLING_FUZZ_REQUESTS").ok().and_then(|s| s.parse().ok()).unwrap_or(2500);
    eprintln!("fuzz: seed {seed}, {count} requests (QINGLING_FUZZ_SEED / QINGLING_FUZZ_REQUESTS)");
    let mut rng = StdRng::seed_from_u64(seed);
    let app = TestApp::start("fuzz").await?;
    let supervisor = app.login("supervisor").await?;
    let mut sessions: Vec<(&str, Option<Session>)> = vec![("anonymous", None)];
    for who in ["admin", "supervisor", "inspector1", "facility1"] {
        sessions.push((who, Some(app.login(who).await?)));
    }
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let matter = supervisor.issue("第一社会福利院", "ordinary", "灭火器过期").await?;
    let matter_id = matter["matter_id"].as_str().unwrap().to_string();
    let (_, facilities) = supervisor.get("/api/facilities").await?;
    let facility_id = facilities[0]["id"].clone();
    let (_, inspections) = sessions[3].1.as_ref().unwrap().get("/api/inspections").await?;
    let inspection_ids: Vec<String> =
        inspections.as_array().map(|a| a.iter().filter_map(|i| i["id"].as_str().map(str::to_string)).collect()).unwrap_or_default();
    let ids = vec![matter_id.clone()];
    let routes = routes();
    let mut failures: Vec<String> = vec![];
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();

    for n in 0..count {
        let route = &routes[rng.gen_range(0..routes.len())];
        let mut path = route.path.to_string();
        for (slot, valid) in [("{id}", &ids), ("{iid}", &inspection_ids), ("{sha}", &vec![]), ("{n}", &vec!["0".to_string(), "pdf".into(), "en".into()])] {
            while path.contains(slot) {
                let v = path_value(&mut rng, valid);
                path = path.replacen(slot, &v, 1);
            }
        }
        if rng.gen_bool(0.3) {
            path.push_str(&format!("?{}={}&next={}", path_value(&mut rng, &[]), path_value(&mut rng, &[]), path_value(&mut rng, &[])));
        }
        let body = if rng.gen_bool(0.7) { shaped(&mut rng, &facility_id) } else { value(&mut rng, 0) };
        let (who, session) = &sessions[rng.gen_range(0..sessions.len())];
        let form = !path.starts_with("/api/");
        let (bytes, ctype) = match (form, rng.gen_range(0..6)) {
            (_, 0) => (nasty(&mut rng).into_bytes(), "text/plain".to_string()),
            (true, _) => {
                let fields: Vec<(String, String)> = body
                    .as_object()
                    .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect())
                    .unwrap_or_default();
                (serde_urlencoded::to_string(&fields).unwrap_or_default().into_bytes(), "application/x-www-form-urlencoded".into())
            }
            (false, _) => (body.to_string().into_bytes(), "application/json".into()),
        };
        // Browsers send no body with a GET; a server may answer such a request before reading it.
        let bytes = if route.method == Method::GET { vec![] } else { bytes };
        let oversized = bytes.len() > 2 * 1024 * 1024;
        let (method, path, ctype, anonymous, base) = (&route.method, &path, &ctype, &anonymous, &app.base);
        let send = |bytes: Vec<u8>| async move {
            match session {
                Some(s) => s.raw(method.clone(), path, ctype, bytes).await,
                None => {
                    let res = anonymous.request(method.clone(), format!("{base}{path}")).header("content-type", ctype).body(bytes).send().await?;
                    let status = res.status().as_u16();
                    let t = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    Ok((status, t, res.text().await.unwrap_or_default()))
                }
            }
        };
        // A pooled connection the server closed after an earlier answer (a 413 closes it) can
        // fail the next request before it is sent; the same request again goes out on a fresh
        // connection. A console that does not answer fails both.
        let sent = match send(bytes.clone()).await {
            Err(_) if !oversized => send(bytes).await,
            other => other,
        };
        let (status, got_type, text) = match sent {
            Ok(answer) => answer,
            // A body over the limit is answered 413 and the connection closed while the client
            // still writes: the client may see the closed connection instead of the answer.
            Err(_) if oversized => {
                *by_status.entry(413).or_default() += 1;
                continue;
            }
            Err(e) => {
                let e: String = format!("{e:#}").chars().take(300).collect();
                failures.push(format!("#{n} {who} {} {} ({ctype}): no answer: {e}", route.method, &path[..path.len().min(300)]));
                continue;
            }
        };
        *by_status.entry(status).or_default() += 1;
        let what = format!("#{n} {who} {} {}: {status}", route.method, &path[..path.len().min(120)]);
        if status >= 500 {
            failures.push(format!("{what} (5xx) {}", &text[..text.len().min(300)]));
        } else if status >= 400 && path.starts_with("/api/") {
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let ok = got_type.starts_with("application/json")
                && parsed.as_ref().is_some_and(|v| {
                    let code = v["error"]["code"].as_str().unwrap_or_default();
                    let msg = v["error"]["message"].as_str().unwrap_or_default();
                    !code.is_empty() && !msg.is_empty() && msg != code
                });
            if !ok {
                failures.push(format!("{what} not the API's JSON error: {got_type} {}", &text[..text.len().min(200)]));
            }
        } else if status >= 400 && !got_type.starts_with("text/html") {
            failures.push(format!("{what} not a readable page: {got_type} {}", &text[..text.len().min(200)]));
        }
        if failures.len() > 20 {
            break;
        }
    }
    eprintln!("fuzz: answers by status {by_status:?}");
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));

    // Nothing stored that the edge refuses.
    let limits = qingling_rules::Policy::builtin().input;
    let clean = |s: &str| !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    let admin_user = app.store.user_by_username("admin").await?.expect("the demo admin");
    for m in app.store.matters_for(&admin_user).await? {
        assert!(clean(&m.title) && m.title.chars().count() <= limits.title_chars, "stored title {:?}", m.title);
        assert!(clean(&m.description) && clean(&m.basis), "stored text of {}", m.id);
        assert!(m.handler.as_deref().is_none_or(|h| clean(h) && h.chars().count() <= limits.name_chars), "stored handler {:?}", m.handler);
        for e in app.store.events(&m.id).await? {
            let payload: Value = serde_json::from_str(&e.payload)?;
            let mut strings = vec![];
            collect_strings(&payload, &mut strings);
            assert!(strings.iter().all(|s| clean(s) && s.chars().count() <= limits.text_chars), "event {} of {} stores {payload}", e.seq, m.id);
        }
    }
    // No workflow left unhealthy.
    let client = qingling_app::app::connect_temporal(Some(&app.dev.address)).await?;
    for status in ["Failed", "Terminated", "TimedOut"] {
        let n = client.count_workflows(&format!("ExecutionStatus = '{status}'"), Default::default()).await?.count();
        assert_eq!(n, 0, "{n} workflows {status}");
    }
    let (_, health) = sessions[1].1.as_ref().unwrap().get("/api/health").await?;
    assert_eq!(health["stuck"].as_u64(), Some(0), "{health}");
    let doctor = app.command(&["doctor"])?.output()?;
    assert!(doctor.status.success(), "{}", String::from_utf8_lossy(&doctor.stdout));
    assert!(app.command(&["audit", "verify"])?.output()?.status.success());
    Ok(())
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

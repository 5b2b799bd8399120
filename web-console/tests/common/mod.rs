//! What the console's own tests share: the console against a real SQLite database (migrated,
//! demo data) and a Temporal client whose every call fails as an unreachable server would.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qingling_activities::db::entities::matter;
use qingling_activities::store::Store;
use qingling_rules::Policy;
use qingling_rules::matter::{Actor, Matter, MatterKind, NewMatter, Role, Severity};
use sea_orm::{EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use std::sync::Arc;
use temporalio_client::callback_based::CallbackBasedGrpcService;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, RetryOptions, Url};
use tower::ServiceExt;

pub async fn unreachable_temporal() -> Client {
    let service = CallbackBasedGrpcService {
        callback: Arc::new(|_req| Box::pin(async { Err(temporalio_client::tonic::Status::unavailable("no Temporal in this test")) })),
    };
    let retry = RetryOptions::builder().max_retries(0).max_elapsed_time(Some(std::time::Duration::from_millis(1))).build();
    let mut options =
        ConnectionOptions::new(Url::parse("http://127.0.0.1:1").expect("url")).service_override(service).retry_options(retry).dns_load_balancing(None).build();
    options.set_skip_get_system_info(true);
    let connection = Connection::connect(options).await.expect("a callback connection needs no server");
    Client::new(connection, ClientOptions::new("default").build()).expect("client")
}

pub struct App {
    pub router: Router,
    pub store: Store,
}

pub async fn app(name: &str) -> App {
    let dir = std::env::temp_dir().join(format!("qingling-web-{name}-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/q.db?mode=rwc", dir.display());
    let store = Store::connect(&url, dir.join("data")).await.expect("store");
    store.migrate().await.expect("migrate");
    qingling_activities::seed::seed_demo(&store, 0).await.expect("seed");
    let state = qingling_web::AppState {
        store: store.clone(),
        temporal: qingling_web::engine::Temporal::connected(unreachable_temporal().await),
        policy: Arc::new(Policy::builtin()),
        secure_cookies: false,
        temporal_ui_url: Some("http://localhost:8233".into()),
        checklists: Arc::new(qingling_checklists::Catalog::builtin().expect("built-in checklists")),
    };
    App { router: qingling_web::router(state), store }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).replace("&#x2f;", "/")
    }
}

impl App {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body").to_vec();
        Reply { status, headers, body }
    }

    /// Signs in through the API; returns the cookie header and the CSRF token.
    pub async fn login(&self, username: &str) -> (String, String) {
        let r = self.send(json_req("POST", "/api/session", None, json!({ "username": username, "password": "qingling-demo" }))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let set = r.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let cookie = set.split(';').next().unwrap_or_default().to_string();
        (cookie, r.json()["csrf"].as_str().unwrap_or_default().to_string())
    }
}

pub fn json_req(method: &str, uri: &str, auth: Option<(&str, Option<&str>)>, body: Value) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some((cookie, csrf)) = auth {
        b = b.header(header::COOKIE, cookie);
        if let Some(csrf) = csrf {
            b = b.header("X-CSRF-Token", csrf);
        }
    }
    b.body(Body::from(body.to_string())).expect("request")
}

pub fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

/// A matter row as the worker would write it, for facility 1 of region 3 (朝阳区).
pub async fn stored_matter(store: &Store) -> String {
    let policy = Policy::builtin();
    let facility = store.facility(1).await.ok().flatten().expect("facility 1");
    let new = NewMatter {
        id: uuid::Uuid::new_v4().to_string(),
        facility_id: facility.id,
        kind: MatterKind::Rectification,
        severity: Severity::Ordinary,
        title: "灭火器过期未更换".into(),
        description: String::new(),
        basis: String::new(),
        issued_by: Actor { user_id: 2, name: "王督办".into(), role: Role::Supervisor, facility_id: None },
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let (m, _) = Matter::open(&new, now, &policy);
    let row = matter::Model {
        id: new.id.clone(),
        workflow_id: format!("matter-{}", new.id),
        facility_id: facility.id,
        region_id: facility.region_id,
        kind: "rectification".into(),
        severity: "ordinary".into(),
        title: new.title.clone(),
        description: String::new(),
        basis: String::new(),
        status: "issued".into(),
        escalation_level: 0,
        handler: None,
        next_due_ms: m.next_wake_ms(),
        overdue: false,
        snapshot: serde_json::to_string(&m).expect("snapshot"),
        issued_by: 2,
        issued_at_ms: now,
        updated_at_ms: now,
        last_seq: 1,
    };
    matter::Entity::insert(row.into_active_model()).exec_without_returning(&store.db).await.expect("insert");
    new.id
}

pub fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "qinglingboundary";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82";

/// An inspection row as the worker would write it: facility 1 (朝阳区), the fire-safety sheet,
/// assigned by the district's supervisor to its two inspectors (users 4 and 5 of the demo data).
pub async fn stored_inspection(store: &Store) -> String {
    use qingling_activities::db::entities::{inspection, inspection_inspector};
    let facility = store.facility(1).await.ok().flatten().expect("facility 1");
    let id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let row = inspection::Model {
        id: id.clone(),
        workflow_id: format!("inspection-{id}"),
        facility_id: facility.id,
        region_id: facility.region_id,
        template_id: "fire-major-hazard".into(),
        template_version: 1,
        template_sha256: None,
        title: "养老机构重大事故隐患检查表".into(),
        date: chrono::Utc::now().date_naive().to_string(),
        status: "assigned".into(),
        assigned_by: 2,
        started_by: None,
        submission_key: None,
        submitted_by: None,
        submitted_at_ms: None,
        answers: None,
        evaluation: None,
        findings: None,
        points: None,
        draft: None,
        draft_rev: 0,
        publish_by: None,
        created_at_ms: now,
        updated_at_ms: now,
    };
    inspection::Entity::insert(row.into_active_model()).exec_without_returning(&store.db).await.expect("insert inspection");
    for user_id in [4, 5] {
        let row = inspection_inspector::Model { id: 0, inspection_id: id.clone(), user_id, signed_at_ms: None };
        let mut active = row.into_active_model();
        active.id = sea_orm::ActiveValue::NotSet;
        inspection_inspector::Entity::insert(active).exec_without_returning(&store.db).await.expect("insert inspector");
    }
    id
}

/// A request of any method with a session (and its CSRF token) or without.
pub fn request(method: &str, uri: &str, auth: Option<(&str, &str)>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some((cookie, csrf)) = auth {
        b = b.header(header::COOKIE, cookie).header("X-CSRF-Token", csrf);
    }
    if method != "GET" {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    b.body(Body::from(if method == "GET" { String::new() } else { "{}".to_string() })).expect("request")
}

/// A signed-in write with a body of the route's kind: a form (`csrf=…`) for a page, JSON for the API.
pub fn request_with(method: &str, uri: &str, (cookie, csrf): (&str, &str), form: bool) -> Request<Body> {
    if !form {
        return request(method, uri, Some((cookie, csrf)));
    }
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .expect("request")
}

/// A campaign row as the worker would write it, planned by Chaoyang's bureau (facility 1's region).
pub async fn stored_campaign(store: &Store) -> String {
    use qingling_activities::db::entities::campaign;
    let facility = store.facility(1).await.ok().flatten().expect("facility 1");
    let id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let row = campaign::Model {
        id: id.clone(),
        workflow_id: format!("campaign-{id}"),
        region_id: facility.region_id,
        title: "朝阳区双随机抽查".into(),
        status: "committed".into(),
        state: "{}".into(),
        commitment: None,
        commitment_sha256: None,
        bundle_sha256: None,
        schedule_id: None,
        created_by: 2,
        created_at_ms: now,
        updated_at_ms: now,
        publish_by_ms: None,
        published_at_ms: None,
    };
    campaign::Entity::insert(row.into_active_model()).exec_without_returning(&store.db).await.expect("insert campaign");
    id
}

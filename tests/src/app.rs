//! A whole Qingling installation per test: a real Temporal dev server, a fresh database (SQLite
//! or PostgreSQL), a real SMTP server, and the real `qingling up` binary as a child process that
//! the test can kill and restart. Tests drive it through the JSON API as the console does.

use crate::harness::{DevServer, DevServerOptions, SmtpSink, free_port, test_database_url, unique_temp_dir};
use anyhow::{Context, Result, bail};
use qingling_activities::store::Store;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `qingling` binary: `QINGLING_BIN` (scripts/run-tests.py sets it to the one its
/// `cargo test --workspace --no-run` built), else target/debug/qingling.
pub fn qingling_bin() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("QINGLING_BIN") {
        return Ok(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/qingling");
    if !bin.exists() {
        bail!("{} is missing: build it with `cargo build -p qingling`, or run the tests with scripts/test", bin.display());
    }
    Ok(bin)
}

pub fn fast_policy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fast-policy.toml")
}

pub struct TestApp {
    pub dev: DevServer,
    pub smtp: SmtpSink,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub base: String,
    web_port: u16,
    child: Option<Child>,
    pub store: Store,
    policy: PathBuf,
    checklists: Option<PathBuf>,
}

impl TestApp {
    pub async fn start(name: &str) -> Result<TestApp> {
        Self::start_with_policy(name, fast_policy()).await
    }

    /// Like [`TestApp::start`], with another policy file.
    pub async fn start_with_policy(name: &str, policy: PathBuf) -> Result<TestApp> {
        // A dev server can die just after its frontend answers: one of its internal services
        // lost a port to another test's server starting at the same moment (both pick free
        // ports by binding port 0). The app then cannot reach it: start again from nothing (a new
        // server on other ports, a new database), at most three times.
        let mut attempt = 1;
        loop {
            let mut app = Self::prepare(name, policy.clone()).await?;
            match app.spawn_app().await {
                Ok(()) => return Ok(app),
                Err(_) if attempt < 3 && app.dev.has_exited() => {
                    eprintln!("the test's Temporal dev server died while the app started (attempt {attempt}); starting again:\n{}", app.dev.output_tail());
                    app.kill_app();
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn prepare(name: &str, policy: PathBuf) -> Result<TestApp> {
        let dev = Self::dev_server().await?;
        let smtp = SmtpSink::start()?;
        let database_url = test_database_url(name).await?;
        let data_dir = unique_temp_dir(name)?;
        let web_port = free_port();
        let store = Store::connect(&database_url, data_dir.clone()).await?;
        store.migrate().await?;
        Ok(TestApp { dev, smtp, database_url, data_dir, base: format!("http://127.0.0.1:{web_port}"), web_port, child: None, store, policy, checklists: None })
    }

    async fn dev_server() -> Result<DevServer> {
        DevServer::start(DevServerOptions { headless: true, search_attributes: qingling_app::search_attributes::for_dev_server(), ..Default::default() }).await
    }

    pub fn command(&self, args: &[&str]) -> Result<Command> {
        let mut cmd = Command::new(qingling_bin()?);
        cmd.args(args)
            .env("TEMPORAL_ADDRESS", &self.dev.address)
            .env("DATABASE_URL", &self.database_url)
            .env("QINGLING_DATA_DIR", &self.data_dir)
            .env("QINGLING_WEB_ADDR", format!("127.0.0.1:{}", self.web_port))
            .env("QINGLING_SMTP_URL", format!("smtp://127.0.0.1:{}", self.smtp.port))
            .env("QINGLING_POLICY", &self.policy)
            .stdin(Stdio::null());
        if let Some(dir) = &self.checklists {
            cmd.env("QINGLING_CHECKLISTS", dir);
        }
        Ok(cmd)
    }

    /// The checklist directory (`QINGLING_CHECKLISTS`) the next `spawn_app` uses instead of the
    /// built-in catalogue.
    pub fn set_checklists(&mut self, dir: PathBuf) {
        self.checklists = Some(dir);
    }

    /// The policy file the next `spawn_app` (and `command`) uses.
    pub fn set_policy(&mut self, policy: PathBuf) {
        self.policy = policy;
    }

    /// Starts `qingling up` against this test's Temporal, database and SMTP server, and waits
    /// until the console answers.
    pub async fn spawn_app(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.data_dir.join("qingling.log"))?;
        let child = self.command(&["up"])?.stdout(Stdio::from(log.try_clone()?)).stderr(Stdio::from(log)).spawn().context("spawning qingling up")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let http = reqwest::Client::new();
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                let dev = if self.dev.has_exited() {
                    format!("\nThe test's Temporal dev server has exited; its output:\n{}", self.dev.output_tail())
                } else {
                    String::new()
                };
                bail!("qingling up exited ({status}):\n{}{dev}", self.log());
            }
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the console did not come up within 60 s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the app process at once (SIGKILL): no graceful shutdown, work in flight is lost
    /// from memory and must be recovered from Temporal's history.
    pub fn kill_app(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("qingling.log")).unwrap_or_default()
    }

    pub async fn login(&self, username: &str) -> Result<Session> {
        let http = reqwest::Client::builder().cookie_store(true).build()?;
        let res = http.post(format!("{}/api/session", self.base)).json(&json!({ "username": username, "password": "qingling-demo" })).send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if !status.is_success() {
            bail!("login as {username} failed: {status} {body}");
        }
        let csrf = body["csrf"].as_str().context("login answer has a csrf token")?.to_string();
        Ok(Session { http, base: self.base.clone(), csrf, user: body["user"].clone() })
    }

    /// Waits until `check` holds for the matter's database row and events, or fails with what
    /// was last seen.
    pub async fn wait_for_db<F>(&self, matter_id: &str, what: &str, timeout: Duration, check: F) -> Result<()>
    where
        F: Fn(&qingling_activities::db::entities::matter::Model, &[qingling_activities::db::entities::matter_event::Model]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let row = self.store.matter(matter_id).await?;
            let events = self.store.events(matter_id).await?;
            if let Some(row) = &row
                && check(row, &events)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                let kinds: Vec<_> = events.iter().map(|e| format!("{}:{}", e.seq, e.kind)).collect();
                bail!("timed out waiting for {what}; status {:?}, events {kinds:?}\n--- app log ---\n{}", row.map(|r| r.status), self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill_app();
    }
}

pub struct Session {
    http: reqwest::Client,
    base: String,
    csrf: String,
    pub user: Value,
}

impl Session {
    pub async fn get(&self, path: &str) -> Result<(u16, Value)> {
        let res = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// A POST with an `Idempotency-Key` header.
    pub async fn post_keyed(&self, path: &str, key: &str, body: Value) -> Result<(u16, Value)> {
        let res = self.http.post(format!("{}{path}", self.base)).header("X-CSRF-Token", &self.csrf).header("Idempotency-Key", key).json(&body).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        let res = self.http.post(format!("{}{path}", self.base)).header("X-CSRF-Token", &self.csrf).json(&body).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    pub async fn put(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        let res = self.http.put(format!("{}{path}", self.base)).header("X-CSRF-Token", &self.csrf).json(&body).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// Uploads one file as the multipart field `file` to any path.
    pub async fn upload_to(&self, path: &str, name: &str, bytes: Vec<u8>) -> Result<(u16, Value)> {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        let res = self.http.post(format!("{}{path}", self.base)).header("X-CSRF-Token", &self.csrf).multipart(form).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// Any request with a raw body; returns the status, the content type and the body text.
    pub async fn raw(&self, method: reqwest::Method, path: &str, content_type: &str, body: Vec<u8>) -> Result<(u16, String, String)> {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let ctype = res.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        Ok((status, ctype, res.text().await?))
    }

    /// The raw bytes of a GET.
    pub async fn get_bytes(&self, path: &str) -> Result<(u16, Vec<u8>)> {
        let res = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.bytes().await?.to_vec()))
    }

    pub async fn act(&self, matter_id: &str, action: Value) -> Result<(u16, Value)> {
        self.post(&format!("/api/matters/{matter_id}/actions"), action).await
    }

    pub async fn upload(&self, matter_id: &str, name: &str, bytes: Vec<u8>) -> Result<(u16, Value)> {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        let res = self.http.post(format!("{}/api/matters/{matter_id}/evidence", self.base)).header("X-CSRF-Token", &self.csrf).multipart(form).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// Issues a matter to the first facility in scope whose name contains `facility`.
    pub async fn issue(&self, facility_name: &str, severity: &str, title: &str) -> Result<Value> {
        let (status, facilities) = self.get("/api/facilities").await?;
        anyhow::ensure!(status == 200, "facilities: {status} {facilities}");
        let facility = facilities
            .as_array()
            .and_then(|a| a.iter().find(|f| f["name"].as_str().is_some_and(|n| n.contains(facility_name))))
            .with_context(|| format!("no facility named like {facility_name} in {facilities}"))?;
        let (status, body) = self
            .post(
                "/api/matters",
                json!({ "facility_id": facility["id"], "kind": "rectification", "severity": severity, "title": title, "description": "检查发现", "basis": "GB 38600-2019 5.1" }),
            )
            .await?;
        anyhow::ensure!(status == 201, "issue: {status} {body}");
        Ok(body)
    }
}

/// A valid one-pixel PNG.
pub fn tiny_png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08,
        0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00,
        0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=` and `=?utf-8?q?...?=`) in a header value.
pub fn decode_header(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    for word in value.split_whitespace() {
        let parts: Vec<&str> = word.trim_start_matches("=?").trim_end_matches("?=").splitn(3, '?').collect();
        if word.starts_with("=?") && parts.len() == 3 {
            let bytes = match parts[1].to_ascii_lowercase().as_str() {
                "b" => base64::engine::general_purpose::STANDARD.decode(parts[2]).unwrap_or_default(),
                _ => {
                    let mut b = vec![];
                    let s = parts[2].replace('_', " ");
                    let raw = s.as_bytes();
                    let mut i = 0;
                    while i < raw.len() {
                        if raw[i] == b'=' && i + 2 < raw.len() {
                            b.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                            i += 3;
                        } else {
                            b.push(raw[i]);
                            i += 1;
                        }
                    }
                    b
                }
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// The decoded Subject and the To header of a raw message.
pub fn subject_and_to(raw: &str) -> (String, String) {
    let mut fields = [String::new(), String::new()];
    let mut current: Option<usize> = None;
    for line in raw.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(i) = current {
                fields[i].push(' ');
                fields[i].push_str(line.trim());
            }
            continue;
        }
        current = None;
        for (i, name) in ["Subject: ", "To: "].iter().enumerate() {
            if let Some(v) = line.strip_prefix(name) {
                fields[i].push_str(v);
                current = Some(i);
            }
        }
    }
    let [subject, to] = fields;
    (decode_header(&subject), to)
}

/// Waits until Temporal's visibility answers `query` with exactly the workflow ids `expected`
/// (visibility is eventually consistent), and returns the listed workflows; fails with what was
/// last listed.
pub async fn wait_for_listed(
    client: &temporalio_client::Client,
    query: &str,
    expected: &[&str],
    timeout: Duration,
) -> Result<Vec<temporalio_client::WorkflowExecution>> {
    use futures::StreamExt;
    let deadline = Instant::now() + timeout;
    let mut want: Vec<&str> = expected.to_vec();
    want.sort_unstable();
    loop {
        let mut listed = vec![];
        let mut stream = client.list_workflows(query, temporalio_client::WorkflowListOptions::default());
        while let Some(item) = stream.next().await {
            listed.push(item.with_context(|| format!("listing {query}"))?);
        }
        let mut ids: Vec<&str> = listed.iter().map(|w| w.id()).collect();
        ids.sort_unstable();
        if ids == want {
            return Ok(listed);
        }
        if Instant::now() > deadline {
            bail!("visibility query {query:?} listed {ids:?}, expected {want:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

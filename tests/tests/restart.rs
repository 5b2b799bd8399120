//! `qingling up` and its embedded dev server live and die together:
//! * after `kill -9` of `up` its dev server dies too (parent-death signal; before, it was left
//!   running on its port and the next `qingling up` exited "already in use");
//! * a dev server left running anyway (started by something else on the same database, or on a
//!   system without `setpriv`) is found through the PID file next to its database and stopped;
//! * every matter carries on after the restart;
//! * a dev server that dies under a running `up` is started again without restarting `up`.

use qingling_tests::app::qingling_bin;
use qingling_tests::harness::{free_port, test_database_url, unique_temp_dir};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn up(data_dir: &Path, database_url: &str, ports: (u16, u16, u16)) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("up.log"))?;
    Ok(Command::new(qingling_bin()?)
        .arg("up")
        .env_remove("TEMPORAL_ADDRESS")
        .env("QINGLING_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("QINGLING_TEMPORAL_PORT", ports.0.to_string())
        .env("QINGLING_TEMPORAL_UI_PORT", ports.1.to_string())
        .env("QINGLING_WEB_ADDR", format!("127.0.0.1:{}", ports.2))
        .env("QINGLING_POLICY", qingling_tests::app::fast_policy())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()?)
}

async fn wait_healthy(child: &mut Child, base: &str, data_dir: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("qingling up exited ({status}):\n{}", std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default());
        }
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "not up within 90 s:\n{}", std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Stops `qingling up` as Ctrl-C would, and waits for it.
async fn stop(up: &mut Child) -> anyhow::Result<()> {
    Command::new("kill").args(["-INT", &up.id().to_string()]).status()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while up.try_wait()?.is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if up.try_wait()?.is_none() {
        up.kill()?;
        anyhow::bail!("qingling up did not stop on SIGINT");
    }
    Ok(())
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qingling_up_starts_again_after_a_kill_9_and_every_matter_carries_on() -> anyhow::Result<()> {
    let data_dir = unique_temp_dir("restart")?;
    let database_url = test_database_url("restart").await?;
    let ports = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{}", ports.2);
    let mut first = up(&data_dir, &database_url, ports)?;
    wait_healthy(&mut first, &base, &data_dir).await?;

    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login: Value =
        http.post(format!("{base}/api/session")).json(&json!({ "username": "supervisor", "password": "qingling-demo" })).send().await?.json().await?;
    let csrf = login["csrf"].as_str().unwrap().to_string();
    let facilities: Value = http.get(format!("{base}/api/facilities")).send().await?.json().await?;
    let issued: Value = http
        .post(format!("{base}/api/matters"))
        .header("X-CSRF-Token", &csrf)
        .json(
            &json!({ "facility_id": facilities[0]["id"], "kind": "complaint", "severity": "ordinary", "title": "重启前下发", "description": "", "basis": "" }),
        )
        .send()
        .await?
        .json()
        .await?;
    let id = issued["matter_id"].as_str().expect("issued").to_string();

    let pid_file = data_dir.join("temporal.db.pid");
    let first_dev: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    assert!(alive(first_dev));
    first.kill()?; // SIGKILL: no shutdown of its own
    first.wait()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(first_dev) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!alive(first_dev), "the dev server dies with qingling up, even on kill -9");

    // A server left running on the same database and port anyway, as on a system without
    // `setpriv`: started here directly, with the PID file an earlier `up` would have written.
    let temporal = qingling_tests::harness::find_temporal_bin()?;
    let mut leftover = Command::new(temporal)
        .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", &ports.0.to_string(), "--log-level", "error", "--db-filename"])
        .arg(data_dir.join("temporal.db"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let dev_pid = leftover.id();
    std::fs::write(&pid_file, format!("{dev_pid}\n"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", ports.0)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the stand-in leftover server did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut second = up(&data_dir, &database_url, ports)?;
    let started = wait_healthy(&mut second, &base, &data_dir).await;
    let log = std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default();
    started?;
    let _ = leftover.wait();
    assert!(!alive(dev_pid), "the leftover dev server was stopped");
    assert!(log.contains(&format!("left running by an earlier start (pid {dev_pid})")), "{log}");
    let new_pid: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    assert_ne!(new_pid, dev_pid);

    // The matter issued before the crash is there, and its workflow answers on the new server.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    http.post(format!("{base}/api/session")).json(&json!({ "username": "supervisor", "password": "qingling-demo" })).send().await?;
    let shown: Value = http.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
    assert_eq!(shown["matter"]["title"], "重启前下发", "{shown}");
    // The page answers from the database at once; the workflow's own view (`live`) follows as
    // soon as the restarted worker polls again (a query needs a worker to answer it).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut shown = shown;
    while !shown["live"]["matter"]["status"].is_string() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        shown = http.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
    }
    assert!(shown["live"]["matter"]["status"].is_string(), "the workflow carries on: {shown}");

    // A graceful stop takes the dev server with it and removes the PID file.
    stop(&mut second).await?;
    assert!(!alive(new_pid) && !pid_file.exists());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_server_that_dies_under_a_running_up_comes_back() -> anyhow::Result<()> {
    let data_dir = unique_temp_dir("dev-dies")?;
    let database_url = test_database_url("dev-dies").await?;
    let ports = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{}", ports.2);
    let mut up = up(&data_dir, &database_url, ports)?;
    wait_healthy(&mut up, &base, &data_dir).await?;
    let pid_file = data_dir.join("temporal.db.pid");
    let dev_pid: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    Command::new("kill").args(["-KILL", &dev_pid.to_string()]).status()?;

    // Issuing works again once the server is back, without touching `up`.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login: Value =
        http.post(format!("{base}/api/session")).json(&json!({ "username": "supervisor", "password": "qingling-demo" })).send().await?.json().await?;
    let csrf = login["csrf"].as_str().unwrap().to_string();
    let facilities: Value = http.get(format!("{base}/api/facilities")).send().await?.json().await?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let id = loop {
        anyhow::ensure!(up.try_wait()?.is_none(), "qingling up exited:\n{}", std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default());
        let res = http
            .post(format!("{base}/api/matters"))
            .header("X-CSRF-Token", &csrf)
            .header("Idempotency-Key", "after-the-crash")
            .json(&json!({ "facility_id": facilities[0]["id"], "kind": "complaint", "severity": "ordinary", "title": "服务器重启后下发", "description": "", "basis": "" }))
            .send()
            .await?;
        if res.status().as_u16() == 201 {
            let v: Value = res.json().await?;
            break v["matter_id"].as_str().unwrap().to_string();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "issuing never worked again: {}\n{}",
            res.status(),
            std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let new_pid: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    assert_ne!(new_pid, dev_pid, "a new dev server");
    let log = std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default();
    assert!(log.contains("starting it again"), "{log}");
    // The new matter's workflow runs on the restarted server, and its first step is stored.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown: Value = http.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
        if shown["live"]["matter"]["status"].is_string() && shown["matter"]["title"] == "服务器重启后下发" {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the matter never came alive: {shown}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop(&mut up).await?;
    assert!(!alive(new_pid), "the restarted server stops with up");
    Ok(())
}

/// Signs in through the API; the client keeps the session cookie, the token goes on every POST.
async fn sign_in(base: &str, username: &str) -> anyhow::Result<(reqwest::Client, String)> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login: Value =
        http.post(format!("{base}/api/session")).json(&json!({ "username": username, "password": "qingling-demo" })).send().await?.json().await?;
    let csrf = login["csrf"].as_str().ok_or_else(|| anyhow::anyhow!("sign-in as {username}: {login}"))?.to_string();
    Ok((http, csrf))
}

fn spawn(args: &[&str], data_dir: &Path, database_url: &str, temporal: &str, web_port: u16, log: &str) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join(log))?;
    Ok(Command::new(qingling_bin()?)
        .args(args)
        .env("TEMPORAL_ADDRESS", temporal)
        .env("QINGLING_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("QINGLING_WEB_ADDR", format!("127.0.0.1:{web_port}"))
        .env("QINGLING_POLICY", qingling_tests::app::fast_policy())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()?)
}

/// `qingling web` starts while Temporal is down (before, it retried 30 s and exited), serves what
/// is stored with a banner, refuses actions with `engine.unavailable` at once, and takes actions
/// again by itself once Temporal is back, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qingling_web_serves_from_the_database_while_temporal_is_down_and_reconnects() -> anyhow::Result<()> {
    let data_dir = unique_temp_dir("web-offline")?;
    let database_url = test_database_url("web-offline").await?;
    let ports = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{}", ports.2);
    let mut first = up(&data_dir, &database_url, ports)?;
    wait_healthy(&mut first, &base, &data_dir).await?;
    let (supervisor, csrf) = sign_in(&base, "supervisor").await?;
    let facilities: Value = supervisor.get(format!("{base}/api/facilities")).send().await?.json().await?;
    let facility = facilities.as_array().and_then(|a| a.iter().find(|f| f["name"] == "朝阳区第一社会福利院")).cloned().expect("the demo facility");
    let issued: Value = supervisor
        .post(format!("{base}/api/matters"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "facility_id": facility["id"], "kind": "complaint", "severity": "ordinary", "title": "引擎停机前下发", "description": "", "basis": "" }))
        .send()
        .await?
        .json()
        .await?;
    let id = issued["matter_id"].as_str().expect("issued").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown: Value = supervisor.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
        if shown["matter"]["last_seq"].as_i64().unwrap_or(0) >= 1 || shown["events"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the matter was never stored: {shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Temporal goes away with `up`; only the console comes back.
    stop(&mut first).await?;
    let temporal = format!("127.0.0.1:{}", ports.0);
    let mut web = spawn(&["web"], &data_dir, &database_url, &temporal, ports.2, "web.log")?;
    let web_log = || std::fs::read_to_string(data_dir.join("web.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = web.try_wait()? {
            anyhow::bail!("qingling web exited without Temporal ({status}):\n{}", web_log());
        }
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "qingling web did not serve within 20 s without Temporal:\n{}", web_log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // What is stored is served, with the banner.
    let (supervisor, _) = sign_in(&base, "supervisor").await?;
    let board = supervisor.get(format!("{base}/board")).header("Accept-Language", "zh-CN").send().await?;
    assert_eq!(board.status(), 200);
    let board = board.text().await?;
    assert!(board.contains("流程引擎暂时无法连接") && board.contains("引擎停机前下发"), "{board}");
    let page = supervisor.get(format!("{base}/matters/{id}")).send().await?;
    assert_eq!(page.status(), 200);
    assert!(page.text().await?.contains("引擎停机前下发"));
    let shown: Value = supervisor.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
    assert_eq!(shown["matter"]["title"], "引擎停机前下发", "{shown}");
    assert!(shown["live"].is_null(), "{shown}");

    // An action is refused, in the API's format, and nothing is stored.
    let (facility_user, facility_csrf) = sign_in(&base, "facility1").await?;
    let acknowledge = json!({ "action": "acknowledge", "handler": "值班主任" });
    let res = facility_user.post(format!("{base}/api/matters/{id}/actions")).header("X-CSRF-Token", &facility_csrf).json(&acknowledge).send().await?;
    assert_eq!(res.status(), 503);
    let refused: Value = res.json().await?;
    assert_eq!(refused["error"]["code"], "engine.unavailable", "{refused}");
    let events_before = shown["events"].as_array().map(Vec::len).unwrap_or(0);

    // Temporal comes back (same database), with a worker; the console needs no restart.
    let dev = qingling_tests::harness::DevServer::start(qingling_tests::harness::DevServerOptions {
        db_file: Some(data_dir.join("temporal.db")),
        headless: true,
        port: Some(ports.0),
        ..Default::default()
    })
    .await?;
    let mut worker = spawn(&["worker"], &data_dir, &database_url, &temporal, free_port(), "worker.log")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // An attempt answered late (504) may still have taken effect: then it is stored already.
        let shown: Value = supervisor.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
        if shown["events"].as_array().map(Vec::len).unwrap_or(0) > events_before {
            break;
        }
        let res = facility_user.post(format!("{base}/api/matters/{id}/actions")).header("X-CSRF-Token", &facility_csrf).json(&acknowledge).send().await?;
        if res.status().is_success() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "actions never worked again: {} {}\n--- web ---\n{}\n--- worker ---\n{}",
            res.status(),
            res.text().await?,
            web_log(),
            std::fs::read_to_string(data_dir.join("worker.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown: Value = supervisor.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
        if shown["events"].as_array().map(Vec::len).unwrap_or(0) == events_before + 1 {
            assert!(shown["live"]["matter"]["status"].is_string(), "{shown}");
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the acknowledgement was not stored once: {shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let board = supervisor.get(format!("{base}/board")).header("Accept-Language", "zh-CN").send().await?.text().await?;
    assert!(!board.contains("流程引擎暂时无法连接"), "the banner goes once Temporal answers");

    for child in [&mut web, &mut worker] {
        stop(child).await?;
    }
    dev.stop().await;
    Ok(())
}

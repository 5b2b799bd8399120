//! `qingling up` with its embedded dev server survives its own crash: after `kill -9` the dev
//! server it started is left running on its port (before: the next `qingling up` exited "already
//! in use"); the next start finds it through the PID file next to its database, stops it, starts
//! a fresh one on the same database, and every matter carries on.

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
    let dev_pid: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    assert!(alive(dev_pid));
    first.kill()?; // SIGKILL: no shutdown of its own
    first.wait()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(alive(dev_pid), "the dev server outlives a kill -9 of qingling up (the defect this test guards)");

    let mut second = up(&data_dir, &database_url, ports)?;
    let started = wait_healthy(&mut second, &base, &data_dir).await;
    let log = std::fs::read_to_string(data_dir.join("up.log")).unwrap_or_default();
    started?;
    assert!(!alive(dev_pid), "the leftover dev server was stopped");
    assert!(log.contains(&format!("left running by an earlier start (pid {dev_pid})")), "{log}");
    let new_pid: u32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    assert_ne!(new_pid, dev_pid);

    // The matter issued before the crash is there, and its workflow answers on the new server.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    http.post(format!("{base}/api/session")).json(&json!({ "username": "supervisor", "password": "qingling-demo" })).send().await?;
    let shown: Value = http.get(format!("{base}/api/matters/{id}")).send().await?.json().await?;
    assert_eq!(shown["matter"]["title"], "重启前下发", "{shown}");
    assert!(shown["live"]["matter"]["status"].is_string(), "the workflow carries on: {shown}");

    // A graceful stop takes the dev server with it and removes the PID file.
    Command::new("kill").args(["-INT", &second.id().to_string()]).status()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while second.try_wait()?.is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if second.try_wait()?.is_none() {
        second.kill()?;
        anyhow::bail!("qingling up did not stop on SIGINT");
    }
    assert!(!alive(new_pid) && !pid_file.exists());
    Ok(())
}

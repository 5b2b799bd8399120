//! Runs a Playwright script from `tests/browser/` with Node against a running console.
//!
//! Needs `node`, Debian's Chromium (`/usr/bin/chromium`, or `QINGLING_CHROMIUM`) and
//! `playwright-core` in `.tools/node` — all installed by `scripts/setup-tools.sh`. A missing
//! piece fails the test with the command to run; it never skips.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn chromium() -> PathBuf {
    std::env::var_os("QINGLING_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Runs `tests/browser/<script>` with `BASE_URL=base`, screenshots into `shots/` under
/// `data_dir`, and returns the JSON the script prints after `RESULT `.
pub async fn run_script(script: &str, base: &str, data_dir: &Path) -> Result<Value> {
    run_script_with(script, base, data_dir, &[]).await
}

/// [`run_script`] with extra environment variables for the script.
pub async fn run_script_with(script: &str, base: &str, data_dir: &Path, env: &[(&str, &str)]) -> Result<Value> {
    let playwright = root().join(".tools/node/node_modules");
    if !playwright.join("playwright-core/package.json").exists() {
        bail!("playwright-core is not installed in {}: run scripts/setup-tools.sh", playwright.display());
    }
    if !chromium().exists() {
        bail!("{} is missing: run scripts/setup-tools.sh (installs Debian's chromium)", chromium().display());
    }
    let shots = data_dir.join("shots");
    std::fs::create_dir_all(&shots)?;
    let path = root().join("tests/browser").join(script);
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(&path)
        .env("BASE_URL", base)
        .env("PLAYWRIGHT_DIR", &playwright)
        .env("CHROMIUM", chromium())
        .env("SHOT_DIR", &shots)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .with_context(|| format!("{script} did not finish within 240 s"))?
        .with_context(|| format!("running node {} (is Node.js installed?)", path.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{script} failed ({}); screenshots in {}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status, shots.display());
    }
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("RESULT ")).with_context(|| format!("{script} printed no RESULT line:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("{script}: RESULT is not JSON: {line}"))
}

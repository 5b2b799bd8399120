//! Configuration from the environment, with the embedded defaults `qingling up` needs.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `QINGLING_DATA_DIR` | `data` | SQLite file, evidence files, mail outbox, dev-server state |
//! | `DATABASE_URL` | `sqlite://<data>/qingling.db` | PostgreSQL: `postgres://user:pw@host/db` |
//! | `QINGLING_POLICY` | built-in `policy/qingling.toml` | a policy file (may `extends = "builtin"`) |
//! | `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, ... | local dev server | the SDK's standard client configuration; when set, `up` uses that cluster |
//! | `QINGLING_TEMPORAL_PORT` / `_UI_PORT` | 7233 / 8233 | ports of the embedded dev server |
//! | `QINGLING_WEB_ADDR` | `127.0.0.1:8080` | where the console listens |
//! | `QINGLING_PUBLIC_URL` | `http://<web addr>` | links in mails; `https://` turns on Secure cookies |
//! | `QINGLING_SMTP_URL` | unset: mail goes to `<data>/outbox/*.eml` | e.g. `smtp://127.0.0.1:2525` |
//! | `QINGLING_AUDIT_KEY_FILE` | `<data>/audit.key` (made on first start) | the key of the event hash chain; keep it outside the database and back it up |
//! | `QINGLING_AUDIT_ANCHORS` | `<data>/audit-anchors.jsonl` | the append-only file of chain heads; keep it (or copies) outside the database |
//! | `QINGLING_AUDIT_ANCHOR_SECS` | `600` | how often a worker anchors the chain heads; `0` turns it off (e.g. on all workers but one) |
//! | `QINGLING_MAIL_FROM` | `清零 Qingling <noreply@qingling.invalid>` | sender |

use anyhow::{Context, Result, bail};
use qingling_rules::Policy;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub policy: Policy,
    pub policy_source: String,
    /// `Some` when the environment names a Temporal cluster; `None` means "start the dev server".
    pub temporal_address: Option<String>,
    pub temporal_port: u16,
    pub temporal_ui_port: u16,
    pub web_addr: SocketAddr,
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Headless Chromium, which prints notices to PDF (`QINGLING_CHROMIUM`).
    pub chromium: PathBuf,
    /// The checklist templates: the built-in ones, or the directory `QINGLING_CHECKLISTS`.
    pub checklists: qingling_checklists::Catalog,
    pub checklists_source: String,
    pub audit_key_file: PathBuf,
    pub audit_anchors: PathBuf,
    /// `None`: this process does not anchor.
    pub audit_anchor_every: Option<std::time::Duration>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn port(name: &str, default: u16) -> Result<u16> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().with_context(|| format!("{name}={v:?} is not a port number")),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        let data_dir = PathBuf::from(var("QINGLING_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}/qingling.db?mode=rwc", data_dir.display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            bail!("DATABASE_URL must start with sqlite:, postgres:// or postgresql://, got {database_url:?}");
        }
        let (policy, policy_source) = match var("QINGLING_POLICY") {
            None => (Policy::builtin(), "built-in policy/qingling.toml".to_string()),
            Some(path) => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the policy file QINGLING_POLICY={path}"))?;
                let policy = Policy::parse(&text).with_context(|| format!("policy file {path} is invalid"))?;
                (policy, path)
            }
        };
        let web_addr: SocketAddr =
            var("QINGLING_WEB_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()).parse().context("QINGLING_WEB_ADDR must be an address like 127.0.0.1:8080")?;
        let public_url = var("QINGLING_PUBLIC_URL").unwrap_or_else(|| format!("http://{web_addr}"));
        let (checklists, checklists_source) = match var("QINGLING_CHECKLISTS") {
            None => (
                qingling_checklists::Catalog::builtin().map_err(|p| anyhow::anyhow!("the built-in checklists are invalid:\n{}", problems(&p)))?,
                "built-in checklists/templates".to_string(),
            ),
            Some(dir) => {
                let catalog =
                    qingling_checklists::load_path(&dir).map_err(|p| anyhow::anyhow!("QINGLING_CHECKLISTS={dir}: invalid templates:\n{}", problems(&p)))?;
                (catalog, dir)
            }
        };
        Ok(Settings {
            database_url,
            policy,
            policy_source,
            temporal_address: var("TEMPORAL_ADDRESS"),
            temporal_port: port("QINGLING_TEMPORAL_PORT", 7233)?,
            temporal_ui_port: port("QINGLING_TEMPORAL_UI_PORT", 8233)?,
            web_addr,
            public_url,
            smtp_url: var("QINGLING_SMTP_URL"),
            mail_from: var("QINGLING_MAIL_FROM").unwrap_or_else(|| "清零 Qingling <noreply@qingling.invalid>".into()),
            chromium: PathBuf::from(var("QINGLING_CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into())),
            checklists,
            checklists_source,
            audit_key_file: var("QINGLING_AUDIT_KEY_FILE").map_or_else(|| data_dir.join("audit.key"), PathBuf::from),
            audit_anchors: var("QINGLING_AUDIT_ANCHORS").map_or_else(|| data_dir.join("audit-anchors.jsonl"), PathBuf::from),
            audit_anchor_every: match var("QINGLING_AUDIT_ANCHOR_SECS") {
                None => Some(std::time::Duration::from_secs(600)),
                Some(v) => match v.parse::<u64>() {
                    Ok(0) => None,
                    Ok(n) => Some(std::time::Duration::from_secs(n)),
                    Err(_) => bail!("QINGLING_AUDIT_ANCHOR_SECS={v:?} is not a number of seconds"),
                },
            },
            data_dir,
        })
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Template problems, one per line (`file:line: item: message`).
pub fn problems(p: &[qingling_checklists::Problem]) -> String {
    p.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

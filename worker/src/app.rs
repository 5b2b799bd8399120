//! Runners for `up`, `worker`, `web` and `migrate`, and the pieces they share: opening the
//! store, connecting to Temporal, building the worker.

use crate::devserver::{DevServer, DevServerOptions, Supervised};
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use qingling_activities::audit::{self, AuditKey};
use qingling_activities::mail::{Mailer, Transport};
use qingling_activities::persist::MatterActivitiesImpl;
use qingling_activities::store::Store;
use qingling_workflows::{Rectification, ids::TASK_QUEUE};
use std::sync::Arc;
use std::time::Duration;
use temporalio_client::{Client, ClientOptions, Connection, Url, envconfig::LoadClientConfigProfileOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Connects to the database and brings its schema up to date.
pub async fn open_store(settings: &Settings) -> Result<Store> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
    let store = Store::connect(&settings.database_url, settings.data_dir.clone())
        .await
        .with_context(|| format!("cannot open the database {}", redact(&settings.database_url)))?;
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

/// The warning printed at start-up from the day next year's holiday schedule is expected
/// (policy: `statutory.next_year_expected_from`) until it is loaded.
pub async fn calendar_warning(store: &Store, settings: &Settings) -> Result<Option<String>> {
    let policy = store.policy_in_force(&settings.policy).await?;
    let today = policy.calendar.local_date(now_ms());
    Ok(policy.calendar.schedule_missing(today).map(|year| {
        format!(
            "warning: the State Council's {year} holiday schedule is not loaded; deadlines reaching into {year} count statutory holidays and weekends only and are marked provisional. Load it in the console (/admin/calendar) or with a policy overlay ([calendar.{year}])."
        )
    }))
}

async fn warn_about_calendar(store: &Store, settings: &Settings) {
    match calendar_warning(store, settings).await {
        // On stderr as a plain line, not a log record: it is meant for the person starting it.
        Ok(Some(w)) => eprintln!("{w}"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the loaded working-day schedules"),
    }
}

/// The years a policy overlay adds to the built-in calendar, or changes, count as loaded the
/// first time a worker starts with them: recorded in the database (so the console's calendar
/// and later loads see them) and rolled out to the running matters and inspections. A year's
/// content is recorded once, so a schedule an administrator loaded afterwards is not overridden
/// by the file at the next restart.
pub async fn roll_out_policy_years(store: &Store, client: &Client, settings: &Settings) -> Result<()> {
    let builtin = qingling_rules::Policy::builtin();
    for (year, schedule) in &settings.policy.calendar.years {
        if builtin.calendar.years.get(year) == Some(schedule) {
            continue;
        }
        let mut schedule = schedule.clone();
        schedule.source.get_or_insert_with(|| format!("QINGLING_POLICY {}", settings.policy_source));
        if store.schedule_recorded(*year, &schedule).await? {
            continue;
        }
        // Rolled out first, recorded second: a start that fails in between rolls out again next
        // time (harmless), where the other order would record a year no matter ever learned.
        let digest = qingling_activities::calendar::schedule_digest(*year, &schedule);
        let update = qingling_workflows::contract::CalendarYearUpdate { year: *year, schedule: schedule.clone() };
        let id = qingling_web::engine::start_calendar_rollout(client, update, &digest).await.map_err(|e| anyhow!("rolling out the {year} schedule: {e}"))?;
        store.save_schedule(*year, &schedule, 0, now_ms()).await.with_context(|| format!("recording the {year} schedule of the policy file"))?;
        println!("Calendar: the policy file's {year} schedule is rolled out to the running matters ({id})");
    }
    Ok(())
}

/// The key of the event hash chain, for a process that writes events. Made on the first start
/// (an empty database, or one whose chains predate the key: those are checked and re-signed
/// once). A database with keyed chains and no key file is refused: a new key would make every
/// stored chain unverifiable.
pub async fn audit_key_for_writing(store: &Store, settings: &Settings) -> Result<AuditKey> {
    let path = &settings.audit_key_file;
    if let Some(key) = AuditKey::load(path)? {
        return Ok(key);
    }
    match audit::holds_legacy_chains(&store.db).await? {
        Some(false) => bail!(
            "the audit key {} is missing, but the database's event chains are signed with a key: restore the key file (or set QINGLING_AUDIT_KEY_FILE to it); a new key would make every chain unverifiable",
            path.display()
        ),
        legacy => {
            let key = AuditKey::create(path).with_context(|| format!("cannot create the audit key {}", path.display()))?;
            println!("Audit: a new chain key in {} (back it up, and keep it out of the database's backups)", path.display());
            if legacy == Some(true) {
                let (sealed, left) = audit::seal_legacy(&store.db, &key).await?;
                println!("Audit: {sealed} unkeyed chains checked and re-signed with the key; {left} already broken, left as they were");
            }
            Ok(key)
        }
    }
}

/// The key for checking chains: it must exist.
pub fn audit_key_for_reading(settings: &Settings) -> Result<AuditKey> {
    AuditKey::load(&settings.audit_key_file)?
        .with_context(|| format!("no audit key at {} (set QINGLING_AUDIT_KEY_FILE to the worker's key file)", settings.audit_key_file.display()))
}

/// Appends an anchor of the chain heads every `QINGLING_AUDIT_ANCHOR_SECS`, until the process
/// ends. A failure is logged and tried again at the next tick.
fn spawn_anchoring(store: &Store, key: &AuditKey, settings: &Settings) {
    let Some(every) = settings.audit_anchor_every else { return };
    let (db, key, path) = (store.db.clone(), key.clone(), settings.audit_anchors.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match audit::anchor(&db, &key, &path, now_ms()).await {
                Ok(Some(a)) => tracing::info!(n = a.n, heads = a.heads.len(), upto_event_id = a.upto_event_id, "audit anchor written"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, path = %path.display(), "cannot write the audit anchor"),
            }
        }
    });
}

/// Hides a password in a database URL before it is printed.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Why a connection attempt failed: the configuration (fatal) or the server (try again).
enum ConnectError {
    Config(anyhow::Error),
    Unreachable(anyhow::Error),
}

/// One attempt to connect through the SDK's standard configuration (`TEMPORAL_ADDRESS`,
/// profiles, TLS, API keys), or to `address` when given.
async fn connect_once(address: Option<&str>) -> std::result::Result<Client, ConnectError> {
    let (mut conn_opts, client_opts) = ClientOptions::load_from_config(LoadClientConfigProfileOptions::default())
        .map_err(|e| ConnectError::Config(anyhow!("Temporal client configuration: {e}")))?;
    if let Some(addr) = address {
        conn_opts.target = Url::parse(&format!("http://{addr}")).with_context(|| format!("bad Temporal address {addr}")).map_err(ConnectError::Config)?;
    }
    let target = conn_opts.target.to_string();
    match tokio::time::timeout(Duration::from_secs(10), Connection::connect(conn_opts)).await {
        Ok(Ok(connection)) => Client::new(connection, client_opts).map_err(|e| ConnectError::Config(anyhow!("Temporal client: {e}"))),
        Ok(Err(e)) => Err(ConnectError::Unreachable(anyhow!("cannot reach Temporal at {target}: {e}"))),
        Err(_) => Err(ConnectError::Unreachable(anyhow!("cannot reach Temporal at {target}: no answer in 10 s"))),
    }
}

/// Connects to Temporal, retrying for a while: a dev server that has just opened its port may
/// not answer gRPC yet. The worker needs it; the console alone does not (see [`web`]).
pub async fn connect_temporal(address: Option<&str>) -> Result<Client> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match connect_once(address).await {
            Ok(client) => return Ok(client),
            Err(ConnectError::Config(e)) => return Err(e),
            Err(ConnectError::Unreachable(e)) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "Temporal not reachable yet");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(ConnectError::Unreachable(e)) => return Err(e),
        }
    }
}

/// How often the console checks that Temporal still answers (and tries to connect while it has
/// no connection). Pages refuse actions at once while it does not, rather than each waiting out
/// a timeout, so this is also how soon actions work again after Temporal comes back.
const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long one probe may take, and how many must fail in a row before the console calls
/// Temporal away: a busy machine can be slow to answer once (a refused connection fails at
/// once, so a stopped server is still noticed within a few seconds).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROBE_FAILURES: u32 = 2;

/// Keeps the console's line to Temporal up: connects when it is not connected, probes when it
/// is, and logs each change (the pages' banner follows the same flag).
pub fn keep_temporal_linked(link: qingling_web::engine::Temporal, address: Option<String>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut told = false;
        let mut failures = 0u32;
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            match link.any_client() {
                None => match connect_once(address.as_deref()).await {
                    Ok(client) => {
                        link.connect(client);
                        tracing::info!("connected to Temporal: actions are accepted again");
                        println!("Temporal: connected");
                    }
                    Err(ConnectError::Config(e) | ConnectError::Unreachable(e)) => {
                        if !told {
                            tracing::warn!(error = %e, "still no Temporal; trying again every {} s", PROBE_EVERY.as_secs());
                            told = true;
                        }
                    }
                },
                Some(client) => {
                    let answered = qingling_web::engine::probe(&client, PROBE_TIMEOUT).await;
                    failures = if answered { 0 } else { failures + 1 };
                    let up = answered || failures < PROBE_FAILURES;
                    if link.set_reachable(up) {
                        if up {
                            tracing::info!("Temporal answers again: actions are accepted again");
                        } else {
                            tracing::error!("Temporal does not answer: the console serves from the database and refuses actions until it is back");
                        }
                    }
                }
            }
        }
    })
}

pub fn mailer(settings: &Settings) -> Mailer {
    let transport = match &settings.smtp_url {
        Some(url) => Transport::Smtp { url: url.clone() },
        None => Transport::Outbox { dir: settings.data_dir.join("outbox") },
    };
    Mailer::new(transport, settings.mail_from.clone())
}

/// A worker polling the Qingling task queue with every workflow and activity registered.
pub fn build_worker(runtime: &Runtime, client: Client, store: Store, settings: &Settings, audit_key: AuditKey) -> Result<Worker> {
    let calendar = crate::calendar_rollout::CalendarActivitiesImpl { client: client.clone() };
    let inspections = qingling_activities::inspection::InspectionActivitiesImpl {
        store: store.clone(),
        mailer: mailer(settings),
        calendar: settings.policy.calendar.clone(),
        policy: settings.policy.clone(),
        public_url: settings.public_url.clone(),
        chromium: settings.chromium.clone(),
    };
    let notices = qingling_activities::notices::NoticeActivitiesImpl {
        store: store.clone(),
        mailer: mailer(settings),
        public_url: settings.public_url.clone(),
        chromium: settings.chromium.clone(),
    };
    let campaigns = qingling_activities::campaign::CampaignActivitiesImpl {
        store: store.clone(),
        audit_key: audit_key.clone(),
        mail: qingling_activities::campaign::CampaignMail {
            mailer: mailer(settings),
            calendar: settings.policy.calendar.clone(),
            public_url: settings.public_url.clone(),
        },
    };
    let activities = MatterActivitiesImpl {
        store,
        mailer: mailer(settings),
        calendar: settings.policy.calendar.clone(),
        public_url: settings.public_url.clone(),
        policy: settings.policy.clone(),
        audit_key,
    };
    let options = WorkerOptions::new(TASK_QUEUE)
        .register_workflow::<Rectification>()
        .map_err(|e| anyhow!("registering workflows: {e}"))?
        .register_workflow::<qingling_workflows::Inspection>()
        .map_err(|e| anyhow!("registering workflows: {e}"))?
        .register_workflow::<qingling_workflows::CalendarRollout>()
        .map_err(|e| anyhow!("registering workflows: {e}"))?
        .register_workflow::<qingling_workflows::NoticeDelivery>()
        .map_err(|e| anyhow!("registering workflows: {e}"))?
        .register_workflow::<qingling_workflows::Campaign>()
        .map_err(|e| anyhow!("registering workflows: {e}"))?
        .register_activities(calendar)
        .register_activities(notices)
        .register_activities(activities)
        .register_activities(inspections)
        .register_activities(campaigns)
        .graceful_shutdown_period(Duration::from_secs(5))
        .build();
    Worker::new(runtime, client, options).map_err(|e| anyhow!("cannot create the Temporal worker: {e}"))
}

pub fn web_state(settings: &Settings, store: Store, temporal: qingling_web::engine::Temporal, temporal_ui_url: Option<String>) -> qingling_web::AppState {
    qingling_web::AppState {
        store,
        temporal,
        policy: Arc::new(settings.policy.clone()),
        secure_cookies: settings.secure_cookies(),
        temporal_ui_url,
        checklists: Arc::new(settings.checklists.clone()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Runs the console until `stop` resolves.
async fn serve_web(
    settings: &Settings,
    state: qingling_web::AppState,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<Result<()>>> {
    let listener =
        tokio::net::TcpListener::bind(settings.web_addr).await.with_context(|| format!("cannot listen on {} (set QINGLING_WEB_ADDR)", settings.web_addr))?;
    let router = qingling_web::router(state);
    // The peer's address reaches the handlers: sign-in attempts are throttled per address.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    Ok(tokio::spawn(async move { axum::serve(listener, service).with_graceful_shutdown(stop).await.map_err(|e| anyhow!("web server: {e}")) }))
}

/// Runs the worker until a shutdown signal, then lets it finish what it holds.
async fn run_worker_until_signal(mut worker: Worker) -> Result<()> {
    let stop = worker.shutdown_handle();
    let run = worker.run();
    tokio::pin!(run);
    tokio::select! {
        res = &mut run => return res.map_err(|e| anyhow!("worker stopped: {e}")),
        _ = shutdown_signal() => {}
    }
    tracing::info!("shutting down the worker");
    stop();
    run.await.map_err(|e| anyhow!("worker shutdown: {e}"))
}

/// `qingling up`: everything in one process, with an embedded dev server unless a Temporal
/// cluster is configured.
pub async fn up(settings: Settings) -> Result<()> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    let dev = match &settings.temporal_address {
        Some(addr) => {
            println!("Temporal: using the configured cluster at {addr}");
            None
        }
        None => {
            let opts = DevServerOptions {
                db_file: Some(settings.data_dir.join("temporal.db")),
                headless: false,
                port: Some(settings.temporal_port),
                ui_port: Some(settings.temporal_ui_port),
                log_file: Some(settings.data_dir.join("temporal.log")),
                search_attributes: crate::search_attributes::for_dev_server(),
            };
            let dev = DevServer::start(opts.clone()).await.context("cannot start the Temporal dev server (see data/temporal.log)")?;
            println!("Temporal: dev server at {} (persisted in {})", dev.address, settings.data_dir.join("temporal.db").display());
            Some(dev.supervise(opts))
        }
    };
    let result = up_with(&settings, dev.as_ref()).await;
    if let Some(dev) = dev {
        dev.stop().await;
    }
    result
}

async fn up_with(settings: &Settings, dev: Option<&Supervised>) -> Result<()> {
    let store = open_store(settings).await?;
    println!("Database: {} (migrated)", redact(&settings.database_url));
    warn_about_calendar(&store, settings).await;
    println!("Policy: {} ({})", settings.policy.name, settings.policy_source);
    let seeded = qingling_activities::seed::seed_demo(&store, now_ms()).await.context("seeding the demo data")?;
    if let Some(accounts) = &seeded {
        println!("Demo data created. Sign in as:");
        for a in accounts {
            println!("  {:<11} {:<10} password {:<14} {}", a.username, a.role, a.password, a.display_name);
        }
    }
    let client = connect_temporal(dev.map(|d| d.address.as_str()).or(settings.temporal_address.as_deref())).await?;
    crate::search_attributes::check(&client).await?;
    roll_out_policy_years(&store, &client, settings).await?;
    if seeded.is_some() {
        let n = demo_inspections(&client, &store, settings).await.context("assigning the demo inspections")?;
        println!("Demo inspections assigned to inspector1 and inspector2: {n} (open them at /inspections)");
    }
    let audit_key = audit_key_for_writing(&store, settings).await?;
    spawn_anchoring(&store, &audit_key, settings);
    let runtime = Runtime::from_current_tokio(Default::default()).map_err(|e| anyhow!("Temporal runtime: {e}"))?;
    let worker = build_worker(&runtime, client.clone(), store.clone(), settings, audit_key)?;
    let ui = dev.and_then(|d| d.ui_url.clone());
    let link = qingling_web::engine::Temporal::connected(client);
    let prober = keep_temporal_linked(link.clone(), dev.map(|d| d.address.clone()).or(settings.temporal_address.clone()));
    let web = serve_web(settings, web_state(settings, store, link, ui.clone()), shutdown_signal()).await?;
    println!("Console: {}", settings.public_url);
    if let Some(ui) = &ui {
        println!("Temporal UI: {ui}");
    }
    println!("Ready. Press Ctrl-C to stop.");
    let worker_result = run_worker_until_signal(worker).await;
    web.await.map_err(|e| anyhow!("web task: {e}"))??;
    prober.abort();
    println!("Stopped.");
    worker_result
}

/// Assigns one inspection per demo checklist (service safety, fire safety) of the first demo
/// facility to the two demo inspectors, so a fresh installation has something to fill in.
async fn demo_inspections(client: &Client, store: &Store, settings: &Settings) -> Result<usize> {
    use qingling_rules::matter::{Actor, Role};
    use qingling_workflows::InspectionInput;
    let actor = |u: &qingling_activities::db::entities::user::Model, role: Role| Actor { user_id: u.id, name: u.display_name.clone(), role, facility_id: None };
    let supervisor = store.user_by_username("supervisor").await?.context("the demo supervisor")?;
    let mut inspectors = vec![];
    for name in ["inspector1", "inspector2"] {
        inspectors.push(actor(&store.user_by_username(name).await?.context("a demo inspector")?, Role::Inspector));
    }
    let facility = store.facilities_for(&supervisor).await?.into_iter().find(|f| f.name == "朝阳区第一社会福利院").context("the demo facility")?;
    let policy = store.policy_in_force(&settings.policy).await?;
    let today = policy.calendar.local_date(now_ms());
    let mut n = 0;
    for id in ["gb38600-service-safety", "fire-major-hazard"] {
        let Some(template) = settings.checklists.latest(id) else { continue };
        let inspection_id = uuid::Uuid::new_v4().to_string();
        let input = InspectionInput {
            id: inspection_id.clone(),
            facility_id: facility.id,
            date: today.to_string(),
            template: template.clone(),
            inspectors: inspectors.clone(),
            assigned_by: actor(&supervisor, Role::Supervisor),
            policy: policy.clone(),
            facility: store.facility_facts(facility.id).await?,
        };
        qingling_web::engine::start_inspection(client, input).await.map_err(|e| anyhow!("starting a demo inspection: {e}"))?;
        n += 1;
    }
    Ok(n)
}

/// `qingling worker`: only the worker, against the configured Temporal.
pub async fn worker(settings: Settings) -> Result<()> {
    let store = open_store(&settings).await?;
    warn_about_calendar(&store, &settings).await;
    let client = connect_temporal(settings.temporal_address.as_deref()).await?;
    crate::search_attributes::check(&client).await?;
    roll_out_policy_years(&store, &client, &settings).await?;
    let audit_key = audit_key_for_writing(&store, &settings).await?;
    spawn_anchoring(&store, &audit_key, &settings);
    let runtime = Runtime::from_current_tokio(Default::default()).map_err(|e| anyhow!("Temporal runtime: {e}"))?;
    let worker = build_worker(&runtime, client, store, &settings, audit_key)?;
    println!("Worker polling task queue {TASK_QUEUE}");
    run_worker_until_signal(worker).await
}

/// `qingling web`: only the console. It starts without Temporal: what is stored is served from
/// the database, actions are refused with `engine.unavailable`, pages show a banner, and the
/// line reconnects by itself.
pub async fn web(settings: Settings) -> Result<()> {
    let store = open_store(&settings).await?;
    warn_about_calendar(&store, &settings).await;
    let link = match connect_once(settings.temporal_address.as_deref()).await {
        Ok(client) => qingling_web::engine::Temporal::connected(client),
        Err(ConnectError::Config(e)) => return Err(e),
        Err(ConnectError::Unreachable(e)) => {
            tracing::warn!(error = %e, "starting without Temporal");
            println!("Temporal: not reachable ({e}); serving from the database and reconnecting in the background");
            qingling_web::engine::Temporal::pending()
        }
    };
    let prober = keep_temporal_linked(link.clone(), settings.temporal_address.clone());
    let web = serve_web(&settings, web_state(&settings, store, link, None), shutdown_signal()).await?;
    println!("Console: {}", settings.public_url);
    let served = web.await.map_err(|e| anyhow!("web task: {e}"))?;
    prober.abort();
    served
}

/// `qingling migrate`.
pub async fn migrate(settings: Settings) -> Result<()> {
    open_store(&settings).await?;
    println!("Database {} is up to date.", redact(&settings.database_url));
    Ok(())
}

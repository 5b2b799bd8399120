//! `qingling`: the one binary. `qingling help` lists the commands.

use anyhow::{Context, Result, bail};
use qingling_app::{app, settings::Settings};
use qingling_rules::{Policy, PolicyDuration};

const USAGE: &str = "\
qingling — 清零: supervision and rectification tracking for elderly-care homes

USAGE:
  qingling up                          run everything: Temporal dev server (unless TEMPORAL_ADDRESS
                                       is set), database, worker and web console, with demo data
  qingling worker                      run only the Temporal worker
  qingling web                         run only the web console
  qingling migrate                     bring the database schema up to date
  qingling calendar is-workday DATE    print true or false (e.g. 2026-10-10); a year without a
                                       published schedule is provisional (a note on stderr)
  qingling calendar add DATE PERIOD    print the ISO date a period ends (e.g. 2026-09-30 3wd)
  qingling policy check [FILE]         validate a policy file (default: QINGLING_POLICY or built-in)
  qingling checklists check [PATH]     validate checklist templates, a file or a directory
                                       (default: checklists/templates)
  qingling doctor [--repair]           open matters whose workflow no longer runs; --repair restarts them from the stored state
  qingling audit verify                check every matter's keyed event chain against the anchored heads
  qingling audit anchor                append the chain heads to the anchor file now; prints its MAC to publish
  qingling bench engine [--matters N] [--concurrency C]
                                       drive N matters to closure and a minimal baseline workflow
  qingling bench checklist [--items N] [--runs R] [--pdf-runs P]
                                       load, evaluate and render a notice for an N-item checklist
  qingling bench calendar [--years N] [--runs R]
                                       statutory days of N provisional years, cold; period
                                       arithmetic over published and provisional years
  qingling help                        this text

Configuration is read from the environment; see README.md (QINGLING_DATA_DIR, DATABASE_URL,
QINGLING_POLICY, TEMPORAL_ADDRESS, QINGLING_WEB_ADDR, QINGLING_SMTP_URL, ...).";

fn init_tracing(quiet: bool) {
    let default = if quiet { "warn" } else { "warn,qingling=info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("QINGLING_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn policy_for_cli() -> Result<Policy> {
    match std::env::var("QINGLING_POLICY").ok().filter(|p| !p.is_empty()) {
        None => Ok(Policy::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
            Policy::parse(&text).with_context(|| format!("policy file {path} is invalid"))
        }
    }
}

fn date(arg: Option<&String>) -> Result<chrono::NaiveDate> {
    let s = arg.context("a date is missing (write it as 2026-10-10)")?;
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("{s:?} is not a date like 2026-10-10"))
}

/// The policy with the schedules an administrator loaded in the console, when the configured
/// database exists (a missing SQLite file means nothing was loaded; it is not created here).
async fn policy_in_force_for_cli() -> Result<Policy> {
    let policy = policy_for_cli()?;
    let settings = Settings::from_env()?;
    let url = &settings.database_url;
    let sqlite_missing = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or_default())
        .is_some_and(|p| !std::path::Path::new(p).exists());
    if sqlite_missing {
        return Ok(policy);
    }
    let store = app::open_store(&settings).await?;
    Ok(store.policy_in_force(&policy).await?)
}

async fn calendar(args: &[String]) -> Result<()> {
    let policy = policy_in_force_for_cli().await?;
    let cal = &policy.calendar;
    // A provisional answer is still an answer (stdout), with the reason on stderr.
    let note_provisional = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        for year in cal.provisional_years(from, to) {
            eprintln!(
                "note: {year} is provisional: its holiday schedule is not published (or not loaded), so only the statutory holidays and weekends count; make-up working days are unknown"
            );
        }
    };
    match args.first().map(String::as_str) {
        Some("is-workday") => {
            let d = date(args.get(1))?;
            note_provisional(d, d);
            println!("{}", cal.is_workday(d));
        }
        Some("add") => {
            let d = date(args.get(1))?;
            let period = args.get(2).context("a period is missing (e.g. 3wd, 7d, 1mo)")?;
            let period = PolicyDuration::parse(period)?;
            if period.clock_millis().is_some() {
                bail!("{period} is clock time; the calendar counts days (d), working days (wd) or months (mo)");
            }
            let end = cal.add(d, period);
            note_provisional(d, end);
            println!("{end}");
        }
        _ => bail!("usage: qingling calendar is-workday DATE | qingling calendar add DATE PERIOD"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Benchmarks print figures on stdout; per-event log lines would drown them.
    init_tracing(args.first().map(String::as_str) == Some("bench"));
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `qingling checklists check PATH`: every problem as `file:line: item-id: message`, or a summary.
fn checklists_check(path: &str) -> Result<()> {
    match qingling_checklists::load_path(path) {
        Ok(catalog) => {
            let keys: Vec<String> = catalog.iter().map(|t| t.key()).collect();
            println!("ok: {} templates ({}), {} items", catalog.len(), keys.join(" "), catalog.item_count());
            Ok(())
        }
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            bail!("{path}: {} problem(s)", problems.len())
        }
    }
}

/// A benchmark's `--flag N` pairs, each number checked to be one.
fn numeric_flags(args: &[String]) -> Result<Vec<(&str, usize)>> {
    let mut out = vec![];
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().with_context(|| format!("{flag} needs a number"))?;
        let n: usize = value.parse().with_context(|| format!("{flag} {value:?} is not a number"))?;
        out.push((flag.as_str(), n));
    }
    Ok(out)
}

async fn run(args: &[String]) -> Result<()> {
    let wants_help = args.iter().skip(1).any(|a| a == "--help" || a == "-h");
    let cmd = if wants_help { "help" } else { args.first().map(String::as_str).unwrap_or("help") };
    match cmd {
        "up" => app::up(Settings::from_env()?).await,
        "worker" => app::worker(Settings::from_env()?).await,
        "web" => app::web(Settings::from_env()?).await,
        "migrate" => app::migrate(Settings::from_env()?).await,
        "doctor" => match args.get(1).map(String::as_str) {
            None => qingling_app::doctor::run(Settings::from_env()?, false).await,
            Some("--repair") => qingling_app::doctor::run(Settings::from_env()?, true).await,
            Some(other) => bail!("unknown option {other:?} (use qingling doctor [--repair])"),
        },
        "calendar" => calendar(&args[1..]).await,
        "policy" if args.get(1).map(String::as_str) == Some("check") => {
            let policy = match args.get(2) {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
                    Policy::parse(&text).with_context(|| format!("{path} is invalid"))?
                }
                None => policy_for_cli()?,
            };
            println!("policy {:?} (version {}) is valid", policy.name, policy.version);
            Ok(())
        }
        "checklists" if args.get(1).map(String::as_str) == Some("check") => checklists_check(args.get(2).map(String::as_str).unwrap_or("checklists/templates")),
        "audit" if args.get(1).map(String::as_str) == Some("verify") => {
            let settings = Settings::from_env()?;
            let key = app::audit_key_for_reading(&settings)?;
            let store = app::open_store(&settings).await?;
            let report = qingling_activities::audit::verify(&store.db, &key, Some(&settings.audit_anchors)).await?;
            let anchors = match report.latest_anchor_ms {
                Some(ms) => format!("{} anchors, the latest at {}", report.anchors, beijing_time(ms)),
                None => format!("no anchors yet in {}", settings.audit_anchors.display()),
            };
            if report.broken.is_empty() {
                println!("ok: {} matters, {} events, every hash chain intact; {anchors}", report.matters, report.events);
                return Ok(());
            }
            for b in &report.broken {
                eprintln!("broken chain: {b}");
            }
            if report.broken_count > report.broken.len() {
                eprintln!("… and {} more", report.broken_count - report.broken.len());
            }
            bail!("{} of {} matters fail the chain check ({} events; {anchors})", report.broken_count, report.matters, report.events)
        }
        "audit" if args.get(1).map(String::as_str) == Some("anchor") => {
            let settings = Settings::from_env()?;
            let key = app::audit_key_for_reading(&settings)?;
            let store = app::open_store(&settings).await?;
            let now = chrono::Utc::now().timestamp_millis();
            match qingling_activities::audit::anchor(&store.db, &key, &settings.audit_anchors, now).await? {
                Some(a) => println!(
                    "anchor {} of {} matter heads (events up to id {}) in {}\nmac {}",
                    a.n,
                    a.heads.len(),
                    a.upto_event_id,
                    settings.audit_anchors.display(),
                    a.mac
                ),
                None => println!("nothing changed since the last anchor in {}", settings.audit_anchors.display()),
            }
            Ok(())
        }
        "bench" if args.get(1).map(String::as_str) == Some("engine") => {
            let mut opts = qingling_app::bench::Options { matters: 200, concurrency: 20 };
            for (flag, n) in numeric_flags(&args[2..])? {
                match flag {
                    "--matters" if n > 0 => opts.matters = n,
                    "--concurrency" if n > 0 => opts.concurrency = n,
                    _ => bail!("unknown or zero option {flag} {n} (use --matters N --concurrency C)"),
                }
            }
            qingling_app::bench::engine(opts).await
        }
        "bench" if args.get(1).map(String::as_str) == Some("checklist") => {
            let mut opts = qingling_app::bench::ChecklistOptions { items: 200, runs: 200, pdf_runs: 5 };
            for (flag, n) in numeric_flags(&args[2..])? {
                match flag {
                    "--items" if n >= 20 => opts.items = n,
                    "--runs" if n > 0 => opts.runs = n,
                    "--pdf-runs" if n > 0 => opts.pdf_runs = n,
                    _ => bail!("unknown or too small option {flag} {n} (use --items N (≥ 20) --runs R --pdf-runs P)"),
                }
            }
            qingling_app::bench::checklist(opts).await
        }
        "bench" if args.get(1).map(String::as_str) == Some("calendar") => {
            let mut opts = qingling_app::bench::CalendarOptions { years: 20, runs: 2000 };
            for (flag, n) in numeric_flags(&args[2..])? {
                match flag {
                    "--years" if (1..=70).contains(&n) => opts.years = n,
                    "--runs" if n > 0 => opts.runs = n,
                    _ => bail!("unknown or out-of-range option {flag} {n} (use --years N (1–70) --runs R)"),
                }
            }
            qingling_app::bench::calendar(opts)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// A moment as Beijing wall-clock time, for messages.
fn beijing_time(ms: i64) -> String {
    use chrono::TimeZone;
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    tz.timestamp_millis_opt(ms).single().map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S (UTC+8)").to_string())
}

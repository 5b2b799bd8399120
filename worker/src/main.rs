//! `qingling`: the one binary. The command line is declared here with clap's derive ([`Cli`]);
//! `qingling --help` lists the commands and `qingling COMMAND --help` explains one. What the
//! exit status means is in `exit.rs`.

mod bench;
mod draw_cli;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{CommandFactory, Parser, Subcommand};
use qingling_app::exit::{self, ProblemsFound};
use qingling_app::{app, settings::Settings};
use qingling_rules::{Policy, PolicyDuration};
use std::path::{Path, PathBuf};

/// The end of `qingling --help`: where the configuration comes from and what the exit status means.
const FOOTER: &str = "\
Configuration is read from the environment; see README.md (QINGLING_DATA_DIR, DATABASE_URL,
QINGLING_POLICY, TEMPORAL_ADDRESS, QINGLING_WEB_ADDR, QINGLING_SMTP_URL, ...).

Exit status:
  0  success
  1  the command ran and failed (the database or Temporal unreachable, a file unreadable, ...)
  2  usage error: an unknown command or option, a missing or malformed argument
  3  a check found problems: audit verify (a broken chain), doctor (a matter whose workflow no
     longer runs), policy check (an invalid policy), checklists check (an invalid template)";

/// The footer of each check command's help.
const CHECK_FOOTER: &str = "Exit status: 0 nothing found, 3 problems found (each named), 1 the check could not run, 2 usage error.";

const COMPLETIONS_ABOUT: &str = "\
Prints a completion script for the shell on stdout, e.g.
  qingling completions bash > ~/.local/share/bash-completion/completions/qingling
  qingling completions zsh > ~/.zfunc/_qingling     (with ~/.zfunc on fpath)
  qingling completions fish > ~/.config/fish/completions/qingling.fish";

/// 清零 Qingling: supervision and rectification tracking for elderly-care homes.
#[derive(Debug, Parser)]
#[command(name = "qingling", version, after_help = FOOTER, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything: Temporal dev server, database, worker and web console, with demo data.
    ///
    /// Runs everything in one process: the Temporal dev server (unless TEMPORAL_ADDRESS is set),
    /// the database (migrated, with demo data), the worker and the web console. Stop with Ctrl-C;
    /// the next start carries every matter on where it was.
    Up,
    /// Run only the Temporal worker.
    ///
    /// Runs only the Temporal worker, against TEMPORAL_ADDRESS (or the dev server on
    /// 127.0.0.1:7233) and DATABASE_URL. Run as many as needed.
    Worker,
    /// Run only the web console.
    ///
    /// Runs only the web console on QINGLING_WEB_ADDR. It starts and serves what is stored while
    /// Temporal is unreachable, and reconnects by itself.
    Web,
    /// Bring the database schema up to date.
    Migrate,
    /// Ask the working-day calendar in force.
    ///
    /// Answers from the State Council's working-day calendar in force (the policy's, with the
    /// schedules loaded in the console). A year without a published schedule is provisional:
    /// the answer stands on stdout, with a note on stderr.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Validate a policy file.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Validate checklist templates.
    Checklists {
        #[command(subcommand)]
        command: ChecklistsCommand,
    },
    /// Open matters whose workflow no longer runs; --repair restarts them from the stored state.
    ///
    /// Lists every open matter whose workflow no longer runs (terminated, failed, or lost with
    /// Temporal's history). With --repair, restarts each from the stored state (its snapshot,
    /// event numbering and notice number) under the same workflow id.
    #[command(after_help = CHECK_FOOTER)]
    Doctor {
        /// Restart each such matter's workflow from the stored state
        #[arg(long)]
        repair: bool,
    },
    /// Check or anchor the tamper-evident event log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check a directory table (CSV or .xlsx) before importing it.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// The verifiable draw (DRAW.md): select, commit, run, verify.
    Draw {
        #[command(subcommand)]
        command: DrawCommand,
    },
    /// Star ratings (GB/T 37276): the level a sheet's scores earn, explained.
    Rating {
        #[command(subcommand)]
        command: RatingCommand,
    },
    /// Run the benchmarks of BENCHMARKS.md.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    #[command(about = "Print a shell completion script", long_about = COMPLETIONS_ABOUT)]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Print true or false: is DATE a working day?
    ///
    /// Prints true or false (e.g. 2026-10-10 is a make-up working Saturday: true). A year
    /// without a published schedule is provisional (a note on stderr).
    IsWorkday {
        /// The day, e.g. 2026-10-10
        #[arg(value_name = "DATE", value_parser = parse_date)]
        date: NaiveDate,
    },
    /// Print the ISO date a period starting on DATE ends.
    ///
    /// Prints the ISO date a period ends, counted as the procedure laws say: the start day is
    /// not counted; a period ending on a non-working day ends on the next working day
    /// (e.g. 2026-09-30 3wd is 2026-10-10).
    Add {
        /// The start day, e.g. 2026-09-30
        #[arg(value_name = "DATE", value_parser = parse_date)]
        date: NaiveDate,
        /// Calendar days (7d), working days (3wd) or calendar months (1mo)
        #[arg(value_name = "PERIOD", value_parser = parse_period)]
        period: PolicyDuration,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file; errors name the key and say why.
    ///
    /// Validates a policy file: FILE, or else the file QINGLING_POLICY names, or else the
    /// built-in policy. Every error names the key and says why.
    #[command(after_help = CHECK_FOOTER)]
    Check {
        /// The policy file [default: QINGLING_POLICY, else the built-in policy]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ChecklistsCommand {
    /// Validate checklist templates, a file or a directory.
    ///
    /// Validates checklist templates, a file or a directory of *.toml files, and prints every
    /// problem as file:line: item: message.
    #[command(after_help = CHECK_FOOTER)]
    Check {
        /// A template file or a directory of templates
        #[arg(value_name = "PATH", default_value = "checklists/templates")]
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every matter's keyed event chain against the anchored heads.
    ///
    /// Recomputes every matter's keyed event chain and checks the anchored heads; names each
    /// broken matter and event (edited, inserted, deleted, truncated, or a matter gone).
    #[command(after_help = CHECK_FOOTER)]
    Verify,
    /// Append the chain heads to the anchor file now; prints its MAC to publish.
    ///
    /// Appends the chain heads to the anchor file now (a worker does it every
    /// QINGLING_AUDIT_ANCHOR_SECS) and prints the anchor's MAC, to publish or keep elsewhere.
    Anchor,
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Check a targets or inspectors table; every problem as row:column: message.
    ///
    /// Reads a CSV file (UTF-8 or GB18030) or the first sheet of an .xlsx workbook and checks it
    /// as an import would, writing nothing: every problem as `row:column: message` (the header
    /// is row 1), or `ok: N rows`.
    #[command(after_help = CHECK_FOOTER)]
    Check {
        /// targets (检查对象名录库) or inspectors (执法检查人员名录库)
        #[arg(long, value_parser = ["targets", "inspectors"])]
        kind: String,
        /// The language of the messages
        #[arg(long, default_value = "en", value_parser = ["en", "zh-CN"])]
        lang: String,
        /// The table: a .csv or .xlsx file
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RatingCommand {
    /// Print every level's conditions, held or not, and as the last line the level (0: none).
    ///
    /// The awarded level is the highest whose total floor and every section's minimum share hold
    /// (floors inclusive), capped at the level applied for. Thresholds and section maxima come
    /// from the policy (QINGLING_POLICY, else the built-in one). Scores may have one decimal.
    ///   qingling rating level --environment 108 --facilities 117 --operations 135 --service 540
    Level {
        /// Points of the environment section (环境)
        #[arg(long, value_name = "E")]
        environment: String,
        /// Points of the facilities and equipment section (设施设备)
        #[arg(long, value_name = "F")]
        facilities: String,
        /// Points of the operations management section (运营管理)
        #[arg(long, value_name = "O")]
        operations: String,
        /// Points of the service section (服务)
        #[arg(long, value_name = "S")]
        service: String,
        /// The level applied for (1 to 5)
        #[arg(long, value_name = "L")]
        applied: Option<u8>,
    },
}

#[derive(Debug, Subcommand)]
enum DrawCommand {
    /// Print the positions RFC 3797 selects, one a line, in selection order.
    ///
    /// Prints the 1-based positions RFC 3797 selects from POOL entries under the key string of
    /// the sources, one a line, in selection order. RFC 3797's own example:
    ///   qingling draw select --sources "9319/2 5 12 8 10/9 18 26 34 41 45" --pool 25 --count 10
    Select {
        /// The sources' values: sources separated by /, each whole numbers separated by spaces
        #[arg(long, value_name = "S1/S2/…", value_parser = parse_draw_sources)]
        sources: DrawSources,
        /// Entries to choose from (1 to 65536)
        #[arg(long, value_name = "N", value_parser = pool_size)]
        pool: usize,
        /// Entries to choose (at most the pool)
        #[arg(long, value_name = "K")]
        count: usize,
    },
    /// Print the commitment to publish before the draw (JSON).
    ///
    /// Prints the commitment a campaign publishes before the randomness exists: the SHA-256 of
    /// both directory snapshots, the plan and the named random sources (DRAW.md §1).
    Commit {
        /// The plan (JSON: items, districts, ratio_permille, team_size, …)
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// The targets directory snapshot (JSON list)
        #[arg(long, value_name = "FILE")]
        targets: PathBuf,
        /// The inspectors directory snapshot (JSON: inspectors and conflicts)
        #[arg(long, value_name = "FILE")]
        inspectors: PathBuf,
        /// A public random source, named in advance (text:NAME for one that is not numbers); repeat in order
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
    },
    /// Run a committed draw with the sources' values; print the bundle (JSON).
    ///
    /// Runs the draw a commitment announced, with the sources' values as read out, and prints
    /// the bundle anyone can verify. The directories must be the committed ones.
    Run {
        /// The published commitment (JSON)
        #[arg(long, value_name = "FILE")]
        commitment: PathBuf,
        #[arg(long, value_name = "FILE")]
        targets: PathBuf,
        #[arg(long, value_name = "FILE")]
        inspectors: PathBuf,
        /// The sources' values in the commitment's order, separated by /
        #[arg(long, value_name = "V1/V2/…")]
        values: String,
        /// Who witnessed the values being read (repeat)
        #[arg(long = "witness", value_name = "NAME")]
        witnesses: Vec<String>,
    },
    /// Re-run a published draw: print verified, or the first difference.
    ///
    /// Checks a bundle: the directories hash to the commitment, and the draw run again from the
    /// sources' values gives the recorded result. Prints `verified`, or the first difference.
    #[command(after_help = CHECK_FOOTER)]
    Verify {
        /// The bundle (JSON)
        #[arg(value_name = "BUNDLE")]
        bundle: PathBuf,
    },
}

/// The parsed `--sources` of `draw select`.
#[derive(Debug, Clone)]
struct DrawSources(Vec<qingling_rules::draw::SourceValues>);

fn parse_draw_sources(s: &str) -> Result<DrawSources, String> {
    qingling_rules::draw::parse_sources(s).map(DrawSources).map_err(|e| e.message(qingling_rules::messages::Locale::En))
}

fn pool_size(s: &str) -> Result<usize, String> {
    count_in(s, 1..=qingling_rules::draw::MAX_POOL, "a number from 1 to 65536")
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Drive N matters to closure and a minimal baseline workflow.
    Engine {
        /// Matters to drive to closure
        #[arg(long, value_name = "N", default_value_t = 200, value_parser = at_least_one)]
        matters: usize,
        /// Matters in flight at once
        #[arg(long, value_name = "C", default_value_t = 20, value_parser = at_least_one)]
        concurrency: usize,
    },
    /// Load, evaluate and render a notice for an N-item checklist.
    Checklist {
        /// Items of the generated checklist (at least 20)
        #[arg(long, value_name = "N", default_value_t = 200, value_parser = at_least_twenty)]
        items: usize,
        /// Runs of load, evaluate and render
        #[arg(long, value_name = "R", default_value_t = 200, value_parser = at_least_one)]
        runs: usize,
        /// Runs of printing the notice to PDF
        #[arg(long, value_name = "P", default_value_t = 5, value_parser = at_least_one)]
        pdf_runs: usize,
    },
    /// A campaign's draw over F facilities and I inspectors, beside a bare shuffle of the same homes.
    Draw {
        /// Facilities in the directory
        #[arg(long, value_name = "F", default_value_t = 100_000, value_parser = at_least_one)]
        facilities: usize,
        /// Inspectors in the directory
        #[arg(long, value_name = "I", default_value_t = 10_000, value_parser = at_least_one)]
        inspectors: usize,
        /// Runs of each
        #[arg(long, value_name = "R", default_value_t = 5, value_parser = at_least_one)]
        runs: usize,
    },
    /// Statutory days of N provisional years, cold; period arithmetic over published and provisional years.
    Calendar {
        /// Provisional years to work out (1 to 70)
        #[arg(long, value_name = "N", default_value_t = 20, value_parser = one_to_seventy)]
        years: usize,
        /// Runs of the period arithmetic
        #[arg(long, value_name = "R", default_value_t = 2000, value_parser = at_least_one)]
        runs: usize,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "not a date like 2026-10-10 (year-month-day)".to_string())
}

/// A period the calendar can count: days, working days or months, not clock time.
fn parse_period(s: &str) -> Result<PolicyDuration, String> {
    let period = PolicyDuration::parse(s).map_err(|e| e.to_string())?;
    if period.clock_millis().is_some() {
        return Err(format!("{period} is clock time; the calendar counts days (d), working days (wd) or months (mo)"));
    }
    Ok(period)
}

fn count_in(s: &str, range: std::ops::RangeInclusive<usize>, expected: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|_| "not a number".to_string())?;
    if range.contains(&n) { Ok(n) } else { Err(format!("{n} is too small or too large (write {expected})")) }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    count_in(s, 1..=usize::MAX, "a number of at least 1")
}

fn at_least_twenty(s: &str) -> Result<usize, String> {
    count_in(s, 20..=usize::MAX, "a number of at least 20")
}

fn one_to_seventy(s: &str) -> Result<usize, String> {
    count_in(s, 1..=70, "a number from 1 to 70")
}

fn init_tracing(quiet: bool) {
    let default = if quiet { "warn" } else { "warn,qingling=info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("QINGLING_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A usage error prints clap's message and exits with exit::USAGE here; --help exits 0.
    let cli = Cli::parse();
    // Benchmarks print figures on stdout; per-event log lines would drown them.
    init_tracing(matches!(cli.command, Command::Bench { .. }));
    match run(cli.command).await {
        Ok(()) => std::process::ExitCode::from(exit::SUCCESS),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::code_of(&e))
        }
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Up => app::up(Settings::from_env()?).await,
        Command::Worker => app::worker(Settings::from_env()?).await,
        Command::Web => app::web(Settings::from_env()?).await,
        Command::Migrate => app::migrate(Settings::from_env()?).await,
        Command::Doctor { repair } => qingling_app::doctor::run(Settings::from_env()?, repair).await,
        Command::Calendar { command } => calendar(command).await,
        Command::Policy { command: PolicyCommand::Check { file } } => policy_check(file),
        Command::Checklists { command: ChecklistsCommand::Check { path } } => checklists_check(&path),
        Command::Audit { command: AuditCommand::Verify } => audit_verify().await,
        Command::Audit { command: AuditCommand::Anchor } => audit_anchor().await,
        Command::Draw { command } => draw(command),
        Command::Rating { command: RatingCommand::Level { environment, facilities, operations, service, applied } } => {
            rating_level([&environment, &facilities, &operations, &service], applied)
        }
        Command::Directory { command: DirectoryCommand::Check { kind, lang, file } } => directory_check(&kind, &lang, &file),
        Command::Bench { command: BenchCommand::Engine { matters, concurrency } } => bench::engine(bench::Options { matters, concurrency }).await,
        Command::Bench { command: BenchCommand::Checklist { items, runs, pdf_runs } } => {
            bench::checklist(bench::ChecklistOptions { items, runs, pdf_runs }).await
        }
        Command::Bench { command: BenchCommand::Draw { facilities, inspectors, runs } } => bench::draw(bench::DrawOptions { facilities, inspectors, runs }),
        Command::Bench { command: BenchCommand::Calendar { years, runs } } => bench::calendar(bench::CalendarOptions { years, runs }),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "qingling", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// `qingling directory check --kind K FILE`.
fn directory_check(kind: &str, lang: &str, file: &Path) -> Result<()> {
    use qingling_activities::tables::{self, Format};
    use qingling_rules::directory;
    let Some(format) = Format::of_name(&file.display().to_string()) else {
        bail!("{}: name a .csv or .xlsx file", file.display());
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let table = tables::read(format, &bytes).map_err(|e| ProblemsFound(format!("{}: {e}", file.display())))?;
    let locale = qingling_rules::messages::Locale::from_code(lang).unwrap_or_default();
    let checked = match kind {
        "targets" => directory::parse_targets(&table, &directory::Districts::any()).map(|rows| rows.len()),
        _ => directory::parse_inspectors(&table, &directory::Districts::any()).map(|rows| rows.len()),
    };
    match checked {
        Ok(n) => {
            println!("ok: {n} rows");
            Ok(())
        }
        Err(refused) => {
            for p in &refused.problems {
                println!("{}", p.line(locale));
            }
            if refused.total > refused.problems.len() {
                println!("… and {} more", refused.total - refused.problems.len());
            }
            Err(ProblemsFound(format!("{}: {} problem(s); nothing was imported", file.display(), refused.total)).into())
        }
    }
}

fn draw(command: DrawCommand) -> Result<()> {
    match command {
        DrawCommand::Select { sources, pool, count } => {
            if count > pool {
                Cli::command().error(clap::error::ErrorKind::ValueValidation, format!("--count {count} is more than --pool {pool}")).exit();
            }
            draw_cli::select(&sources.0, pool, count)
        }
        DrawCommand::Commit { plan, targets, inspectors, sources } => draw_cli::commit(&plan, &targets, &inspectors, &sources),
        DrawCommand::Run { commitment, targets, inspectors, values, witnesses } => draw_cli::run(&commitment, &targets, &inspectors, &values, &witnesses),
        DrawCommand::Verify { bundle } => draw_cli::verify(&bundle),
    }
}

/// `qingling rating level`: the explanation, then the level alone on the last line. Scores that
/// are not scores are a usage error (exit 2) naming the section.
fn rating_level(scores: [&str; 4], applied: Option<u8>) -> Result<()> {
    use qingling_rules::messages::Locale;
    use qingling_rules::rating::{Scores, level};
    let policy = policy_for_cli()?;
    fn refused(e: qingling_rules::Refusal) -> ! {
        Cli::command().error(clap::error::ErrorKind::ValueValidation, e.message(Locale::En)).exit()
    }
    let scores = Scores::parse(scores, &policy.rating).unwrap_or_else(|e| refused(e));
    let explained = level(&scores, applied, &policy.rating).unwrap_or_else(|e| refused(e));
    for line in explained.lines() {
        println!("{line}");
    }
    Ok(())
}

/// The policy file QINGLING_POLICY names, if it names one.
fn policy_file_from_env() -> Option<PathBuf> {
    std::env::var_os("QINGLING_POLICY").filter(|p| !p.is_empty()).map(PathBuf::from)
}

/// Reads and parses a policy file. An unreadable file is a failure; a file that reads but does
/// not parse is a problem found in it.
fn read_policy(path: &Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Policy::parse(&text).with_context(|| ProblemsFound(format!("{} is invalid", path.display())))
}

/// The policy the configuration names (QINGLING_POLICY, else the built-in one).
fn policy_for_cli() -> Result<Policy> {
    match policy_file_from_env() {
        None => Ok(Policy::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Policy::parse(&text).with_context(|| format!("policy file {} is invalid", path.display()))
        }
    }
}

/// `qingling policy check [FILE]`.
fn policy_check(file: Option<PathBuf>) -> Result<()> {
    let policy = match file.or_else(policy_file_from_env) {
        Some(path) => read_policy(&path)?,
        None => Policy::builtin(),
    };
    println!("policy {:?} (version {}) is valid", policy.name, policy.version);
    Ok(())
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

/// `qingling calendar is-workday DATE` and `qingling calendar add DATE PERIOD`.
async fn calendar(command: CalendarCommand) -> Result<()> {
    let policy = policy_in_force_for_cli().await?;
    let cal = &policy.calendar;
    // A provisional answer is still an answer (stdout), with the reason on stderr.
    let note_provisional = |from: NaiveDate, to: NaiveDate| {
        for year in cal.provisional_years(from, to) {
            eprintln!(
                "note: {year} is provisional: its holiday schedule is not published (or not loaded), so only the statutory holidays and weekends count; make-up working days are unknown"
            );
        }
    };
    match command {
        CalendarCommand::IsWorkday { date } => {
            note_provisional(date, date);
            println!("{}", cal.is_workday(date));
        }
        CalendarCommand::Add { date, period } => {
            let end = cal.add(date, period);
            note_provisional(date, end);
            println!("{end}");
        }
    }
    Ok(())
}

/// `qingling checklists check PATH`: every problem as `file:line: item-id: message`, or a summary.
fn checklists_check(path: &Path) -> Result<()> {
    // A path that is not there is a mistyped command, not a template with problems.
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
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
            Err(ProblemsFound(format!("{}: {} problem(s)", path.display(), problems.len())).into())
        }
    }
}

/// `qingling audit verify`.
async fn audit_verify() -> Result<()> {
    let settings = Settings::from_env()?;
    let key = app::audit_key_for_reading(&settings)?;
    let store = app::open_store(&settings).await?;
    let report = qingling_activities::audit::verify(&store.db, &key, Some(&settings.audit_anchors)).await?;
    let anchors = match report.latest_anchor_ms {
        Some(ms) => format!("{} anchors, the latest at {}", report.anchors, beijing_time(ms)),
        None => format!("no anchors yet in {}", settings.audit_anchors.display()),
    };
    if report.broken.is_empty() {
        println!(
            "ok: {} matters, {} events, {} campaigns, {} campaign events, every hash chain intact; {anchors}",
            report.matters, report.events, report.campaigns, report.campaign_events
        );
        return Ok(());
    }
    for b in &report.broken {
        eprintln!("broken chain: {b}");
    }
    if report.broken_count > report.broken.len() {
        eprintln!("… and {} more", report.broken_count - report.broken.len());
    }
    Err(ProblemsFound(format!(
        "{} chains of {} matters and {} campaigns fail the check ({} events, {} campaign events; {anchors})",
        report.broken_count, report.matters, report.campaigns, report.events, report.campaign_events
    ))
    .into())
}

/// `qingling audit anchor`.
async fn audit_anchor() -> Result<()> {
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

/// A moment as Beijing wall-clock time, for messages.
fn beijing_time(ms: i64) -> String {
    use chrono::TimeZone;
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    tz.timestamp_millis_opt(ms).single().map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S (UTC+8)").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap checks the declaration itself (duplicate names, bad defaults) only when asked.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}

//! `qingling bench engine`: drives N matters to closure through the real engine (in-memory dev
//! server, SQLite, the real worker) and, in the same run, the same number of updates and
//! activities through a minimal Temporal workflow, and prints throughput and latency for both.
//!
//! Latency is measured from the moment an action is sent to the moment its event is visible in
//! the database (for the baseline: its row), by polling every 2 ms.

use anyhow::{Context, Result, anyhow};
use qingling_activities::store::Store;
use qingling_app::app::{build_worker, connect_temporal, open_store};
use qingling_app::devserver::{DevServer, DevServerOptions};
use qingling_app::settings::Settings;
use qingling_rules::matter::{Action, Actor, EvidenceRef, MatterKind, NewMatter, Role, Severity};
use qingling_workflows::rectification::ActionRequest;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use std::sync::Arc;
use std::time::{Duration, Instant};
use temporalio_client::{Client, WorkflowExecuteUpdateOptions, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{LocalActivityOptions, Runtime, SyncWorkflowContext, Worker, WorkflowContext, WorkflowContextView, WorkflowResult};

/// Steps per matter after the issue: acknowledge, feedback, evidence, re-check (which writes two
/// events: recheck_passed and closed).
const ACTIONS: usize = 4;
const BASELINE_QUEUE: &str = "qingling-bench-baseline";

pub struct Options {
    pub matters: usize,
    pub concurrency: usize,
}

#[derive(Default)]
struct Figures {
    latencies_ms: Vec<f64>,
    elapsed: Duration,
    units: usize,
}

impl Figures {
    fn pct(&self, p: f64) -> f64 {
        let mut v = self.latencies_ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            return f64::NAN;
        }
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    }
    fn rate(&self) -> f64 {
        self.units as f64 / self.elapsed.as_secs_f64()
    }
}

async fn wait_seq(store: &Store, matter_id: &str, seq: i64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(m) = store.matter(matter_id).await?
            && m.last_seq >= seq
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(anyhow!("matter {matter_id} never reached event {seq}"));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn one_matter(client: Client, store: Store, policy: Arc<qingling_rules::Policy>, facility_id: i64, n: usize) -> Result<Vec<f64>> {
    let supervisor = Actor { user_id: 1, name: "bench".into(), role: Role::Supervisor, facility_id: None };
    let facility = Actor { user_id: 2, name: "bench-facility".into(), role: Role::Facility, facility_id: Some(facility_id) };
    let inspector = Actor { user_id: 3, name: "bench-inspector".into(), role: Role::Inspector, facility_id: None };
    let id = format!("bench-{n}-{}", uuid::Uuid::new_v4());
    let new = NewMatter {
        id: id.clone(),
        facility_id,
        kind: MatterKind::Rectification,
        severity: Severity::Ordinary,
        title: format!("bench matter {n}"),
        description: String::new(),
        basis: String::new(),
        issued_by: supervisor,
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let mut lat = vec![];
    let t0 = Instant::now();
    let facts = store.facility_facts(facility_id).await?;
    qingling_web::engine::issue(&client, new, &policy, facts).await.map_err(|e| anyhow!("issue: {e:?}"))?;
    wait_seq(&store, &id, 1).await?;
    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    let evidence = vec![EvidenceRef { sha256: "0".repeat(64), name: "bench.png".into(), content_type: "image/png".into(), bytes: 1 }];
    let steps: [(Actor, Action, i64); ACTIONS] = [
        (facility.clone(), Action::Acknowledge { handler: "bench".into() }, 2),
        (facility.clone(), Action::Feedback { text: "bench".into(), plan: vec![] }, 3),
        (facility.clone(), Action::SubmitEvidence { note: "bench".into(), evidence }, 4),
        (inspector, Action::Recheck { passed: true, note: String::new() }, 6),
    ];
    for (actor, action, seq) in steps {
        let t = Instant::now();
        qingling_web::engine::act(&client, &id, ActionRequest { actor, action }).await.map_err(|e| anyhow!("act: {e:?}"))?;
        wait_seq(&store, &id, seq).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(lat)
}

// ---- the baseline: the same updates, each followed by one local activity writing one row ----

#[workflow]
#[derive(Default)]
pub struct BaselineWorkflow {
    pending: Vec<u32>,
    done: u32,
    target: u32,
}

#[workflow_methods]
impl BaselineWorkflow {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, target: u32) -> WorkflowResult<u32> {
        ctx.state_mut(|s| s.target = target);
        let key = ctx.workflow_id().to_string();
        loop {
            ctx.wait_condition(|s: &Self| !s.pending.is_empty() || s.done >= s.target).await?;
            if ctx.state(|s| s.done >= s.target && s.pending.is_empty()) {
                return Ok(ctx.state(|s| s.done));
            }
            let step = ctx.state_mut(|s| s.pending.remove(0));
            let opts = LocalActivityOptions::builder().start_to_close_timeout(Duration::from_secs(30)).build();
            ctx.execute_local_activity(BaselineActivities::write, (key.clone(), step), opts).await?;
            ctx.state_mut(|s| s.done += 1);
        }
    }

    #[update]
    pub fn step(&mut self, _ctx: &mut SyncWorkflowContext<Self>, n: u32) -> u32 {
        self.pending.push(n);
        n
    }

    #[query]
    pub fn done(&self, _ctx: &WorkflowContextView) -> u32 {
        self.done
    }
}

/// The baseline writes its rows to a database of its own (`baseline.db` beside the bench's), so
/// the application's schema stays the migrator's alone.
pub struct BaselineActivities {
    db: DatabaseConnection,
}

#[activities]
impl BaselineActivities {
    #[activity]
    pub async fn write(self: Arc<Self>, _ctx: ActivityContext, key: String, step: u32) -> Result<(), ActivityError> {
        let db = &self.db;
        let sql = "INSERT INTO bench_baseline (k, step) VALUES (?, ?) ON CONFLICT DO NOTHING";
        db.execute(Statement::from_sql_and_values(db.get_database_backend(), sql, [key.into(), (step as i64).into()]))
            .await
            .map_err(|e| ActivityError::from(anyhow!("{e}")))?;
        Ok(())
    }
}

async fn baseline_rows(db: &DatabaseConnection, key: &str) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM bench_baseline WHERE k = ?";
    let row = db.query_one(Statement::from_sql_and_values(db.get_database_backend(), sql, [key.into()])).await?.context("count row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

async fn one_baseline(client: Client, db: DatabaseConnection, n: usize) -> Result<Vec<f64>> {
    let id = format!("baseline-{n}-{}", uuid::Uuid::new_v4());
    let steps = (ACTIONS + 1) as u32;
    let handle =
        client.start_workflow(BaselineWorkflow::run, steps, WorkflowStartOptions::new(BASELINE_QUEUE, &id).build()).await.map_err(|e| anyhow!("start: {e}"))?;
    let mut lat = vec![];
    for step in 0..steps {
        let t = Instant::now();
        handle.execute_update(BaselineWorkflow::step, step, WorkflowExecuteUpdateOptions::default()).await.map_err(|e| anyhow!("update: {e}"))?;
        loop {
            if baseline_rows(&db, &id).await? > step as i64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    handle.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| anyhow!("result: {e}"))?;
    Ok(lat)
}

async fn drive<F, Fut>(n: usize, concurrency: usize, units_per: usize, f: F) -> Result<Figures>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Vec<f64>>> + Send + 'static,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = vec![];
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let fut = f(i);
        tasks.push(tokio::spawn(async move {
            let r = fut.await;
            drop(permit);
            r
        }));
    }
    let mut figures = Figures::default();
    for t in tasks {
        figures.latencies_ms.extend(t.await??);
    }
    figures.elapsed = start.elapsed();
    figures.units = n * units_per;
    Ok(figures)
}

pub async fn engine(opts: Options) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("qingling-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dev = DevServer::start(DevServerOptions { headless: true, search_attributes: qingling_app::search_attributes::for_dev_server(), ..Default::default() })
        .await?;
    let mut settings = Settings::from_env()?;
    settings.data_dir = dir.clone();
    settings.database_url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    settings.smtp_url = None;
    settings.audit_key_file = dir.join("audit.key");
    let store = open_store(&settings).await?;
    qingling_activities::seed::seed_demo(&store, chrono::Utc::now().timestamp_millis()).await?;
    let baseline = Database::connect(format!("sqlite://{}/baseline.db?mode=rwc", dir.display())).await?;
    let b = baseline.get_database_backend();
    baseline
        .execute(Statement::from_string(b, "CREATE TABLE IF NOT EXISTS bench_baseline (k VARCHAR(200) NOT NULL, step BIGINT NOT NULL, PRIMARY KEY (k, step))"))
        .await?;
    let facility_id = store.facilities_for(&store.user_by_username("admin").await?.context("demo admin")?).await?.first().context("a demo facility")?.id;
    let client = connect_temporal(Some(&dev.address)).await?;
    let runtime = Runtime::from_current_tokio(Default::default()).map_err(|e| anyhow!("runtime: {e}"))?;
    let audit_key = qingling_app::app::audit_key_for_writing(&store, &settings).await?;
    let mut worker = build_worker(&runtime, client.clone(), store.clone(), &settings, audit_key)?;
    let baseline_opts = temporalio_sdk::WorkerOptions::new(BASELINE_QUEUE)
        .register_workflow::<BaselineWorkflow>()
        .map_err(|e| anyhow!("{e}"))?
        .register_activities(BaselineActivities { db: baseline.clone() })
        .build();
    let mut baseline_worker = Worker::new(&runtime, client.clone(), baseline_opts).map_err(|e| anyhow!("{e}"))?;
    let (stop_a, stop_b) = (worker.shutdown_handle(), baseline_worker.shutdown_handle());
    let policy = Arc::new(settings.policy.clone());
    let (n, c) = (opts.matters, opts.concurrency);
    println!("bench engine: {n} matters, {c} in flight, {} updates each; dev server in memory, SQLite at {}", ACTIONS + 1, dir.display());
    let driver = async {
        let ours = drive(n, c, 1, |i| one_matter(client.clone(), store.clone(), policy.clone(), facility_id, i)).await?;
        let base = drive(n, c, 1, |i| one_baseline(client.clone(), baseline.clone(), i)).await?;
        Ok::<_, anyhow::Error>((ours, base))
    };
    let result = tokio::select! {
        r = driver => r,
        r = worker.run() => Err(anyhow!("worker stopped: {r:?}")),
        r = baseline_worker.run() => Err(anyhow!("baseline worker stopped: {r:?}")),
    };
    stop_a();
    stop_b();
    dev.stop().await;
    let (ours, base) = result?;
    println!("{:<28} {:>12} {:>14} {:>10} {:>10}", "", "matters/s", "actions", "p50 ms", "p99 ms");
    for (name, f) in [("qingling Rectification", &ours), ("minimal workflow baseline", &base)] {
        println!("{name:<28} {:>12.2} {:>14} {:>10.1} {:>10.1}", f.rate(), f.latencies_ms.len(), f.pct(0.5), f.pct(0.99));
    }
    println!(
        "ratio (qingling / baseline): throughput {:.2}, p50 {:.2}, p99 {:.2}",
        ours.rate() / base.rate(),
        ours.pct(0.5) / base.pct(0.5),
        ours.pct(0.99) / base.pct(0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// ---- `qingling bench checklist`: template loading, evaluation and notice rendering ----

pub struct ChecklistOptions {
    pub items: usize,
    pub runs: usize,
    pub pdf_runs: usize,
}

/// A rating-free fire-safety template with `items` yes/no items in sections of 20, every tenth
/// of which fails as a major hazard and every fifth as an ordinary finding.
fn synthetic_template(items: usize) -> String {
    let mut t = String::from(
        "[template]\nid = \"bench-sheet\"\nversion = 1\nkind = \"fire_safety\"\ntitle = { zh = \"基准检查表\", en = \"Benchmark sheet\" }\nbasis = \"GB 38600-2019\"\n",
    );
    for i in 0..items {
        if i % 20 == 0 {
            t.push_str(&format!("\n[[section]]\nid = \"s{}\"\ntitle = {{ zh = \"第{}部分\", en = \"Part {}\" }}\n", i / 20, i / 20 + 1, i / 20 + 1));
        }
        let major = i % 10 == 9;
        t.push_str(&format!(
            "\n[[section.item]]\nid = \"s{s}.i{i}\"\ntext = {{ zh = \"第{i}项：疏散通道、安全出口保持畅通，消防设施完好有效\", en = \"Item {i}: exits clear, fire equipment working\" }}\nanswer = \"yes_no\"\n\n[section.item.failure]\nseverity = \"{sev}\"\nhazard = \"fire\"\nbasis = {{ standard = \"GB 38600-2019\", clause = \"第5章\" }}\nevidence = [\"note\"]\ndeadline = \"{dl}\"\nnotice = {{ zh = \"你单位第{i}项不符合要求，请立即整改并保持整改效果。\", en = \"Item {i} fails; correct it.\" }}\n{measures}",
            s = i / 20,
            sev = if major { "major_hazard" } else { "ordinary" },
            dl = if major { "major" } else { "ordinary" },
            measures = if major { "measures = { zh = \"立即停止使用相关区域，设置警示标志，撤离人员。\", en = \"Stop using the area at once.\" }\n" } else { "" },
        ));
    }
    t
}

fn stats(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let n = samples.len();
    let mean = samples.iter().sum::<f64>() / n as f64;
    let p = |q: f64| samples[((n as f64 - 1.0) * q).round() as usize];
    println!("{name:<34} {n:>6} {mean:>12.3} {:>12.3} {:>12.3}", p(0.5), p(0.99));
}

pub async fn checklist(opts: ChecklistOptions) -> Result<()> {
    use qingling_activities::notice_doc::{NoticeDoc, NoticeFinding, NoticeInspector, NoticeSource, render_html, render_pdf};
    use qingling_checklists::{Answer, Filled, evaluate, group_notices, load_str};
    let settings = Settings::from_env()?;
    let text = synthetic_template(opts.items);
    let name = "bench-sheet@1.toml";
    let template = load_str(name, &text).map_err(|p| anyhow!("the synthetic template is invalid: {p:?}"))?;
    let mut answers = std::collections::BTreeMap::new();
    for (i, (_, item)) in template.items().enumerate() {
        let fail = i % 5 == 4;
        answers.insert(
            item.id.clone(),
            Answer { value: Some(serde_json::json!(if fail { "no" } else { "yes" })), note: fail.then(|| "现场发现问题".to_string()), photos: vec![] },
        );
    }
    let filled = Filled { template: template.id.clone(), version: template.version, answers };
    println!(
        "bench checklist: {} items ({} sections), {} runs; PDF {} runs with {}",
        template.item_count(),
        template.sections.len(),
        opts.runs,
        opts.pdf_runs,
        settings.chromium.display()
    );
    println!("{:<34} {:>6} {:>12} {:>12} {:>12}", "step (milliseconds)", "runs", "mean", "p50", "p99");

    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let mut s = vec![];
    for _ in 0..opts.runs {
        let t = Instant::now();
        std::hint::black_box(load_str(name, &text).map_err(|_| anyhow!("load"))?);
        s.push(ms(t));
    }
    stats("load + validate template (TOML)", s);

    let mut s = vec![];
    let mut evaluation = None;
    for _ in 0..opts.runs {
        let t = Instant::now();
        evaluation = Some(std::hint::black_box(evaluate(&template, &filled).map_err(|p| anyhow!("evaluate: {p:?}"))?));
        s.push(ms(t));
    }
    stats("evaluate filled checklist", s);
    let evaluation = evaluation.context("evaluated")?;
    let groups = group_notices(&evaluation);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).context("date")?;
    let ordinary = groups.iter().find(|g| !g.major_hazard).context("an ordinary notice")?;
    let doc = NoticeDoc {
        number: "朝民养整改〔2026〕0001号".into(),
        bureau: "朝阳区民政局".into(),
        facility: "朝阳区第一社会福利院".into(),
        facility_address: Some("北京市朝阳区双桥东路1号".into()),
        issued_date: today,
        major_hazard: false,
        findings: ordinary
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| NoticeFinding {
                seq: i as u32 + 1,
                item: f.text.zh.clone(),
                wording: f.notice.zh.clone(),
                severity: "一般问题".into(),
                basis: format!("{} {}", f.basis.standard, f.basis.clause),
                deadline: today + chrono::Days::new(7),
                measures: None,
                measures_by: None,
                evidence_note: f.evidence.note.clone(),
                provisional: vec![],
            })
            .collect(),
        contact: None,
        source: NoticeSource::Inspection {
            inspection_date: today,
            template_title: format!("{}（{}）", template.title.zh, template.basis),
            inspectors: vec![
                NoticeInspector { name: "赵检查".into(), certificate: "京执110105-0101".into() },
                NoticeInspector { name: "钱检查".into(), certificate: "京执110105-0102".into() },
            ],
        },
    };
    println!(
        "  → {} findings: {} notices ({} major hazards); the ordinary notice lists {} findings",
        evaluation.findings.len(),
        groups.len(),
        groups.iter().filter(|g| g.major_hazard).count(),
        doc.findings.len()
    );

    let mut s = vec![];
    let mut html = String::new();
    for _ in 0..opts.runs {
        let t = Instant::now();
        html = std::hint::black_box(render_html(&doc)?);
        s.push(ms(t));
    }
    stats("render notice HTML (minijinja)", s);

    let mut s = vec![];
    let mut bytes = 0;
    for _ in 0..opts.pdf_runs {
        let t = Instant::now();
        bytes = render_pdf(&html, &settings.chromium).await?.len();
        s.push(ms(t));
    }
    stats("print notice PDF (headless Chromium)", s);
    println!("  → HTML {} KB, PDF {} KB", html.len() / 1024, bytes / 1024);
    Ok(())
}

pub struct CalendarOptions {
    pub years: usize,
    pub runs: usize,
}

/// The provisional calendar's cost: working out a year's statutory days (lunar conversions and
/// a solar term, once per year and calendar), and period arithmetic over provisional years once
/// they are known, against the same arithmetic over published years.
pub fn calendar(opts: CalendarOptions) -> Result<()> {
    use qingling_rules::{Policy, PolicyDuration};
    let builtin = Policy::builtin();
    let first = (2027..).find(|y| builtin.calendar.is_provisional(*y)).expect("a provisional year");
    println!("bench calendar: statutory days of {} provisional years from {first}; {} period additions each", opts.years, opts.runs);
    println!("{:<34} {:>6} {:>12} {:>12} {:>12}", "step (milliseconds)", "runs", "mean", "p50", "p99");
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    // A fresh calendar each time, so every year is worked out cold.
    let mut cold = vec![];
    for i in 0..opts.years {
        let c = Policy::builtin().calendar;
        let t = Instant::now();
        let days = c.statutory_days(first + i as i32);
        cold.push(ms(t));
        anyhow::ensure!(days.len() >= 12, "{} statutory days in {}", days.len(), first + i as i32);
    }
    stats("statutory days of a year (cold)", cold);
    let add = |c: &qingling_rules::Calendar, year: i32, label: &str| {
        let start = chrono::NaiveDate::from_ymd_opt(year, 1, 20).expect("a date");
        let mut s = vec![];
        for i in 0..opts.runs {
            let t = Instant::now();
            std::hint::black_box(c.add(start + chrono::Days::new((i % 300) as u64), PolicyDuration::WorkingDays(20)));
            s.push(ms(t));
        }
        stats(label, s);
    };
    let c = builtin.calendar.clone();
    let _ = c.is_workday(chrono::NaiveDate::from_ymd_opt(first, 1, 1).expect("a date"));
    add(&c, 2026, "20wd over a published year");
    add(&c, first, "20wd over a provisional year (warm)");
    Ok(())
}

pub struct DrawOptions {
    pub facilities: usize,
    pub inspectors: usize,
    pub runs: usize,
}

/// The draw's cost (DRAW.md) over `rules::draw::synthetic`'s campaign, beside a bare
/// Fisher–Yates shuffle of the same homes in the same run, the least a random selection can
/// cost. `cargo bench -p qingling-rules --bench draw` runs the same in a release build of the
/// rules alone.
pub fn draw(opts: DrawOptions) -> Result<()> {
    use qingling_rules::draw::{self, synthetic};
    let c = synthetic::campaign(opts.facilities, opts.inspectors);
    println!(
        "bench draw: {} facilities × {} inspectors, {} conflicts, teams of {} with a {} specialist, own-district rule, load cap {}; {} runs ({} build)",
        c.targets.len(),
        c.inspectors.len(),
        c.conflicts.len(),
        c.plan.team_size,
        c.plan.required_specialisms.join(", "),
        c.plan.load_cap,
        opts.runs,
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let (mut drawing, mut shuffling, mut last) = (vec![], vec![], None);
    for _ in 0..opts.runs {
        let t = Instant::now();
        let d = draw::draw(&c.key, &c.plan, &c.targets, &c.inspectors, &c.conflicts)
            .map_err(|e| anyhow::anyhow!(e.message(qingling_rules::messages::Locale::En)))?;
        drawing.push(ms(t));
        last = Some(d);
        let t = Instant::now();
        std::hint::black_box(synthetic::shuffle(&c.targets));
        shuffling.push(ms(t));
    }
    let d = last.expect("at least one run");
    let picks: usize = d.teams.iter().map(|t| t.picks.len()).sum();
    let skipped: usize = d.teams.iter().flat_map(|t| &t.picks).filter(|p| p.skipped.is_some()).count();
    println!("  → {} targets in {} strata, {picks} team selections ({skipped} skipped for recusal)", d.targets.len(), d.strata.len());
    println!("{:<34} {:>6} {:>12} {:>12} {:>12}", "step (milliseconds)", "runs", "mean", "p50", "p99");
    let ratio = synthetic::median(&drawing) / synthetic::median(&shuffling).max(1e-9);
    stats("draw (targets and teams)", drawing);
    stats("Fisher-Yates shuffle of the homes", shuffling);
    println!("ratio draw / shuffle (p50): {ratio:.1}×");
    Ok(())
}

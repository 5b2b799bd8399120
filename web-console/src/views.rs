//! Server-rendered pages: the minijinja environment (templates embedded in the binary), the
//! page context every template gets, and the view models built from rows. Rows never reach a
//! template; view models carry display-ready values (local times, catalogue keys).

use crate::Shared;
use crate::context::Ctx;
use crate::error::Error;
use crate::i18n::t;
use axum::response::Html;
use chrono::{FixedOffset, TimeZone, Timelike};
use minijinja::{Environment, Value, context};
use qingling_activities::db::entities::{evidence_file, matter, matter_event};
use qingling_rules::Policy;
use qingling_rules::matter::{Action, Actor, DeadlineKind, Event, EvidenceRef, Matter, Milestone, Role, Severity, Status};
use qingling_rules::messages::Locale;
use serde::Serialize;
use std::collections::HashMap;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("_cards.html", include_str!("../templates/_cards.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("board.html", include_str!("../templates/board.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("matter_new.html", include_str!("../templates/matter_new.html")),
    ("matter.html", include_str!("../templates/matter.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("inspections.html", include_str!("../templates/inspections.html")),
    ("inspection_fill.html", include_str!("../templates/inspection_fill.html")),
    ("inspection_new.html", include_str!("../templates/inspection_new.html")),
    ("calendar.html", include_str!("../templates/calendar.html")),
    ("health.html", include_str!("../templates/health.html")),
    ("account.html", include_str!("../templates/account.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("directory.html", include_str!("../templates/directory.html")),
    ("public.html", include_str!("../templates/public.html")),
    ("campaigns.html", include_str!("../templates/campaigns.html")),
    ("campaign.html", include_str!("../templates/campaign.html")),
];

/// The template environment, built once at start.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        // The templates are compiled into the binary and rendered by the tests.
        env.add_template(name, source).unwrap_or_else(|e| panic!("embedded template {name} does not parse: {e:#}"));
    }
    env.add_function("t", crate::i18n::t_function);
    env
}

/// A local time as people read it. A deadline that ends at midnight belongs to the day before
/// it ("2026-11-23 24:00"), as notices word it.
/// A campaign's draws set aside, for the console's and the public campaign page alike (what a
/// draw set aside shows is the same to everyone: number, digest, when, why).
pub fn superseded_draws(draws: &[qingling_activities::db::entities::campaign_draw::Model], offset_secs: i32) -> Vec<serde_json::Value> {
    draws
        .iter()
        .filter_map(|d| {
            let at = d.superseded_at_ms?;
            Some(serde_json::json!({
                "seq": d.seq, "bundle_sha256": d.bundle_sha256, "drawn_at": local_time(d.created_at_ms, offset_secs),
                "at": local_time(at, offset_secs), "reason": d.superseded_reason,
            }))
        })
        .collect()
}

pub fn local_time(ms: i64, offset_secs: i32) -> String {
    let Some(offset) = FixedOffset::east_opt(offset_secs) else { return String::new() };
    let Some(at) = offset.timestamp_millis_opt(ms).single() else { return String::new() };
    if at.hour() == 0 && at.minute() == 0 && at.second() == 0 {
        let day = at.date_naive().pred_opt().unwrap_or(at.date_naive());
        return format!("{} 24:00", day.format("%Y-%m-%d"));
    }
    if at.second() != 0 {
        return at.format("%Y-%m-%d %H:%M:%S").to_string();
    }
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// The escalation step a level stands for (`none` for 0).
pub fn step_id(policy: &Policy, level: i32) -> String {
    if level <= 0 {
        return "none".into();
    }
    let i = (level as usize).saturating_sub(1).min(policy.escalation.len().saturating_sub(1));
    policy.escalation.get(i).map(|s| s.id.clone()).unwrap_or_else(|| "none".into())
}

#[derive(Debug, Clone, Serialize)]
struct NavItem {
    href: &'static str,
    key: &'static str,
    active: bool,
}

fn nav(ctx: &Ctx) -> Vec<NavItem> {
    let Some(s) = &ctx.session else { return vec![] };
    let items: &[(&'static str, &'static str)] = match s.role {
        Role::Admin => &[
            ("/board", "web.nav.board"),
            ("/matters/new", "web.nav.issue"),
            ("/inspections", "web.checklist.nav"),
            ("/notices", "web.nav.matters"),
            ("/campaigns", "web.nav.campaigns"),
            ("/directory", "web.nav.directory"),
            ("/admin/calendar", "web.nav.calendar"),
            ("/admin/health", "web.nav.health"),
            ("/admin/users", "web.nav.users"),
        ],
        Role::Supervisor => &[
            ("/board", "web.nav.board"),
            ("/matters/new", "web.nav.issue"),
            ("/inspections", "web.checklist.nav"),
            ("/notices", "web.nav.matters"),
            ("/campaigns", "web.nav.campaigns"),
            ("/directory", "web.nav.directory"),
        ],
        Role::Inspector => {
            &[("/inspections", "web.checklist.nav"), ("/rechecks", "web.nav.rechecks"), ("/board", "web.nav.board"), ("/notices", "web.nav.matters")]
        }
        Role::Facility => &[("/notices", "web.nav.notices")],
    };
    let path = ctx.path.split('?').next().unwrap_or_default();
    items.iter().map(|(href, key)| NavItem { href, key, active: path == *href }).collect()
}

/// Renders a page with the context every page shares.
pub fn render(shared: &Shared, ctx: &Ctx, name: &str, page: Value) -> Result<Html<String>, Error> {
    render_with(&shared.views, ctx, name, page)
}

pub fn render_with(env: &Environment<'static>, ctx: &Ctx, name: &str, page: Value) -> Result<Html<String>, Error> {
    let other = match ctx.locale {
        Locale::ZhCn => Locale::En,
        Locale::En => Locale::ZhCn,
    };
    let user = ctx.session.as_ref().map(|s| context! { display_name => s.user.display_name, role => s.role.as_str() });
    let base = context! {
        locale => ctx.locale.code(),
        html_lang => ctx.locale.code(),
        switch_url => format!("/lang/{}?next={}", other.code(), crate::http::url_encode(&ctx.path)),
        switch_key => format!("web.lang.{}", if other == Locale::En { "en" } else { "zh" }),
        user => user,
        csrf => ctx.session.as_ref().map(|s| s.csrf.clone()),
        nav => nav(ctx),
        calendar_missing => ctx.calendar_missing,
        stuck_count => ctx.stuck_count,
        engine_down => ctx.engine_down,
        ..page
    };
    let template = env.get_template(name)?;
    Ok(Html(template.render(base)?))
}

/// The page for an error.
pub fn error_page(shared: &Shared, ctx: &Ctx, error: &Error) -> Result<Html<String>, Error> {
    let page = context! { status => error.status().as_u16(), code => error.code(), message => error.message(ctx.locale) };
    render(shared, ctx, "error.html", page)
}

/// A matter on a board or in a list.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub url: String,
    pub notice_number: Option<String>,
    pub facility: String,
    pub title: String,
    pub status: String,
    pub kind: String,
    pub severity: String,
    pub next_due: Option<String>,
    /// The next due date was counted over a year whose holiday schedule is not published (暂定).
    pub next_due_provisional: bool,
    pub overdue: bool,
    pub ended: bool,
    pub level: i32,
    pub level_step: String,
    pub handler: Option<String>,
    pub issued_at: String,
}

/// What cards need besides the row.
pub struct CardData<'a> {
    pub policy: &'a Policy,
    pub numbers: &'a HashMap<String, String>,
    pub facilities: &'a HashMap<i64, String>,
    pub now_ms: i64,
}

pub fn card(m: &matter::Model, d: &CardData) -> Card {
    let offset = d.policy.calendar.utc_offset_secs;
    let ended = Status::parse(&m.status).is_some_and(Status::is_ended);
    Card {
        id: m.id.clone(),
        url: format!("/matters/{}", m.id),
        notice_number: d.numbers.get(&m.id).cloned(),
        facility: d.facilities.get(&m.facility_id).cloned().unwrap_or_else(|| format!("#{}", m.facility_id)),
        title: m.title.clone(),
        status: m.status.clone(),
        kind: m.kind.clone(),
        severity: m.severity.clone(),
        next_due: m.next_due_ms.filter(|_| !ended).map(|ms| local_time(ms, offset)),
        next_due_provisional: !ended && m.next_due_ms.is_some_and(|due| !d.policy.calendar.provisional_years_ms(m.issued_at_ms, due).is_empty()),
        overdue: !ended && (m.overdue || m.next_due_ms.is_some_and(|due| due < d.now_ms)),
        ended,
        level: m.escalation_level,
        level_step: step_id(d.policy, m.escalation_level),
        handler: m.handler.clone(),
        issued_at: local_time(m.issued_at_ms, offset),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineRow {
    pub kind: String,
    pub due: String,
    /// Counted over a year whose holiday schedule is not published (shown 暂定).
    pub provisional: bool,
    pub met: Option<String>,
    pub open: bool,
    pub overdue: bool,
    pub steps_taken: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub at: String,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    /// Label and value, both already in the reader's language.
    pub details: Vec<(String, String)>,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub name: String,
    pub url: String,
    pub content_type: String,
    pub size: String,
    pub is_image: bool,
    pub uploaded_at: String,
}

/// Which action forms the signed-in person may use on the matter now: [`forms_for`] asks the
/// state machine, so only forms that can succeed are shown; the workflow still decides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Forms {
    pub acknowledge: bool,
    pub feedback: bool,
    pub plan_rows: usize,
    pub evidence: bool,
    pub request_extension: Vec<String>,
    pub decide_extension: bool,
    pub withdraw: bool,
    pub recheck: bool,
    /// A major hazard's immediate measures wait for the facility's confirmation.
    pub confirm_measures: bool,
}

impl Forms {
    pub fn any(&self) -> bool {
        self.acknowledge
            || self.feedback
            || self.evidence
            || !self.request_extension.is_empty()
            || self.decide_extension
            || self.withdraw
            || self.recheck
            || self.confirm_measures
    }
}

/// The forms `actor` may use on `m` at `now_ms`: one for each kind of action the state machine
/// ([`Matter::check`]) accepts now, tried with a well-formed example of it. Nothing about roles or
/// statuses is decided here. A major matter's feedback form has rows for the plan it needs.
pub fn forms_for(actor: &Actor, m: &Matter, now_ms: i64, policy: &Policy) -> Forms {
    let may = |action: Action| m.check(actor, &action, now_ms, policy).is_ok();
    let example = || "x".to_string();
    let major = m.severity == Severity::Major;
    let tomorrow = policy.calendar.local_date(now_ms).succ_opt().unwrap_or_default();
    let plan = if major { vec![Milestone { date: tomorrow, what: example() }] } else { vec![] };
    let file = EvidenceRef { sha256: "0".repeat(64), name: "x.jpg".into(), content_type: "image/jpeg".into(), bytes: 1 };
    Forms {
        acknowledge: may(Action::Acknowledge { handler: example() }),
        feedback: may(Action::Feedback { text: example(), plan }),
        plan_rows: if major { 3 } else { 0 },
        evidence: may(Action::SubmitEvidence { note: example(), evidence: vec![file] }),
        request_extension: [DeadlineKind::Feedback, DeadlineKind::Rectify, DeadlineKind::Report]
            .into_iter()
            .filter(|k| may(Action::RequestExtension { deadline: *k, extend_by: "1d".into(), reason: example() }))
            .map(|k| k.as_str().to_string())
            .collect(),
        decide_extension: may(Action::DecideExtension { approve: false, extend_by: None, reason: example() }),
        withdraw: may(Action::Withdraw { reason: example() }),
        recheck: may(Action::Recheck { passed: true, note: example() }),
        confirm_measures: may(Action::ConfirmMeasures { note: example() }),
    }
}

pub fn deadline_rows(m: &Matter, calendar: &qingling_rules::Calendar, now_ms: i64) -> Vec<DeadlineRow> {
    let offset = calendar.utc_offset_secs;
    m.deadlines
        .iter()
        .map(|d| DeadlineRow {
            kind: d.kind.as_str().to_string(),
            due: local_time(d.due_ms, offset),
            provisional: d.is_open() && !d.provisional_years(calendar).is_empty(),
            met: d.met_ms.map(|ms| local_time(ms, offset)),
            open: d.is_open(),
            overdue: d.is_overdue() || (d.is_open() && d.due_ms < now_ms),
            steps_taken: d.steps_taken,
        })
        .collect()
}

/// The lines worth showing from an event, in the reader's language: its texts first (handler,
/// feedback, note, reason, basis), then the deadline, the escalation step, the extension, the
/// date, the plan and the files. An entry this version cannot read shows no details.
pub fn event_details(e: &matter_event::Model, locale: Locale, offset: i32) -> Vec<(String, String)> {
    let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let Some(event) = Event::parse(&e.kind, &payload) else {
        return vec![];
    };
    let mut out: Vec<(String, String)> = vec![];
    let mut line = |field: &str, value: String| {
        if !value.trim().is_empty() {
            out.push((t(locale, &format!("web.field.{field}"), &[]), value));
        }
    };
    let deadline = |d: DeadlineKind| t(locale, &format!("deadline.{d}"), &[]);
    let files = |files: &[EvidenceRef]| files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("、");
    match event {
        Event::Issued { basis, .. } => line("basis", basis),
        Event::Acknowledged { handler } => line("handler", handler),
        Event::Feedback { text, plan } => {
            line("feedback", text);
            line("plan", plan.iter().map(|m| format!("{} {}", m.date, m.what)).collect::<Vec<_>>().join("；"));
        }
        Event::EvidenceUploaded { evidence } => line("evidence", files(&evidence)),
        Event::EvidenceSubmitted { note, evidence } => {
            line("note", note);
            line("evidence", files(&evidence));
        }
        Event::ExtensionRequested { deadline: d, extend_by, reason, .. } => {
            line("reason", reason);
            line("deadline", deadline(d));
            line("extend_by", extend_by.words(locale));
        }
        Event::ExtensionRefused { deadline: d, reason } => {
            line("reason", reason);
            line("deadline", deadline(d));
        }
        Event::ExtensionApproved { deadline: d, extend_by, new_due_ms, reason, .. } => {
            line("reason", reason);
            line("deadline", deadline(d));
            line("extend_by", extend_by.words(locale));
            line("due", local_time(new_due_ms, offset));
        }
        Event::RecheckPassed { note } | Event::MeasuresConfirmed { note } => line("note", note),
        Event::RecheckFailed { note, new_due_ms } => {
            line("note", note);
            if let Some(ms) = new_due_ms {
                line("due", local_time(ms, offset));
            }
        }
        Event::Withdrawn { reason } => line("reason", reason),
        Event::Escalated { deadline: d, step, due_ms, .. } => {
            line("deadline", deadline(d));
            line("level", t(locale, &format!("escalation.{step}"), &[]));
            line("due", local_time(due_ms, offset));
        }
        Event::CalendarUpdated { deadline: d, step, old_ms, new_ms, source, .. } => {
            line("deadline", deadline(d));
            if let Some(step) = step {
                line("level", t(locale, &format!("escalation.{step}"), &[]));
            }
            line("date_change", format!("{} → {}", local_time(old_ms, offset), local_time(new_ms, offset)));
            line("schedule_source", source.unwrap_or_default());
        }
        Event::Closed { .. } => {}
    }
    out
}

pub fn event_row(e: &matter_event::Model, locale: Locale, offset: i32) -> EventRow {
    EventRow {
        seq: e.seq,
        kind: e.kind.clone(),
        at: local_time(e.at_ms, offset),
        actor_name: e.actor_name.clone(),
        actor_role: e.actor_role.clone(),
        details: event_details(e, locale, offset),
        hash: e.hash.chars().take(12).collect(),
    }
}

pub fn evidence_row(e: &evidence_file::Model, offset: i32) -> EvidenceRow {
    EvidenceRow {
        name: e.original_name.clone(),
        url: format!("/api/matters/{}/evidence/{}", e.matter_id, e.sha256),
        content_type: e.content_type.clone(),
        size: crate::error::human_bytes(e.bytes.max(0) as u64),
        is_image: e.content_type.starts_with("image/"),
        uploaded_at: local_time(e.uploaded_at_ms, offset),
    }
}

#[cfg(test)]
mod tests;

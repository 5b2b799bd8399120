//! The working-day calendar in the console: the calendar in force (the policy's years with the
//! schedules loaded since), an administrator's load of a year's published schedule (paste or
//! upload, reviewed as a calendar before it is saved, then rolled out to every running matter
//! and inspection), and the API of the same.

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::Error;
use crate::http::field;
use crate::http::{parse_json, read_uploads};
use crate::views::render;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Days, NaiveDate};
use minijinja::{Value, context};
use qingling_activities::calendar::schedule_digest;
use qingling_rules::Policy;
use qingling_rules::calendar::Year;
use qingling_rules::policy::CalendarYear;
use qingling_workflows::contract::CalendarYearUpdate;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// The largest pasted or uploaded schedule: a year has at most 366 dates.
const MAX_INPUT_BYTES: usize = 64 * 1024;

fn admin(ctx: &Ctx) -> Result<Arc<Signed>, Error> {
    let who = ctx.signed()?;
    who.require_admin()?;
    Ok(who)
}

/// A year's schedule as a person sends it.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleInput {
    pub year: i32,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub workdays: Vec<String>,
    /// Only check and show; store nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn schedule_error(why: impl Into<String>) -> Error {
    Error::Schedule(why.into())
}

/// Reads and checks a schedule against the calendar in force: every date valid and in the year,
/// none twice, make-up days on weekends, every statutory day off. Errors name the date.
pub fn parse_schedule(policy: &Policy, input: &ScheduleInput) -> Result<Year, Error> {
    if !(2000..=2100).contains(&input.year) {
        return Err(schedule_error(format!("{} is not a year from 2000 to 2100", input.year)));
    }
    let source = input.source.trim();
    if source.is_empty() {
        return Err(schedule_error("the source is missing: give the State Council notice's document number (e.g. 国办发明电〔2026〕7号)"));
    }
    if input.holidays.len() + input.workdays.len() > 400 || [&input.holidays, &input.workdays].iter().flat_map(|l| l.iter()).any(|s| s.len() > 64) {
        return Err(schedule_error("too many or too long entries: a year has at most 366 dates"));
    }
    let file = CalendarYear { source: Some(source.to_string()), holidays: input.holidays.clone(), workdays: input.workdays.clone() };
    let key = format!("calendar.{}", input.year);
    let year = file.to_year(&key, input.year).map_err(|e| schedule_error(e.to_string()))?;
    if year.holidays.is_empty() {
        return Err(schedule_error("the schedule lists no day off"));
    }
    policy.calendar.check_year(input.year, &year).map_err(|e| schedule_error(format!("{key}: {e}")))?;
    Ok(year)
}

/// Splits a pasted list: one date or range per line, or separated by commas (`,` `，` `、`).
fn entries(text: &str) -> Vec<String> {
    text.split(['\n', ',', '，', '、', ';', '；']).map(|s| s.trim().replace(['~', '～'], "..").replace(" .. ", "..")).filter(|s| !s.is_empty()).collect()
}

/// Reads an uploaded policy overlay (`[calendar.YYYY]` with `source`, `holidays`, `workdays`).
fn from_overlay(bytes: &[u8]) -> Result<ScheduleInput, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| schedule_error("the file is not UTF-8 text"))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| schedule_error(format!("the file is not valid TOML: {e}")))?;
    let years = table.get("calendar").and_then(|c| c.as_table()).ok_or_else(|| schedule_error("the file has no [calendar.YYYY] table"))?;
    if years.len() != 1 {
        return Err(schedule_error(format!("the file must hold exactly one [calendar.YYYY] table, it has {}", years.len())));
    }
    if let Some(other) = table.keys().find(|k| !matches!(k.as_str(), "calendar" | "policy")) {
        return Err(schedule_error(format!("the file may hold only [calendar.YYYY] (and [policy]); [{other}] belongs in the policy file (QINGLING_POLICY)")));
    }
    let (year_key, data) = years.iter().next().expect("one table");
    let year: i32 = year_key.parse().map_err(|_| schedule_error(format!("calendar.{year_key}: the table name must be a year such as 2027")))?;
    let file: CalendarYear = data.clone().try_into().map_err(|e: toml::de::Error| schedule_error(format!("calendar.{year_key}: {e}")))?;
    Ok(ScheduleInput { year, source: file.source.unwrap_or_default(), holidays: file.holidays, workdays: file.workdays, dry_run: false })
}

/// Saves a checked schedule and starts its roll-out to the running workflows (once per
/// schedule content). Returns the roll-out's workflow id and whether the schedule is new.
async fn save(shared: &Shared, who: &Signed, year: i32, schedule: Year) -> Result<(String, bool), Error> {
    let (_, new) = shared.app.store.save_schedule(year, &schedule, who.user.id, now_ms()).await?;
    let digest = schedule_digest(year, &schedule);
    tracing::info!(year, new, user_id = who.user.id, "working-day schedule loaded");
    let id = crate::engine::start_calendar_rollout(&shared.app.temporal.client()?, CalendarYearUpdate { year, schedule }, &digest).await?;
    Ok((id, new))
}

fn dates(set: &std::collections::BTreeSet<NaiveDate>) -> Vec<String> {
    set.iter().map(|d| d.to_string()).collect()
}

/// The years the calendar knows and the next ones it does not, for the page and the API.
fn years_overview(policy: &Policy, loaded: &BTreeMap<i32, Year>, today: NaiveDate) -> Vec<serde_json::Value> {
    let cal = &policy.calendar;
    let first = cal.years.keys().next().copied().unwrap_or(today.year()).min(today.year());
    let last = cal.years.keys().last().copied().unwrap_or(today.year()).max(today.year() + 1);
    (first..=last)
        .map(|y| {
            let schedule = cal.years.get(&y);
            json!({
                "year": y,
                "provisional": cal.is_provisional(y),
                "source": schedule.and_then(|s| s.source.clone()),
                "loaded": loaded.contains_key(&y),
                "holidays": schedule.map(|s| dates(&s.holidays)),
                "workdays": schedule.map(|s| dates(&s.workdays)),
                "statutory": cal.statutory_days(y).into_iter().map(|(d, id)| json!({ "date": d.to_string(), "holiday": id })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `GET /api/calendar`: every year known, whether it is provisional, and whether next year's
/// schedule is overdue.
pub async fn api_show(State(shared): S, ctx: Ctx) -> Result<Json<serde_json::Value>, Error> {
    ctx.signed()?;
    let (policy, loaded) = shared.app.store.calendar_in_force(&shared.app.policy).await?;
    let today = policy.calendar.local_date(now_ms());
    Ok(Json(json!({ "years": years_overview(&policy, &loaded, today), "missing_next_year": policy.calendar.schedule_missing(today) })))
}

/// `POST /api/calendar` (administrators): checks a year's schedule and, unless `dry_run`,
/// saves it and rolls it out to the running matters.
#[tracing::instrument(skip_all)]
pub async fn api_load(State(shared): S, ctx: Ctx, body: Bytes) -> Result<Response, Error> {
    let who = admin(&ctx)?;
    if body.len() > MAX_INPUT_BYTES {
        return Err(schedule_error("the schedule is larger than 64 KB"));
    }
    let input: ScheduleInput = parse_json(&body)?;
    let policy = shared.policy_in_force().await?;
    let year = parse_schedule(&policy, &input)?;
    let review = json!({ "year": input.year, "source": year.source, "holidays": dates(&year.holidays), "workdays": dates(&year.workdays) });
    if input.dry_run {
        return Ok(Json(json!({ "schedule": review, "saved": false })).into_response());
    }
    let (rollout, new) = save(&shared, &who, input.year, year).await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "schedule": review, "saved": new, "rollout_workflow_id": rollout }))).into_response())
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
    year: Option<i32>,
}

/// One month of the review calendar: weeks of days, Monday first.
fn month_grid(policy: &Policy, year: i32, month: u32, schedule: &Year) -> Value {
    let cal = &policy.calendar;
    let statutory = cal.statutory_days(year);
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("a month");
    let mut days: Vec<Value> = (0..first.weekday().num_days_from_monday()).map(|_| Value::from(())).collect();
    let mut d = first;
    while d.month() == month {
        let weekend = d.weekday().num_days_from_monday() >= 5;
        let class = if schedule.workdays.contains(&d) {
            "makeup"
        } else if statutory.contains_key(&d) {
            "statutory"
        } else if schedule.holidays.contains(&d) {
            "off"
        } else if weekend {
            "weekend"
        } else {
            "work"
        };
        // What this schedule changes against the calendar in force (provisional or published).
        let now_work = cal.is_workday(d);
        let will_work = matches!(class, "makeup" | "work");
        days.push(context! { day => d.day(), class => class, changed => now_work != will_work, holiday => statutory.get(&d).cloned() });
        d = d + Days::new(1);
    }
    let weeks: Vec<Vec<Value>> = days.chunks(7).map(|w| w.to_vec()).collect();
    context! { caption => format!("{year}-{month:02}"), weeks => weeks }
}

/// The review calendar's column heads, Monday first.
fn weekdays(locale: qingling_rules::messages::Locale) -> Vec<String> {
    crate::i18n::t(locale, "web.calendar.weekdays", &[]).split_whitespace().map(str::to_string).collect()
}

fn page(
    shared: &Shared,
    ctx: &Ctx,
    policy: &Policy,
    loaded: &BTreeMap<i32, Year>,
    form: Value,
    review: Option<Value>,
    error: Option<String>,
) -> Result<Response, Error> {
    let today = policy.calendar.local_date(now_ms());
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = context! {
        years => years_overview(policy, loaded, today),
        form => form,
        review => review,
        error => error,
        statutory_source => policy.calendar.statutory().map(|s| s.source.clone()),
        weekdays => weekdays(ctx.locale),
    };
    Ok((status, render(shared, ctx, "calendar.html", page)?).into_response())
}

/// `GET /admin/calendar`
pub async fn show(State(shared): S, ctx: Ctx, Query(q): Query<PageQuery>) -> Result<Response, Error> {
    admin(&ctx)?;
    let (policy, loaded) = shared.app.store.calendar_in_force(&shared.app.policy).await?;
    let next = policy.calendar.schedule_missing(policy.calendar.local_date(now_ms()));
    let form = context! { year => next.or(q.year), done => q.done, done_year => q.year };
    page(&shared, &ctx, &policy, &loaded, form, None, None)
}

/// `POST /admin/calendar`: `intent=review` shows the schedule as a calendar; `intent=save`
/// (from the review) stores it and rolls it out.
#[tracing::instrument(skip_all)]
pub async fn submit(State(shared): S, ctx: Ctx, multipart: crate::http::Uploads) -> Result<Response, Error> {
    ctx.signed()?.require_admin()?;
    let (files, fields) = read_uploads(multipart, MAX_INPUT_BYTES as u64).await?;
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    let (policy, loaded) = shared.app.store.calendar_in_force(&shared.app.policy).await?;
    let (holidays_text, workdays_text) = (field(&fields, "holidays"), field(&fields, "workdays"));
    let form = context! { year => field(&fields, "year"), source => field(&fields, "source"), holidays => holidays_text, workdays => workdays_text };
    let input = match files.into_iter().next() {
        Some(file) if file.bytes.len() > MAX_INPUT_BYTES => Err(schedule_error("the file is larger than 64 KB")),
        Some(file) => from_overlay(&file.bytes),
        None => match field(&fields, "year").trim().parse::<i32>() {
            Ok(year) => Ok(ScheduleInput {
                year,
                source: field(&fields, "source").to_string(),
                holidays: entries(holidays_text),
                workdays: entries(workdays_text),
                dry_run: false,
            }),
            Err(_) => Err(schedule_error(format!("{:?} is not a year", field(&fields, "year")))),
        },
    };
    let checked = input.and_then(|input| parse_schedule(&policy, &input).map(|y| (input.year, y)));
    let (year, schedule) = match checked {
        Ok(ok) => ok,
        Err(e) => return page(&shared, &ctx, &policy, &loaded, form, None, Some(e.message(ctx.locale))),
    };
    if field(&fields, "intent") == "save" {
        save(&shared, &who, year, schedule).await?;
        return Ok(Redirect::to(&format!("/admin/calendar?done=saved&year={year}")).into_response());
    }
    let months: Vec<Value> = (1..=12).map(|m| month_grid(&policy, year, m, &schedule)).collect();
    let replaces = policy.calendar.years.get(&year).and_then(|y| y.source.clone());
    let review = context! {
        year => year,
        source => schedule.source.clone(),
        holidays => dates(&schedule.holidays).join(", "),
        workdays => dates(&schedule.workdays).join(", "),
        days_off => schedule.holidays.len(),
        makeup => schedule.workdays.len(),
        months => months,
        replaces => replaces,
    };
    let form = context! { year => year, source => schedule.source.clone(), holidays => holidays_text, workdays => workdays_text };
    page(&shared, &ctx, &policy, &loaded, form, Some(review), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(year: i32, holidays: &[&str], workdays: &[&str]) -> ScheduleInput {
        ScheduleInput {
            year,
            source: "国办发明电〔2026〕测试号".into(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
            workdays: workdays.iter().map(|s| s.to_string()).collect(),
            dry_run: false,
        }
    }

    const LAW_2027: &[&str] =
        &["2027-01-01", "2027-02-05..2027-02-11", "2027-04-05", "2027-05-01..2027-05-05", "2027-06-09", "2027-09-15", "2027-10-01..2027-10-07"];

    #[test]
    fn a_schedule_is_checked_and_errors_name_the_date() {
        let p = Policy::builtin();
        let ok = parse_schedule(&p, &input(2027, LAW_2027, &["2027-02-20"])).unwrap();
        assert_eq!(ok.holidays.len(), 1 + 7 + 1 + 5 + 1 + 1 + 7);
        for (bad, want) in [
            (input(2027, &["2027-02-05..2027-02-11"], &[]), "2027-01-01 is a statutory day off (new_year)"),
            (input(2027, LAW_2027, &["2027-02-18"]), "2027-02-18 is a Thu, not a weekend day"),
            (input(2027, &["2027-01-01", "2027-01-01"], &[]), "2027-01-01 is listed twice"),
            (input(2027, &["2028-01-01"], &[]), "\"2028-01-01\" is not in 2027"),
            (input(2027, &["2027-13-01"], &[]), "\"2027-13-01\" is not a date"),
            (input(2027, &["2027-01-01\u{0}"], &[]), "is not a date"),
            (ScheduleInput { source: " ".into(), ..input(2027, LAW_2027, &[]) }, "the source is missing"),
            (ScheduleInput { source: "国办\n发".into(), ..input(2027, LAW_2027, &[]) }, "one line"),
            (input(1999, LAW_2027, &[]), "not a year from 2000"),
        ] {
            let got = parse_schedule(&p, &bad).unwrap_err().to_string();
            assert!(got.contains(want), "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn the_review_shows_the_year_as_a_calendar() {
        use crate::context::Ctx;
        use qingling_rules::messages::Locale;
        let p = Policy::builtin();
        let y = parse_schedule(&p, &input(2027, LAW_2027, &["2027-02-20"])).unwrap();
        let months: Vec<Value> = (1..=12).map(|m| month_grid(&p, 2027, m, &y)).collect();
        let review =
            context! { year => 2027, source => y.source.clone(), holidays => "", workdays => "", days_off => y.holidays.len(), makeup => 1, months => months };
        let loaded = BTreeMap::new();
        let page = context! {
            years => years_overview(&p, &loaded, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            form => context! { year => 2027 }, review => review, error => None::<String>, statutory_source => "law", weekdays => weekdays(Locale::ZhCn),
        };
        let ctx = Ctx {
            locale: Locale::ZhCn,
            session: None,
            path: "/admin/calendar".into(),
            calendar_missing: Some(2027),
            stuck_count: None,
            engine_down: false,
            client: None,
        };
        let html = crate::views::render_with(&crate::views::environment(), &ctx, "calendar.html", page).unwrap().0;
        assert!(html.contains("2027-02"), "month captions");
        assert!(html.contains(r#"<td class="makeup changed">20</td>"#), "the make-up Saturday differs from the provisional calendar");
        assert!(html.contains(r#"<td class="off changed">9</td>"#), "a bridging day off");
        assert!(html.contains(r#"<td class="statutory" title="春节">6</td>"#), "{html}");
        assert!(html.contains("2027年放假安排尚未加载"), "the banner");
        assert!(html.contains("<th>一</th><th>二</th>"), "weekday heads");
    }

    #[test]
    fn pasted_lists_and_uploaded_overlays_read_the_same() {
        assert_eq!(entries("2027-01-01\n2027-02-05 ~ 2027-02-11，2027-04-05、\n\n"), vec!["2027-01-01", "2027-02-05..2027-02-11", "2027-04-05"]);
        let overlay = "[policy]\nextends = \"builtin\"\n[calendar.2027]\nsource = \"国办发明电〔2026〕测试号\"\nholidays = [\"2027-01-01\"]\nworkdays = []\n";
        let got = from_overlay(overlay.as_bytes()).unwrap();
        assert_eq!((got.year, got.source.as_str(), got.holidays.len()), (2027, "国办发明电〔2026〕测试号", 1));
        assert!(from_overlay(b"[calendar.2027]\nholidays = []\n").unwrap_err().to_string().contains("workdays"));
        assert!(from_overlay(b"nonsense = [").unwrap_err().to_string().contains("not valid TOML"));
        let with_deadlines = format!("{overlay}[deadlines.complaint.ordinary]\nrectify = \"1d\"\n");
        assert!(from_overlay(with_deadlines.as_bytes()).unwrap_err().to_string().contains("[deadlines] belongs in the policy file"));
        assert!(from_overlay(&[0xff, 0xfe]).unwrap_err().to_string().contains("UTF-8"));
    }
}

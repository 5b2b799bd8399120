//! The campaigns' pages, for supervisors and administrators: the list with the plan form (one-off,
//! or recurring on a cron expression with its next five runs in Beijing time shown before it is
//! saved), and a campaign's page, which walks it through its life: the commitment as published,
//! the draw ceremony (one value per named source, the witnesses present), the drawn teams with
//! every skip and its reason, a reassignment with a reason, the confirmation, each home's
//! inspection, publication, and the campaign's events. A refusal re-renders the page with the
//! reason and what was typed; success redirects (post/redirect/get).

use super::{DrawInput, ReassignInput, oversight, visible};
use crate::Shared;
use crate::context::{Ctx, Signed};
use crate::error::Error;
use crate::http::{FormFields, field};
use crate::views::{local_time, render};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use qingling_activities::db::entities::campaign;
use qingling_rules::campaign::{Campaign, CampaignStatus, PlanInput, Run};
use qingling_rules::directory::{FACILITY_TYPES, SPECIALISMS};
use qingling_rules::draw::{RiskClass, SourceName};
use qingling_rules::messages::Locale;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// Rows of the plan form's source table.
const SOURCE_ROWS: usize = 3;
/// What a step that succeeded says on the page it redirects to (`?done=`).
const DONE: [&str; 5] = ["drawn", "reassigned", "superseded", "assigned", "published"];
/// Events the campaign page lists (newest last); the API has them all.
const EVENTS_SHOWN: usize = 200;

/// Every value of a repeated form field, in order.
fn all<'a>(fields: &'a FormFields, name: &str) -> Vec<&'a str> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
}

/// Items of a free-text list field ("市场监管、消防救援"), split on commas, 、 and line breaks.
fn items(text: &str) -> Vec<String> {
    text.split([',', '，', '、', '\n', '\r', ';', '；']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn number(fields: &FormFields, name: &'static str) -> Result<u32, Error> {
    let v = field(fields, name).trim();
    if v.is_empty() {
        return Ok(0);
    }
    v.parse::<u32>().ok().filter(|n| *n <= 1000).ok_or(Error::Field { field: name, code: "whole_number" })
}

/// A share typed as a percentage ("5", "2.5") in thousandths.
fn per_mille(fields: &FormFields, name: &'static str) -> Result<Option<u32>, Error> {
    let v = field(fields, name).trim();
    if v.is_empty() {
        return Ok(None);
    }
    let pct: f64 = v.parse().map_err(|_| Error::Field { field: name, code: "percentage" })?;
    if !(0.0..=100.0).contains(&pct) || (pct * 10.0).fract().abs() > 1e-9 {
        return Err(Error::Field { field: name, code: "percentage" });
    }
    Ok(Some((pct * 10.0).round() as u32))
}

/// The plan as the form sent it; what the rules refuse is refused by `check_plan` afterwards.
fn plan_from(fields: &FormFields) -> Result<PlanInput, Error> {
    let mut ratio = std::collections::BTreeMap::new();
    for (class, name) in [(RiskClass::A, "ratio_a"), (RiskClass::B, "ratio_b"), (RiskClass::C, "ratio_c"), (RiskClass::D, "ratio_d")] {
        if let Some(v) = per_mille(fields, name)? {
            ratio.insert(class, v);
        }
    }
    let window = field(fields, "window").trim().parse().map_err(|_| Error::Field { field: "window", code: "duration" })?;
    let sources = all(fields, "source_name")
        .into_iter()
        .zip(all(fields, "source_kind").into_iter().chain(std::iter::repeat("numbers")))
        .filter(|(name, _)| !name.trim().is_empty())
        .map(|(name, kind)| SourceName { name: name.trim().to_string(), kind: if kind == "text" { "text".into() } else { "numbers".into() } })
        .collect();
    Ok(PlanInput {
        title: field(fields, "title").to_string(),
        templates: all(fields, "template").into_iter().map(str::to_string).collect(),
        districts: all(fields, "district").into_iter().map(str::to_string).collect(),
        facility_types: all(fields, "facility_type").into_iter().map(str::to_string).collect(),
        ratio_permille: ratio,
        exclude_inspected_this_year: field(fields, "exclude_inspected") == "on",
        team_size: number(fields, "team_size")?,
        required_specialisms: all(fields, "specialism").into_iter().map(str::to_string).collect(),
        load_cap: number(fields, "load_cap")?,
        not_own_district: field(fields, "not_own_district") == "on",
        departments: items(field(fields, "departments")),
        window,
        sources,
    })
}

/// A source's value as it was entered, for the page (numbers as the key string writes them).
fn source_text(v: &qingling_rules::draw::SourceValues) -> String {
    match v {
        qingling_rules::draw::SourceValues::Numbers(n) => n.iter().map(u64::to_string).collect::<Vec<_>>().join(" "),
        qingling_rules::draw::SourceValues::Text(t) => t.clone(),
    }
}

fn vocabulary(v: &[(&str, &str)], locale: Locale) -> Vec<Value> {
    v.iter().map(|(code, zh)| json!({ "code": code, "name": if locale == Locale::ZhCn { (*zh).to_string() } else { (*code).replace('_', " ") } })).collect()
}

/// What the list page shows beside the form: a recurring plan just saved, or runs previewed.
#[derive(Default)]
struct Outcome {
    error: Option<String>,
    runs: Option<(String, Vec<Run>)>,
    saved_plan: Option<String>,
}

async fn list_page(shared: &Shared, ctx: &Ctx, who: &Signed, fields: Option<&FormFields>, outcome: Outcome) -> Result<Response, Error> {
    let store = &shared.app.store;
    let policy = shared.policy_in_force().await?;
    let offset = policy.calendar.utc_offset_secs;
    let campaigns: Vec<Value> = store
        .campaigns_for(&who.user)
        .await?
        .iter()
        .map(|c| json!({ "id": c.id, "title": c.title, "status": c.status, "created_at": local_time(c.created_at_ms, offset), "recurring": c.schedule_id.is_some() }))
        .collect();
    let plans: Vec<Value> = super::recurring_plans(shared, who, &policy)
        .await?
        .iter()
        .map(|(p, runs)| {
            json!({ "id": p.id, "title": p.title, "cron": p.cron, "created_at": local_time(p.created_at_ms, offset),
                "stopped_at": p.stopped_at_ms.map(|t| local_time(t, offset)), "runs": super::runs_json(runs) })
        })
        .collect();
    let zh = ctx.locale == Locale::ZhCn;
    let mut templates: Vec<_> = shared.app.checklists.iter().collect();
    templates.sort_by(|a, b| a.id.cmp(&b.id).then(b.version.cmp(&a.version)));
    templates.dedup_by(|a, b| a.id == b.id);
    let templates: Vec<Value> = templates.iter().map(|t| json!({ "id": t.id, "title": if zh { &t.title.zh } else { &t.title.en } })).collect();
    let districts: Vec<Value> = {
        let codes = store.plannable_districts(&who.user).await?;
        let names = store.region_names(&codes).await?;
        codes.into_iter().map(|c| json!({ "code": c, "name": names.get(&c).cloned().unwrap_or_default() })).collect()
    };
    let defaults = &policy.campaign;
    let pct = |c: RiskClass| {
        let v = defaults.ratio_permille.get(&c).copied().unwrap_or(0);
        if v % 10 == 0 { (v / 10).to_string() } else { format!("{}.{}", v / 10, v % 10) }
    };
    // A fresh form: the policy's values; after a refusal: what was typed.
    let values = match fields {
        Some(f) => json!({
            "title": field(f, "title"), "templates": all(f, "template"), "districts": all(f, "district"), "facility_types": all(f, "facility_type"),
            "ratio_a": field(f, "ratio_a"), "ratio_b": field(f, "ratio_b"), "ratio_c": field(f, "ratio_c"), "ratio_d": field(f, "ratio_d"),
            "exclude_inspected": field(f, "exclude_inspected") == "on", "team_size": field(f, "team_size"), "load_cap": field(f, "load_cap"),
            "specialisms": all(f, "specialism"), "not_own_district": field(f, "not_own_district") == "on", "departments": field(f, "departments"),
            "window": field(f, "window"), "source_names": all(f, "source_name"), "source_kinds": all(f, "source_kind"), "cron": field(f, "cron"),
        }),
        None => json!({
            "title": "", "templates": [], "districts": [], "facility_types": [],
            "ratio_a": pct(RiskClass::A), "ratio_b": pct(RiskClass::B), "ratio_c": pct(RiskClass::C), "ratio_d": pct(RiskClass::D),
            "exclude_inspected": true, "team_size": defaults.min_team_size.to_string(), "load_cap": defaults.load_cap.to_string(),
            "specialisms": [], "not_own_district": false, "departments": "", "window": "20wd",
            "source_names": [], "source_kinds": [], "cron": "",
        }),
    };
    let status = if outcome.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = context! {
        campaigns => campaigns,
        plans => plans,
        stopped => ctx.path.contains("done=stopped"),
        templates => templates,
        districts => districts,
        facility_types => vocabulary(FACILITY_TYPES, ctx.locale),
        specialisms => vocabulary(SPECIALISMS, ctx.locale),
        source_rows => (0..SOURCE_ROWS).collect::<Vec<_>>(),
        values => values,
        error => outcome.error,
        runs => outcome.runs.as_ref().map(|(cron, runs)| json!({ "cron": cron, "list": super::runs_json(runs) })),
        saved_plan => outcome.saved_plan,
        min_team => defaults.min_team_size,
    };
    Ok((status, render(shared, ctx, "campaigns.html", page)?).into_response())
}

/// Refusals a person can act on are shown on the page; anything else is the error page's.
fn shown(e: Error, locale: Locale) -> Result<String, Error> {
    match e {
        e @ (Error::Refused(_) | Error::Field { .. } | Error::Unavailable(_) | Error::NoAnswer) => Ok(e.message(locale)),
        e => Err(e),
    }
}

/// `GET /campaigns`
pub async fn list(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    list_page(&shared, &ctx, &who, None, Outcome::default()).await
}

/// `POST /campaigns`: `intent` = `plan` (one-off, then to its page), `preview` (the cron
/// expression's next runs, nothing saved) or `recurring` (the schedule saved).
#[tracing::instrument(skip_all, fields(campaign_id, plan_id))]
pub async fn submit(State(shared): S, ctx: Ctx, Form(fields): Form<FormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    oversight(&ctx)?;
    let intent = field(&fields, "intent");
    let cron = field(&fields, "cron");
    let outcome = match intent {
        "preview" => match super::next_runs(&shared, cron).await {
            Ok(runs) => Outcome { runs: Some(runs), ..Outcome::default() },
            Err(e) => Outcome { error: Some(shown(e, ctx.locale)?), ..Outcome::default() },
        },
        "recurring" => match async { super::plan_recurring(&shared, &who, &plan_from(&fields)?, cron).await }.await {
            Ok(r) => Outcome { runs: Some((r.cron, r.next_runs)), saved_plan: Some(r.plan_id), ..Outcome::default() },
            Err(e) => Outcome { error: Some(shown(e, ctx.locale)?), ..Outcome::default() },
        },
        _ => match async { super::plan_once(&shared, &who, &plan_from(&fields)?).await }.await {
            Ok((id, _)) => return Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
            Err(e) => Outcome { error: Some(shown(e, ctx.locale)?), ..Outcome::default() },
        },
    };
    // A saved plan starts a fresh form; a preview or a refusal keeps what was typed.
    let keep = outcome.saved_plan.is_none();
    list_page(&shared, &ctx, &who, keep.then_some(&fields), outcome).await
}

/// `POST /campaigns/plans/{id}/stop`: a recurring plan stopped (the campaigns it started go on).
#[tracing::instrument(skip_all, fields(plan_id = %id))]
pub async fn stop_plan(State(shared): S, ctx: Ctx, Path(id): Path<String>, Form(fields): Form<FormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    oversight(&ctx)?;
    match super::stop_recurring(&shared, &who, &id).await {
        Ok(()) => Ok(Redirect::to("/campaigns?done=stopped").into_response()),
        Err(e) => {
            let message = shown(e, ctx.locale)?;
            list_page(&shared, &ctx, &who, None, Outcome { error: Some(message), ..Outcome::default() }).await
        }
    }
}

fn event_view(e: &qingling_activities::db::entities::campaign_event::Model, offset: i32) -> Value {
    let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
    json!({ "seq": e.seq, "kind": e.kind, "at": local_time(e.at_ms, offset), "actor": e.actor_name, "payload": payload })
}

async fn campaign_page(shared: &Shared, ctx: &Ctx, c: &campaign::Model, error: Option<String>, fields: Option<&FormFields>) -> Result<Response, Error> {
    let store = &shared.app.store;
    let offset = shared.app.policy.calendar.utc_offset_secs;
    let state: Option<Campaign> = serde_json::from_str(&c.state).ok();
    let commitment: Value = c.commitment.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    let bundle = qingling_activities::campaign::bundle(store, &c.id).await?;
    let homes = store.campaign_homes(&c.id).await?;
    let draw = bundle.as_ref().map(|b| {
        let skips: Vec<Value> = b
            .result
            .teams
            .iter()
            .flat_map(|t| {
                t.picks.iter().filter_map(move |p| {
                    p.skipped.as_ref().map(|why| {
                        let (kind, relation) = why.split_once(':').unwrap_or((why.as_str(), ""));
                        json!({ "target": t.target, "inspector": p.inspector, "kind": kind, "relation": relation })
                    })
                })
            })
            .collect();
        json!({
            "key": b.result.key,
            "witnesses": b.witnesses,
            "values": b.source_values.iter().map(source_text).collect::<Vec<_>>(),
            "strata": b.result.strata.iter().map(|st| json!({ "name": st.name, "population": st.population, "quota": st.quota })).collect::<Vec<_>>(),
            "excluded": b.result.excluded,
            "skips": skips,
            "inspectors": b.inspectors.inspectors.iter().filter(|i| i.available).map(|i| i.id.clone()).collect::<Vec<_>>(),
        })
    });
    let status = state.as_ref().map(|s| s.status).or_else(|| CampaignStatus::parse(&c.status)).unwrap_or(CampaignStatus::Planned);
    let dates = state.as_ref().and_then(|s| s.dates).map(|d| {
        json!({ "drawn": local_time(d.drawn_ms, offset), "assign_by": local_time(d.assign_by_ms, offset), "window_end": local_time(d.window_end_ms, offset), "publish_by": local_time(d.publish_by_ms, offset) })
    });
    let escalation: Vec<Value> = state
        .as_ref()
        .map(|s| s.escalation.iter().filter(|(_, l)| *l > 0).map(|(d, l)| json!({ "deadline": d.as_str(), "level": l })).collect())
        .unwrap_or_default();
    let failure = state.as_ref().and_then(|s| s.failure.as_ref()).map(|r| Error::Refused(r.clone()).message(ctx.locale));
    let superseded = crate::views::superseded_draws(&qingling_activities::campaign::draws(store, &c.id).await?, offset);
    let events = store.campaign_events(&c.id).await?;
    let skip = events.len().saturating_sub(EVENTS_SHOWN);
    let events: Vec<Value> = events.iter().skip(skip).map(|e| event_view(e, offset)).collect();
    let inspected = homes.iter().filter(|h| h.inspection_status.as_deref() == Some("completed")).count();
    // The plan names templates and districts by code; the page by name.
    let zh = ctx.locale == Locale::ZhCn;
    let template_names: Vec<String> = state
        .as_ref()
        .map(|s| {
            s.plan
                .templates
                .iter()
                .map(|t| shared.app.checklists.latest(t).map(|c| if zh { c.title.zh.clone() } else { c.title.en.clone() }).unwrap_or_else(|| t.clone()))
                .collect()
        })
        .unwrap_or_default();
    let codes: std::collections::BTreeSet<String> = state.as_ref().map(|s| s.plan.districts.iter().cloned().collect()).unwrap_or_default();
    let names = store.region_names(&codes).await?;
    let district_names: Vec<String> = codes.iter().map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone())).collect();
    let code = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let values = fields.map(|f| json!({ "values": all(f, "value"), "witnesses": field(f, "witnesses"), "target": field(f, "target"), "out": field(f, "out"), "in": field(f, "in"), "reason": field(f, "reason") }));
    let page = context! {
        campaign => json!({
            "id": c.id, "title": c.title, "status": status.as_str(), "created_at": local_time(c.created_at_ms, offset),
            "published_at": c.published_at_ms.map(|t| local_time(t, offset)), "recurring": c.schedule_id.is_some(),
            "commitment_sha256": c.commitment_sha256, "bundle_sha256": c.bundle_sha256,
        }),
        plan => state.as_ref().map(|s| json!(s.plan)),
        window => state.as_ref().map(|s| s.plan.window.words(ctx.locale)),
        template_names => template_names,
        district_names => district_names,
        commitment => commitment,
        dates => dates,
        escalation => escalation,
        failure => failure,
        draw => draw,
        homes => homes,
        inspected => inspected,
        events => events,
        can_draw => status == CampaignStatus::Committed,
        can_reassign => status == CampaignStatus::Drawn,
        superseded => superseded,
        supersessions_left => shared.app.policy.campaign.max_supersessions.saturating_sub(state.as_ref().map_or(0, |s| s.superseded.len() as u32)),
        can_publish => status == CampaignStatus::Assigned,
        error => error,
        values => values,
        done => DONE.iter().find(|d| ctx.path.contains(&format!("done={d}"))),
    };
    Ok((code, render(shared, ctx, "campaign.html", page)?).into_response())
}

/// `GET /campaigns/{id}`
pub async fn show(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let who = oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    campaign_page(&shared, &ctx, &c, None, None).await
}

/// `POST /campaigns/{id}/draw`: the sources' values and the witnesses.
pub async fn draw(shared: S, ctx: Ctx, id: Path<String>, form: Form<FormFields>) -> Result<Response, Error> {
    act(shared, ctx, id, "draw", form).await
}

/// `POST /campaigns/{id}/reassign`: one inspector replaced, with a reason.
pub async fn reassign(shared: S, ctx: Ctx, id: Path<String>, form: Form<FormFields>) -> Result<Response, Error> {
    act(shared, ctx, id, "reassign", form).await
}

/// `POST /campaigns/{id}/supersede`: the current draw set aside, with a reason.
pub async fn supersede(shared: S, ctx: Ctx, id: Path<String>, form: Form<FormFields>) -> Result<Response, Error> {
    act(shared, ctx, id, "supersede", form).await
}

/// `POST /campaigns/{id}/assign`: the teams confirmed.
pub async fn assign(shared: S, ctx: Ctx, id: Path<String>, form: Form<FormFields>) -> Result<Response, Error> {
    act(shared, ctx, id, "assign", form).await
}

/// `POST /campaigns/{id}/publish`: the results published.
pub async fn publish(shared: S, ctx: Ctx, id: Path<String>, form: Form<FormFields>) -> Result<Response, Error> {
    act(shared, ctx, id, "publish", form).await
}

#[tracing::instrument(skip_all, fields(campaign_id = %id, step))]
async fn act(State(shared): S, ctx: Ctx, Path(id): Path<String>, step: &'static str, Form(fields): Form<FormFields>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    oversight(&ctx)?;
    let c = visible(&shared, &who, &id).await?;
    let outcome = match step {
        "draw" => {
            let input = DrawInput { values: all(&fields, "value").into_iter().map(str::to_string).collect(), witnesses: items(field(&fields, "witnesses")) };
            super::draw(&shared, &who, &c, input).await.map(|_| "drawn")
        }
        "reassign" => {
            let input = ReassignInput {
                target: field(&fields, "target").to_string(),
                out: field(&fields, "out").to_string(),
                replacement: field(&fields, "in").trim().to_string(),
                reason: field(&fields, "reason").to_string(),
            };
            super::reassign(&shared, &who, &c, input).await.map(|_| "reassigned")
        }
        "supersede" => super::supersede(&shared, &who, &c, super::SupersedeInput { reason: field(&fields, "reason").to_string() }).await.map(|_| "superseded"),
        "assign" => super::assign(&shared, &who, &c).await.map(|_| "assigned"),
        "publish" => super::publish(&shared, &who, &c).await.map(|_| "published"),
        _ => return Err(Error::NotFound),
    };
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/campaigns/{id}?done={done}")).into_response()),
        Err(e) => {
            let message = shown(e, ctx.locale)?;
            let now = shared.app.store.campaign(&c.id).await?.unwrap_or(c);
            campaign_page(&shared, &ctx, &now, Some(message), Some(&fields)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{environment, render_with};
    use qingling_activities::db::entities::user;
    use qingling_rules::matter::Role;

    fn supervisor(locale: Locale, path: &str) -> Ctx {
        let user = user::Model {
            id: 2,
            username: "supervisor".into(),
            display_name: "王督办".into(),
            email: "supervisor@example.test".into(),
            role: "supervisor".into(),
            region_id: Some(3),
            facility_id: None,
            password_hash: String::new(),
            locale: locale.code().into(),
            created_at_ms: 0,
            certificate: None,
        };
        let signed = Signed { user, role: Role::Supervisor, csrf: "csrf-1".into(), token: "t".into() };
        Ctx { locale, session: Some(Arc::new(signed)), path: path.into(), calendar_missing: None, stuck_count: None, engine_down: false, client: None }
    }

    /// A key the catalogue lacks shows as itself: none may reach the page.
    fn assert_no_raw_keys(html: &str, what: &str) {
        for family in ["web", "campaign_status", "relation", "escalation", "validation"] {
            let prefix = format!("{family}.");
            assert!(!html.contains(&prefix), "{what}: an untranslated key {prefix}… in\n{html}");
        }
    }

    #[test]
    fn the_list_page_renders_the_plan_form_and_the_runs_in_both_languages() {
        let env = environment();
        for locale in Locale::ALL {
            let page = context! {
                campaigns => vec![json!({ "id": "c-1", "title": "朝阳区消防抽查", "status": "drawn", "created_at": "2026-12-07 10:00", "recurring": true })],
                plans => vec![json!({ "id": "pabc", "title": "每月抽查", "cron": "0 9 1 * *", "created_at": "2026-12-07 10:00", "stopped_at": null, "runs": [{ "at": "2027-01-01 09:00", "effective": "2027-01-04", "moved": true }] }),
                    json!({ "id": "pdef", "title": "已停", "cron": "0 9 1 * *", "created_at": "2026-12-07 10:00", "stopped_at": "2026-12-08 10:00", "runs": [] })],
                stopped => true,
                templates => vec![json!({ "id": "fire-major-hazard", "title": "消防安全" })],
                districts => vec![json!({ "code": "110105", "name": "朝阳区" })],
                facility_types => vocabulary(FACILITY_TYPES, locale),
                specialisms => vocabulary(SPECIALISMS, locale),
                source_rows => vec![0, 1, 2],
                values => json!({ "title": "x", "templates": ["fire-major-hazard"], "districts": [], "facility_types": [], "ratio_a": "5", "ratio_b": "20", "ratio_c": "60", "ratio_d": "100",
                    "exclude_inspected": true, "team_size": "2", "load_cap": "10", "specialisms": ["fire"], "not_own_district": false, "departments": "", "window": "20wd",
                    "source_names": ["双色球"], "source_kinds": ["text"], "cron": "0 9 1 * *" }),
                error => "refused",
                runs => json!({ "cron": "0 9 1 * *", "list": [{ "at": "2027-01-01 09:00", "effective": "2027-01-04", "moved": true }, { "at": "2027-02-01 09:00", "effective": "2027-02-01", "moved": false }] }),
                saved_plan => "pabc",
                min_team => 2,
            };
            let html = render_with(&env, &supervisor(locale, "/campaigns"), "campaigns.html", page).unwrap_or_else(|e| panic!("{locale:?}: {e}")).0;
            assert_no_raw_keys(&html, "campaigns.html");
            assert!(html.contains("value=\"fire-major-hazard\" checked"), "the ticked template stays ticked");
            assert!(html.contains("<option value=\"text\" selected>"), "the source's kind stays chosen");
            assert_eq!(html.matches("data-run").count(), 3, "two previewed, one of the plan's");
            assert_eq!(html.matches("data-plan=").count(), 2);
            assert_eq!(html.matches("/stop\"").count() + html.matches("&#x2f;stop\"").count(), 1, "only the running plan can be stopped");
            assert!(html.contains("2027-01-04"), "a moved run names the working day");
            assert!(html.contains("csrf-1"));
        }
    }

    #[test]
    fn the_campaign_page_renders_every_stage_and_event_in_both_languages() {
        let env = environment();
        let kinds = [
            "planned",
            "moved",
            "committed",
            "drawn",
            "draw_refused",
            "draw_superseded",
            "reassigned",
            "reassign_refused",
            "assigned",
            "inspected",
            "escalated",
            "published",
            "closed",
            "failed",
        ];
        let events: Vec<Value> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let payload = match *k {
                    "reassigned" => json!({ "target": "T1", "out": "京执1", "in": "京执2", "reason": "病假" }),
                    "escalated" => json!({ "deadline": "assign", "level": 1, "step": "reminder" }),
                    _ => json!({}),
                };
                json!({ "seq": i, "kind": k, "at": "2026-12-07 10:00", "actor": "王督办", "payload": payload })
            })
            .collect();
        for locale in Locale::ALL {
            for status in ["committed", "drawn", "assigned", "published"] {
                let page = context! {
                    campaign => json!({ "id": "c-1", "title": "朝阳区消防抽查", "status": status, "created_at": "2026-12-07 10:00", "published_at": null, "recurring": false, "commitment_sha256": "ab", "bundle_sha256": "cd" }),
                    plan => json!({ "templates": ["fire-major-hazard"], "districts": ["110105"], "facility_types": ["institution"], "ratio_permille": { "A": 50, "B": 25 }, "team_size": 2, "required_specialisms": ["fire"], "load_cap": 10, "departments": ["消防救援"] }),
                    window => "20 个工作日",
                    template_names => vec!["消防安全"],
                    district_names => vec!["朝阳区"],
                    commitment => json!({ "targets_sha256": "t", "inspectors_sha256": "i", "algorithm": "rfc3797", "sources": [{ "name": "双色球", "kind": "numbers" }, { "name": "宣读", "kind": "text" }] }),
                    dates => json!({ "drawn": "a", "assign_by": "b", "window_end": "c", "publish_by": "d" }),
                    escalation => vec![json!({ "deadline": "inspect", "level": 2 })],
                    failure => "no inspectors",
                    draw => (status != "committed").then(|| json!({ "key": "9.18./", "witnesses": ["李见证"], "values": ["9 18"], "strata": [{ "name": "110105/A", "population": 3, "quota": 1 }], "excluded": ["T9"],
                        "skips": [{ "target": "T1", "inspector": "京执3", "kind": "conflict", "relation": "relative" }, { "target": "T2", "inspector": "京执4", "kind": "own_district", "relation": "" }], "inspectors": ["京执1", "京执2"] })),
                    homes => vec![json!({ "target": "T1", "facility_id": 1, "facility": "朝阳区第一社会福利院", "team": [["京执1", "李检查"], ["京执2", ""]], "inspection_id": "i-1", "inspection_status": "completed", "inspection_date": "2026-12-08", "findings": 2 }),
                        json!({ "target": "T2", "facility_id": 2, "facility": "朝阳区第二", "team": [["京执5", "赵检查"]], "inspection_id": null, "inspection_status": null, "inspection_date": null, "findings": null })],
                    inspected => 1,
                    events => &events,
                    can_draw => status == "committed",
                    can_reassign => status == "drawn",
                    superseded => vec![json!({ "seq": 1, "bundle_sha256": "ef", "drawn_at": "a", "at": "b", "reason": "录错号码" })],
                    supersessions_left => 1,
                    can_publish => status == "assigned",
                    error => "refused",
                    values => json!({ "values": ["9 18"], "witnesses": "李见证", "target": "T1", "out": "京执1", "in": "京执9", "reason": "病假" }),
                    done => "drawn",
                };
                let html = render_with(&env, &supervisor(locale, "/campaigns/c-1?done=drawn"), "campaign.html", page)
                    .unwrap_or_else(|e| panic!("{locale:?} {status}: {e}"))
                    .0;
                assert_no_raw_keys(&html, &format!("campaign.html, {status}, {locale:?}"));
                assert_eq!(
                    html.contains("action=\"&#x2f;campaigns&#x2f;c-1&#x2f;draw\"") || html.contains("action=\"/campaigns/c-1/draw\""),
                    status == "committed",
                    "{status}: the draw form"
                );
                assert_eq!(html.contains("id=\"reassign\""), status == "drawn", "{status}: the reassignment form");
                assert_eq!(html.contains("id=\"supersede\""), status == "drawn", "{status}: the supersede form");
                assert!(html.contains("录错号码"), "{status}: a superseded draw shows its reason");
                assert_eq!(html.contains("id=\"publish\""), status == "assigned", "{status}: the publish form");
                assert_eq!(html.matches("data-skip").count(), if status == "committed" { 0 } else { 2 });
                assert_eq!(html.matches("data-event=").count(), kinds.len());
            }
        }
    }

    fn form(pairs: &[(&str, &str)]) -> FormFields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_plan_form_reads_as_the_api_would() {
        let f = form(&[
            ("title", "朝阳区消防抽查"),
            ("template", "fire-major-hazard"),
            ("district", "110105"),
            ("ratio_a", "5"),
            ("ratio_b", "2.5"),
            ("ratio_c", ""),
            ("ratio_d", "100"),
            ("exclude_inspected", "on"),
            ("team_size", "3"),
            ("load_cap", ""),
            ("departments", "市场监管、消防救援，卫生健康"),
            ("window", "20wd"),
            ("source_name", "双色球第2026140期红球"),
            ("source_kind", "numbers"),
            ("source_name", ""),
            ("source_kind", "numbers"),
            ("source_name", "见证人宣读的数字"),
            ("source_kind", "text"),
        ]);
        let p = plan_from(&f).expect("a plan");
        assert_eq!(p.ratio_permille.get(&RiskClass::A), Some(&50));
        assert_eq!(p.ratio_permille.get(&RiskClass::B), Some(&25));
        assert_eq!(p.ratio_permille.get(&RiskClass::C), None, "left empty: the policy's");
        assert_eq!(p.ratio_permille.get(&RiskClass::D), Some(&1000));
        assert!(p.exclude_inspected_this_year && !p.not_own_district);
        assert_eq!((p.team_size, p.load_cap), (3, 0));
        assert_eq!(p.departments, ["市场监管", "消防救援", "卫生健康"]);
        let sources: Vec<(&str, &str)> = p.sources.iter().map(|s| (s.name.as_str(), s.kind.as_str())).collect();
        assert_eq!(sources, [("双色球第2026140期红球", "numbers"), ("见证人宣读的数字", "text")], "an empty row is skipped, kinds stay paired");
    }

    #[test]
    fn a_share_or_a_count_that_is_not_one_is_refused_by_its_field() {
        for (name, value, code) in
            [("ratio_a", "abc", "percentage"), ("ratio_b", "120", "percentage"), ("ratio_c", "0.25", "percentage"), ("team_size", "-1", "whole_number")]
        {
            let f = form(&[("window", "20wd"), (name, value)]);
            match plan_from(&f) {
                Err(Error::Field { field, code: c }) => assert_eq!((field, c), (name, code)),
                other => panic!("{name}={value}: {:?}", other.map(|p| p.title)),
            }
        }
        match plan_from(&form(&[("window", "twenty days")])) {
            Err(Error::Field { field: "window", code: "duration" }) => {}
            other => panic!("{:?}", other.map(|p| p.title)),
        }
    }
}

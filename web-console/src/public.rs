//! The public site (一公开): the console's only pages without sign-in besides the sign-in itself.
//! Campaigns from their commitment on (plan, digests, named sources; after the draw its key,
//! witnesses and strata), each drawn home only once its inspection is done (or at the draw, when
//! the policy's `campaign.reveal` says so) with its results, the bundle once the campaign is
//! published, a page per facility with its inspection history, and JSON and Atom feeds. No
//! person is named but the draw's witnesses. Answers are cached for a minute.

use crate::Shared;
use crate::context::Ctx;
use crate::error::Error;
use crate::views::{local_time, render};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use qingling_activities::db::entities::campaign;
use qingling_rules::policy::Reveal;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

const CACHE: &str = "public, max-age=60";
const FEED_ITEMS: u64 = 100;

fn cached(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    r
}

fn state(c: &campaign::Model) -> Value {
    serde_json::from_str(&c.state).unwrap_or(Value::Null)
}

fn published(c: &campaign::Model) -> bool {
    c.published_at_ms.is_some()
}

/// Whether the drawn homes are public now.
fn reveal_all(shared: &Shared, c: &campaign::Model) -> bool {
    shared.app.policy.campaign.reveal == Reveal::AtDraw || published(c)
}

async fn public_campaign(shared: &Shared, id: &str) -> Result<campaign::Model, Error> {
    if id.len() > 64 {
        return Err(Error::NotFound);
    }
    shared.app.store.campaign(id).await?.filter(|c| c.commitment.is_some()).ok_or(Error::NotFound)
}

fn summary(shared: &Shared, c: &campaign::Model) -> Value {
    let offset = shared.app.policy.calendar.utc_offset_secs;
    json!({
        "id": c.id,
        "title": c.title,
        "status": c.status,
        "committed_at": local_time(c.created_at_ms, offset),
        "published_at": c.published_at_ms.map(|t| local_time(t, offset)),
        "commitment_sha256": c.commitment_sha256,
    })
}

/// `GET /public`
pub async fn index(State(shared): S, ctx: Ctx) -> Result<Response, Error> {
    let rows = shared.app.store.public_campaigns(FEED_ITEMS).await?;
    let list: Vec<Value> = rows.iter().map(|c| summary(&shared, c)).collect();
    Ok(cached(render(&shared, &ctx, "public.html", context! { view => "index", campaigns => list })?.into_response()))
}

/// `GET /public/campaigns/{id}`
pub async fn campaign_page(State(shared): S, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Error> {
    let c = public_campaign(&shared, &id).await?;
    let s = state(&c);
    let commitment: Value = c.commitment.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    let bundle = qingling_activities::campaign::bundle(&shared.app.store, &c.id).await?;
    let draw = bundle.as_ref().map(|b| {
        json!({
            "key": b.result.key,
            "witnesses": b.witnesses,
            "strata": b.result.strata.iter().map(|st| json!({ "name": st.name, "population": st.population, "quota": st.quota })).collect::<Vec<_>>(),
            "drawn": b.result.targets.len(),
            "bundle_sha256": c.bundle_sha256,
        })
    });
    let offset = shared.app.policy.calendar.utc_offset_secs;
    // A draw set aside is public from the moment it is, with its reason: nothing is redone unseen.
    let superseded = crate::views::superseded_draws(&qingling_activities::campaign::draws(&shared.app.store, &c.id).await?, offset);
    let homes = shared.app.store.public_homes(&c.id, reveal_all(&shared, &c)).await?;
    let page = context! {
        view => "campaign",
        campaign => summary(&shared, &c),
        plan => s["plan"].clone(),
        commitment => commitment,
        draw => draw,
        superseded => superseded,
        homes => homes,
        bundle_public => bundle.is_some() && reveal_all(&shared, &c),
    };
    Ok(cached(render(&shared, &ctx, "public.html", page)?.into_response()))
}

fn json_response(text: String) -> Response {
    cached(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// `GET /public/campaigns/{id}/commitment.json`: published before the draw.
pub async fn commitment(State(shared): S, Path(id): Path<String>) -> Result<Response, Error> {
    let c = public_campaign(&shared, &id).await?;
    Ok(json_response(c.commitment.unwrap_or_default()))
}

/// `GET /public/campaigns/{id}/bundle.json`: everything needed to re-run the draw, once the drawn
/// homes are public (it names all of them).
pub async fn bundle(State(shared): S, Path(id): Path<String>) -> Result<Response, Error> {
    let c = public_campaign(&shared, &id).await?;
    if !reveal_all(&shared, &c) {
        return Err(Error::NotFound);
    }
    let b = qingling_activities::campaign::bundle(&shared.app.store, &c.id).await?.ok_or(Error::NotFound)?;
    Ok(json_response(qingling_rules::draw::canonical_json(&b)))
}

/// `GET /public/facilities/{id}`: a facility and its completed inspections.
pub async fn facility_page(State(shared): S, ctx: Ctx, Path(id): Path<i64>) -> Result<Response, Error> {
    let store = &shared.app.store;
    let f = store.facility(id).await?.ok_or(Error::NotFound)?;
    let region = store.region(f.region_id).await?.map(|r| r.name).unwrap_or_default();
    let inspections: Vec<Value> =
        store.public_inspections(id).await?.into_iter().map(|(date, title, findings)| json!({ "date": date, "title": title, "findings": findings })).collect();
    let page = context! { view => "facility", facility => json!({ "id": f.id, "name": f.name, "region": region }), inspections => inspections };
    Ok(cached(render(&shared, &ctx, "public.html", page)?.into_response()))
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `GET /public/feed.json`: JSON Feed 1.1 of the campaigns.
pub async fn feed_json(State(shared): S) -> Result<Response, Error> {
    let rows = shared.app.store.public_campaigns(FEED_ITEMS).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "url": format!("/public/campaigns/{}", c.id),
                "title": c.title,
                "content_text": format!("{} · {}", c.title, c.status),
                "date_published": rfc3339(c.created_at_ms),
                "date_modified": rfc3339(c.updated_at_ms),
                "_qingling": { "status": c.status, "commitment_sha256": c.commitment_sha256, "published": published(c) },
            })
        })
        .collect();
    let feed = json!({ "version": "https://jsonfeed.org/version/1.1", "title": "清零 · 双随机抽查", "home_page_url": "/public", "items": items });
    Ok(cached(([(header::CONTENT_TYPE, "application/feed+json")], feed.to_string()).into_response()))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `GET /public/feed.atom`: the same as Atom.
pub async fn feed_atom(State(shared): S) -> Result<Response, Error> {
    let rows = shared.app.store.public_campaigns(FEED_ITEMS).await?;
    let updated = rows.iter().map(|c| c.updated_at_ms).max().unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>清零 · 双随机抽查</title>\n<id>urn:qingling:campaigns</id>\n<updated>{}</updated>\n<link href=\"/public\"/>\n",
        rfc3339(updated)
    );
    for c in &rows {
        xml.push_str(&format!(
            "<entry><id>urn:qingling:campaign:{}</id><title>{}</title><updated>{}</updated><link href=\"/public/campaigns/{}\"/><summary>{}</summary></entry>\n",
            xml_escape(&c.id),
            xml_escape(&c.title),
            rfc3339(c.updated_at_ms),
            xml_escape(&c.id),
            xml_escape(&c.status)
        ));
    }
    xml.push_str("</feed>\n");
    Ok(cached(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response()))
}

//! What the JSON API and the pages share: finding a matter the caller may see, issuing,
//! acting, storing evidence, and the JSON shapes of the stored rows. Authorization lives here,
//! so both front doors apply the same rule: a matter the caller may not see does not exist.

pub mod api;
pub mod forms;
pub mod pages;

use crate::Shared;
use crate::context::{Signed, now_ms};
use crate::engine;
use crate::error::Error;
use crate::http::Upload;
use forms::IssueRequest;
use qingling_activities::db::entities::{evidence_file, matter, matter_event, notice};
use qingling_activities::evidence;
use qingling_rules::matter::{Action, EvidenceRef, NewMatter, Role, Status};
use qingling_rules::refusal::{Class, Refusal};
use qingling_workflows::MatterView;
use qingling_workflows::rectification::{ActionRequest, UploadRequest};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// How long issuing waits for the worker to write the new matter.
const ISSUE_WAIT: Duration = Duration::from_secs(15);
/// How long an action waits for the worker to store its step.
const PERSIST_WAIT: Duration = Duration::from_secs(3);

/// A matter is named by `{id}` in its routes; handlers take it as `Visible<matter::Model>`.
impl crate::http::Scoped for matter::Model {
    fn find(shared: &Shared, who: &Signed, id: &str) -> impl Future<Output = Result<Self, Error>> + Send {
        visible_matter(shared, who, id)
    }
}

/// A matter the caller may see, or `NotFound` (also when it exists but is someone else's).
pub async fn visible_matter(shared: &Shared, who: &Signed, id: &str) -> Result<matter::Model, Error> {
    match shared.app.store.matter(id).await? {
        Some(m) if shared.app.store.user_can_see(&who.user, &m) => Ok(m),
        _ => Err(Error::NotFound),
    }
}

/// The result of issuing.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub matter_id: String,
    pub workflow_id: String,
    pub notice_number: Option<String>,
    /// Whether the worker wrote the matter within the wait.
    #[serde(skip)]
    pub stored: bool,
}

/// The matter id an idempotency key stands for: the same person's same key is the same matter.
/// Shaped as a UUID (version 8, "custom", RFC 9562) like every other matter id.
fn keyed_matter_id(user_id: i64, key: &str) -> String {
    let d = qingling_activities::notice_doc::content_hash(format!("{user_id}\n{key}").as_bytes());
    let variant = ["8", "9", "a", "b"][usize::from(d.as_bytes()[16] % 4)];
    format!("{}-{}-8{}-{variant}{}-{}", &d[0..8], &d[8..12], &d[13..16], &d[17..20], &d[20..32])
}

#[cfg(test)]
#[test]
fn a_keyed_matter_id_is_a_uuid_of_the_person_and_the_key() {
    let id = keyed_matter_id(7, "form-1");
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 8), "{id}");
    assert_eq!(id, keyed_matter_id(7, "form-1"));
    assert_ne!(id, keyed_matter_id(8, "form-1"));
    assert_ne!(id, keyed_matter_id(7, "form-2"));
}

/// Checks an `Idempotency-Key`: 1 to 100 visible ASCII characters.
pub fn idempotency_key(value: Option<&str>) -> Result<Option<String>, Error> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(k) if k.len() <= 100 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_string())),
        Some(_) => Err(Error::BadRequest("Idempotency-Key must be 1 to 100 visible ASCII characters".into())),
    }
}

/// Issues a matter: checks the role and the facility's scope, starts the workflow, and waits
/// until the worker has written the matter and its notice. With an idempotency key the matter's
/// id comes from it: the same request again answers with the first matter and starts nothing,
/// and the same key with another request is refused.
pub async fn issue(shared: &Shared, who: &Signed, req: IssueRequest, key: Option<&str>) -> Result<Issued, Error> {
    if !who.is_oversight() {
        return Err(Error::Forbidden);
    }
    let facilities = shared.app.store.facilities_for(&who.user).await?;
    if !facilities.iter().any(|f| f.id == req.facility_id) {
        return Err(Error::NotFound);
    }
    let new = NewMatter {
        id: key.map(|k| keyed_matter_id(who.user.id, k)).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        facility_id: req.facility_id,
        kind: req.kind,
        severity: req.severity,
        title: req.title.clone(),
        description: req.description.clone(),
        basis: req.basis.clone(),
        issued_by: who.actor(),
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let matter_id = new.id.clone();
    tracing::Span::current().record("matter_id", matter_id.as_str());
    let policy = shared.policy_in_force().await?;
    let facts = shared.app.store.facility_facts(new.facility_id).await?;
    let (workflow_id, started) = engine::issue(&shared.app.temporal.client()?, new, &policy, facts).await?;
    let store = &shared.app.store;
    let stored = crate::http::wait_for(ISSUE_WAIT, || async { Ok(store.matter(&matter_id).await?) }).await?.is_some();
    if !started {
        // A retry of an earlier request: it must be the same request.
        if let Some(m) = shared.app.store.matter(&matter_id).await? {
            let same = m.facility_id == req.facility_id
                && m.kind == req.kind.as_str()
                && m.severity == req.severity.as_str()
                && m.title == req.title
                && m.description == req.description
                && m.basis == req.basis;
            if !same {
                return Err(Error::KeyReused);
            }
        }
    }
    let notice_number = if stored { shared.app.store.notice_for(&matter_id).await?.map(|n| n.number) } else { None };
    if !stored {
        tracing::warn!(%matter_id, "the worker has not written the new matter yet");
    }
    Ok(Issued { matter_id, workflow_id, notice_number, stored })
}

/// Sends an action on a visible matter to its workflow.
pub async fn act(shared: &Shared, who: &Signed, row: &matter::Model, action: Action) -> Result<MatterView, Error> {
    // A finished workflow no longer takes updates; answer as the state machine would.
    if let Some(status) = Status::parse(&row.status).filter(|s| s.is_ended()) {
        return Err(Refusal::new("reject.ended").arg("status", format!("status.{status}")).into());
    }
    // The same check the workflow's validator runs: what it would refuse never reaches it.
    action.check_input(&shared.app.policy.input, shared.app.policy.calendar.local_date(now_ms()))?;
    let action = match action {
        Action::SubmitEvidence { note, evidence } => Action::SubmitEvidence { note, evidence: stored_references(shared, row, &evidence).await? },
        other => other,
    };
    let req = ActionRequest { actor: who.actor(), action };
    let view = engine::act(&shared.app.temporal.client()?, &row.id, req).await?;
    settle(shared, row, view).await
}

/// The workflow has taken a step; it is done when it is stored. A matter held on a step it
/// could not store says so, rather than the console calling the step accepted.
async fn settle(shared: &Shared, row: &matter::Model, view: MatterView) -> Result<MatterView, Error> {
    if !wait_persisted(shared, &row.id, view.last_seq).await
        && let Ok(client) = shared.app.temporal.client()
        && let Ok(live) = engine::view(&client, &row.id).await
        && let Some(error) = live.stuck
    {
        return Err(Refusal::stuck(&error).into());
    }
    Ok(view)
}

/// Waits (briefly) until the database has caught up with a view, so a page shown right after
/// an action already lists it; `false` when it has not.
async fn wait_persisted(shared: &Shared, matter_id: &str, seq: u64) -> bool {
    let store = &shared.app.store;
    let stored = crate::http::wait_for(PERSIST_WAIT, || async { Ok(store.matter(matter_id).await?.filter(|m| m.last_seq >= seq as i64)) }).await;
    matches!(stored, Ok(Some(_)))
}

/// Who may upload evidence for a matter: the facility it concerns (the only role that can
/// submit it) and administrators.
pub fn may_upload(who: &Signed) -> bool {
    matches!(who.role, Role::Facility | Role::Admin)
}

/// The evidence an action may cite: files uploaded to this matter, described as the server
/// stored them. A client's own name, type or size for a file is ignored; a hash that is not one
/// of the matter's files is refused (it was never uploaded, or belongs to another matter).
async fn stored_references(shared: &Shared, row: &matter::Model, cited: &[EvidenceRef]) -> Result<Vec<EvidenceRef>, Error> {
    let files = shared.app.store.evidence_for(&row.id).await?;
    let mut out: Vec<EvidenceRef> = vec![];
    for c in cited {
        if out.iter().any(|r| r.sha256 == c.sha256) {
            continue;
        }
        let Some(f) = files.iter().find(|f| f.sha256 == c.sha256) else {
            let name: String = c.name.chars().take(80).collect();
            return Err(Refusal::new("reject.evidence_unknown").arg("field", "field.evidence").arg("name", name).into());
        };
        out.push(EvidenceRef { sha256: f.sha256.clone(), name: f.original_name.clone(), content_type: f.content_type.clone(), bytes: f.bytes.max(0) as u64 });
    }
    Ok(out)
}

/// Stores uploaded files. Every file is checked first, so a batch with one refused file stores
/// nothing; the checks are the store's own (size, then type from the first bytes). An ended
/// matter takes no more files, and a matter holds at most the policy's number of them.
pub async fn store_evidence(shared: &Shared, who: &Signed, row: &matter::Model, uploads: Vec<Upload>) -> Result<Vec<EvidenceRef>, Error> {
    if !may_upload(who) {
        return Err(Error::Forbidden);
    }
    if let Some(status) = Status::parse(&row.status).filter(|s| s.is_ended()) {
        return Err(Refusal::new("reject.ended").arg("status", format!("status.{status}")).into());
    }
    if uploads.is_empty() {
        return Err(Error::evidence("no_file", Class::Invalid, 0));
    }
    let rules = &shared.app.policy.evidence;
    let held = shared.app.store.evidence_for(&row.id).await?.len();
    if held + uploads.len() > rules.max_files_per_matter as usize {
        let max = rules.max_files_per_matter.to_string();
        return Err(Refusal::new("reject.too_many").arg("field", "field.evidence").arg("max", max).into());
    }
    let mut refs = vec![];
    for u in &uploads {
        refs.push(evidence::describe(rules, &u.bytes, &u.name)?);
    }
    // Every upload is an event on the matter's timeline, in its hash chain: recorded first, so
    // a stored file always has its event (an engine that cannot record it stores nothing).
    let view = engine::record_upload(&shared.app.temporal.client()?, &row.id, UploadRequest { actor: who.actor(), files: refs.clone() }).await?;
    for u in uploads {
        evidence::store(&shared.app.store, rules, &u.bytes, &u.name, &row.id, who.user.id, now_ms()).await?;
    }
    settle(shared, row, view).await?;
    Ok(refs)
}

/// The evidence row of a visible matter with this hash, and where its bytes are.
pub async fn evidence_file(shared: &Shared, row: &matter::Model, sha256: &str) -> Result<(evidence_file::Model, std::path::PathBuf), Error> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound);
    }
    let file = shared.app.store.evidence_for(&row.id).await?.into_iter().find(|e| e.sha256 == sha256).ok_or(Error::NotFound)?;
    Ok((file, evidence::path_of(&shared.app.store, sha256)))
}

// JSON shapes. Rows are copied field by field so the API does not change when a column is
// added, and nothing secret (password hashes) can slip out.

/// A stored matter as the API shows it. Dates counted over a year whose holiday schedule is not
/// published carry `provisional: true` (`next_due_provisional` for `next_due_ms`).
pub fn matter_json(m: &matter::Model, notice_number: Option<&str>, calendar: &qingling_rules::Calendar) -> Value {
    let snapshot = serde_json::from_str::<qingling_rules::matter::Matter>(&m.snapshot).ok();
    let deadlines: Vec<Value> = snapshot
        .iter()
        .flat_map(|s| s.deadlines.iter())
        .map(|d| {
            let years = if d.is_open() { d.provisional_years(calendar) } else { vec![] };
            json!({ "kind": d.kind, "due_ms": d.due_ms, "met_ms": d.met_ms, "provisional": !years.is_empty(), "provisional_years": years })
        })
        .collect();
    let next_due_provisional = m.next_due_ms.is_some_and(|due| !calendar.provisional_years_ms(m.issued_at_ms, due).is_empty());
    json!({
        "id": m.id, "workflow_id": m.workflow_id, "facility_id": m.facility_id, "region_id": m.region_id,
        "kind": m.kind, "severity": m.severity, "title": m.title, "description": m.description, "basis": m.basis,
        "status": m.status, "escalation_level": m.escalation_level, "handler": m.handler,
        "next_due_ms": m.next_due_ms, "next_due_provisional": next_due_provisional, "deadlines": deadlines,
        "overdue": m.overdue, "issued_by": m.issued_by,
        "issued_at_ms": m.issued_at_ms, "updated_at_ms": m.updated_at_ms, "last_seq": m.last_seq,
        "notice_number": notice_number,
        "snapshot": serde_json::from_str::<Value>(&m.snapshot).unwrap_or(Value::Null),
    })
}

pub fn event_json(e: &matter_event::Model) -> Value {
    json!({
        "seq": e.seq, "at_ms": e.at_ms, "kind": e.kind, "actor_id": e.actor_id, "actor_name": e.actor_name,
        "actor_role": e.actor_role, "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
        "hash": e.hash,
    })
}

pub fn evidence_json(e: &evidence_file::Model) -> Value {
    json!({
        "sha256": e.sha256, "name": e.original_name, "content_type": e.content_type, "bytes": e.bytes,
        "uploaded_by": e.uploaded_by, "uploaded_at_ms": e.uploaded_at_ms,
        "url": format!("/api/matters/{}/evidence/{}", e.matter_id, e.sha256),
    })
}

pub fn notice_json(n: &notice::Model) -> Value {
    json!({ "number": n.number, "year": n.year, "seq": n.seq, "title": n.title, "issued_at_ms": n.issued_at_ms })
}

//! The campaign activities (`workflows::campaign`): the campaign's row and events, the
//! commitment (snapshots of both directories taken now), the draw on the committed snapshots
//! with its bundle stored once, a reassignment checked against the committed directory, and the
//! inspections' progress. Each is idempotent: a retry finds what the first attempt stored.

use crate::Error;
use crate::chain::{AuditKey, EventContent, Link, Log, Stored};
use crate::db::entities::{campaign, campaign_draw, campaign_event, campaign_mail, campaign_target, directory_target, inspection, user};
use crate::mail::{Mailer, compose_stem, format_instant};
use crate::outbox;
use crate::recipients::{self, Recipient};
use crate::store::Store;
use crate::store::directory::{SnapshotKind, take_snapshot};
use qingling_rules::calendar::Calendar;
use qingling_rules::campaign::Deadline;
use qingling_rules::draw::{self, Bundle, Commitment, InspectorDirectory, Target, Team};
use qingling_rules::inspection::InspectionStatus;
use qingling_rules::matter::{Actor, Role};
use qingling_rules::messages::{self, Locale};
use qingling_rules::policy::Audience;
use qingling_rules::refusal::Refusal;
use qingling_workflows::contract::{
    CampaignActivities, CampaignRecord, CommitRequest, Committed, DrawOutcome, DrawRun, DrawnHome, PendingEvent, Progress, ReassignOutcome, ReassignRun,
    SupersedeRun,
};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use std::collections::BTreeMap;
use std::sync::Arc;
use temporalio_common::ActivityDefinition;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct CampaignActivitiesImpl {
    pub store: Store,
    /// The key of the campaigns' event chains (the matters' key).
    pub audit_key: AuditKey,
    /// Sends the mails a campaign's escalations cause.
    pub mail: CampaignMail,
}

/// What escalation mails need: the mailer, the calendar that writes their dates, and the console's
/// address for the link.
#[derive(Clone)]
pub struct CampaignMail {
    pub mailer: Mailer,
    pub calendar: Calendar,
    pub public_url: String,
}

/// The campaigns' outbox: table `campaign_mails`, keyed like the matters' `mails`.
pub struct CampaignOutbox;

crate::outbox_table!(CampaignOutbox, campaign_mail, campaign_id, CampaignId);

/// The notice kind (and catalogue stem, `mail.campaign_escalated_*`) of an escalation mail.
pub const ESCALATED: &str = "campaign_escalated";

/// Who is told of a campaign's escalation: the region's supervisors always (the campaign is
/// theirs); administrators when the step names them; when the inspections are late and the step
/// names inspectors, the teams of the homes not inspected yet. Never a facility: a campaign is
/// about many, and a home is not told it was drawn before its inspection.
async fn escalation_recipients(db: &impl ConnectionTrait, r: &CampaignRecord, payload: &serde_json::Value) -> crate::Result<Vec<Recipient>> {
    let notify: Vec<Audience> = payload.get("notify").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
    let mut audience = vec![Audience::Supervisor];
    if notify.contains(&Audience::Admin) {
        audience.push(Audience::Admin);
    }
    let mut out = recipients::resolve_in_region(db, &audience, r.region_id).await?;
    if notify.contains(&Audience::Inspector) && payload.get("deadline").and_then(|d| d.as_str()) == Some(Deadline::Inspect.as_str()) {
        let waiting: Vec<String> = payload.get("waiting").and_then(|w| serde_json::from_value(w.clone()).ok()).unwrap_or_default();
        let targets = campaign_target::Entity::find()
            .filter(campaign_target::Column::CampaignId.eq(r.campaign_id.clone()))
            .filter(campaign_target::Column::TargetCode.is_in(waiting))
            .all(db)
            .await?;
        let certificates: std::collections::BTreeSet<String> =
            targets.iter().flat_map(|t| serde_json::from_str::<Vec<String>>(&t.team).unwrap_or_default()).collect();
        if !certificates.is_empty() {
            for u in user::Entity::find().filter(user::Column::Certificate.is_in(certificates)).order_by_asc(user::Column::Id).all(db).await? {
                let email = u.email.trim().to_string();
                if !email.is_empty() && email.parse::<lettre::Address>().is_ok() && !out.iter().any(|o| o.email.eq_ignore_ascii_case(&email)) {
                    out.push(Recipient { email, name: u.display_name, locale: Locale::from_code(&u.locale).unwrap_or_default() });
                }
            }
        }
    }
    Ok(out)
}

/// Queues the mails of one escalation event, in the reader's language.
async fn queue_escalation(db: &impl ConnectionTrait, mail: &CampaignMail, r: &CampaignRecord, e: &PendingEvent) -> crate::Result<()> {
    let deadline = e.payload.get("deadline").and_then(|d| d.as_str()).unwrap_or_default();
    let due_ms = r.state.dates.map(|d| match deadline {
        "assign" => d.assign_by_ms,
        "inspect" => d.window_end_ms,
        _ => d.publish_by_ms,
    });
    let step = e.payload.get("step").and_then(|s| s.as_str()).unwrap_or_default();
    let level = e.payload.get("level").map(|l| l.to_string()).unwrap_or_default();
    let waiting = e.payload.get("waiting").and_then(|w| w.as_array()).map_or(0, Vec::len);
    let link = format!("{}/campaigns/{}", mail.public_url.trim_end_matches('/'), r.campaign_id);
    for to in escalation_recipients(db, r, &e.payload).await? {
        let l = to.locale;
        let args = [
            ("title", r.state.plan.title.clone()),
            ("deadline", messages::t(l, &format!("campaign_deadline.{deadline}"), &[])),
            ("step", messages::t(l, &format!("escalation.{step}"), &[])),
            ("level", level.clone()),
            ("due", due_ms.map(|ms| format_instant(&mail.calendar, ms)).unwrap_or_default()),
            ("waiting", if waiting > 0 { messages::t(l, "mail.campaign_waiting", &[("n", &waiting.to_string())]) } else { String::new() }),
        ];
        let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let text = compose_stem(l, ESCALATED, &to.name, &refs, &link)?;
        let m = outbox::Mail { subject_id: &r.campaign_id, cause_seq: e.seq as i64, notice_kind: ESCALATED, to: &to, text: &text };
        outbox::queue::<CampaignOutbox>(db, &m).await?;
    }
    Ok(())
}

/// The campaigns' event log: table `campaign_events`, one keyed hash chain per campaign, tagged
/// `campaign` (so an event copied from another kind's log does not verify).
pub struct CampaignLog;

impl Log for CampaignLog {
    type Entity = campaign_event::Entity;
    const KIND: Option<&'static str> = Some("campaign");
    const NOUN: &'static str = "campaign";

    fn subject(id: &str) -> Condition {
        Condition::all().add(campaign_event::Column::CampaignId.eq(id))
    }

    fn seq() -> campaign_event::Column {
        campaign_event::Column::Seq
    }

    fn hash() -> campaign_event::Column {
        campaign_event::Column::Hash
    }

    fn row(link: &Link<'_>) -> campaign_event::ActiveModel {
        let c = &link.content;
        campaign_event::ActiveModel {
            id: NotSet,
            campaign_id: Set(c.subject.to_string()),
            seq: Set(c.seq),
            kind: Set(c.kind.to_string()),
            payload: Set(c.payload.to_string()),
            actor_id: Set(c.actor_id),
            actor_name: Set(c.actor_name.map(str::to_string)),
            actor_role: Set(c.actor_role.map(str::to_string)),
            at_ms: Set(c.at_ms),
            prev_hash: Set(link.prev_hash.to_string()),
            hash: Set(link.hash.to_string()),
        }
    }
}

impl Stored for campaign_event::Model {
    fn link(&self) -> Link<'_> {
        Link {
            content: EventContent {
                log: CampaignLog::KIND,
                subject: &self.campaign_id,
                seq: self.seq,
                at_ms: self.at_ms,
                kind: &self.kind,
                actor_id: self.actor_id,
                actor_name: self.actor_name.as_deref(),
                actor_role: self.actor_role.as_deref(),
                payload: &self.payload,
            },
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// Checks one campaign's chain as stored: `None` when every link holds.
pub async fn check_chain(store: &Store, key: &AuditKey, campaign_id: &str) -> crate::Result<Option<crate::chain::Break>> {
    let events = crate::chain::read::<CampaignLog>(&store.db, campaign_id).await?;
    Ok(crate::chain::check(key, &events, None, None))
}

const _: fn() = || {
    fn same<D: ActivityDefinition<Input = I, Output = O>, I, O>(_: &D, _: fn(I) -> O) {}
    same(&CampaignActivities::record, |_: CampaignRecord| ());
    same(&CampaignActivities::progress, |_: String| -> Progress { Progress { total: 0, done: 0, waiting: vec![] } });
};

/// Every failure here is the database's or an inconsistency a later attempt may not have:
/// retried (with Temporal's back-off) and logged.
fn failure(what: &str, id: &str, e: Error) -> ActivityError {
    tracing::warn!(campaign_id = %id, error = %e, "{what} failed; it will be retried");
    ActivityError::application(ApplicationFailure::new(e))
}

#[activities]
impl CampaignActivitiesImpl {
    #[activity(name = ActivityDefinition::name(&CampaignActivities::record))]
    pub async fn record(self: Arc<Self>, _ctx: ActivityContext, record: CampaignRecord) -> Result<(), ActivityError> {
        record_campaign(&self.store, &self.audit_key, Some(&self.mail), &record).await.map_err(|e| failure("campaign.record", &record.campaign_id, e))
    }

    #[activity(name = ActivityDefinition::name(&CampaignActivities::commit))]
    pub async fn commit(self: Arc<Self>, _ctx: ActivityContext, request: CommitRequest) -> Result<Committed, ActivityError> {
        commit(&self.store, &request).await.map_err(|e| failure("campaign.commit", &request.campaign_id, e))
    }

    #[activity(name = ActivityDefinition::name(&CampaignActivities::draw))]
    pub async fn draw(self: Arc<Self>, _ctx: ActivityContext, run: DrawRun) -> Result<DrawOutcome, ActivityError> {
        run_draw(&self.store, &run).await.map_err(|e| failure("campaign.draw", &run.campaign_id, e))
    }

    #[activity(name = ActivityDefinition::name(&CampaignActivities::reassign))]
    pub async fn reassign(self: Arc<Self>, _ctx: ActivityContext, run: ReassignRun) -> Result<ReassignOutcome, ActivityError> {
        reassign(&self.store, &run).await.map_err(|e| failure("campaign.reassign", &run.campaign_id, e))
    }

    #[activity(name = ActivityDefinition::name(&CampaignActivities::supersede))]
    pub async fn supersede(self: Arc<Self>, _ctx: ActivityContext, run: SupersedeRun) -> Result<(), ActivityError> {
        supersede(&self.store, &run).await.map_err(|e| failure("campaign.supersede", &run.campaign_id, e))
    }

    #[activity(name = ActivityDefinition::name(&CampaignActivities::progress))]
    pub async fn progress(self: Arc<Self>, _ctx: ActivityContext, campaign_id: String) -> Result<Progress, ActivityError> {
        progress(&self.store, &campaign_id).await.map_err(|e| failure("campaign.progress", &campaign_id, e))
    }
}

/// Upserts the campaign's row, appends the events not stored yet, queues the mails of its
/// escalations (with `mail`), and notes each home's inspection, in one transaction; then sends
/// the queued mails.
#[tracing::instrument(name = "campaign.record", skip_all, fields(campaign_id = %r.campaign_id))]
pub async fn record_campaign(store: &Store, key: &AuditKey, mail: Option<&CampaignMail>, r: &CampaignRecord) -> crate::Result<()> {
    let txn = store.db.begin().await?;
    let state = serde_json::to_string(&r.state)?;
    let status = r.state.status.as_str().to_string();
    let publish_by = r.state.dates.map(|d| d.publish_by_ms);
    match campaign::Entity::find_by_id(r.campaign_id.clone()).one(&txn).await? {
        None => {
            let row = campaign::ActiveModel {
                id: Set(r.campaign_id.clone()),
                workflow_id: Set(r.workflow_id.clone()),
                region_id: Set(r.region_id),
                title: Set(r.state.plan.title.clone()),
                status: Set(status),
                state: Set(state),
                commitment: Set(None),
                commitment_sha256: Set(r.state.commitment_sha256.clone()),
                bundle_sha256: Set(r.state.bundle_sha256.clone()),
                schedule_id: Set(r.schedule_id.clone()),
                created_by: Set(r.created_by),
                created_at_ms: Set(r.created_ms),
                updated_at_ms: Set(r.updated_ms),
                publish_by_ms: Set(publish_by),
                published_at_ms: Set(r.state.published_ms),
            };
            campaign::Entity::insert(row).exec_without_returning(&txn).await?;
        }
        Some(found) if found.updated_at_ms > r.updated_ms => {}
        Some(found) => {
            let mut row: campaign::ActiveModel = found.into();
            row.status = Set(status);
            row.state = Set(state);
            row.commitment_sha256 = Set(r.state.commitment_sha256.clone());
            row.bundle_sha256 = Set(r.state.bundle_sha256.clone());
            row.updated_at_ms = Set(r.updated_ms);
            row.publish_by_ms = Set(publish_by);
            row.published_at_ms = Set(r.state.published_ms);
            campaign::Entity::update(row).exec(&txn).await?;
        }
    }
    let payloads: Vec<String> = r.events.iter().map(|e| e.payload.to_string()).collect();
    let roles: Vec<Option<&str>> = r.events.iter().map(|e| e.actor.as_ref().map(|a| a.role.as_str())).collect();
    let contents: Vec<EventContent<'_>> = r
        .events
        .iter()
        .zip(&payloads)
        .zip(&roles)
        .map(|((e, payload), role)| EventContent {
            log: CampaignLog::KIND,
            subject: &r.campaign_id,
            seq: e.seq as i64,
            at_ms: e.at_ms,
            kind: &e.kind,
            actor_id: e.actor.as_ref().map(|a| a.user_id),
            actor_name: e.actor.as_ref().map(|a| a.name.as_str()),
            actor_role: *role,
            payload,
        })
        .collect();
    crate::chain::append::<CampaignLog>(&txn, key, &contents).await?;
    if let Some(mail) = mail {
        for e in r.events.iter().filter(|e| e.kind == "escalated") {
            queue_escalation(&txn, mail, r, e).await?;
        }
    }
    for (target, inspection_id) in &r.inspections {
        campaign_target::Entity::update_many()
            .col_expr(campaign_target::Column::InspectionId, sea_orm::sea_query::Expr::value(inspection_id.clone()))
            .filter(campaign_target::Column::CampaignId.eq(r.campaign_id.clone()))
            .filter(campaign_target::Column::TargetCode.eq(target.clone()))
            .filter(campaign_target::Column::InspectionId.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    if let Some(mail) = mail {
        outbox::send_pending::<CampaignOutbox>(&store.db, &mail.mailer, &r.campaign_id).await?;
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> crate::Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Inconsistent(format!("{what} does not read back: {e}")))
}

async fn row(store: &Store, id: &str) -> crate::Result<campaign::Model> {
    campaign::Entity::find_by_id(id.to_string()).one(&store.db).await?.ok_or_else(|| Error::Inconsistent(format!("campaign {id} is not stored yet")))
}

/// The committed snapshots, read back.
async fn committed(store: &Store, c: &Commitment) -> crate::Result<(Vec<Target>, InspectorDirectory)> {
    let t = store.directory_snapshot(SnapshotKind::Targets, &c.targets_sha256).await?.ok_or_else(|| Error::Inconsistent("targets snapshot missing".into()))?;
    let i = store
        .directory_snapshot(SnapshotKind::Inspectors, &c.inspectors_sha256)
        .await?
        .ok_or_else(|| Error::Inconsistent("inspectors snapshot missing".into()))?;
    Ok((parse("targets snapshot", &t.content)?, parse("inspectors snapshot", &i.content)?))
}

/// Snapshots both directories as they stand and stores the commitment (once).
pub async fn commit(store: &Store, r: &CommitRequest) -> crate::Result<Committed> {
    let found = row(store, &r.campaign_id).await?;
    if let Some(text) = &found.commitment {
        let c: Commitment = parse("commitment", text)?;
        return Ok(Committed { commitment_sha256: draw::digest(&c), targets_sha256: c.targets_sha256, inspectors_sha256: c.inspectors_sha256 });
    }
    let txn = store.db.begin().await?;
    let targets = take_snapshot(&txn, SnapshotKind::Targets, "commitment", Some(r.by), r.at_ms).await?;
    let inspectors = take_snapshot(&txn, SnapshotKind::Inspectors, "commitment", Some(r.by), r.at_ms).await?;
    let c = Commitment {
        algorithm: draw::ALGORITHM.to_string(),
        targets_sha256: targets.sha256.clone(),
        inspectors_sha256: inspectors.sha256.clone(),
        plan: r.plan.clone(),
        sources: r.sources.clone(),
    };
    let sha = draw::digest(&c);
    let mut update: campaign::ActiveModel = found.into();
    update.commitment = Set(Some(draw::canonical_json(&c)));
    update.commitment_sha256 = Set(Some(sha.clone()));
    campaign::Entity::update(update).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(campaign_id = %r.campaign_id, commitment = %sha, "campaign committed");
    Ok(Committed { commitment_sha256: sha, targets_sha256: targets.sha256, inspectors_sha256: inspectors.sha256 })
}

/// The inspector accounts by certificate number.
async fn accounts<C: ConnectionTrait>(db: &C) -> crate::Result<BTreeMap<String, user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Inspector.as_str()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| u.certificate.clone().map(|c| (c, u)))
        .collect())
}

fn actor(u: &user::Model) -> Actor {
    Actor { user_id: u.id, name: u.display_name.clone(), role: Role::Inspector, facility_id: None }
}

/// The homes of a stored draw, with their facilities and accounts.
async fn homes(store: &Store, campaign_id: &str) -> crate::Result<Result<Vec<DrawnHome>, Refusal>> {
    let rows = campaign_target::Entity::find()
        .filter(campaign_target::Column::CampaignId.eq(campaign_id))
        .order_by_asc(campaign_target::Column::Id)
        .all(&store.db)
        .await?;
    let people = accounts(&store.db).await?;
    let mut out = vec![];
    for r in rows {
        let team: Vec<String> = parse("team", &r.team)?;
        let mut members = vec![];
        for cert in team {
            match people.get(&cert) {
                Some(u) => members.push((cert, actor(u))),
                None => return Ok(Err(Refusal::new("campaign.no_account").arg("inspector", cert))),
            }
        }
        out.push(DrawnHome { target: r.target_code.clone(), facility_id: r.facility_id, facility: store.facility_facts(r.facility_id).await?, team: members });
    }
    Ok(Ok(out))
}

/// Runs the committed draw and stores its bundle and homes in one transaction (once).
pub async fn run_draw(store: &Store, r: &DrawRun) -> crate::Result<DrawOutcome> {
    let found = row(store, &r.campaign_id).await?;
    let stored = campaign_draw::Entity::find()
        .filter(campaign_draw::Column::CampaignId.eq(r.campaign_id.clone()))
        .filter(campaign_draw::Column::Seq.eq(r.seq as i32))
        .one(&store.db)
        .await?;
    if let Some(d) = stored {
        return Ok(match homes(store, &r.campaign_id).await? {
            Ok(homes) => DrawOutcome::Drawn { bundle_sha256: d.bundle_sha256, homes },
            Err(refusal) => DrawOutcome::Refused(refusal),
        });
    }
    let c: Commitment = parse("commitment", found.commitment.as_deref().ok_or_else(|| Error::Inconsistent("the campaign is not committed".into()))?)?;
    let (targets, inspectors) = committed(store, &c).await?;
    let bundle = match Bundle::run(c, targets, inspectors, r.values.clone(), r.witnesses.clone()) {
        Ok(b) => b,
        Err(refusal) => return Ok(DrawOutcome::Refused(refusal)),
    };
    // Every drawn home must still be a facility, every drawn inspector have an account.
    let codes: BTreeMap<String, i64> = directory_target::Entity::find().all(&store.db).await?.into_iter().map(|t| (t.code, t.facility_id)).collect();
    let people = accounts(&store.db).await?;
    for team in &bundle.result.teams {
        if !codes.contains_key(&team.target) {
            return Ok(DrawOutcome::Refused(Refusal::new("campaign.target_gone").arg("target", team.target.clone())));
        }
        if let Some(missing) = team.inspectors.iter().find(|c| !people.contains_key(*c)) {
            return Ok(DrawOutcome::Refused(Refusal::new("campaign.no_account").arg("inspector", missing.clone())));
        }
    }
    let sha = draw::digest(&bundle);
    let txn = store.db.begin().await?;
    let draw_row = campaign_draw::ActiveModel {
        id: NotSet,
        campaign_id: Set(r.campaign_id.clone()),
        seq: Set(r.seq as i32),
        bundle: Set(draw::canonical_json(&bundle)),
        bundle_sha256: Set(sha.clone()),
        operator_id: Set(r.operator.user_id),
        witnesses: Set(serde_json::to_string(&r.witnesses)?),
        created_at_ms: Set(r.at_ms),
        superseded_reason: Set(None),
        superseded_at_ms: Set(None),
    };
    campaign_draw::Entity::insert(draw_row).exec_without_returning(&txn).await?;
    for team in &bundle.result.teams {
        let row = campaign_target::ActiveModel {
            id: NotSet,
            campaign_id: Set(r.campaign_id.clone()),
            target_code: Set(team.target.clone()),
            facility_id: Set(codes[&team.target]),
            team: Set(serde_json::to_string(&team.inspectors)?),
            inspection_id: Set(None),
            updated_at_ms: Set(r.at_ms),
        };
        campaign_target::Entity::insert(row).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    tracing::info!(campaign_id = %r.campaign_id, bundle = %sha, homes = bundle.result.teams.len(), "campaign drawn");
    Ok(match homes(store, &r.campaign_id).await? {
        Ok(homes) => DrawOutcome::Drawn { bundle_sha256: sha, homes },
        Err(refusal) => DrawOutcome::Refused(refusal),
    })
}

/// Sets a campaign's draw `seq` aside with the reason and clears the homes it drew (the draw's
/// bundle keeps them). Once: a retry finds the draw marked and nothing left to clear.
pub async fn supersede(store: &Store, r: &SupersedeRun) -> crate::Result<()> {
    let txn = store.db.begin().await?;
    campaign_draw::Entity::update_many()
        .col_expr(campaign_draw::Column::SupersededReason, sea_orm::sea_query::Expr::value(r.reason.clone()))
        .col_expr(campaign_draw::Column::SupersededAtMs, sea_orm::sea_query::Expr::value(r.at_ms))
        .filter(campaign_draw::Column::CampaignId.eq(r.campaign_id.clone()))
        .filter(campaign_draw::Column::Seq.eq(r.seq as i32))
        .filter(campaign_draw::Column::SupersededAtMs.is_null())
        .exec(&txn)
        .await?;
    campaign_target::Entity::delete_many().filter(campaign_target::Column::CampaignId.eq(r.campaign_id.clone())).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(campaign_id = %r.campaign_id, draw = r.seq, "campaign draw superseded");
    Ok(())
}

/// Every draw of a campaign, the current one last (a superseded draw names its reason).
pub async fn draws(store: &Store, campaign_id: &str) -> crate::Result<Vec<campaign_draw::Model>> {
    Ok(campaign_draw::Entity::find().filter(campaign_draw::Column::CampaignId.eq(campaign_id)).order_by_asc(campaign_draw::Column::Seq).all(&store.db).await?)
}

/// One draw's bundle, current or superseded.
pub async fn bundle_of_draw(store: &Store, campaign_id: &str, seq: i32) -> crate::Result<Option<Bundle>> {
    let stored = campaign_draw::Entity::find()
        .filter(campaign_draw::Column::CampaignId.eq(campaign_id))
        .filter(campaign_draw::Column::Seq.eq(seq))
        .one(&store.db)
        .await?;
    stored.map(|d| parse("bundle", &d.bundle)).transpose()
}

/// The committed bundle of a campaign.
pub async fn bundle(store: &Store, campaign_id: &str) -> crate::Result<Option<Bundle>> {
    let stored = campaign_draw::Entity::find()
        .filter(campaign_draw::Column::CampaignId.eq(campaign_id))
        .filter(campaign_draw::Column::SupersededAtMs.is_null())
        .order_by_desc(campaign_draw::Column::Seq)
        .one(&store.db)
        .await?;
    stored.map(|d| parse("bundle", &d.bundle)).transpose()
}

/// Replaces one inspector of a drawn team when the committed directory allows it.
pub async fn reassign(store: &Store, run: &ReassignRun) -> crate::Result<ReassignOutcome> {
    let r = &run.reassignment;
    let b = bundle(store, &run.campaign_id).await?.ok_or_else(|| Error::Inconsistent("the campaign is not drawn".into()))?;
    let row = campaign_target::Entity::find()
        .filter(campaign_target::Column::CampaignId.eq(run.campaign_id.clone()))
        .filter(campaign_target::Column::TargetCode.eq(r.target.clone()))
        .one(&store.db)
        .await?
        .ok_or_else(|| Error::Inconsistent(format!("{} is not drawn", r.target)))?;
    let mut members: Vec<String> = parse("team", &row.team)?;
    let team = Team { target: r.target.clone(), inspectors: members.clone(), picks: vec![] };
    // A retry after the change was stored finds the replacement in place.
    if !members.contains(&r.replacement) {
        let target = b.targets.iter().find(|t| t.id == r.target).ok_or_else(|| Error::Inconsistent(format!("{} is not in the snapshot", r.target)))?;
        if let Err(why) = draw::check_replacement(&b.commitment.plan, &b.inspectors, target, &team, &r.replacement) {
            return Ok(ReassignOutcome::Refused(why));
        }
        if !accounts(&store.db).await?.contains_key(&r.replacement) {
            return Ok(ReassignOutcome::Refused(Refusal::new("campaign.no_account").arg("inspector", r.replacement.clone())));
        }
        for m in members.iter_mut().filter(|m| **m == r.out) {
            *m = r.replacement.clone();
        }
        let mut update: campaign_target::ActiveModel = row.into();
        update.team = Set(serde_json::to_string(&members)?);
        campaign_target::Entity::update(update).exec(&store.db).await?;
    }
    let all = homes(store, &run.campaign_id).await?;
    Ok(match all {
        Ok(list) => match list.into_iter().find(|h| h.target == r.target) {
            Some(home) => ReassignOutcome::Done(home),
            None => ReassignOutcome::Refused(Refusal::new("campaign.not_drawn").arg("target", r.target.clone())),
        },
        Err(why) => ReassignOutcome::Refused(why),
    })
}

/// How many of the campaign's inspections are done, and the homes still waiting.
pub async fn progress(store: &Store, campaign_id: &str) -> crate::Result<Progress> {
    let prefix = format!("{campaign_id}-");
    let rows = inspection::Entity::find().filter(inspection::Column::Id.starts_with(&prefix)).all(&store.db).await?;
    let targets: BTreeMap<i64, String> = campaign_target::Entity::find()
        .filter(campaign_target::Column::CampaignId.eq(campaign_id))
        .all(&store.db)
        .await?
        .into_iter()
        .map(|t| (t.facility_id, t.target_code))
        .collect();
    let done_states = [InspectionStatus::Submitted.as_str(), InspectionStatus::Completed.as_str()];
    let done = rows.iter().filter(|i| done_states.contains(&i.status.as_str())).count();
    let mut waiting: Vec<String> =
        rows.iter().filter(|i| !done_states.contains(&i.status.as_str())).filter_map(|i| targets.get(&i.facility_id).cloned()).collect();
    waiting.sort();
    waiting.dedup();
    Ok(Progress { total: rows.len() as u32, done: done as u32, waiting })
}

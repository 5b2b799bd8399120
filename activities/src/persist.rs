//! The `matter.persist` activity: makes one workflow step durable. It is the matter's
//! composition of the generic building blocks: [`crate::numbering`] for the notice number,
//! [`crate::chain`] for the event log ([`MatterLog`]), [`crate::recipients`] and
//! [`crate::outbox`] for the mails ([`MatterOutbox`]).
//!
//! In one transaction it creates the matter and its numbered notice on the first batch, appends
//! the new events to the hash chain (skipping those already written, so a retried activity never
//! writes an event twice), rewrites the matter's projection and queues the mails the events
//! cause. After commit it sends every queued mail of the matter; mails are at-least-once.
//!
//! Failures: a business or programming error (an unknown facility) is a non-retryable
//! application failure; database, file and SMTP errors are retryable.

use crate::audit::{AuditKey, EventContent, MatterLog};
use crate::chain::{self, Log};
use crate::db::entities::{facility, inspection_notice, mail, matter, notice, region};
use crate::mail::{Mailer, compose, format_instant, notice_key};
use crate::outbox;
use crate::store::Store;
use crate::{Error, numbering, recipients};
use chrono::Datelike;
use qingling_rules::matter::{DeadlineKind, Matter};
use qingling_rules::messages::{Locale, t};
use qingling_rules::{Calendar, Policy};
use qingling_workflows::contract::{MatterActivities, PendingMail, PersistBatch, Persisted, StuckReport};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set, TransactionTrait};
use std::sync::Arc;
use temporalio_common::ActivityDefinition;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Everything the activity needs. The policy gives the notice-number pattern; the calendar
/// formats dates in mails; `public_url` makes the link back to the console.
pub struct MatterActivitiesImpl {
    pub store: Store,
    pub mailer: Mailer,
    pub calendar: Calendar,
    pub policy: Policy,
    pub public_url: String,
    /// Keys the event hash chain ([`crate::audit`]).
    pub audit_key: AuditKey,
}

// The workflow calls the activity through its definition in `qingling_workflows::contract`. The
// marker type generated there is private to its module, so the implementation is registered
// under the definition's *name*, and this check keeps the input and output types in step.
// (The `#[activities]` macro writes a bare `Result<_, ActivityError>`, which is why this module
// spells the crate's own alias `crate::Result`.)
const _: fn() = || {
    fn same_contract<D: ActivityDefinition<Input = PersistBatch, Output = Persisted>>(_: &D) {}
    same_contract(&MatterActivities::persist);
    fn same_report<D: ActivityDefinition<Input = StuckReport, Output = ()>>(_: &D) {}
    same_report(&MatterActivities::report_stuck);
};

#[activities]
impl MatterActivitiesImpl {
    #[activity(name = ActivityDefinition::name(&MatterActivities::persist))]
    pub async fn persist(self: Arc<Self>, _ctx: ActivityContext, batch: PersistBatch) -> Result<Persisted, ActivityError> {
        self.persist_batch(&batch).await.map_err(|e| {
            let failure = if e.is_retryable() {
                tracing::warn!(matter_id = %batch.matter.id, error = %e, "matter.persist failed; it will be retried");
                ApplicationFailure::new(e)
            } else {
                tracing::error!(matter_id = %batch.matter.id, error = %e, "matter.persist failed, and retrying cannot help: the matter is held");
                ApplicationFailure::non_retryable(e)
            };
            ActivityError::application(failure)
        })
    }

    #[activity(name = ActivityDefinition::name(&MatterActivities::report_stuck))]
    pub async fn report_stuck(self: Arc<Self>, _ctx: ActivityContext, report: StuckReport) -> Result<(), ActivityError> {
        tracing::error!(workflow_id = %report.workflow_id, kind = %report.kind, subject_id = %report.subject_id, error = %report.error, "workflow held: a step could not be stored");
        self.store.record_stuck(&report).await.map_err(|e| ActivityError::application(ApplicationFailure::new(e)))
    }
}

/// The columns of a matter row that follow the workflow's state.
struct Projection {
    status: String,
    escalation_level: i32,
    handler: Option<String>,
    next_due_ms: Option<i64>,
    overdue: bool,
    snapshot: String,
    updated_at_ms: i64,
    last_seq: i64,
}

impl Projection {
    fn of(batch: &PersistBatch) -> crate::Result<Self> {
        let m: &Matter = &batch.matter;
        Ok(Projection {
            status: m.status.as_str().to_string(),
            escalation_level: m.escalation_level as i32,
            handler: m.handler.clone(),
            // The facility's and the inspector's next date; a supervisor's decision date is in their queue.
            next_due_ms: m.deadlines.iter().filter(|d| d.is_open() && d.kind != DeadlineKind::Decide).map(|d| d.due_ms).min(),
            overdue: m.deadlines.iter().any(|d| d.is_overdue() && d.kind != DeadlineKind::Decide),
            snapshot: serde_json::to_string(m)?,
            // The time of the step itself (not the wall clock), so a retry writes the same row.
            updated_at_ms: batch.events.iter().map(|e| e.at_ms).max().unwrap_or(m.issued_ms),
            last_seq: batch.events.iter().map(|e| e.seq as i64).max().unwrap_or(0),
        })
    }
}

/// The matters' outbox: table `mails`, one row per (matter, event, notice kind, recipient).
pub struct MatterOutbox;

crate::outbox_table!(MatterOutbox, mail, matter_id, MatterId);

impl MatterActivitiesImpl {
    /// The activity's work without Temporal around it: write the batch, then send the mails.
    #[tracing::instrument(name = "matter.persist", skip_all, fields(matter_id = %batch.matter.id, workflow_id = %batch.workflow_id, events = batch.events.len()))]
    pub async fn persist_batch(&self, batch: &PersistBatch) -> crate::Result<Persisted> {
        let persisted = self.write(batch).await?;
        self.send_pending(&batch.matter.id).await?;
        Ok(persisted)
    }

    async fn write(&self, batch: &PersistBatch) -> crate::Result<Persisted> {
        let m = &batch.matter;
        let p = Projection::of(batch)?;
        let txn = self.store.db.begin().await?;

        // The projection update comes first on purpose: a write as the first statement makes
        // SQLite take its write lock before reading anything, so concurrent persists queue on the
        // busy timeout instead of failing to upgrade a stale read; on PostgreSQL it locks the
        // matter row. The `last_seq` guard keeps an older batch from overwriting a newer state.
        let updated = matter::Entity::update_many()
            .col_expr(matter::Column::Status, Expr::value(p.status.clone()))
            .col_expr(matter::Column::EscalationLevel, Expr::value(p.escalation_level))
            .col_expr(matter::Column::Handler, Expr::value(p.handler.clone()))
            .col_expr(matter::Column::NextDueMs, Expr::value(p.next_due_ms))
            .col_expr(matter::Column::Overdue, Expr::value(p.overdue))
            .col_expr(matter::Column::Snapshot, Expr::value(p.snapshot.clone()))
            .col_expr(matter::Column::UpdatedAtMs, Expr::value(p.updated_at_ms))
            .col_expr(matter::Column::LastSeq, Expr::value(p.last_seq))
            .filter(matter::Column::Id.eq(&m.id))
            .filter(matter::Column::LastSeq.lte(p.last_seq))
            .exec(&txn)
            .await?
            .rows_affected;

        let facility = facility::Entity::find_by_id(m.facility_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("facility {} of matter {}", m.facility_id, m.id)))?;
        let existing = if updated == 0 { matter::Entity::find_by_id(&m.id).one(&txn).await? } else { None };
        let (notice_number, document) = if updated == 0 && existing.is_none() {
            self.create(&txn, batch, &facility, &p).await?
        } else {
            notice::Entity::find()
                .filter(notice::Column::MatterId.eq(&m.id))
                .one(&txn)
                .await?
                .map(|n| (n.number, n.doc.is_some()))
                .ok_or_else(|| Error::Inconsistent(format!("matter {} has no notice", m.id)))?
        };
        let region_id = existing.as_ref().map_or(facility.region_id, |r| r.region_id);

        self.append_events(&txn, batch).await?;
        for pending in &batch.mails {
            self.queue_mail(&txn, batch, pending, &facility, region_id, &notice_number).await?;
        }
        let last_seq = existing.map_or(p.last_seq, |r| r.last_seq.max(p.last_seq));
        txn.commit().await?;
        Ok(Persisted { notice_number, last_seq: last_seq as u64, document })
    }

    /// Inserts the matter row and its notice, numbered in the issuing bureau's sequence for the
    /// year of issue. A notice issued from the console gets its document here, with its number
    /// and in the same transaction, so a retry or a crash never makes two of either: its
    /// content, and its HTML stored by hash (the PDF is printed by `notice.deliver`). Returns
    /// the notice number and whether the notice has its own document.
    async fn create(&self, txn: &DatabaseTransaction, batch: &PersistBatch, facility: &facility::Model, p: &Projection) -> crate::Result<(String, bool)> {
        let m = &batch.matter;
        let region = region::Entity::find_by_id(facility.region_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("region {} of facility {}", facility.region_id, facility.id)))?;
        // A notice an inspection issued was numbered then; its matter keeps that number.
        let prenumbered = inspection_notice::Entity::find().filter(inspection_notice::Column::MatterId.eq(&m.id)).one(txn).await?;
        // Its register (bureau) is the one that numbered it.
        let (notice_region, year, seq, number, doc) = match prenumbered {
            // Its document is the inspection's.
            Some(n) => (n.region_id, n.year, n.seq, n.number, None),
            None => {
                // The matter's own policy numbers it (a batch from before it was sent: the worker's).
                let numbering = batch.numbering.as_ref().unwrap_or(&self.policy.numbering);
                let n = numbering::take(txn, numbering, &region, self.calendar.local_date(m.issued_ms).year()).await?;
                let doc = crate::notices::direct_doc(&n.text, &region.bureau_name, facility, &batch.new, m, &self.calendar);
                (n.region_id, n.year, n.seq, n.text, Some(doc))
            }
        };
        // Rendering is pure and the file is named by its hash: a rolled-back attempt leaves at
        // most a file the retry writes again under the same name.
        let html_sha256 = match &doc {
            Some(doc) => Some(crate::notices::store_html(&self.store, doc).await?),
            None => None,
        };
        let document = doc.is_some();
        let row = matter::ActiveModel {
            id: Set(m.id.clone()),
            workflow_id: Set(batch.workflow_id.clone()),
            facility_id: Set(facility.id),
            region_id: Set(region.id),
            kind: Set(m.kind.as_str().to_string()),
            severity: Set(m.severity.as_str().to_string()),
            title: Set(m.title.clone()),
            description: Set(batch.new.description.clone()),
            basis: Set(batch.new.basis.clone()),
            status: Set(p.status.clone()),
            escalation_level: Set(p.escalation_level),
            handler: Set(p.handler.clone()),
            next_due_ms: Set(p.next_due_ms),
            overdue: Set(p.overdue),
            snapshot: Set(p.snapshot.clone()),
            issued_by: Set(batch.new.issued_by.user_id),
            issued_at_ms: Set(m.issued_ms),
            updated_at_ms: Set(p.updated_at_ms),
            last_seq: Set(p.last_seq),
        };
        matter::Entity::insert(row).exec_without_returning(txn).await?;
        let row = notice::ActiveModel {
            id: NotSet,
            number: Set(number.clone()),
            region_id: Set(notice_region),
            year: Set(year),
            seq: Set(seq),
            matter_id: Set(m.id.clone()),
            title: Set(m.title.clone()),
            issued_at_ms: Set(m.issued_ms),
            doc: Set(doc.as_ref().map(serde_json::to_string).transpose()?),
            html_sha256: Set(html_sha256),
            pdf_sha256: Set(None),
            mailed_at_ms: Set(None),
        };
        notice::Entity::insert(row).exec_without_returning(txn).await?;
        tracing::info!(matter_id = %m.id, notice = %number, "matter created");
        Ok((number, document))
    }

    /// Appends the batch's events to the matter's chain, skipping any already stored.
    async fn append_events(&self, txn: &DatabaseTransaction, batch: &PersistBatch) -> crate::Result<()> {
        let matter_id = batch.matter.id.as_str();
        let payloads = batch.events.iter().map(|e| serde_json::to_string(&e.payload)).collect::<Result<Vec<_>, _>>()?;
        let contents: Vec<EventContent<'_>> = batch
            .events
            .iter()
            .zip(&payloads)
            .map(|(e, payload)| EventContent {
                log: MatterLog::KIND,
                subject: matter_id,
                seq: e.seq as i64,
                at_ms: e.at_ms,
                kind: &e.kind,
                actor_id: e.actor.as_ref().map(|a| a.user_id),
                actor_name: e.actor.as_ref().map(|a| a.name.as_str()),
                actor_role: e.actor.as_ref().map(|a| a.role.as_str()),
                payload,
            })
            .collect();
        chain::append::<MatterLog>(txn, &self.audit_key, &contents).await?;
        Ok(())
    }

    /// Writes one pending mail per recipient; a mail already queued by an earlier attempt stays
    /// as it is.
    async fn queue_mail(
        &self,
        txn: &DatabaseTransaction,
        batch: &PersistBatch,
        pending: &PendingMail,
        facility: &facility::Model,
        region_id: i64,
        notice_number: &str,
    ) -> crate::Result<()> {
        let link = format!("{}/matters/{}", self.public_url.trim_end_matches('/'), batch.matter.id);
        for r in recipients::resolve(txn, &pending.audience, facility, region_id).await? {
            let args = self.mail_args(r.locale, batch, pending, facility, notice_number);
            let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let text = compose(r.locale, pending.notice, &r.name, &refs, &link)?;
            let mail =
                outbox::Mail { subject_id: &batch.matter.id, cause_seq: pending.seq as i64, notice_kind: notice_key(pending.notice), to: &r, text: &text };
            outbox::queue::<MatterOutbox>(txn, &mail).await?;
        }
        Ok(())
    }

    /// The catalogue placeholders of a mail, in the reader's language. The rules give raw values
    /// (`due_ms`, a step id, a deadline kind); this turns them into words and local times.
    fn mail_args(
        &self,
        locale: Locale,
        batch: &PersistBatch,
        pending: &PendingMail,
        facility: &facility::Model,
        notice_number: &str,
    ) -> Vec<(&'static str, String)> {
        let m = &batch.matter;
        let arg = |name: &str| pending.args.get(name);
        let text = |name: &str| arg(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let years: Vec<String> =
            arg("provisional").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|y| y.as_i64()).map(|y| y.to_string()).collect();
        let mut due = arg("due_ms").and_then(|v| v.as_i64()).map(|ms| format_instant(&self.calendar, ms)).unwrap_or_default();
        if !years.is_empty() && !due.is_empty() {
            due.push_str(&t(locale, "mail.provisional_tag", &[]));
        }
        // A request decided by a date of its own; one under a policy without it, by the deadline.
        let decide_by = arg("decide_by_ms").and_then(|v| v.as_i64()).map(|ms| format_instant(&self.calendar, ms)).unwrap_or_else(|| due.clone());
        let step = arg("step").and_then(|v| v.as_str()).map(|s| t(locale, &format!("escalation.{s}"), &[])).unwrap_or_default();
        let deadline = arg("deadline").and_then(|v| v.as_str()).map(|d| t(locale, &format!("deadline.{d}"), &[])).unwrap_or_default();
        vec![
            ("notice", notice_number.to_string()),
            ("title", m.title.clone()),
            ("facility", facility.name.clone()),
            ("severity", t(locale, &format!("severity.{}", m.severity), &[])),
            ("due", due),
            ("decide_by", decide_by),
            ("step", step),
            ("deadline", deadline),
            ("note", text("note")),
            ("level", arg("level").map(|v| v.to_string()).unwrap_or_default()),
            ("provisional", provisional_years_text(locale, &years)),
        ]
    }

    /// Sends the matter's queued mails in order and marks each one sent. Stops at the first
    /// failure, so the rest wait for the activity's retry.
    async fn send_pending(&self, matter_id: &str) -> crate::Result<()> {
        outbox::send_pending::<MatterOutbox>(&self.store.db, &self.mailer, matter_id).await?;
        Ok(())
    }
}

/// The years of a provisional date as a mail writes them: `2027年、2028年`, `2027, 2028`.
fn provisional_years_text(locale: Locale, years: &[String]) -> String {
    let year = |y: &String| t(locale, "mail.year", &[("year", y)]);
    years.iter().map(year).collect::<Vec<_>>().join(&t(locale, "mail.list_separator", &[]))
}

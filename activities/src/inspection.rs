//! The inspection activities: `inspection.record` keeps the database's copy of an inspection in
//! step with its workflow; `inspection.issue_notices` numbers, renders, stores and mails the
//! notices an inspection produced.
//!
//! `issue_notices` is idempotent per (inspection, notice index): numbers are allocated once, in
//! one transaction, from the same per-bureau, per-year counter as every notice (so they are
//! unique and gap-free even when several inspections issue at once); a retry finds them and
//! only does what is still missing (render, store). Mails are at-least-once.

use crate::Error;
use crate::db::entities::{facility, inspection, inspection_inspector, inspection_notice, region, user};
use crate::mail::Mailer;
use crate::notice_doc::{NoticeDoc, NoticeFinding, NoticeInspector, NoticeSource};
use crate::notices;
use crate::numbering;
use crate::store::Store;
use chrono::{Datelike, NaiveDate};
use qingling_rules::messages::{Locale, t};
use qingling_rules::{Calendar, Policy};
use qingling_workflows::contract::{InspectionActivities, InspectionRecord, IssueNotices, IssuedNotice, NoticeDraft};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use std::path::PathBuf;
use std::sync::Arc;
use temporalio_common::ActivityDefinition;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// How often `issue_notices` heartbeats; the workflow's heartbeat timeout is a few times this.
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

pub struct InspectionActivitiesImpl {
    pub store: Store,
    pub mailer: Mailer,
    pub calendar: Calendar,
    pub policy: Policy,
    pub public_url: String,
    /// Headless Chromium, which prints the notices to PDF.
    pub chromium: PathBuf,
}

const _: fn() = || {
    fn same<D: ActivityDefinition<Input = I, Output = O>, I, O>(_: &D, _: fn(I) -> O) {}
    same(&InspectionActivities::record, |_: InspectionRecord| ());
    same(&InspectionActivities::issue_notices, |_: IssueNotices| -> Vec<IssuedNotice> { vec![] });
    same(&InspectionActivities::mail_notices, |_: String| ());
};

/// Both inspection activities run after a submission was accepted, when the inspection must
/// not stop half-way: every failure is retried (with Temporal's back-off) until it succeeds —
/// a wrong setting is fixed by the operator and the next attempt goes through — and logged.
fn failure(what: &str, id: &str, e: Error) -> ActivityError {
    tracing::warn!(inspection_id = %id, error = %e, "{what} failed; it will be retried");
    ActivityError::application(ApplicationFailure::new(e))
}

#[activities]
impl InspectionActivitiesImpl {
    #[activity(name = ActivityDefinition::name(&InspectionActivities::record))]
    pub async fn record(self: Arc<Self>, _ctx: ActivityContext, record: InspectionRecord) -> Result<(), ActivityError> {
        self.record_inspection(&record).await.map_err(|e| failure("inspection.record", &record.inspection_id, e))
    }

    #[activity(name = ActivityDefinition::name(&InspectionActivities::issue_notices))]
    pub async fn issue_notices(self: Arc<Self>, ctx: ActivityContext, request: IssueNotices) -> Result<Vec<IssuedNotice>, ActivityError> {
        // Printing takes seconds per notice. Heartbeats tell Temporal the attempt is alive, so
        // a worker that dies mid-way is noticed within the heartbeat timeout, not the whole
        // start-to-close timeout, and the retry (idempotent) finishes the job elsewhere.
        let beat = async {
            loop {
                if let Err(e) = ctx.record_heartbeat(()).await {
                    tracing::debug!(error = %e, "heartbeat not recorded");
                }
                tokio::time::sleep(HEARTBEAT_EVERY).await;
            }
        };
        tokio::select! {
            result = self.issue(&request) => result.map_err(|e| failure("inspection.issue_notices", &request.inspection_id, e)),
            never = beat => never,
        }
    }

    #[activity(name = ActivityDefinition::name(&InspectionActivities::mail_notices))]
    pub async fn mail_notices(self: Arc<Self>, _ctx: ActivityContext, inspection_id: String) -> Result<(), ActivityError> {
        self.mail_all(&inspection_id).await.map_err(|e| failure("inspection.mail_notices", &inspection_id, e))
    }
}

impl InspectionActivitiesImpl {
    /// Upserts the inspection row and its inspectors. A record never moves the row backwards:
    /// the update only applies when the stored row is not newer.
    #[tracing::instrument(name = "inspection.record", skip_all, fields(inspection_id = %r.inspection_id, status = %r.status))]
    pub async fn record_inspection(&self, r: &InspectionRecord) -> crate::Result<()> {
        let txn = self.store.db.begin().await?;
        // A write first: SQLite then takes its write lock before the reads below, so concurrent
        // writers queue on the busy timeout instead of failing to upgrade a read (as in
        // `persist`); on PostgreSQL it locks the inspection's row.
        inspection::Entity::update_many()
            .col_expr(inspection::Column::UpdatedAtMs, Expr::col(inspection::Column::UpdatedAtMs).into())
            .filter(inspection::Column::Id.eq(&r.inspection_id))
            .exec(&txn)
            .await?;
        let facility = facility::Entity::find_by_id(r.facility_id).one(&txn).await?.ok_or_else(|| Error::NotFound(format!("facility {}", r.facility_id)))?;
        let sub = r.submission.as_ref();
        let row = inspection::ActiveModel {
            id: Set(r.inspection_id.clone()),
            workflow_id: Set(r.workflow_id.clone()),
            facility_id: Set(r.facility_id),
            region_id: Set(facility.region_id),
            template_id: Set(r.template_id.clone()),
            template_version: Set(r.template_version as i32),
            template_sha256: Set(r.template_sha256.clone()),
            title: Set(r.title.clone()),
            date: Set(r.date.clone()),
            status: Set(r.status.clone()),
            assigned_by: Set(r.assigned_by.user_id),
            started_by: Set(r.started_by.as_ref().map(|a| a.user_id)),
            submission_key: Set(sub.map(|s| s.key.clone())),
            submitted_by: Set(sub.map(|s| s.submitted_by.user_id)),
            submitted_at_ms: Set(sub.map(|s| s.at_ms)),
            answers: Set(sub.map(|s| s.filled.to_string())),
            evaluation: Set(sub.map(|s| s.evaluation.to_string())),
            findings: Set(sub.map(|s| s.findings as i32)),
            points: Set(sub.and_then(|s| s.points.map(|p| p as i32))),
            draft: NotSet,
            draft_rev: Set(0),
            publish_by: Set(r.publish_by.clone()),
            created_at_ms: Set(r.updated_ms),
            updated_at_ms: Set(r.updated_ms),
        };
        let exists = inspection::Entity::find_by_id(&r.inspection_id).one(&txn).await?;
        match exists {
            None => {
                inspection::Entity::insert(row).exec_without_returning(&txn).await?;
            }
            Some(old) if old.updated_at_ms <= r.updated_ms => {
                let mut row = row;
                row.created_at_ms = NotSet;
                row.draft_rev = NotSet;
                inspection::Entity::update(row).exec(&txn).await?;
            }
            Some(_) => {}
        }
        let signed: Vec<i64> = sub.map(|s| s.signers.iter().map(|a| a.user_id).collect()).unwrap_or_default();
        for person in &r.inspectors {
            let row = inspection_inspector::ActiveModel {
                id: NotSet,
                inspection_id: Set(r.inspection_id.clone()),
                user_id: Set(person.user_id),
                signed_at_ms: Set(None),
            };
            inspection_inspector::Entity::insert(row)
                .on_conflict(OnConflict::columns([inspection_inspector::Column::InspectionId, inspection_inspector::Column::UserId]).do_nothing().to_owned())
                .do_nothing()
                .exec_without_returning(&txn)
                .await?;
            if let (true, Some(s)) = (signed.contains(&person.user_id), sub) {
                inspection_inspector::Entity::update_many()
                    .col_expr(inspection_inspector::Column::SignedAtMs, Expr::value(s.at_ms))
                    .filter(inspection_inspector::Column::InspectionId.eq(&r.inspection_id))
                    .filter(inspection_inspector::Column::UserId.eq(person.user_id))
                    .filter(inspection_inspector::Column::SignedAtMs.is_null())
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "inspection.issue_notices", skip_all, fields(inspection_id = %req.inspection_id, notices = req.notices.len()))]
    pub async fn issue(&self, req: &IssueNotices) -> crate::Result<Vec<IssuedNotice>> {
        let facility =
            facility::Entity::find_by_id(req.facility_id).one(&self.store.db).await?.ok_or_else(|| Error::NotFound(format!("facility {}", req.facility_id)))?;
        let region = region::Entity::find_by_id(facility.region_id)
            .one(&self.store.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("region {}", facility.region_id)))?;

        // 1. Numbers and contents, once, in one transaction.
        let txn = self.store.db.begin().await?;
        // A write first: SQLite then takes its write lock before the reads below, so concurrent
        // writers queue on the busy timeout instead of failing to upgrade a read (as in
        // `persist`); on PostgreSQL it locks the inspection's row.
        inspection::Entity::update_many()
            .col_expr(inspection::Column::UpdatedAtMs, Expr::col(inspection::Column::UpdatedAtMs).into())
            .filter(inspection::Column::Id.eq(&req.inspection_id))
            .exec(&txn)
            .await?;
        let have = inspection_notice::Entity::find().filter(inspection_notice::Column::InspectionId.eq(&req.inspection_id)).all(&txn).await?;
        let issued_date = date(&req.issued_date)?;
        for draft in &req.notices {
            if have.iter().any(|n| n.idx == draft.idx as i32) {
                continue;
            }
            // The inspection's own policy numbers them (a request from before it was sent: the worker's).
            let pattern = req.numbering.as_ref().unwrap_or(&self.policy.numbering);
            let numbering::Number { year, seq, text: number, .. } = numbering::take(&txn, pattern, &region, issued_date.year()).await?;
            let doc = self.doc(req, draft, &number, &facility, &region, &txn).await?;
            let row = inspection_notice::ActiveModel {
                id: NotSet,
                inspection_id: Set(req.inspection_id.clone()),
                idx: Set(draft.idx as i32),
                matter_id: Set(draft.matter_id.clone()),
                number: Set(number),
                region_id: Set(region.id),
                year: Set(year),
                seq: Set(seq),
                major_hazard: Set(draft.major_hazard),
                doc: Set(serde_json::to_string(&doc)?),
                html_sha256: Set(None),
                pdf_sha256: Set(None),
                mailed_at_ms: Set(None),
                created_at_ms: Set(req.issued_ms),
            };
            inspection_notice::Entity::insert(row).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;

        // 2. Render and store what is not stored yet.
        let rows = inspection_notice::Entity::find()
            .filter(inspection_notice::Column::InspectionId.eq(&req.inspection_id))
            .order_by_asc(inspection_notice::Column::Idx)
            .all(&self.store.db)
            .await?;
        let mut out = vec![];
        for row in rows {
            let doc: NoticeDoc = serde_json::from_str(&row.doc)?;
            // The HTML first, so a failing Chromium leaves a printable page; the PDF on retry.
            let set = |column: inspection_notice::Column, value: String| {
                inspection_notice::Entity::update_many()
                    .col_expr(column, Expr::value(value))
                    .filter(inspection_notice::Column::Id.eq(row.id))
                    .exec(&self.store.db)
            };
            let html_sha = match &row.html_sha256 {
                Some(h) => h.clone(),
                None => {
                    let h = notices::store_html(&self.store, &doc).await?;
                    set(inspection_notice::Column::HtmlSha256, h.clone()).await?;
                    h
                }
            };
            let pdf_sha = match &row.pdf_sha256 {
                Some(p) => p.clone(),
                None => {
                    let p = notices::store_pdf(&self.store, &self.chromium, &html_sha).await?;
                    set(inspection_notice::Column::PdfSha256, p.clone()).await?;
                    p
                }
            };
            out.push(IssuedNotice {
                idx: row.idx as u32,
                matter_id: row.matter_id,
                number: row.number,
                major_hazard: row.major_hazard,
                html_sha256: html_sha,
                pdf_sha256: pdf_sha,
            });
        }
        Ok(out)
    }

    async fn doc(
        &self,
        req: &IssueNotices,
        draft: &NoticeDraft,
        number: &str,
        facility: &facility::Model,
        region: &region::Model,
        db: &impl ConnectionTrait,
    ) -> crate::Result<NoticeDoc> {
        let mut inspectors = vec![];
        for a in &req.inspectors {
            let u = user::Entity::find_by_id(a.user_id).one(db).await?;
            let certificate = u.as_ref().and_then(|u| u.certificate.clone()).unwrap_or_default();
            // Display names carry the district in brackets; the notice prints the person.
            let name = a.name.split(['（', '(']).next().unwrap_or(&a.name).trim().to_string();
            inspectors.push(NoticeInspector { name, certificate });
        }
        let findings = draft
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Ok(NoticeFinding {
                    seq: i as u32 + 1,
                    item: f.item.clone(),
                    wording: f.wording.clone(),
                    severity: t(Locale::ZhCn, &format!("finding.severity.{}", f.severity), &[]),
                    basis: f.basis.clone(),
                    deadline: date(&f.deadline)?,
                    measures: f.measures.clone(),
                    measures_by: f.measures_by.as_deref().map(date).transpose()?,
                    evidence_note: f
                        .evidence_note
                        .clone()
                        .or_else(|| (!f.photos.is_empty()).then(|| t(Locale::ZhCn, "notice_doc.photos_taken", &[("count", &f.photos.len().to_string())]))),
                    provisional: f.provisional.clone(),
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(NoticeDoc {
            number: number.to_string(),
            bureau: region.bureau_name.clone(),
            facility: facility.name.clone(),
            facility_address: Some(facility.address.clone()).filter(|a| !a.trim().is_empty()),
            issued_date: date(&req.issued_date)?,
            major_hazard: draft.major_hazard,
            findings,
            contact: None,
            source: NoticeSource::Inspection { inspection_date: date(&req.inspection_date)?, template_title: req.template_title.clone(), inspectors },
        })
    }

    /// Mails every stored notice of the inspection that is not mailed yet, and marks it mailed.
    pub async fn mail_all(&self, inspection_id: &str) -> crate::Result<()> {
        let rows = inspection_notice::Entity::find()
            .filter(inspection_notice::Column::InspectionId.eq(inspection_id))
            .filter(inspection_notice::Column::MailedAtMs.is_null())
            .order_by_asc(inspection_notice::Column::Idx)
            .all(&self.store.db)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let facility_id = inspection::Entity::find_by_id(inspection_id)
            .one(&self.store.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("inspection {inspection_id}")))?
            .facility_id;
        let facility =
            facility::Entity::find_by_id(facility_id).one(&self.store.db).await?.ok_or_else(|| Error::NotFound(format!("facility {facility_id}")))?;
        for row in rows {
            let (Some(_), Some(pdf_sha)) = (&row.html_sha256, &row.pdf_sha256) else {
                return Err(Error::Inconsistent(format!("notice {} is not rendered yet", row.number)));
            };
            let doc: NoticeDoc = serde_json::from_str(&row.doc)?;
            notices::mail_to_facility(&self.store, &self.mailer, &self.public_url, &facility, &doc, &row.matter_id, pdf_sha).await?;
            inspection_notice::Entity::update_many()
                .col_expr(inspection_notice::Column::MailedAtMs, Expr::value(chrono::Utc::now().timestamp_millis()))
                .filter(inspection_notice::Column::Id.eq(row.id))
                .exec(&self.store.db)
                .await?;
        }
        Ok(())
    }
}

fn date(s: &str) -> crate::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::Invalid(format!("{s:?} is not a date like 2026-11-24")))
}

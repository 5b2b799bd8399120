//! What every notice document goes through, whichever way it was issued: its HTML stored by
//! content hash, the PDF printed from that HTML and stored the same way, and the mail that
//! serves it to the facility with the PDF attached. An inspection's notices
//! (`inspection.issue_notices`, `inspection.mail_notices`) and a notice issued from the console
//! (`matter.persist` stores the HTML with the number, `notice.deliver` prints and mails) call the
//! same functions here.
//!
//! The HTML is stored before the PDF is printed, so a missing or failing Chromium leaves a
//! printable page behind and only the PDF waits for the retry.

use crate::db::entities::{facility, matter, notice};
use crate::mail::Mailer;
use crate::notice_doc::{NoticeDoc, NoticeFinding, NoticeSource, render_html, render_pdf};
use crate::recipients::{self, Recipient};
use crate::store::Store;
use crate::{Error, evidence};
use qingling_rules::Calendar;
use qingling_rules::matter::{DeadlineKind, Matter, NewMatter};
use qingling_rules::messages::{Locale, t};
use qingling_rules::policy::Audience;
use qingling_workflows::contract::NoticeActivities;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temporalio_common::ActivityDefinition;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Renders the notice to HTML and stores the page by its content hash; returns the hash. The
/// rendering is pure, so a retry stores the same bytes under the same hash.
pub async fn store_html(store: &Store, doc: &NoticeDoc) -> crate::Result<String> {
    let html = render_html(doc)?;
    Ok(evidence::put_file(store, html.as_bytes()).await?)
}

/// Prints the stored HTML page `html_sha256` to PDF with Chromium and stores the PDF by its
/// content hash; returns the hash.
pub async fn store_pdf(store: &Store, chromium: &Path, html_sha256: &str) -> crate::Result<String> {
    let html = tokio::fs::read_to_string(evidence::path_of(store, html_sha256)).await?;
    let pdf = render_pdf(&html, chromium).await?;
    Ok(evidence::put_file(store, &pdf).await?)
}

/// Mails the notice, its stored PDF `pdf_sha256` attached, to the facility's address and its
/// accounts (the same recipients as every facility mail; unusable addresses are left out with a
/// warning). At least once: the caller marks the notice mailed afterwards.
pub async fn mail_to_facility(
    store: &Store,
    mailer: &Mailer,
    public_url: &str,
    facility: &facility::Model,
    doc: &NoticeDoc,
    matter_id: &str,
    pdf_sha256: &str,
) -> crate::Result<()> {
    let pdf = tokio::fs::read(evidence::path_of(store, pdf_sha256)).await?;
    let to = recipients::resolve(&store.db, &[Audience::Facility], facility, facility.region_id).await?;
    let link = format!("{}/matters/{matter_id}", public_url.trim_end_matches('/'));
    let title = t(Locale::ZhCn, if doc.major_hazard { "notice_doc.title_major" } else { "notice_doc.title" }, &[]);
    let subject = t(Locale::ZhCn, "notice_doc.mail_subject", &[("title", &title), ("notice", &doc.number)]);
    let deadlines = doc.findings.iter().map(|f| f.deadline).min().map(crate::notice_doc::chinese_date).unwrap_or_default();
    for Recipient { email, name, .. } in to {
        let body = t(
            Locale::ZhCn,
            "notice_doc.mail_body",
            &[
                ("name", &name),
                ("bureau", &doc.bureau),
                ("title", &title),
                ("notice", &doc.number),
                ("count", &doc.findings.len().to_string()),
                ("first_deadline", &deadlines),
                ("link", &link),
            ],
        );
        mailer.send_with_attachment(&email, &name, &subject, &body, (&format!("{}.pdf", doc.number), "application/pdf", pdf.clone())).await?;
    }
    Ok(())
}

/// The notice of a matter issued from the console: one problem (the matter's title, its
/// description as the order, its legal basis), the correction deadline, the earlier deadlines to
/// acknowledge and to report, signed by the person who issued it. Notices are official documents,
/// so the text is Chinese whatever the issuer reads. Dates are the last day of each period, on
/// the matter's calendar; a date counted over a year without a published schedule is marked.
pub fn direct_doc(number: &str, bureau: &str, facility: &facility::Model, new: &NewMatter, m: &Matter, calendar: &Calendar) -> NoticeDoc {
    let last_day = |kind: DeadlineKind| m.deadlines.iter().find(|d| d.kind == kind).map(|d| calendar.local_date(d.due_ms.saturating_sub(1)));
    let issued_date = calendar.local_date(m.issued_ms);
    let rectify = m.deadlines.iter().find(|d| d.kind == DeadlineKind::Rectify);
    let description = new.description.trim();
    NoticeDoc {
        number: number.to_string(),
        bureau: bureau.to_string(),
        facility: facility.name.clone(),
        facility_address: Some(facility.address.clone()).filter(|a| !a.trim().is_empty()),
        issued_date,
        // A major-hazard notice orders immediate measures, which an issue form does not ask for:
        // its severity is printed on the finding instead.
        major_hazard: false,
        findings: vec![NoticeFinding {
            seq: 1,
            item: m.title.clone(),
            wording: if description.is_empty() { m.title.clone() } else { description.to_string() },
            severity: t(Locale::ZhCn, &format!("severity.{}", m.severity.as_str()), &[]),
            basis: new.basis.trim().to_string(),
            deadline: last_day(DeadlineKind::Rectify).unwrap_or(issued_date).max(issued_date),
            measures: None,
            measures_by: None,
            evidence_note: None,
            provisional: rectify.map(|d| d.provisional_years(calendar)).unwrap_or_default(),
        }],
        contact: None,
        source: NoticeSource::Direct {
            // Display names carry the district in brackets; the notice prints the person.
            issuer: new.issued_by.name.split(['（', '(']).next().unwrap_or(&new.issued_by.name).trim().to_string(),
            acknowledge_by: last_day(DeadlineKind::Acknowledge),
            feedback_by: last_day(DeadlineKind::Feedback),
        },
    }
}

/// A notice's document as the console serves it, wherever it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub number: String,
    pub major_hazard: bool,
    pub html_sha256: Option<String>,
    pub pdf_sha256: Option<String>,
}

/// The document of a matter's notice: its own (issued from the console) or its inspection's;
/// `None` for a matter stored before notices had documents.
pub async fn document_of(db: &impl ConnectionTrait, matter_id: &str) -> crate::Result<Option<StoredDocument>> {
    use crate::db::entities::inspection_notice;
    if let Some(n) = notice::Entity::find().filter(notice::Column::MatterId.eq(matter_id)).one(db).await?
        && n.doc.is_some()
    {
        return Ok(Some(StoredDocument { number: n.number, major_hazard: false, html_sha256: n.html_sha256, pdf_sha256: n.pdf_sha256 }));
    }
    let from_inspection = inspection_notice::Entity::find().filter(inspection_notice::Column::MatterId.eq(matter_id)).one(db).await?;
    Ok(from_inspection.map(|n| StoredDocument { number: n.number, major_hazard: n.major_hazard, html_sha256: n.html_sha256, pdf_sha256: n.pdf_sha256 }))
}

/// The `notice.deliver` activity: prints and mails the document of a notice issued from the
/// console.
pub struct NoticeActivitiesImpl {
    pub store: Store,
    pub mailer: Mailer,
    pub public_url: String,
    /// Headless Chromium, which prints the notices to PDF.
    pub chromium: PathBuf,
}

const _: fn() = || {
    fn same<D: ActivityDefinition<Input = String, Output = ()>>(_: &D) {}
    same(&NoticeActivities::deliver);
};

#[activities]
impl NoticeActivitiesImpl {
    #[activity(name = ActivityDefinition::name(&NoticeActivities::deliver))]
    pub async fn deliver(self: Arc<Self>, ctx: ActivityContext, matter_id: String) -> Result<(), ActivityError> {
        // As with an inspection's notices: heartbeats while Chromium prints, and every failure
        // (no Chromium, a crash, the mail server away) is logged and retried until it succeeds.
        let beat = async {
            loop {
                if let Err(e) = ctx.record_heartbeat(()).await {
                    tracing::debug!(error = %e, "heartbeat not recorded");
                }
                tokio::time::sleep(crate::inspection::HEARTBEAT_EVERY).await;
            }
        };
        tokio::select! {
            result = self.deliver_notice(&matter_id) => result.map_err(|e| {
                tracing::warn!(matter_id = %matter_id, error = %e, "notice.deliver failed; it will be retried");
                ActivityError::application(ApplicationFailure::new(e))
            }),
            never = beat => never,
        }
    }
}

impl NoticeActivitiesImpl {
    /// Does what is still missing of a matter's notice: the HTML (normally stored with the
    /// number), the PDF, the mail. Each step is recorded on the notice row when done, so a retry
    /// repeats none of them (a mail may go twice if the attempt dies between sending and
    /// recording).
    #[tracing::instrument(name = "notice.deliver", skip_all, fields(matter_id = %matter_id))]
    pub async fn deliver_notice(&self, matter_id: &str) -> crate::Result<()> {
        let db = &self.store.db;
        let row = notice::Entity::find().filter(notice::Column::MatterId.eq(matter_id)).one(db).await?;
        let Some(row) = row else { return Err(Error::Inconsistent(format!("matter {matter_id} has no notice yet"))) };
        let Some(doc) = row.doc.as_deref() else {
            // An inspection's notice (delivered by its inspection) or one from before documents.
            return Ok(());
        };
        let doc: NoticeDoc = serde_json::from_str(doc)?;
        let set = |column: notice::Column, value: sea_orm::Value| {
            notice::Entity::update_many().col_expr(column, Expr::value(value)).filter(notice::Column::Id.eq(row.id)).exec(db)
        };
        let html = match row.html_sha256.clone() {
            Some(h) => h,
            None => {
                let h = store_html(&self.store, &doc).await?;
                set(notice::Column::HtmlSha256, h.clone().into()).await?;
                h
            }
        };
        let pdf = match row.pdf_sha256.clone() {
            Some(p) => p,
            None => {
                let p = store_pdf(&self.store, &self.chromium, &html).await?;
                set(notice::Column::PdfSha256, p.clone().into()).await?;
                tracing::info!(notice = %row.number, "notice printed to PDF");
                p
            }
        };
        if row.mailed_at_ms.is_none() {
            let m = matter::Entity::find_by_id(matter_id).one(db).await?.ok_or_else(|| Error::NotFound(format!("matter {matter_id}")))?;
            let facility = facility::Entity::find_by_id(m.facility_id).one(db).await?.ok_or_else(|| Error::NotFound(format!("facility {}", m.facility_id)))?;
            mail_to_facility(&self.store, &self.mailer, &self.public_url, &facility, &doc, matter_id, &pdf).await?;
            set(notice::Column::MailedAtMs, chrono::Utc::now().timestamp_millis().into()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qingling_rules::Policy;
    use qingling_rules::matter::{Actor, MatterKind, Role, Severity};

    fn issue(description: &str) -> (NewMatter, Matter, Policy) {
        let policy = Policy::builtin();
        let new = NewMatter {
            id: "m-1".into(),
            facility_id: 1,
            kind: MatterKind::Rectification,
            severity: Severity::Ordinary,
            title: "灭火器过期未更换".into(),
            description: description.into(),
            basis: " GB 38600-2019 5.1 ".into(),
            issued_by: Actor { user_id: 2, name: "李监管（朝阳区民政局）".into(), role: Role::Supervisor, facility_id: None },
            issued_ms: None,
            rectify_due_ms: None,
            measures_due_ms: None,
        };
        // Monday 2026-11-23, 10:00 in Beijing.
        let now = policy.calendar.end_of_day_ms("2026-11-22".parse().unwrap()) + 10 * 3_600_000;
        let (m, _) = Matter::open(&new, now, &policy);
        (new, m, policy)
    }

    fn facility() -> facility::Model {
        facility::Model { id: 1, region_id: 1, name: "朝阳区第一社会福利院".into(), address: " ".into(), email: None, created_at_ms: 0 }
    }

    #[test]
    fn a_hand_issued_notice_prints_the_problem_its_deadlines_and_its_issuer() {
        let (new, m, policy) = issue("三楼走廊灭火器已过有效期，应全部更换。");
        let doc = direct_doc("朝民养整改〔2026〕0001号", "北京市朝阳区民政局", &facility(), &new, &m, &policy.calendar);
        assert_eq!(doc.issued_date.to_string(), "2026-11-23");
        assert_eq!(doc.facility_address, None, "a blank address is left out");
        let f = &doc.findings[0];
        assert_eq!(
            (f.item.as_str(), f.wording.as_str(), f.basis.as_str(), f.severity.as_str()),
            ("灭火器过期未更换", "三楼走廊灭火器已过有效期，应全部更换。", "GB 38600-2019 5.1", "一般问题")
        );
        let rectify = m.deadlines.iter().find(|d| d.kind == DeadlineKind::Rectify).unwrap();
        assert_eq!(f.deadline, policy.calendar.local_date(rectify.due_ms - 1));
        assert!(f.deadline > doc.issued_date);
        let NoticeSource::Direct { issuer, acknowledge_by, feedback_by } = &doc.source else { panic!("{doc:?}") };
        assert_eq!(issuer, "李监管", "the person, without the district");
        assert_eq!(acknowledge_by.map(|d| d.to_string()).as_deref(), Some("2026-11-23"), "acknowledged the same day");
        assert!(feedback_by.is_some_and(|d| d > doc.issued_date && d <= f.deadline));
        let html = render_html(&doc).unwrap();
        assert!(html.contains("于2026年11月23日前签收并指定整改责任人"), "{html}");
    }

    #[test]
    fn without_a_description_the_title_is_the_order() {
        let (new, m, policy) = issue("  ");
        let doc = direct_doc("N", "B", &facility(), &new, &m, &policy.calendar);
        assert_eq!(doc.findings[0].wording, "灭火器过期未更换");
    }
}

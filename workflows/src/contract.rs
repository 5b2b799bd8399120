//! The activity contracts the workflows call. Implemented in `qingling-activities`.

use qingling_rules::calendar::Year;
use qingling_rules::matter::{Actor, Matter, NewMatter, Notice};
use qingling_rules::policy::Audience;
use serde::{Deserialize, Serialize};
use temporalio_macros::activity_definitions;
use temporalio_sdk::activities::ActivityError;

/// One event of a matter's append-only log, numbered by the workflow (1, 2, 3, ...), so a
/// retried activity can recognise what it already wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    pub seq: u64,
    pub at_ms: i64,
    pub kind: String,
    pub actor: Option<Actor>,
    pub payload: serde_json::Value,
}

/// A mail to send because of the event `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingMail {
    pub seq: u64,
    pub notice: Notice,
    pub audience: Vec<Audience>,
    pub args: serde_json::Value,
}

/// Everything one workflow step must make durable, in one transaction: the matter's current
/// projection, the new events and the mails they cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersistBatch {
    pub workflow_id: String,
    pub policy_name: String,
    /// The issue details; the first batch creates the matter and its notice from them.
    pub new: NewMatter,
    pub matter: Matter,
    pub events: Vec<PendingEvent>,
    pub mails: Vec<PendingMail>,
    /// The matter's own notice-number pattern (its policy's); absent in batches from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbering: Option<qingling_rules::policy::Numbering>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted {
    pub notice_number: String,
    /// The highest event number now stored for the matter.
    pub last_seq: u64,
    /// Whether the matter's notice has its own document to print and mail (a notice issued from
    /// the console; an inspection delivers its notices itself). Absent in older histories.
    #[serde(default)]
    pub document: bool,
}

/// A workflow that stopped on a failure retrying cannot fix, for the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckReport {
    pub workflow_id: String,
    /// `matter` or `inspection`.
    pub kind: String,
    pub subject_id: String,
    pub error: String,
    pub at_ms: i64,
}

pub struct MatterActivities;

#[activity_definitions]
impl MatterActivities {
    /// Writes a batch idempotently: events already stored (same matter and seq) are skipped.
    #[activity(name = "matter.persist")]
    pub fn persist(batch: PersistBatch) -> Result<Persisted, ActivityError> {
        unimplemented!()
    }

    /// Records (and logs at error) that a workflow is held on a permanent failure; the
    /// operator's repair clears it. Idempotent: the same workflow again counts one more failure.
    #[activity(name = "workflow.report_stuck")]
    pub fn report_stuck(report: StuckReport) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

pub struct NoticeActivities;

#[activity_definitions]
impl NoticeActivities {
    /// Prints a matter's stored notice to PDF (once; stored by content hash) and mails it to the
    /// facility with the PDF attached (at least once). Does nothing for a notice without its
    /// own document.
    #[activity(name = "notice.deliver")]
    pub fn deliver(matter_id: String) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

// ---- inspections ----

/// The database's copy of an inspection, written whole (an upsert) at each status change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRecord {
    pub inspection_id: String,
    pub workflow_id: String,
    pub facility_id: i64,
    pub template_id: String,
    pub template_version: u32,
    /// The content hash of the template the workflow carries (`Template::content_hash`); absent
    /// in records from before it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_sha256: Option<String>,
    pub title: String,
    pub date: String,
    pub status: String,
    pub assigned_by: Actor,
    pub inspectors: Vec<Actor>,
    pub started_by: Option<Actor>,
    pub submission: Option<SubmissionRecord>,
    pub notices: Vec<IssuedNotice>,
    pub publish_by: Option<String>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub key: String,
    pub submitted_by: Actor,
    pub signers: Vec<Actor>,
    pub at_ms: i64,
    /// The filled checklist and its evaluation, as JSON.
    pub filled: serde_json::Value,
    pub evaluation: serde_json::Value,
    pub findings: u32,
    /// Rating sheets: the points awarded.
    pub points: Option<u32>,
}

pub use qingling_rules::inspection::{DraftFinding, NoticeDraft};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueNotices {
    pub inspection_id: String,
    pub facility_id: i64,
    pub inspection_date: String,
    pub issued_date: String,
    pub issued_ms: i64,
    pub template_title: String,
    pub inspectors: Vec<Actor>,
    pub notices: Vec<NoticeDraft>,
    /// The inspection's own notice-number pattern (its policy's); absent in requests from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbering: Option<qingling_rules::policy::Numbering>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedNotice {
    pub idx: u32,
    pub matter_id: String,
    pub number: String,
    pub major_hazard: bool,
    pub html_sha256: String,
    pub pdf_sha256: String,
}

pub struct InspectionActivities;

#[activity_definitions]
impl InspectionActivities {
    /// Upserts the inspection row (and its inspectors) from the record.
    #[activity(name = "inspection.record")]
    pub fn record(record: InspectionRecord) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Numbers the notices (gap-free per bureau and year), renders them to HTML and PDF and
    /// stores both by content hash. Idempotent per (inspection, idx).
    #[activity(name = "inspection.issue_notices")]
    pub fn issue_notices(request: IssueNotices) -> Result<Vec<IssuedNotice>, ActivityError> {
        unimplemented!()
    }

    /// Mails each stored notice of the inspection not mailed yet to the facility, PDF attached
    /// (at least once).
    #[activity(name = "inspection.mail_notices")]
    pub fn mail_notices(inspection_id: String) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

// ---- the working-day calendar ----

/// A year's published schedule, sent to every running workflow when an administrator loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarYearUpdate {
    pub year: i32,
    pub schedule: Year,
}

pub struct CalendarActivities;

#[activity_definitions]
impl CalendarActivities {
    /// Signals the schedule to every running matter and inspection; returns how many were told.
    /// Idempotent: a workflow that already has the schedule ignores it.
    #[activity(name = "calendar.broadcast")]
    pub fn broadcast(update: CalendarYearUpdate) -> Result<u64, ActivityError> {
        unimplemented!()
    }
}

// ---- 双随机 campaigns ----

/// The campaign's row as it stands, with its new events (numbered by the workflow like a
/// matter's, skipped when already stored) and the inspections started for its homes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub campaign_id: String,
    pub workflow_id: String,
    pub region_id: i64,
    pub created_by: i64,
    pub created_ms: i64,
    pub schedule_id: Option<String>,
    pub state: qingling_rules::campaign::Campaign,
    pub events: Vec<PendingEvent>,
    /// (target code, inspection id) of inspections started.
    pub inspections: Vec<(String, String)>,
    pub updated_ms: i64,
}

/// Publish a campaign's commitment: snapshot both directories now and commit to them, the plan
/// and the named sources. Idempotent: a campaign committed already gets its commitment back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRequest {
    pub campaign_id: String,
    pub plan: qingling_rules::draw::Plan,
    pub sources: Vec<qingling_rules::draw::SourceName>,
    pub by: i64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub commitment_sha256: String,
    pub targets_sha256: String,
    pub inspectors_sha256: String,
}

/// Run the committed draw with the sources' values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawRun {
    pub campaign_id: String,
    /// The draw's number: 1, then one more after each draw set aside.
    #[serde(default = "first_draw")]
    pub seq: u32,
    pub values: Vec<qingling_rules::draw::SourceValues>,
    pub witnesses: Vec<String>,
    pub operator: Actor,
    pub at_ms: i64,
}

fn first_draw() -> u32 {
    1
}

/// Set a drawn campaign's current draw aside (its bundle stays stored, marked with the reason)
/// and clear the homes it drew, so a new draw can follow. Idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupersedeRun {
    pub campaign_id: String,
    pub seq: u32,
    pub reason: String,
    pub at_ms: i64,
}

/// A home drawn, with what its inspection needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnHome {
    pub target: String,
    pub facility_id: i64,
    pub facility: crate::visibility::FacilityFacts,
    /// The team as drawn: certificate numbers and, for each, the inspector's account.
    pub team: Vec<(String, Actor)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DrawOutcome {
    Drawn {
        bundle_sha256: String,
        homes: Vec<DrawnHome>,
    },
    /// The committed directories cannot make this draw (a team short of inspectors …).
    Refused(qingling_rules::refusal::Refusal),
}

/// A replacement in a drawn team, checked against the committed directory and recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReassignRun {
    pub campaign_id: String,
    pub reassignment: qingling_rules::campaign::Reassignment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReassignOutcome {
    Done(DrawnHome),
    Refused(qingling_rules::refusal::Refusal),
}

/// How far a campaign's inspections are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: u32,
    pub done: u32,
    /// The homes whose inspection is not done yet.
    pub waiting: Vec<String>,
}

pub struct CampaignActivities;

#[activity_definitions]
impl CampaignActivities {
    /// Upserts the campaign's row, appends its new events, notes the inspections started.
    #[activity(name = "campaign.record")]
    pub fn record(record: CampaignRecord) -> Result<(), ActivityError> {
        unimplemented!()
    }

    #[activity(name = "campaign.commit")]
    pub fn commit(request: CommitRequest) -> Result<Committed, ActivityError> {
        unimplemented!()
    }

    /// Runs the draw on the committed snapshots and stores its bundle (once: a retry finds it).
    #[activity(name = "campaign.draw")]
    pub fn draw(run: DrawRun) -> Result<DrawOutcome, ActivityError> {
        unimplemented!()
    }

    #[activity(name = "campaign.reassign")]
    pub fn reassign(run: ReassignRun) -> Result<ReassignOutcome, ActivityError> {
        unimplemented!()
    }

    #[activity(name = "campaign.progress")]
    pub fn progress(campaign_id: String) -> Result<Progress, ActivityError> {
        unimplemented!()
    }

    #[activity(name = "campaign.supersede")]
    pub fn supersede(run: SupersedeRun) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

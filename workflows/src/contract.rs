//! The activity contracts the workflows call. Implemented in `qingling-activities`.

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted {
    pub notice_number: String,
    /// The highest event number now stored for the matter.
    pub last_seq: u64,
}

pub struct MatterActivities;

#[activity_definitions]
impl MatterActivities {
    /// Writes a batch idempotently: events already stored (same matter and seq) are skipped.
    #[activity(name = "matter.persist")]
    pub fn persist(batch: PersistBatch) -> Result<Persisted, ActivityError> {
        unimplemented!()
    }
}

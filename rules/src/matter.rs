//! The rectification matter as a state machine. It only *decides*: [`Matter::apply`] checks an
//! action and returns the effects (events to record, people to notify); [`Matter::tick`] turns
//! the passage of time into escalations. The `Rectification` workflow carries the effects out.
//!
//! issued → acknowledged → feedback given → evidence submitted → closed, or reopened on a failed
//! re-check. A matter ends only by closure or by a withdrawal with a reason.

use crate::duration::PolicyDuration;
use crate::policy::{Audience, Policy};
use crate::refusal::Refusal;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

macro_rules! str_enum {
    ($name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum!(MatterKind { Rectification = "rectification", FireSafety = "fire_safety", Complaint = "complaint" });
str_enum!(Severity { Ordinary = "ordinary", Major = "major" });
str_enum!(Role { Admin = "admin", Supervisor = "supervisor", Inspector = "inspector", Facility = "facility" });
str_enum!(Status {
    Issued = "issued",
    Acknowledged = "acknowledged",
    FeedbackGiven = "feedback_given",
    EvidenceSubmitted = "evidence_submitted",
    Reopened = "reopened",
    Closed = "closed",
    Withdrawn = "withdrawn",
});
// `measures`: a major hazard's immediate measures, confirmed by the facility (the notice's
// same-day order); `decide`: a supervisor's decision on an extension request.
str_enum!(DeadlineKind {
    Acknowledge = "acknowledge",
    Feedback = "feedback",
    Rectify = "rectify",
    Recheck = "recheck",
    Report = "report",
    Decide = "decide",
    Measures = "measures",
});

impl DeadlineKind {
    /// Whether the date is served on the facility: its own obligations, printed on the notice,
    /// mailed and shown on its page. A served date stands once given; the others (the
    /// inspector's re-check window, a supervisor's decision on an extension request, escalation
    /// steps) are internal and follow the calendar.
    pub fn is_served(self) -> bool {
        !matches!(self, DeadlineKind::Recheck | DeadlineKind::Decide)
    }

    /// Who owes the date: the facility, except the inspector's re-check and a supervisor's
    /// decision on an extension request.
    pub fn owner(self) -> Audience {
        match self {
            DeadlineKind::Recheck => Audience::Inspector,
            DeadlineKind::Decide => Audience::Supervisor,
            _ => Audience::Facility,
        }
    }

    /// Whether a miss is the facility's: only those raise the matter's escalation level (the
    /// board's and, later, the credit lists' measure of the facility). A late re-check or
    /// decision escalates to its owner and their superiors instead.
    pub fn counts_against_facility(self) -> bool {
        self.owner() == Audience::Facility
    }
}

impl Status {
    pub fn is_ended(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn)
    }
}

/// Who acts. The web console fills this from the signed-in session; the workflow re-checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub facility_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub due_ms: i64,
    /// When the obligation was met (or lifted by a withdrawal); `None` while it runs.
    pub met_ms: Option<i64>,
    /// Escalation steps already taken for this deadline (0: not missed).
    pub steps_taken: u32,
    /// When the next escalation step fires; `None` once the ladder is exhausted or it is met.
    pub next_step_ms: Option<i64>,
    /// When the period started, and the period counted from then (`None` when the due date was
    /// given, not counted: a notice's printed date, an extension). Kept so an internal date can
    /// be counted again when the calendar learns a published year.
    #[serde(default)]
    pub from_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PolicyDuration>,
    /// When the last escalation step taken was due: the next one counts from there. `None` until
    /// a step is taken, and again once an extension restarts the ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step_ms: Option<i64>,
}

impl Deadline {
    pub fn is_open(&self) -> bool {
        self.met_ms.is_none()
    }
    pub fn is_overdue(&self) -> bool {
        self.is_open() && self.steps_taken > 0
    }
    /// The years without a published schedule this date was counted over (none for clock time).
    pub fn provisional_years(&self, calendar: &crate::Calendar) -> Vec<i32> {
        if self.period.is_some_and(|p| p.clock_millis().is_some()) {
            return vec![];
        }
        calendar.provisional_years_ms(self.from_ms, self.due_ms)
    }
}

/// The years without a published schedule a date from `from_ms` to `due_ms` was counted over,
/// as the `provisional` argument of a mail (absent when there are none).
fn provisional_arg(policy: &Policy, from_ms: i64, due_ms: i64) -> Option<Vec<i32>> {
    let years = policy.calendar.provisional_years_ms(from_ms, due_ms);
    (!years.is_empty()).then_some(years)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub date: NaiveDate,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub deadline: DeadlineKind,
    pub extend_by: PolicyDuration,
    pub reason: String,
    pub requested_by: Actor,
    pub requested_ms: i64,
}

/// What a supervisor issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMatter {
    pub id: String,
    pub facility_id: i64,
    pub kind: MatterKind,
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Legal basis (standard and clause) the finding rests on.
    #[serde(default)]
    pub basis: String,
    pub issued_by: Actor,
    /// For a matter made from an inspection's notice: when the notice was issued (its deadlines
    /// count from then, not from when the matter's workflow started) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_ms: Option<i64>,
    /// … and the correction deadline the notice prints, which the matter keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify_due_ms: Option<i64>,
    /// A major-hazard notice that orders immediate measures: when the facility is to have taken
    /// (and confirmed) them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures_due_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matter {
    pub id: String,
    pub facility_id: i64,
    pub kind: MatterKind,
    pub severity: Severity,
    pub title: String,
    pub status: Status,
    pub issued_ms: i64,
    pub deadlines: Vec<Deadline>,
    /// The highest escalation step reached (1-based; 0 = never escalated). Kept until the matter
    /// ends, so the board shows what a matter went through.
    pub escalation_level: u32,
    pub handler: Option<String>,
    pub plan: Vec<Milestone>,
    pub pending_extension: Option<ExtensionRequest>,
    pub extensions_granted: u32,
    pub reopen_count: u32,
}

/// An action a person takes on a matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Acknowledge {
        handler: String,
    },
    Feedback {
        text: String,
        #[serde(default)]
        plan: Vec<Milestone>,
    },
    SubmitEvidence {
        note: String,
        evidence: Vec<EvidenceRef>,
    },
    RequestExtension {
        deadline: DeadlineKind,
        extend_by: String,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        #[serde(default)]
        extend_by: Option<String>,
        #[serde(default)]
        reason: String,
    },
    Recheck {
        passed: bool,
        #[serde(default)]
        note: String,
    },
    Withdraw {
        reason: String,
    },
    /// The facility confirms the immediate measures a major-hazard notice ordered.
    ConfirmMeasures {
        note: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Acknowledge { .. } => "acknowledge",
            Action::Feedback { .. } => "feedback",
            Action::SubmitEvidence { .. } => "submit_evidence",
            Action::RequestExtension { .. } => "request_extension",
            Action::DecideExtension { .. } => "decide_extension",
            Action::Recheck { .. } => "recheck",
            Action::Withdraw { .. } => "withdraw",
            Action::ConfirmMeasures { .. } => "confirm_measures",
        }
    }
}

/// The mails a matter sends; the text comes from the catalogue (`mail.<kind>_subject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Issued,
    Escalated,
    Closed,
    Reopened,
    /// To the supervisors: a facility asks for more time and waits for a decision.
    ExtensionRequested,
    /// To the inspectors: evidence is in, a re-check is due.
    RecheckDue,
}

/// What happened to a matter: one variant per kind of entry in its hash-chained log. Stored as
/// `kind` (the variant's name in snake_case) and `payload` (its fields as a JSON object, keys
/// sorted); [`Event::parse`] reads a stored entry back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Event {
    /// The matter was issued: what, why, against whom, and the deadlines it started with.
    Issued {
        title: String,
        description: String,
        basis: String,
        kind: MatterKind,
        severity: Severity,
        facility_id: i64,
        deadlines: Vec<Deadline>,
        policy: String,
    },
    /// A date moved because the calendar learned a published year's schedule (`date`: `due` or
    /// `step`; `step`: the escalation step's id when a step moved).
    CalendarUpdated {
        year: i32,
        #[serde(default)]
        source: Option<String>,
        deadline: DeadlineKind,
        date: String,
        #[serde(default)]
        step: Option<String>,
        old_ms: i64,
        new_ms: i64,
    },
    /// A deadline was missed and the ladder took a step.
    Escalated {
        deadline: DeadlineKind,
        step: String,
        level: u32,
        due_ms: i64,
        /// When the step was due (entries written before it was recorded read as 0).
        #[serde(default)]
        step_at_ms: i64,
        #[serde(default)]
        provisional: Option<Vec<i32>>,
    },
    /// Files were attached, before the evidence is submitted.
    EvidenceUploaded {
        evidence: Vec<EvidenceRef>,
    },
    Acknowledged {
        handler: String,
    },
    Feedback {
        text: String,
        plan: Vec<Milestone>,
    },
    EvidenceSubmitted {
        note: String,
        evidence: Vec<EvidenceRef>,
    },
    ExtensionRequested {
        deadline: DeadlineKind,
        extend_by: PolicyDuration,
        reason: String,
        decide_by_ms: Option<i64>,
    },
    ExtensionRefused {
        deadline: DeadlineKind,
        reason: String,
    },
    ExtensionApproved {
        deadline: DeadlineKind,
        extend_by: PolicyDuration,
        old_due_ms: i64,
        new_due_ms: i64,
        reason: String,
    },
    RecheckPassed {
        note: String,
    },
    RecheckFailed {
        note: String,
        new_due_ms: Option<i64>,
    },
    Closed {
        escalation_level: u32,
    },
    MeasuresConfirmed {
        note: String,
    },
    Withdrawn {
        reason: String,
    },
}

impl Event {
    /// The entry's `kind` as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Issued { .. } => "issued",
            Event::CalendarUpdated { .. } => "calendar_updated",
            Event::Escalated { .. } => "escalated",
            Event::EvidenceUploaded { .. } => "evidence_uploaded",
            Event::Acknowledged { .. } => "acknowledged",
            Event::Feedback { .. } => "feedback",
            Event::EvidenceSubmitted { .. } => "evidence_submitted",
            Event::ExtensionRequested { .. } => "extension_requested",
            Event::ExtensionRefused { .. } => "extension_refused",
            Event::ExtensionApproved { .. } => "extension_approved",
            Event::RecheckPassed { .. } => "recheck_passed",
            Event::RecheckFailed { .. } => "recheck_failed",
            Event::Closed { .. } => "closed",
            Event::MeasuresConfirmed { .. } => "measures_confirmed",
            Event::Withdrawn { .. } => "withdrawn",
        }
    }

    /// The entry as stored: its kind and its payload (a JSON object).
    pub fn into_parts(self) -> (String, serde_json::Value) {
        let kind = self.kind().to_string();
        let payload = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut o)) => o.remove("payload").unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        (kind, payload)
    }

    /// A stored entry read back; `None` for a kind this version does not know or a payload that
    /// does not fit it (the timeline then shows the entry without details).
    pub fn parse(kind: &str, payload: &serde_json::Value) -> Option<Event> {
        serde_json::from_value(json!({ "kind": kind, "payload": payload })).ok()
    }
}

/// What should happen because of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Append an event to the matter's log.
    Record {
        #[serde(flatten)]
        event: Event,
        actor: Option<Actor>,
    },
    /// Tell people; `args` fill the mail template's placeholders.
    Notify { notice: Notice, audience: Vec<Audience>, args: serde_json::Value },
}

/// A refusal of the matter state machine: a [`Refusal`] with a code under `reject.`.
fn reject(code: &str) -> Refusal {
    Refusal::new(format!("reject.{code}"))
}

/// A text within its limit and free of control characters, or the refusal naming the field.
fn bounded(value: &str, field_key: &str, max: usize, single_line: bool) -> Result<(), Refusal> {
    use crate::input::{TextProblem, check_text};
    match check_text(value, max, single_line) {
        Ok(()) => Ok(()),
        Err(TextProblem::TooLong { max }) => Err(reject("too_long").arg("field", field_key).arg("max", max.to_string())),
        Err(TextProblem::Control) => Err(reject("control_chars").arg("field", field_key)),
    }
}

fn at_most<T>(list: &[T], field_key: &str, max: usize) -> Result<(), Refusal> {
    if list.len() > max { Err(reject("too_many").arg("field", field_key).arg("max", max.to_string())) } else { Ok(()) }
}

impl Action {
    /// Checks every value the action carries against the policy's input limits: the same check
    /// at the console's edge and in the workflow's validator. `today` bounds plan dates.
    pub fn check_input(&self, limits: &crate::input::InputLimits, today: NaiveDate) -> Result<(), Refusal> {
        use crate::input::{CONTENT_TYPE_CHARS, DURATION_CHARS, FILE_NAME_CHARS};
        let l = limits;
        match self {
            Action::Acknowledge { handler } => bounded(handler, "field.handler", l.name_chars, true),
            Action::Feedback { text, plan } => {
                bounded(text, "field.feedback", l.text_chars, false)?;
                at_most(plan, "field.plan", l.plan_rows)?;
                let last = today.checked_add_months(chrono::Months::new(12 * l.plan_years)).unwrap_or(today);
                for m in plan {
                    bounded(&m.what, "field.plan", l.text_chars, false)?;
                    if m.date > last {
                        return Err(reject("plan_date_window").arg("field", "field.plan").arg("years", l.plan_years.to_string()));
                    }
                }
                Ok(())
            }
            Action::SubmitEvidence { note, evidence } => {
                bounded(note, "field.note", l.text_chars, false)?;
                at_most(evidence, "field.evidence", l.evidence_files)?;
                for e in evidence {
                    bounded(&e.name, "field.evidence", FILE_NAME_CHARS, true)?;
                    bounded(&e.content_type, "field.evidence", CONTENT_TYPE_CHARS, true)?;
                    if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(reject("evidence_unknown").arg("field", "field.evidence").arg("name", e.name.clone()));
                    }
                }
                Ok(())
            }
            Action::RequestExtension { extend_by, reason, .. } => {
                bounded(extend_by, "field.extend_by", DURATION_CHARS, true)?;
                bounded(reason, "field.reason", l.text_chars, false)
            }
            Action::DecideExtension { extend_by, reason, .. } => {
                bounded(extend_by.as_deref().unwrap_or_default(), "field.extend_by", DURATION_CHARS, true)?;
                bounded(reason, "field.reason", l.text_chars, false)
            }
            Action::Recheck { note, .. } => bounded(note, "field.recheck_note", l.text_chars, false),
            Action::Withdraw { reason } => bounded(reason, "field.reason", l.text_chars, false),
            Action::ConfirmMeasures { note } => bounded(note, "field.note", l.text_chars, false),
        }
    }
}

impl NewMatter {
    /// Checks the texts of a matter to issue against the policy's input limits.
    pub fn check_input(&self, limits: &crate::input::InputLimits) -> Result<(), Refusal> {
        required(&self.title, "field.title")?;
        bounded(&self.title, "field.title", limits.title_chars, true)?;
        bounded(&self.description, "field.description", limits.text_chars, false)?;
        bounded(&self.basis, "field.basis", limits.basis_chars, false)
    }
}

fn required(value: &str, field_key: &str) -> Result<(), Refusal> {
    if value.trim().is_empty() { Err(reject("empty_field").arg("field", field_key)) } else { Ok(()) }
}

fn step_time(policy: &Policy, prev_ms: i64, after: PolicyDuration) -> i64 {
    if after.is_zero() { prev_ms } else { policy.calendar.due_ms(prev_ms, after) }
}

/// A later due instant: `by` more after the current one.
fn extend_due(policy: &Policy, due_ms: i64, by: PolicyDuration) -> i64 {
    match by.clock_millis() {
        Some(ms) => due_ms.saturating_add(ms),
        // Day periods count from the due day itself (the instant just before its midnight).
        None => policy.calendar.due_ms(due_ms.saturating_sub(1), by),
    }
}

impl Matter {
    /// Opens a matter: its 13710 clocks start now.
    pub fn open(new: &NewMatter, now_ms: i64, policy: &Policy) -> (Matter, Vec<Effect>) {
        let now_ms = new.issued_ms.unwrap_or(now_ms);
        let d = policy.deadlines(new.kind, new.severity);
        let mut m = Matter {
            id: new.id.clone(),
            facility_id: new.facility_id,
            kind: new.kind,
            severity: new.severity,
            title: new.title.clone(),
            status: Status::Issued,
            issued_ms: now_ms,
            deadlines: vec![],
            escalation_level: 0,
            handler: None,
            plan: vec![],
            pending_extension: None,
            extensions_granted: 0,
            reopen_count: 0,
        };
        for (kind, period) in [(DeadlineKind::Acknowledge, d.acknowledge), (DeadlineKind::Feedback, d.feedback), (DeadlineKind::Rectify, d.rectify)] {
            match (kind, new.rectify_due_ms) {
                // A given correction date never falls before the feedback it must follow.
                (DeadlineKind::Rectify, Some(due_ms)) => {
                    let floor = m.open_deadline(DeadlineKind::Feedback).map_or(due_ms, |f| f.due_ms);
                    m.start_deadline_at(policy, kind, now_ms, due_ms.max(floor), None)
                }
                _ => m.start_deadline(policy, kind, now_ms, period),
            }
        }
        if let Some(due_ms) = new.measures_due_ms {
            m.start_deadline_at(policy, DeadlineKind::Measures, now_ms, due_ms.max(now_ms), None);
        }
        let ack_due = m.open_deadline(DeadlineKind::Acknowledge).map(|d| d.due_ms).unwrap_or(now_ms);
        let effects = vec![
            Effect::Record {
                event: Event::Issued {
                    title: new.title.clone(),
                    description: new.description.clone(),
                    basis: new.basis.clone(),
                    kind: new.kind,
                    severity: new.severity,
                    facility_id: new.facility_id,
                    deadlines: m.deadlines.clone(),
                    policy: policy.name.clone(),
                },
                actor: Some(new.issued_by.clone()),
            },
            Effect::Notify {
                notice: Notice::Issued,
                audience: vec![Audience::Facility, Audience::Inspector],
                args: json!({ "due_ms": ack_due, "provisional": provisional_arg(policy, now_ms, ack_due) }),
            },
        ];
        (m, effects)
    }

    fn start_deadline(&mut self, policy: &Policy, kind: DeadlineKind, from_ms: i64, period: PolicyDuration) {
        self.start_deadline_at(policy, kind, from_ms, policy.calendar.due_ms(from_ms, period), Some(period));
    }

    fn start_deadline_at(&mut self, policy: &Policy, kind: DeadlineKind, from_ms: i64, due_ms: i64, period: Option<PolicyDuration>) {
        let first = policy.escalation.first().map(|s| step_time(policy, due_ms, s.after));
        self.deadlines.push(Deadline { kind, due_ms, met_ms: None, steps_taken: 0, next_step_ms: first, from_ms, period, last_step_ms: None });
    }

    /// Counts a live matter's internal dates again after its calendar (`policy.calendar`, already
    /// amended) learned the published schedule of `year`. Served dates stand as they were given;
    /// an open re-check window and every pending escalation step are counted again from where
    /// they started, and each date that moves is a `calendar_updated` event (old → new). A step
    /// that now falls in the past fires on the next tick. A finished matter is not touched.
    pub fn retime(&mut self, year: i32, policy: &Policy) -> Vec<Effect> {
        let mut effects = vec![];
        if self.status.is_ended() {
            return effects;
        }
        let source = policy.calendar.years.get(&year).and_then(|y| y.source.clone());
        let ladder = &policy.escalation;
        for d in self.deadlines.iter_mut().filter(|d| d.is_open()) {
            let mut moved = |what: &str, step: Option<&str>, old_ms: i64, new_ms: i64| {
                effects.push(Effect::Record {
                    event: Event::CalendarUpdated {
                        year,
                        source: source.clone(),
                        deadline: d.kind,
                        date: what.to_string(),
                        step: step.map(str::to_string),
                        old_ms,
                        new_ms,
                    },
                    actor: None,
                });
            };
            if let (false, Some(period)) = (d.kind.is_served(), d.period) {
                let due = policy.calendar.due_ms(d.from_ms, period);
                if due != d.due_ms {
                    moved("due", None, d.due_ms, due);
                    d.due_ms = due;
                }
            }
            if let (Some(old), Some(step)) = (d.next_step_ms, ladder.get(d.steps_taken as usize)) {
                // The first step counts from the due date (a matter extended before this fix
                // still carries the last step of its old ladder), later ones from the step before.
                let from = if d.steps_taken == 0 { d.due_ms } else { d.last_step_ms.unwrap_or(d.due_ms) };
                let next = step_time(policy, from, step.after);
                if next != old {
                    // A first step due with the deadline itself moved with it: one event says it.
                    if d.steps_taken > 0 || !step.after.is_zero() {
                        moved("escalation", Some(&step.id), old, next);
                    }
                    d.next_step_ms = Some(next);
                }
            }
        }
        effects
    }

    pub fn open_deadline(&self, kind: DeadlineKind) -> Option<&Deadline> {
        self.deadlines.iter().find(|d| d.kind == kind && d.is_open())
    }

    fn meet(&mut self, kind: DeadlineKind, now_ms: i64) {
        for d in self.deadlines.iter_mut().filter(|d| d.kind == kind && d.is_open()) {
            d.met_ms = Some(now_ms);
            d.next_step_ms = None;
        }
        if self.pending_extension.as_ref().is_some_and(|p| p.deadline == kind) {
            self.end_request(now_ms);
        }
    }

    /// The pending extension request is decided or moot: it leaves the supervisor's queue, and
    /// its decision deadline is met.
    fn end_request(&mut self, now_ms: i64) {
        self.pending_extension = None;
        for d in self.deadlines.iter_mut().filter(|d| d.kind == DeadlineKind::Decide && d.is_open()) {
            d.met_ms = Some(now_ms);
            d.next_step_ms = None;
        }
    }

    /// The earliest instant at which [`Matter::tick`] has something to do.
    pub fn next_wake_ms(&self) -> Option<i64> {
        if self.status.is_ended() {
            return None;
        }
        self.deadlines.iter().filter(|d| d.is_open()).filter_map(|d| d.next_step_ms).min()
    }

    /// Escalates every deadline whose next step is due at `now_ms`. Steps are timed from when
    /// they were due, not from when the worker noticed, so a late wake-up catches up exactly.
    pub fn tick(&mut self, now_ms: i64, policy: &Policy) -> Vec<Effect> {
        let mut effects = vec![];
        if self.status.is_ended() {
            return effects;
        }
        let ladder = &policy.escalation;
        for i in 0..self.deadlines.len() {
            while let Some(at) = self.deadlines[i].next_step_ms.filter(|at| *at <= now_ms && self.deadlines[i].is_open()) {
                let d = &mut self.deadlines[i];
                let step = &ladder[d.steps_taken as usize];
                d.steps_taken += 1;
                d.last_step_ms = Some(at);
                d.next_step_ms = ladder.get(d.steps_taken as usize).map(|next| step_time(policy, at, next.after));
                let level = d.steps_taken;
                let (kind, due_ms) = (d.kind, d.due_ms);
                let audience = if kind.counts_against_facility() {
                    self.escalation_level = self.escalation_level.max(level);
                    step.notify.clone()
                } else {
                    // A late re-check or decision is its owner's to hear of, and their superiors'
                    // (supervisors, administrators) where the step reaches them; never the facility's.
                    let mut to = vec![kind.owner()];
                    to.extend(step.notify.iter().copied().filter(|a| matches!(a, Audience::Supervisor | Audience::Admin) && *a != kind.owner()));
                    to
                };
                let provisional = provisional_arg(policy, self.deadlines[i].from_ms, due_ms);
                let args = json!({ "deadline": kind, "step": step.id, "level": level, "due_ms": due_ms, "step_at_ms": at, "provisional": provisional });
                let event = Event::Escalated { deadline: kind, step: step.id.clone(), level, due_ms, step_at_ms: at, provisional: provisional.clone() };
                effects.push(Effect::Record { event, actor: None });
                effects.push(Effect::Notify { notice: Notice::Escalated, audience, args });
            }
        }
        effects
    }

    fn require_role(&self, actor: &Actor, action: &Action, allowed: &[Role]) -> Result<(), Refusal> {
        if !allowed.contains(&actor.role) {
            return Err(reject("role_not_allowed").arg("role", format!("role.{}", actor.role)).arg("action", format!("action.{}", action.name())));
        }
        if actor.role == Role::Facility && actor.facility_id != Some(self.facility_id) {
            return Err(reject("not_your_facility"));
        }
        Ok(())
    }

    fn require_status(&self, action: &Action, allowed: &[Status]) -> Result<(), Refusal> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(reject("wrong_state").arg("status", format!("status.{}", self.status)).arg("action", format!("action.{}", action.name())))
        }
    }

    /// An extension period as a facility or supervisor writes it: at least the policy's minimum.
    fn parse_extension(text: &str, policy: &Policy, from_ms: i64) -> Result<PolicyDuration, Refusal> {
        let by = PolicyDuration::parse(text).map_err(|e| reject("bad_duration").arg("detail", e.to_string()))?;
        let min = policy.input.min_extension;
        if extend_due(policy, from_ms, by) < extend_due(policy, from_ms, min) {
            return Err(reject("extension_too_short").arg("min", min.to_string()));
        }
        Ok(by)
    }

    fn within_max(policy: &Policy, from_ms: i64, by: PolicyDuration) -> Result<(), Refusal> {
        let max = policy.extension.max_each;
        if extend_due(policy, from_ms, by) > extend_due(policy, from_ms, max) {
            return Err(reject("extension_too_long").arg("max", max.to_string()));
        }
        Ok(())
    }

    /// Checks an action and, if it is allowed, applies it and returns what must happen.
    /// On refusal the matter is unchanged.
    pub fn apply(&mut self, actor: &Actor, action: &Action, now_ms: i64, policy: &Policy) -> Result<Vec<Effect>, Refusal> {
        let mut next = self.clone();
        let effects = next.decide(actor, action, now_ms, policy)?;
        *self = next;
        Ok(effects)
    }

    /// Like [`Matter::apply`] but only says whether the action would be accepted.
    /// Files a facility (or an administrator) uploaded to the matter, for its timeline: every
    /// upload is an event, whether or not an action cites the files later. Refused like an
    /// action: on an ended matter, from another facility, or with bad names.
    pub fn record_upload(&self, actor: &Actor, files: &[EvidenceRef], now_ms: i64, policy: &Policy) -> Result<Vec<Effect>, Refusal> {
        if self.status.is_ended() {
            return Err(reject("ended").arg("status", format!("status.{}", self.status)));
        }
        if !matches!(actor.role, Role::Facility | Role::Admin) {
            return Err(reject("role_not_allowed").arg("role", format!("role.{}", actor.role)).arg("action", "action.upload"));
        }
        if actor.role == Role::Facility && actor.facility_id != Some(self.facility_id) {
            return Err(reject("not_your_facility"));
        }
        if files.is_empty() {
            return Err(reject("evidence_required").arg("field", "field.evidence"));
        }
        // The same bounds as evidence an action cites.
        Action::SubmitEvidence { note: String::new(), evidence: files.to_vec() }.check_input(&policy.input, policy.calendar.local_date(now_ms))?;
        Ok(vec![Effect::Record { event: Event::EvidenceUploaded { evidence: files.to_vec() }, actor: Some(actor.clone()) }])
    }

    pub fn check(&self, actor: &Actor, action: &Action, now_ms: i64, policy: &Policy) -> Result<(), Refusal> {
        self.clone().decide(actor, action, now_ms, policy).map(|_| ())
    }

    fn decide(&mut self, actor: &Actor, action: &Action, now_ms: i64, policy: &Policy) -> Result<Vec<Effect>, Refusal> {
        use Status::*;
        if self.status.is_ended() {
            return Err(reject("ended").arg("status", format!("status.{}", self.status)));
        }
        action.check_input(&policy.input, policy.calendar.local_date(now_ms))?;
        let record = |event: Event| Effect::Record { event, actor: Some(actor.clone()) };
        let working = [Acknowledged, FeedbackGiven, Reopened];
        let facility = [Role::Facility];
        let oversight = [Role::Supervisor, Role::Admin];
        match action {
            Action::Acknowledge { handler } => {
                self.require_role(actor, action, &facility)?;
                self.require_status(action, &[Issued])?;
                required(handler, "field.handler")?;
                self.meet(DeadlineKind::Acknowledge, now_ms);
                self.handler = Some(handler.trim().to_string());
                self.status = Acknowledged;
                Ok(vec![record(Event::Acknowledged { handler: handler.trim().to_string() })])
            }
            Action::Feedback { text, plan } => {
                self.require_role(actor, action, &facility)?;
                self.require_status(action, &working)?;
                required(text, "field.feedback")?;
                let mut effects = vec![];
                if self.severity == Severity::Major {
                    if plan.is_empty() && self.plan.is_empty() {
                        return Err(reject("plan_required").arg("field", "field.plan"));
                    }
                    if !plan.is_empty() {
                        let today = policy.calendar.local_date(now_ms);
                        let ordered = plan.windows(2).all(|w| w[0].date <= w[1].date);
                        if !ordered || plan[0].date < today || plan.iter().any(|m| m.what.trim().is_empty()) {
                            return Err(reject("plan_dates").arg("field", "field.plan"));
                        }
                        self.plan = plan.clone();
                    }
                }
                self.meet(DeadlineKind::Feedback, now_ms);
                if let Some(every) = policy.deadlines(self.kind, self.severity).report_every {
                    self.meet(DeadlineKind::Report, now_ms);
                    self.start_deadline(policy, DeadlineKind::Report, now_ms, every);
                }
                self.status = FeedbackGiven;
                effects.push(record(Event::Feedback { text: text.trim().to_string(), plan: plan.clone() }));
                Ok(effects)
            }
            Action::SubmitEvidence { note, evidence } => {
                self.require_role(actor, action, &facility)?;
                self.require_status(action, &working)?;
                if evidence.is_empty() {
                    return Err(reject("evidence_required"));
                }
                if self.severity == Severity::Major && self.plan.is_empty() {
                    return Err(reject("plan_required").arg("field", "field.plan"));
                }
                for kind in [DeadlineKind::Feedback, DeadlineKind::Rectify, DeadlineKind::Report] {
                    self.meet(kind, now_ms);
                }
                let recheck = policy.deadlines(self.kind, self.severity).recheck;
                self.start_deadline(policy, DeadlineKind::Recheck, now_ms, recheck);
                self.status = EvidenceSubmitted;
                let due = self.open_deadline(DeadlineKind::Recheck).map(|d| d.due_ms);
                Ok(vec![
                    record(Event::EvidenceSubmitted { note: note.trim().to_string(), evidence: evidence.clone() }),
                    Effect::Notify {
                        notice: Notice::RecheckDue,
                        audience: vec![Audience::Inspector],
                        args: json!({ "note": note.trim(), "due_ms": due, "provisional": due.and_then(|due| provisional_arg(policy, now_ms, due)) }),
                    },
                ])
            }
            Action::RequestExtension { deadline, extend_by, reason } => {
                self.require_role(actor, action, &facility)?;
                self.require_status(action, &[Issued, Acknowledged, FeedbackGiven, Reopened])?;
                required(reason, "field.reason")?;
                if self.pending_extension.is_some() {
                    return Err(reject("extension_pending"));
                }
                if self.extensions_granted >= policy.extension.max_per_matter {
                    return Err(reject("extension_limit").arg("max", policy.extension.max_per_matter.to_string()));
                }
                let Some(d) =
                    self.open_deadline(*deadline).filter(|_| matches!(deadline, DeadlineKind::Feedback | DeadlineKind::Rectify | DeadlineKind::Report))
                else {
                    return Err(reject("extension_not_open").arg("deadline", format!("deadline.{deadline}")));
                };
                let by = Self::parse_extension(extend_by, policy, d.due_ms)?;
                Self::within_max(policy, d.due_ms, by)?;
                self.pending_extension = Some(ExtensionRequest {
                    deadline: *deadline,
                    extend_by: by,
                    reason: reason.trim().into(),
                    requested_by: actor.clone(),
                    requested_ms: now_ms,
                });
                // The decision has its own date on the ladder (a policy without one: none).
                if let Some(within) = policy.extension.decide_within {
                    self.start_deadline(policy, DeadlineKind::Decide, now_ms, within);
                }
                let due = self.open_deadline(*deadline).map(|d| d.due_ms);
                let decide_by = self.open_deadline(DeadlineKind::Decide).map(|d| d.due_ms);
                Ok(vec![
                    record(Event::ExtensionRequested { deadline: *deadline, extend_by: by, reason: reason.trim().to_string(), decide_by_ms: decide_by }),
                    // The request waits for a supervisor: they hear of it, with the date it is
                    // about and the date they are to decide by.
                    Effect::Notify {
                        notice: Notice::ExtensionRequested,
                        audience: vec![Audience::Supervisor],
                        args: json!({
                            "deadline": deadline, "note": reason.trim(), "due_ms": due, "decide_by_ms": decide_by,
                            "provisional": due.and_then(|due| provisional_arg(policy, now_ms, due)),
                        }),
                    },
                ])
            }
            Action::DecideExtension { approve, extend_by, reason } => {
                self.require_role(actor, action, &oversight)?;
                let Some(req) = self.pending_extension.clone() else {
                    return Err(reject("extension_none"));
                };
                if !approve {
                    if reason.trim().is_empty() {
                        return Err(reject("reason_required"));
                    }
                    self.end_request(now_ms);
                    return Ok(vec![record(Event::ExtensionRefused { deadline: req.deadline, reason: reason.trim().to_string() })]);
                }
                let ladder_first = policy.escalation.first().map(|s| s.after);
                let Some(due_ms) = self.open_deadline(req.deadline).map(|d| d.due_ms) else {
                    return Err(reject("extension_not_open").arg("deadline", format!("deadline.{}", req.deadline)));
                };
                let by = match extend_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(text) => Self::parse_extension(text, policy, due_ms)?,
                    None => req.extend_by,
                };
                let d = self.deadlines.iter_mut().find(|d| d.kind == req.deadline && d.is_open()).expect("found above");
                Self::within_max(policy, d.due_ms, by)?;
                let old_due = d.due_ms;
                d.due_ms = extend_due(policy, old_due, by);
                d.period = None;
                // The deadline is no longer missed: its ladder starts again from the new due date.
                d.steps_taken = 0;
                d.last_step_ms = None;
                d.next_step_ms = ladder_first.map(|after| step_time(policy, d.due_ms, after));
                let new_due = d.due_ms;
                self.end_request(now_ms);
                self.extensions_granted += 1;
                Ok(vec![record(Event::ExtensionApproved {
                    deadline: req.deadline,
                    extend_by: by,
                    old_due_ms: old_due,
                    new_due_ms: new_due,
                    reason: reason.trim().to_string(),
                })])
            }
            Action::Recheck { passed, note } => {
                self.require_role(actor, action, &[Role::Inspector, Role::Supervisor, Role::Admin])?;
                self.require_status(action, &[EvidenceSubmitted])?;
                self.meet(DeadlineKind::Recheck, now_ms);
                if *passed {
                    self.status = Closed;
                    let rest: Vec<DeadlineKind> = self.deadlines.iter().filter(|d| d.is_open()).map(|d| d.kind).collect();
                    for kind in rest {
                        self.meet(kind, now_ms);
                    }
                    Ok(vec![
                        record(Event::RecheckPassed { note: note.trim().to_string() }),
                        record(Event::Closed { escalation_level: self.escalation_level }),
                        Effect::Notify { notice: Notice::Closed, audience: vec![Audience::Facility, Audience::Supervisor], args: json!({}) },
                    ])
                } else {
                    required(note, "field.recheck_note")?;
                    let period = match self.severity {
                        Severity::Ordinary => policy.reopen.rectify_ordinary,
                        Severity::Major => policy.reopen.rectify_major,
                    };
                    self.start_deadline(policy, DeadlineKind::Rectify, now_ms, period);
                    let due = self.open_deadline(DeadlineKind::Rectify).map(|d| d.due_ms);
                    self.status = Reopened;
                    self.reopen_count += 1;
                    Ok(vec![
                        record(Event::RecheckFailed { note: note.trim().to_string(), new_due_ms: due }),
                        Effect::Notify {
                            notice: Notice::Reopened,
                            audience: vec![Audience::Facility, Audience::Supervisor],
                            args: json!({ "note": note.trim(), "due_ms": due, "provisional": due.and_then(|due| provisional_arg(policy, now_ms, due)) }),
                        },
                    ])
                }
            }
            Action::ConfirmMeasures { note } => {
                self.require_role(actor, action, &facility)?;
                self.require_status(action, &[Issued, Acknowledged, FeedbackGiven, Reopened])?;
                required(note, "field.note")?;
                if self.open_deadline(DeadlineKind::Measures).is_none() {
                    return Err(reject("measures_not_open"));
                }
                self.meet(DeadlineKind::Measures, now_ms);
                Ok(vec![record(Event::MeasuresConfirmed { note: note.trim().to_string() })])
            }
            Action::Withdraw { reason } => {
                self.require_role(actor, action, &oversight)?;
                if reason.trim().is_empty() {
                    return Err(reject("reason_required"));
                }
                let open: Vec<DeadlineKind> = self.deadlines.iter().filter(|d| d.is_open()).map(|d| d.kind).collect();
                for kind in open {
                    self.meet(kind, now_ms);
                }
                self.end_request(now_ms);
                self.status = Withdrawn;
                Ok(vec![record(Event::Withdrawn { reason: reason.trim().to_string() })])
            }
        }
    }
}

#[cfg(test)]
mod tests;

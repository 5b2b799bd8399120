//! A campaign as a case (RULES.md §2): planned → committed (the commitment published) → drawn →
//! assigned (the teams confirmed, the inspections running) → published → closed; or failed when
//! the committed directories cannot make the draw (a team short of qualified inspectors). The
//! rules say which step is allowed, by whom, with what, and when a deadline is missed; the
//! `Campaign` workflow acts on it.

use super::{CampaignPlan, Dates};
use crate::draw::{self, SourceValues};
use crate::input::{TextProblem, check_text};
use crate::matter::{Actor, Role};
use crate::policy::Policy;
use crate::refusal::{Class, Refusal};
use serde::{Deserialize, Serialize};

const WITNESS_CHARS: usize = 100;
const MAX_WITNESSES: usize = 10;
const REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Planned,
    Committed,
    Drawn,
    Assigned,
    Published,
    Closed,
    Failed,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 7] = [Self::Planned, Self::Committed, Self::Drawn, Self::Assigned, Self::Published, Self::Closed, Self::Failed];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Committed => "committed",
            Self::Drawn => "drawn",
            Self::Assigned => "assigned",
            Self::Published => "published",
            Self::Closed => "closed",
            Self::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn is_ended(self) -> bool {
        matches!(self, Self::Closed | Self::Failed)
    }
}

/// The draw as the operator enters it at the ceremony, with the witnesses present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawRequest {
    /// Each committed source's value, in the commitment's order (numbers separated by spaces,
    /// or text).
    pub values: Vec<String>,
    pub witnesses: Vec<String>,
    pub operator: Actor,
}

/// One inspector of a drawn team replaced before assignment, with the reason recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassignment {
    pub target: String,
    pub out: String,
    #[serde(rename = "in")]
    pub replacement: String,
    pub reason: String,
    pub by: Actor,
}

/// A draw set aside before the teams were sent, with the reason (a value entered wrongly, a
/// ceremony interrupted). The draw stays stored and published; a new draw follows on the same
/// commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supersession {
    /// The draw's number (1 for the first).
    pub seq: u32,
    pub bundle_sha256: String,
    pub reason: String,
    pub by: Actor,
    pub at_ms: i64,
}

/// The request to set the current draw aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupersedeRequest {
    pub reason: String,
    pub by: Actor,
}

/// A deadline of a campaign, each on the escalation ladder when missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// Teams confirmed within `campaign.assign_within` of the draw.
    Assign,
    /// Every drawn home inspected within the window.
    Inspect,
    /// Results published within `inspection.publish_within` of the window's end.
    Publish,
}

impl Deadline {
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::Assign => "assign",
            Deadline::Inspect => "inspect",
            Deadline::Publish => "publish",
        }
    }
}

/// A campaign's state, as its workflow keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub status: CampaignStatus,
    pub plan: CampaignPlan,
    /// The commitment's digest, once published.
    pub commitment_sha256: Option<String>,
    pub draw: Option<DrawRequest>,
    /// The bundle's digest, once drawn.
    pub bundle_sha256: Option<String>,
    pub dates: Option<Dates>,
    pub reassignments: Vec<Reassignment>,
    pub assigned_by: Option<Actor>,
    pub published_by: Option<Actor>,
    pub published_ms: Option<i64>,
    /// Every drawn home has been inspected.
    pub inspected: bool,
    /// The escalation level reached per deadline (0: not missed).
    pub escalation: Vec<(Deadline, u32)>,
    /// Why the draw failed.
    pub failure: Option<Refusal>,
    /// Draws set aside, oldest first (each with its reason).
    #[serde(default)]
    pub superseded: Vec<Supersession>,
}

fn refusal(code: &str) -> Refusal {
    Refusal::new(format!("campaign.{code}"))
}

fn wrong_state(s: CampaignStatus, action: &str) -> Refusal {
    refusal("wrong_state").class(Class::Conflict).arg("status", format!("campaign_status.{}", s.as_str())).arg("action", format!("campaign_action.{action}"))
}

fn oversight(actor: &Actor) -> Result<(), Refusal> {
    if matches!(actor.role, Role::Supervisor | Role::Admin) { Ok(()) } else { Err(refusal("not_oversight").class(Class::Forbidden)) }
}

fn one_line(field: &str, v: &str, max: usize) -> Result<String, Refusal> {
    let v = v.trim();
    match check_text(v, max, true) {
        Ok(()) if v.is_empty() => Err(refusal("required").arg("field", format!("field.{field}"))),
        Ok(()) => Ok(v.to_string()),
        Err(TextProblem::TooLong { max }) => Err(refusal("too_long").arg("field", format!("field.{field}")).arg("max", max.to_string())),
        Err(TextProblem::Control) => Err(refusal("control_chars").arg("field", format!("field.{field}"))),
    }
}

impl Campaign {
    pub fn new(plan: CampaignPlan) -> Campaign {
        Campaign {
            status: CampaignStatus::Planned,
            plan,
            commitment_sha256: None,
            draw: None,
            bundle_sha256: None,
            dates: None,
            reassignments: vec![],
            assigned_by: None,
            published_by: None,
            published_ms: None,
            inspected: false,
            escalation: vec![],
            failure: None,
            superseded: vec![],
        }
    }

    /// The number of the current draw (or of the next one, before it is made).
    pub fn draw_seq(&self) -> u32 {
        self.superseded.len() as u32 + 1
    }

    /// The draw may be set aside: drawn and not assigned yet, by oversight, with a reason, at most
    /// `max` times in a campaign (policy `campaign.max_supersessions`), so a draw cannot be
    /// redone until it suits someone.
    pub fn check_supersede(&self, req: &SupersedeRequest, max: u32) -> Result<(), Refusal> {
        if self.status != CampaignStatus::Drawn {
            return Err(wrong_state(self.status, "supersede"));
        }
        oversight(&req.by)?;
        one_line("reason", &req.reason, REASON_CHARS)?;
        if self.superseded.len() as u32 >= max {
            return Err(refusal("supersede_limit").class(Class::Conflict).arg("max", max.to_string()));
        }
        Ok(())
    }

    /// Sets the current draw aside: back to committed, the draw's dates, teams' reassignments and
    /// escalation of the teams' deadline gone; the next draw counts afresh.
    pub fn supersede(&mut self, req: SupersedeRequest, now_ms: i64) {
        let seq = self.draw_seq();
        self.superseded.push(Supersession {
            seq,
            bundle_sha256: self.bundle_sha256.take().unwrap_or_default(),
            reason: req.reason.trim().to_string(),
            by: req.by,
            at_ms: now_ms,
        });
        self.status = CampaignStatus::Committed;
        self.draw = None;
        self.dates = None;
        self.reassignments.clear();
        self.escalation.retain(|(d, _)| *d != Deadline::Assign);
    }

    /// The draw may be entered: committed, by oversight, one value per committed source (each
    /// one the draw can read), one to ten named witnesses. Returns the sources' values.
    pub fn check_draw(&self, req: &DrawRequest) -> Result<Vec<SourceValues>, Refusal> {
        if self.status != CampaignStatus::Committed {
            return Err(wrong_state(self.status, "draw"));
        }
        oversight(&req.operator)?;
        let sources = &self.plan.sources;
        if req.values.len() != sources.len() {
            return Err(Refusal::new("draw.source_count").arg("named", sources.len().to_string()).arg("given", req.values.len().to_string()));
        }
        let mut values = vec![];
        for (i, (v, s)) in req.values.iter().zip(sources).enumerate() {
            if let Err(TextProblem::TooLong { .. } | TextProblem::Control) = check_text(v, 500, true) {
                return Err(Refusal::new("draw.not_a_number").arg("source", (i + 1).to_string()).arg("value", v.chars().take(40).collect::<String>()));
            }
            values.push(match s.kind.as_str() {
                "text" if !v.trim().is_empty() => SourceValues::Text(v.trim().to_string()),
                "text" => return Err(Refusal::new("draw.empty_source").arg("source", (i + 1).to_string())),
                _ => draw::parse_source(i, v)?,
            });
        }
        if req.witnesses.is_empty() {
            return Err(refusal("no_witness"));
        }
        if req.witnesses.len() > MAX_WITNESSES {
            return Err(refusal("too_many").arg("field", "field.witnesses").arg("max", MAX_WITNESSES.to_string()));
        }
        for w in &req.witnesses {
            one_line("witnesses", w, WITNESS_CHARS)?;
        }
        Ok(values)
    }

    /// An inspector of a drawn team may be replaced before assignment, with a reason, by
    /// oversight; that the replacement is available and free of conflicts is checked against the
    /// committed directory ([`draw::check_replacement`]).
    pub fn check_reassign(&self, r: &Reassignment, teams: &[draw::Team]) -> Result<(), Refusal> {
        if self.status != CampaignStatus::Drawn {
            return Err(wrong_state(self.status, "reassign"));
        }
        oversight(&r.by)?;
        one_line("reason", &r.reason, REASON_CHARS)?;
        let team = teams.iter().find(|t| t.target == r.target).ok_or_else(|| refusal("not_drawn").arg("target", r.target.clone()))?;
        if !team.inspectors.contains(&r.out) {
            return Err(refusal("not_in_team").arg("inspector", r.out.clone()).arg("target", r.target.clone()));
        }
        if team.inspectors.contains(&r.replacement) {
            return Err(refusal("already_in_team").arg("inspector", r.replacement.clone()).arg("target", r.target.clone()));
        }
        Ok(())
    }

    /// The drawn teams may be confirmed (the inspections start): drawn, by oversight.
    pub fn check_assign(&self, by: &Actor) -> Result<(), Refusal> {
        if self.status != CampaignStatus::Drawn {
            return Err(wrong_state(self.status, "assign"));
        }
        oversight(by)
    }

    /// The results may be published: assigned, by oversight, once every inspection is done or
    /// the window has ended (what was not inspected is published as such). `window_end` is the
    /// window's end as people read it (for the refusal).
    pub fn check_publish(&self, by: &Actor, now_ms: i64, window_end: &str) -> Result<(), Refusal> {
        if self.status != CampaignStatus::Assigned {
            return Err(wrong_state(self.status, "publish"));
        }
        oversight(by)?;
        let window_over = self.dates.is_some_and(|d| now_ms >= d.window_end_ms);
        if !self.inspected && !window_over {
            return Err(refusal("not_finished").arg("date", window_end));
        }
        Ok(())
    }

    /// The deadline the campaign is running against now, and when it passes: assignment while
    /// drawn; then the window until every home is inspected (or the window is missed);
    /// then publication.
    pub fn deadline(&self) -> Option<(Deadline, i64)> {
        let d = self.dates?;
        match self.status {
            CampaignStatus::Drawn => Some((Deadline::Assign, d.assign_by_ms)),
            CampaignStatus::Assigned if !self.inspected && self.level(Deadline::Inspect) == 0 => Some((Deadline::Inspect, d.window_end_ms)),
            CampaignStatus::Assigned => Some((Deadline::Publish, d.publish_by_ms)),
            _ => None,
        }
    }

    /// The escalation level reached on a deadline.
    pub fn level(&self, which: Deadline) -> u32 {
        self.escalation.iter().find(|(d, _)| *d == which).map_or(0, |(_, l)| *l)
    }

    /// When the next step of the escalation ladder is due for the current deadline: the first
    /// step when the deadline passes, each later step its policy delay after the one before (the
    /// policy's ladder, as a matter climbs it). `None` when nothing runs or the ladder is climbed.
    pub fn next_escalation(&self, policy: &Policy) -> Option<(Deadline, u32, i64)> {
        let (which, passes_ms) = self.deadline()?;
        let level = self.level(which);
        let ladder = &policy.escalation;
        if level as usize >= ladder.len() {
            return None;
        }
        let cal = &policy.calendar;
        let first = ladder[0].after;
        let mut due = if first.is_zero() { passes_ms } else { cal.due_ms(passes_ms, first) };
        for step in ladder.iter().take(level as usize + 1).skip(1) {
            due = cal.due_ms(due, step.after);
        }
        Some((which, level + 1, due))
    }

    /// Records that the escalation step `level` of `which` has been taken.
    pub fn escalate(&mut self, which: Deadline, level: u32) {
        match self.escalation.iter_mut().find(|(d, _)| *d == which) {
            Some(entry) => entry.1 = entry.1.max(level),
            None => self.escalation.push((which, level)),
        }
    }
}

#[cfg(test)]
mod tests;

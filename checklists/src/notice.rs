//! Grouping findings into rectification notices: "Findings from one inspection become one notice;
//! each major hazard gets its own notice that also orders immediate measures."

use serde::{Deserialize, Serialize};

use crate::evaluate::{Evaluation, Finding};
use crate::model::{DeadlineClass, Severity, Text};

/// The findings one rectification notice carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeGroup {
    /// A notice for a single major hazard, which also orders immediate measures.
    pub major_hazard: bool,
    /// The longest correction period among its findings: `major` for a major-hazard notice or
    /// when any finding allows a month; otherwise `immediate` if every finding is immediate,
    /// else `ordinary`. The matter the notice becomes is timed by it.
    pub deadline: DeadlineClass,
    /// In template order.
    pub findings: Vec<Finding>,
    /// The immediate measures ordered (major-hazard notices only).
    pub measures: Option<Text>,
}

/// One notice with every finding that is not a major hazard (minor ones included), if there are
/// any, followed by one notice per major hazard, in template order.
pub fn group_notices(evaluation: &Evaluation) -> Vec<NoticeGroup> {
    let (major, ordinary): (Vec<&Finding>, Vec<&Finding>) = evaluation.findings.iter().partition(|f| f.severity == Severity::MajorHazard);
    let mut groups = Vec::new();
    if !ordinary.is_empty() {
        let deadline = if ordinary.iter().any(|f| f.deadline == DeadlineClass::Major) {
            DeadlineClass::Major
        } else if ordinary.iter().all(|f| f.deadline == DeadlineClass::Immediate) {
            DeadlineClass::Immediate
        } else {
            DeadlineClass::Ordinary
        };
        groups.push(NoticeGroup { major_hazard: false, deadline, findings: ordinary.into_iter().cloned().collect(), measures: None });
    }
    groups.extend(major.into_iter().map(|f| NoticeGroup {
        major_hazard: true,
        deadline: DeadlineClass::Major,
        findings: vec![f.clone()],
        measures: f.measures.clone(),
    }));
    groups
}

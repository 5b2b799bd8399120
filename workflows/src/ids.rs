//! Task-queue names and workflow-id formats, written once.

/// The task queue every Qingling worker polls.
pub const TASK_QUEUE: &str = "qingling";

/// The workflow id of a rectification matter.
pub fn matter_workflow_id(matter_id: &str) -> String {
    format!("matter-{matter_id}")
}

/// The workflow id of the delivery (print and mail) of a matter's notice document.
pub fn notice_workflow_id(matter_id: &str) -> String {
    format!("notice-{matter_id}")
}

/// The workflow id of an inspection.
pub fn inspection_workflow_id(inspection_id: &str) -> String {
    format!("inspection-{inspection_id}")
}

/// The workflow id of the roll-out of a year's schedule: one per year and schedule content, so
/// loading the same schedule twice starts it once.
pub fn calendar_rollout_workflow_id(year: i32, digest: &str) -> String {
    format!("calendar-{year}-{}", &digest[..digest.len().min(16)])
}

/// The workflow id of a 双随机 campaign.
pub fn campaign_workflow_id(campaign_id: &str) -> String {
    format!("campaign-{campaign_id}")
}

/// The Temporal Schedule of a recurring campaign plan.
pub fn campaign_schedule_id(plan_id: &str) -> String {
    format!("campaign-plan-{plan_id}")
}

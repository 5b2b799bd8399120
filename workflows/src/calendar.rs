//! The `CalendarRollout` workflow: tells every running matter and inspection about a year's
//! published schedule, durably. An administrator's load starts it once per schedule; the
//! broadcast activity retries until every running workflow has been signalled.

use crate::contract::{CalendarActivities, CalendarYearUpdate};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowContextView, WorkflowResult};

#[workflow]
pub struct CalendarRollout {
    update: CalendarYearUpdate,
}

#[workflow_methods]
impl CalendarRollout {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, update: CalendarYearUpdate) -> Self {
        Self { update }
    }

    /// Returns how many workflows were told.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<u64> {
        let update = ctx.state(|s| s.update.clone());
        // The activity heartbeats as it pages through the running workflows; a dead worker's
        // attempt is retried elsewhere, and signals already sent are harmless to repeat.
        let opts = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(3600)).heartbeat_timeout(Duration::from_secs(30)).build();
        Ok(ctx.execute_activity(CalendarActivities::broadcast, update, opts).await?)
    }
}

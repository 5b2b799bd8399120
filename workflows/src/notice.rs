//! The `NoticeDelivery` workflow: prints a matter's notice to PDF and mails it to the facility,
//! retrying until both are done. The `Rectification` workflow starts it as an abandoned child
//! when it first stores a notice issued from the console, so a Chromium or mail outage delays
//! the printed copy, never the matter.

use crate::contract::NoticeActivities;
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowContextView, WorkflowResult};

#[workflow]
pub struct NoticeDelivery {
    matter_id: String,
}

#[workflow_methods]
impl NoticeDelivery {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, matter_id: String) -> Self {
        Self { matter_id }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let matter_id = ctx.state(|s| s.matter_id.clone());
        // Printing takes seconds; the activity heartbeats every 2 s, so a dead worker is noticed
        // after 10 s and the (idempotent) retry runs elsewhere. The default retry policy retries
        // without limit, with back-off, like an inspection's notices.
        let opts = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(600)).heartbeat_timeout(Duration::from_secs(10)).build();
        ctx.execute_activity(NoticeActivities::deliver, matter_id, opts).await?;
        Ok(())
    }
}

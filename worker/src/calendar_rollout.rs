//! The `calendar.broadcast` activity: signals a year's published schedule to every running
//! matter and inspection, found through Temporal's visibility (so a matter whose first database
//! write is still under way is told too). Signals are idempotent on the workflow's side, so a
//! retried attempt may send them again.

use futures::StreamExt;
use qingling_workflows::contract::{CalendarActivities, CalendarYearUpdate};
use std::sync::Arc;
use temporalio_client::{Client, WorkflowListOptions};
use temporalio_common::ActivityDefinition;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct CalendarActivitiesImpl {
    pub client: Client,
}

const _: fn() = || {
    fn same_contract<D: ActivityDefinition<Input = CalendarYearUpdate, Output = u64>>(_: &D) {}
    same_contract(&CalendarActivities::broadcast);
};

/// The running workflows that keep a calendar.
const QUERY: &str = "ExecutionStatus = 'Running' AND (WorkflowType = 'Rectification' OR WorkflowType = 'Inspection')";

#[activities]
impl CalendarActivitiesImpl {
    #[activity(name = ActivityDefinition::name(&CalendarActivities::broadcast))]
    pub async fn broadcast(self: Arc<Self>, ctx: ActivityContext, update: CalendarYearUpdate) -> Result<u64, ActivityError> {
        let mut told = 0u64;
        let mut seen = 0u64;
        let mut list = self.client.list_workflows(QUERY, WorkflowListOptions::default());
        while let Some(item) = list.next().await {
            let wf = item.map_err(|e| ActivityError::application(ApplicationFailure::new(anyhow::anyhow!("listing running workflows: {e}"))))?;
            seen += 1;
            match qingling_web::engine::teach_calendar(&self.client, wf.id(), wf.workflow_type(), update.clone()).await {
                Ok(true) => told += 1,
                Ok(false) => {}
                Err(e) => return Err(ActivityError::application(ApplicationFailure::new(anyhow::anyhow!("signalling {}: {e}", wf.id())))),
            }
            // The SDK throttles heartbeats; one per workflow keeps a slow page from timing out.
            let _ = ctx.record_heartbeat(seen).await;
        }
        tracing::info!(year = update.year, told, "working-day schedule rolled out");
        Ok(told)
    }
}

//! `qingling doctor`: the database and the workflow engine must agree on every open matter.
//! A matter the database holds open whose workflow no longer runs (terminated, failed, or lost
//! with the engine's history) can no longer escalate or take actions; the doctor names each,
//! and with `--repair` starts its workflow again from the stored state (the matter's snapshot,
//! its event numbering and notice number), under the same workflow id.

use crate::app::{connect_temporal, open_store};
use crate::exit::ProblemsFound;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow};
use qingling_activities::db::entities::matter;
use qingling_activities::store::Store;
use qingling_rules::Policy;
use qingling_rules::matter::{Actor, Matter, NewMatter, Role};
use qingling_workflows::rectification::{Resume, matter_attributes};
use qingling_workflows::visibility;
use qingling_workflows::{Rectification, RectificationInput, ids};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use temporalio_client::errors::WorkflowInteractionError;
use temporalio_client::{Client, WorkflowDescribeOptions, WorkflowExecutionStatus, WorkflowIdReusePolicy, WorkflowStartOptions};

/// What the engine says of an open matter's workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Running,
    /// Closed by someone or something (terminated, failed, cancelled, timed out): restartable.
    Closed(String),
    /// The engine has never heard of it (its history was lost, or retention removed it).
    Missing,
    /// Completed although the database says open: the last step was not stored.
    CompletedUnstored,
}

async fn describe(client: &Client, workflow_id: &str) -> Result<Finding> {
    let handle = client.get_workflow_handle::<Rectification>(workflow_id);
    match handle.describe(WorkflowDescribeOptions::default()).await {
        Ok(d) => Ok(match d.status() {
            WorkflowExecutionStatus::Running | WorkflowExecutionStatus::ContinuedAsNew => Finding::Running,
            WorkflowExecutionStatus::Completed => Finding::CompletedUnstored,
            other => Finding::Closed(format!("{other:?}").to_lowercase()),
        }),
        Err(WorkflowInteractionError::NotFound(_)) => Ok(Finding::Missing),
        Err(e) => Err(anyhow!("cannot describe {workflow_id}: {e}")),
    }
}

/// The workflow input that carries a stored matter into a new run.
pub async fn resume_input(store: &Store, row: &matter::Model, policy: &Policy) -> Result<RectificationInput> {
    let snapshot: Matter = serde_json::from_str(&row.snapshot).with_context(|| format!("matter {}: the stored snapshot does not parse", row.id))?;
    let user = store.user_by_id(row.issued_by).await?.with_context(|| format!("matter {}: the issuing user {} is gone", row.id, row.issued_by))?;
    let role = Role::parse(&user.role).with_context(|| format!("user {} has an unknown role {:?}", user.id, user.role))?;
    let notice_number = store.notice_for(&row.id).await?.map(|n| n.number);
    let new = NewMatter {
        id: row.id.clone(),
        facility_id: row.facility_id,
        kind: snapshot.kind,
        severity: snapshot.severity,
        title: row.title.clone(),
        description: row.description.clone(),
        basis: row.basis.clone(),
        issued_by: Actor { user_id: user.id, name: user.display_name, role, facility_id: user.facility_id },
        issued_ms: Some(row.issued_at_ms),
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let facility = store.facility_facts(row.facility_id).await?;
    Ok(RectificationInput {
        new,
        policy: policy.clone(),
        resume: Some(Resume { matter: snapshot, last_seq: row.last_seq.max(0) as u64, notice_number }),
        facility,
    })
}

/// `qingling doctor [--repair]`.
pub async fn run(settings: Settings, repair: bool) -> Result<()> {
    let store = open_store(&settings).await?;
    let client = connect_temporal(settings.temporal_address.as_deref().or(Some(&format!("127.0.0.1:{}", settings.temporal_port)))).await?;
    let open: Vec<matter::Model> =
        matter::Entity::find().filter(matter::Column::Status.is_not_in(["closed", "withdrawn"])).order_by_asc(matter::Column::Id).all(&store.db).await?;
    let policy = store.policy_in_force(&settings.policy).await?;
    let (mut bad, mut repaired) = (0, 0);
    for row in &open {
        let finding = describe(&client, &row.workflow_id).await?;
        let what = match &finding {
            Finding::Running => continue,
            Finding::Closed(status) => format!("the database says {} (event {}), its workflow {} is {status}", row.status, row.last_seq, row.workflow_id),
            Finding::Missing => format!("the database says {} (event {}), Temporal has no workflow {}", row.status, row.last_seq, row.workflow_id),
            Finding::CompletedUnstored => {
                format!("the database says {} (event {}), its workflow {} completed: its last step was not stored", row.status, row.last_seq, row.workflow_id)
            }
        };
        bad += 1;
        println!("matter {}: {what}", row.id);
        if repair && finding != Finding::CompletedUnstored {
            let input = resume_input(&store, row, &policy).await?;
            // The new run is searchable as the stored matter stands (status, notice number).
            let notice_number = input.resume.as_ref().and_then(|r| r.notice_number.clone());
            let options = WorkflowStartOptions::new(ids::TASK_QUEUE, row.workflow_id.clone())
                .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
                .search_attributes(matter_attributes(&input))
                .memo(visibility::matter_memo(&input.new, &input.facility, notice_number.as_deref()))
                .static_summary(qingling_web::engine::summary(&input.facility, &input.new.title))
                .build();
            client
                .start_workflow(Rectification::run, input, options)
                .await
                .map_err(|e| anyhow!("restarting {}: {}", row.workflow_id, qingling_web::engine::start_error(e)))?;
            repaired += 1;
            println!("  restarted from the stored state (event {}, policy {} in force now)", row.last_seq, policy.name);
        }
    }
    println!(
        "{} open matters checked: {} agree with the engine, {bad} do not{}",
        open.len(),
        open.len() - bad,
        if repair { format!(", {repaired} restarted") } else { String::new() }
    );
    if bad > repaired {
        // Found, not failed: the engine and the database were both read (exit 3, not 1).
        let hint = if repair { "" } else { " (qingling doctor --repair restarts them from the stored state)" };
        return Err(ProblemsFound(format!("{} matters need attention{hint}", bad - repaired)).into());
    }
    Ok(())
}

//! What operators need to see: workflows held on a failure retrying cannot fix.

use crate::Result;
use crate::db::entities::stuck_workflow;
use crate::store::Store;
use qingling_workflows::contract::StuckReport;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// The error text kept per workflow (a database error can quote a long statement).
const ERROR_CHARS: usize = 2000;

impl Store {
    /// Records a held workflow, or one more failure of a workflow already listed (which makes
    /// it held again if an operator had asked for another attempt).
    pub async fn record_stuck(&self, r: &StuckReport) -> Result<()> {
        use stuck_workflow::Column as C;
        let error: String = r.error.chars().filter(|c| *c != '\0').take(ERROR_CHARS).collect();
        let row = stuck_workflow::ActiveModel {
            workflow_id: Set(r.workflow_id.clone()),
            kind: Set(r.kind.clone()),
            subject_id: Set(r.subject_id.clone()),
            error: Set(error),
            first_ms: Set(r.at_ms),
            last_ms: Set(r.at_ms),
            failures: Set(1),
            resolved_ms: Set(None),
        };
        stuck_workflow::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::WorkflowId)
                    .update_columns([C::Error, C::LastMs, C::ResolvedMs])
                    .value(C::Failures, Expr::col((stuck_workflow::Entity, C::Failures)).add(1))
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Held workflows, longest held first, at most `limit`.
    pub async fn stuck_workflows(&self, limit: u64) -> Result<Vec<stuck_workflow::Model>> {
        Ok(stuck_workflow::Entity::find()
            .filter(stuck_workflow::Column::ResolvedMs.is_null())
            .order_by_asc(stuck_workflow::Column::FirstMs)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// The workflow's entry while it is held.
    pub async fn stuck_workflow(&self, workflow_id: &str) -> Result<Option<stuck_workflow::Model>> {
        Ok(stuck_workflow::Entity::find()
            .filter(stuck_workflow::Column::WorkflowId.eq(workflow_id))
            .filter(stuck_workflow::Column::ResolvedMs.is_null())
            .one(&self.db)
            .await?)
    }

    pub async fn stuck_count(&self) -> Result<u64> {
        Ok(stuck_workflow::Entity::find().filter(stuck_workflow::Column::ResolvedMs.is_null()).count(&self.db).await?)
    }

    /// Marks a held workflow as given another attempt; `false` when it was not held.
    pub async fn resolve_stuck(&self, workflow_id: &str, now_ms: i64) -> Result<bool> {
        let res = stuck_workflow::Entity::update_many()
            .col_expr(stuck_workflow::Column::ResolvedMs, Expr::value(now_ms))
            .filter(stuck_workflow::Column::WorkflowId.eq(workflow_id))
            .filter(stuck_workflow::Column::ResolvedMs.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }
}

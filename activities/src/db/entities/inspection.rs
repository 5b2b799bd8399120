//! An on-site inspection: the pinned checklist template, its status, the submitted answers and
//! their evaluation, and the tablet's last synced draft.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inspections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workflow_id: String,
    pub facility_id: i64,
    pub region_id: i64,
    pub template_id: String,
    pub template_version: i32,
    /// The content hash of the template copy the inspection's workflow carries; empty for rows
    /// from before it was recorded.
    pub template_sha256: Option<String>,
    /// The template's Chinese title.
    pub title: String,
    /// The inspection day, `YYYY-MM-DD`.
    pub date: String,
    /// `assigned`, `in_progress`, `submitted` or `completed`.
    pub status: String,
    pub assigned_by: i64,
    pub started_by: Option<i64>,
    pub submission_key: Option<String>,
    pub submitted_by: Option<i64>,
    pub submitted_at_ms: Option<i64>,
    /// The filled checklist (JSON), once submitted.
    #[sea_orm(column_type = "Text", nullable)]
    pub answers: Option<String>,
    /// Findings and scores (JSON), once submitted.
    #[sea_orm(column_type = "Text", nullable)]
    pub evaluation: Option<String>,
    pub findings: Option<i32>,
    pub points: Option<i32>,
    /// The latest draft a tablet synced (JSON answers), before submission.
    #[sea_orm(column_type = "Text", nullable)]
    pub draft: Option<String>,
    pub draft_rev: i64,
    /// The day the results are due for publication, `YYYY-MM-DD`.
    pub publish_by: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

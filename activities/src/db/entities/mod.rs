//! sea-orm entities, one module per table. The schema itself comes from
//! [`crate::db::migration`]; these only describe it to queries.

pub mod calendar_schedule;
pub mod campaign;
pub mod campaign_draw;
pub mod campaign_event;
pub mod campaign_mail;
pub mod campaign_plan;
pub mod campaign_target;
pub mod directory_conflict;
pub mod directory_inspector;
pub mod directory_snapshot;
pub mod directory_target;
pub mod evidence_file;
pub mod facility;
pub mod inspection;
pub mod inspection_inspector;
pub mod inspection_notice;
pub mod inspection_photo;
pub mod mail;
pub mod matter;
pub mod matter_event;
pub mod notice;
pub mod notice_counter;
pub mod region;
pub mod session;
pub mod signin_throttle;
pub mod stuck_workflow;
pub mod user;

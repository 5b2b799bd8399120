//! Temporal workflow definitions. The `Rectification` workflow turns the rules' decisions into
//! durable timers and activities; the activity *contracts* live here too, implemented by the
//! `qingling-activities` crate, so this crate never touches the database, mail or HTTP.
//!
//! Determinism fence: code here reads time and randomness only from the workflow context
//! (`clippy.toml` disallows the clock and the environment in this crate).

pub mod calendar;
pub mod campaign;
pub mod contract;
pub mod ids;
pub mod inspection;
pub mod notice;
pub mod rectification;
pub mod visibility;

pub use calendar::CalendarRollout;
pub use campaign::{Campaign, CampaignInput, CampaignView};
pub use inspection::{Inspection, InspectionInput, InspectionView};
pub use notice::NoticeDelivery;
pub use rectification::{MatterView, Rectification, RectificationInput};

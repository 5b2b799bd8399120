//! The `qingling` binary's library: settings, the embedded Temporal dev server, and the runners
//! for `up`, `worker`, `web` and `migrate`, shared by `main.rs`, the integration tests and the
//! benchmark; and what the exit status of `qingling` means (`exit`).

pub mod app;
pub mod bench;
pub mod calendar_rollout;
pub mod devserver;
pub mod doctor;
pub mod exit;
pub mod search_attributes;
pub mod settings;

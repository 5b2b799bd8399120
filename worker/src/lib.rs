//! The `qingling` binary's library: settings, the embedded Temporal dev server, and the runners
//! for `up`, `worker`, `web` and `migrate`, shared by `main.rs` and the integration tests; and
//! what the exit status of `qingling` means (`exit`). The benchmarks (`bench.rs`, with their
//! baseline workflow) belong to the binary alone.

pub mod app;
pub mod calendar_rollout;
pub mod devserver;
pub mod doctor;
pub mod exit;
pub mod search_attributes;
pub mod settings;

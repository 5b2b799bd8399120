//! The rules of Qingling as plain, deterministic functions: the policy file, the duration type,
//! the working-day calendar, 13710 deadline arithmetic, the escalation ladder, the rectification
//! matter state machine, the inspection decisions, the verifiable draw and the message catalogue.
//!
//! Invariant: nothing here reads the clock, the environment, the network or a database. Every
//! function takes `now` (Unix milliseconds) and the policy as inputs, so the Temporal workflows can
//! call them during replay and tests can call them in microseconds.

pub mod calendar;
pub mod campaign;
pub mod directory;
pub mod draw;
pub mod duration;
pub mod input;
pub mod inspection;
pub mod matter;
pub mod messages;
pub mod policy;
pub mod rating;
pub mod refusal;
pub mod signin;

pub use calendar::Calendar;
pub use duration::PolicyDuration;
pub use policy::Policy;
pub use refusal::Refusal;

pub mod harness;
pub mod app;

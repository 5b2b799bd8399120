pub mod harness;
pub mod app;
pub mod browser;

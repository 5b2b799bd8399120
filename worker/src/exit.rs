//! What `qingling`'s exit status means, and the error that says a check found problems.
//!
//! A script (cron, CI, a monitoring probe) must tell "the check ran and the data is bad" from
//! "the check could not run": the first needs someone to mend the data, the second someone to mend
//! the setup. So the check commands (`audit verify`, `doctor`, `policy check`, `checklists check`)
//! return [`ProblemsFound`] for the first and any other error for the second.

use std::fmt;

/// The command did what was asked.
pub const SUCCESS: u8 = 0;
/// The command ran and failed: the database or Temporal unreachable, a file unreadable, a
/// configuration refused.
pub const FAILURE: u8 = 1;
/// The command line was wrong: an unknown command or option, a missing or malformed argument.
/// clap exits with it by itself.
pub const USAGE: u8 = 2;
/// A check command checked and found problems (a broken chain, a matter whose workflow is gone,
/// an invalid policy or checklist template), each named on the output.
pub const PROBLEMS: u8 = 3;

/// The error a check command returns when what it checked is at fault rather than the check;
/// `main` exits with [`PROBLEMS`] for it. The message sums up what was found.
#[derive(Debug)]
pub struct ProblemsFound(pub String);

impl fmt::Display for ProblemsFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProblemsFound {}

/// The exit status for a command's error: [`PROBLEMS`] when a check found problems (also when
/// the finding was given context on its way up), [`FAILURE`] otherwise.
pub fn code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<ProblemsFound>()) || error.downcast_ref::<ProblemsFound>().is_some() { PROBLEMS } else { FAILURE }
}

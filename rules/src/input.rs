//! Limits on what people send: one rule, used by the console's edge and again by the workflows'
//! validators, so a client that talks to Temporal directly meets the same refusals. The numbers
//! are policy (`[input]`).

use crate::duration::PolicyDuration;
use serde::{Deserialize, Serialize};

/// The `[input]` limits of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputLimits {
    /// A matter's title, one line.
    pub title_chars: usize,
    /// A person's name (the handler), one line.
    pub name_chars: usize,
    /// Free text: feedback, notes, reasons, a description.
    pub text_chars: usize,
    /// The legal basis a finding cites.
    pub basis_chars: usize,
    /// Milestones of a plan.
    pub plan_rows: usize,
    /// Evidence files cited by one action.
    pub evidence_files: usize,
    /// Plan dates lie within this many years of today.
    pub plan_years: u32,
    /// The shortest extension that can be asked for or granted.
    pub min_extension: PolicyDuration,
}

impl Default for InputLimits {
    /// The built-in policy's limits: only for a policy serialised before they existed (an old
    /// workflow input); the numbers live in `policy/qingling.toml` alone.
    fn default() -> Self {
        crate::Policy::builtin().input
    }
}

/// Bounds of formats rather than rules (so not policy): a stored file name (the evidence store
/// cuts longer ones), a MIME type, a duration code such as `10wd`.
pub const FILE_NAME_CHARS: usize = 200;
pub const CONTENT_TYPE_CHARS: usize = 100;
pub const DURATION_CHARS: usize = 16;

/// What is wrong with a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    TooLong {
        max: usize,
    },
    /// A control character: anything but newline and tab in a block of text, anything at all
    /// in a single line. (PostgreSQL refuses a NUL that SQLite would store.)
    Control,
}

/// Whether a text fits: at most `max` characters, and no control character but newline and tab
/// (none at all in a single line).
pub fn check_text(value: &str, max: usize, single_line: bool) -> Result<(), TextProblem> {
    if value.chars().count() > max {
        return Err(TextProblem::TooLong { max });
    }
    let allowed = |c: char| !single_line && (c == '\n' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(TextProblem::Control);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_free_of_control_characters() {
        assert_eq!(check_text("王主任", 3, true), Ok(()));
        assert_eq!(check_text("王主任a", 3, true), Err(TextProblem::TooLong { max: 3 }), "characters, not bytes");
        assert_eq!(check_text("第一行\n第二行\t", 100, false), Ok(()));
        for bad in ["a\0b", "a\u{7}", "a\r\nb", "\u{1b}[31m", "a\u{85}"] {
            assert_eq!(check_text(bad, 100, false), Err(TextProblem::Control), "{bad:?}");
        }
        assert_eq!(check_text("a\nb", 100, true), Err(TextProblem::Control), "a name is one line");
    }
}

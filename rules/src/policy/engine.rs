//! `[engine]` of the policy file: workflow housekeeping rather than a rule of the domain. The
//! file says it as the resolved policy keeps it.

use super::{Error, key_err};
use serde::{Deserialize, Serialize};

/// How a long-lived case keeps its workflow history bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineRules {
    /// A case's workflow continues as new (same id, state carried over) once its history holds
    /// this many events, or earlier when the server suggests it (history size).
    pub continue_as_new_after: u32,
}

impl Default for EngineRules {
    /// Only for a policy serialised before the table existed; the number lives in the file.
    fn default() -> Self {
        super::Policy::builtin().engine
    }
}

/// Long enough that a case does not continue as new all the time, well short of Temporal's
/// limit of 51,200 history events.
pub(super) fn validate(e: &EngineRules) -> Result<(), Error> {
    if !(100..=50_000).contains(&e.continue_as_new_after) {
        return Err(key_err("engine.continue_as_new_after", format!("{} is outside 100 to 50000 history events", e.continue_as_new_after)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_refused;
    use super::*;
    use crate::Policy;

    #[test]
    fn bad_engine_rules_are_named_with_the_reason() {
        assert_refused(&[
            ("[engine]\ncontinue_as_new_after = 99", "`engine.continue_as_new_after`: 99 is outside 100 to 50000 history events"),
            ("[engine]\ncontinue_as_new_after = 50001", "`engine.continue_as_new_after`: 50001 is outside 100 to 50000 history events"),
            ("[engine]\ncontinue_as_new_after = -1", "`engine.continue_as_new_after`: invalid value: integer `-1`, expected u32"),
            ("[engine]\nhistory = 1", "`engine.history`: unknown field `history`"),
        ]);
        assert!(validate(&EngineRules { continue_as_new_after: 100 }).is_ok());
    }

    #[test]
    fn a_policy_serialised_before_the_table_gets_the_builtin_number() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("engine");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.engine, Policy::builtin().engine);
    }
}

//! `[inspection]` of the policy file: the rules of an on-site inspection (RULES.md §2, §5). The
//! file says them as the resolved policy keeps them.

use super::{Error, key_err};
use crate::duration::PolicyDuration;
use serde::{Deserialize, Serialize};

/// Rules of an on-site inspection (RULES.md §2, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionRules {
    /// Inspectors who must sign a submitted checklist (行政处罚法 art. 42: at least 2).
    pub min_inspectors: u32,
    /// Results are published within this period after the inspection ends.
    pub publish_within: PolicyDuration,
    /// The period of the deadline class "immediate" (correct on the spot).
    pub immediate: PolicyDuration,
    /// The largest photo accepted with a checklist answer (after the tablet's downscaling).
    pub photo_max_bytes: u64,
}

impl Default for InspectionRules {
    /// The built-in policy's rules: only for a policy serialised before inspections existed
    /// (an old workflow input); the numbers live in `policy/qingling.toml` alone.
    fn default() -> Self {
        super::Policy::builtin().inspection
    }
}

/// Two signing inspectors (the law's minimum, and what the tablet collects), a photo size and a
/// publication period.
pub(super) fn validate(i: &InspectionRules) -> Result<(), Error> {
    if i.min_inspectors < 2 {
        return Err(key_err(
            "inspection.min_inspectors",
            format!("{} is too few: an inspection team has at least 2 inspectors (行政处罚法 art. 42)", i.min_inspectors),
        ));
    }
    if i.min_inspectors > 2 {
        return Err(key_err(
            "inspection.min_inspectors",
            format!("{} is not supported yet: the tablet collects the signatures of two inspectors", i.min_inspectors),
        ));
    }
    if i.photo_max_bytes == 0 {
        return Err(key_err("inspection.photo_max_bytes", "must be more than zero"));
    }
    if i.publish_within.is_zero() {
        return Err(key_err("inspection.publish_within", "must be longer than zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_refused, builtin_without};
    use super::*;
    use crate::Policy;

    #[test]
    fn the_builtin_inspection_rules_follow_the_law() {
        let i = Policy::builtin().inspection;
        assert_eq!((i.min_inspectors, i.publish_within, i.immediate), (2, PolicyDuration::WorkingDays(20), PolicyDuration::Days(0)));
    }

    #[test]
    fn bad_inspection_rules_are_named_with_the_reason() {
        assert_refused(&[
            ("[inspection]\nmin_inspectors = 1", "`inspection.min_inspectors`: 1 is too few"),
            ("[inspection]\nmin_inspectors = 3", "`inspection.min_inspectors`: 3 is not supported yet"),
            ("[inspection]\npublish_within = \"0wd\"", "`inspection.publish_within`: must be longer than zero"),
            ("[inspection]\nphoto_max_bytes = 0", "`inspection.photo_max_bytes`: must be more than zero"),
            ("[inspection]\nsigners = 2", "`inspection.signers`: unknown field"),
        ]);
        assert!(builtin_without("inspection").contains("policy key `(top level)`: missing field `inspection`"));
    }

    #[test]
    fn a_policy_serialised_before_inspections_gets_the_builtin_inspection_rules() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("inspection");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.inspection, Policy::builtin().inspection);
        assert_eq!(p.inspection.min_inspectors, 2);
    }
}

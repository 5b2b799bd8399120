//! `[input]` of the policy file: the limits every text a person sends must fit. The file says
//! them as the resolved policy keeps them, in [`crate::input::InputLimits`] (where the checks
//! that use them live); this module bounds the numbers themselves.

use super::{Error, key_err};
use crate::input::InputLimits;

/// Every count from 1 to 100 000, plan dates within 1 to 30 years, a shortest extension above
/// zero.
pub(super) fn validate(i: &InputLimits) -> Result<(), Error> {
    for (key, n) in [
        ("input.title_chars", i.title_chars),
        ("input.name_chars", i.name_chars),
        ("input.text_chars", i.text_chars),
        ("input.basis_chars", i.basis_chars),
        ("input.plan_rows", i.plan_rows),
        ("input.evidence_files", i.evidence_files),
    ] {
        if !(1..=100_000).contains(&n) {
            return Err(key_err(key, format!("{n} is outside 1 to 100000")));
        }
    }
    if !(1..=30).contains(&i.plan_years) {
        return Err(key_err("input.plan_years", format!("{} is outside 1 to 30 years", i.plan_years)));
    }
    if i.min_extension.is_zero() {
        return Err(key_err("input.min_extension", "must be longer than zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_refused, builtin_without};
    use crate::Policy;

    #[test]
    fn the_builtin_limits_load() {
        let i = Policy::builtin().input;
        assert_eq!((i.title_chars, i.text_chars, i.plan_years), (200, 5000, 3));
    }

    #[test]
    fn bad_limits_are_named_with_the_reason() {
        assert_refused(&[
            ("[input]\ntitle_chars = 0", "`input.title_chars`: 0 is outside 1 to 100000"),
            ("[input]\nname_chars = 0", "`input.name_chars`: 0 is outside 1 to 100000"),
            ("[input]\nbasis_chars = 0", "`input.basis_chars`: 0 is outside 1 to 100000"),
            ("[input]\nplan_rows = 0", "`input.plan_rows`: 0 is outside 1 to 100000"),
            ("[input]\ntext_chars = 100001", "`input.text_chars`: 100001 is outside 1 to 100000"),
            ("[input]\nevidence_files = 100001", "`input.evidence_files`: 100001 is outside 1 to 100000"),
            ("[input]\nplan_years = 0", "`input.plan_years`: 0 is outside 1 to 30 years"),
            ("[input]\nplan_years = 31", "`input.plan_years`: 31 is outside 1 to 30 years"),
            ("[input]\nmin_extension = \"0d\"", "`input.min_extension`: must be longer than zero"),
            ("[input]\ntitle_chars = -1", "`input.title_chars`: invalid value: integer `-1`"),
            ("[input]\nwhat = 1", "`input.what`: unknown field `what`"),
        ]);
        assert!(builtin_without("input.min_extension").contains("policy key `input`: missing field `min_extension`"));
    }

    #[test]
    fn a_policy_serialised_before_input_limits_gets_the_builtin_ones() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("input");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.input, Policy::builtin().input);
    }
}

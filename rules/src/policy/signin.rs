//! `[signin]` of the policy file: the sign-in throttle. The file says it as the resolved policy
//! keeps it, in [`crate::signin::SigninRules`] (where the throttle's decisions live); this
//! module bounds the numbers themselves.

use super::{Error, key_err};
use crate::signin::SigninRules;
use std::collections::BTreeMap;

/// Clock durations (the throttle counts real time, not working days), no longer than a week, a
/// back-off that can grow, a lockout beyond the back-off.
pub(super) fn validate(s: &SigninRules) -> Result<(), Error> {
    for (key, n) in [("signin.account_attempts", s.account_attempts), ("signin.address_attempts", s.address_attempts)] {
        if !(1..=1000).contains(&n) {
            return Err(key_err(key, format!("{n} is outside 1 to 1000")));
        }
    }
    const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
    let mut ms = BTreeMap::new();
    for (key, d) in [("signin.window", s.window), ("signin.backoff_base", s.backoff_base), ("signin.backoff_max", s.backoff_max), ("signin.lockout", s.lockout)]
    {
        match d.clock_millis() {
            Some(m) if m > 0 && m <= WEEK_MS => ms.insert(key, m),
            Some(_) => return Err(key_err(key, format!("{d} must be longer than zero and at most a week"))),
            None => return Err(key_err(key, format!("{d} is not clock time: write seconds, minutes or hours (30s, 15m, 1h)"))),
        };
    }
    if ms["signin.backoff_base"] > ms["signin.backoff_max"] {
        return Err(key_err("signin.backoff_max", format!("{} is shorter than backoff_base {}", s.backoff_max, s.backoff_base)));
    }
    if s.lockout_after <= s.account_attempts || s.lockout_after > 1000 {
        return Err(key_err(
            "signin.lockout_after",
            format!("{} must be more than account_attempts ({}) and at most 1000", s.lockout_after, s.account_attempts),
        ));
    }
    if ms["signin.lockout"] < ms["signin.backoff_max"] {
        return Err(key_err("signin.lockout", format!("{} is shorter than backoff_max {}: a lockout must outlast the back-off", s.lockout, s.backoff_max)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_refused;
    use crate::Policy;
    use crate::duration::PolicyDuration;

    #[test]
    fn the_builtin_throttle_loads() {
        let s = Policy::builtin().signin;
        assert_eq!((s.account_attempts, s.window, s.lockout), (5, PolicyDuration::Minutes(15), PolicyDuration::Hours(1)));
    }

    #[test]
    fn bad_throttles_are_named_with_the_reason() {
        assert_refused(&[
            ("[signin]\naccount_attempts = 0", "`signin.account_attempts`: 0 is outside 1 to 1000"),
            ("[signin]\naddress_attempts = 1001", "`signin.address_attempts`: 1001 is outside 1 to 1000"),
            ("[signin]\nwindow = \"1d\"", "`signin.window`: 1d is not clock time"),
            ("[signin]\nwindow = \"8d\"", "`signin.window`: 8d is not clock time"),
            ("[signin]\nlockout = \"169h\"", "`signin.lockout`: 169h must be longer than zero and at most a week"),
            ("[signin]\nbackoff_base = \"0s\"", "`signin.backoff_base`: 0s must be longer than zero"),
            ("[signin]\nbackoff_base = \"1h\"", "`signin.backoff_max`: 15m is shorter than backoff_base 1h"),
            ("[signin]\nlockout_after = 5", "`signin.lockout_after`: 5 must be more than account_attempts (5)"),
            ("[signin]\nlockout_after = 1001", "`signin.lockout_after`: 1001 must be more than account_attempts (5) and at most 1000"),
            ("[signin]\nlockout = \"1m\"", "`signin.lockout`: 1m is shorter than backoff_max 15m"),
            ("[signin]\ntries = 3", "`signin.tries`: unknown field"),
        ]);
    }

    #[test]
    fn a_policy_serialised_before_the_throttle_gets_the_builtin_one() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("signin");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.signin, Policy::builtin().signin);
    }
}

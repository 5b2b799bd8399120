//! Sign-in throttling: how many wrong passwords one account, or one client address, may send
//! before it has to wait, and how long. The numbers are policy (`[signin]`); this module only
//! decides, from a stored counter and `now`. The console stores the counters (one row per
//! account and per address) and asks here before it checks a password.
//!
//! An attempt is counted *before* its password is checked (a reservation), so parallel requests
//! cannot slip past the limit while the slow hash runs; a right password then clears the
//! account's counter and gives the address its reservation back. The price: while more than
//! `account_attempts` checks of one account are in flight at once, the extra ones wait even if
//! their passwords are right (people do not sign in that fast; scripts guessing do).

use crate::duration::PolicyDuration;
use serde::{Deserialize, Serialize};

/// The `[signin]` table of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigninRules {
    /// Wrong passwords for one account within `window` that are answered without waiting.
    pub account_attempts: u32,
    /// Wrong passwords from one client address (any accounts) within `window`, likewise.
    pub address_attempts: u32,
    /// A counter is forgotten once this long has passed since its last wrong password.
    pub window: PolicyDuration,
    /// The first wait once the attempts are used up; every further wrong password doubles it.
    pub backoff_base: PolicyDuration,
    /// The longest back-off wait.
    pub backoff_max: PolicyDuration,
    /// Wrong passwords for one account within `window` that lock it for `lockout`.
    pub lockout_after: u32,
    pub lockout: PolicyDuration,
}

impl Default for SigninRules {
    /// The built-in policy's rules: only for a policy serialised before they existed (an old
    /// workflow input); the numbers live in `policy/qingling.toml` alone.
    fn default() -> Self {
        crate::Policy::builtin().signin
    }
}

/// What a counter is about: the typed account name, or the client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Account,
    Address,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Address => "address",
        }
    }
}

/// One stored counter. A missing row is `Counter::default()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Wrong (or reserved) attempts since the counter was last forgotten.
    pub failures: u32,
    pub last_failure_ms: i64,
    /// No attempt is checked before this instant.
    pub blocked_until_ms: i64,
}

fn millis(d: PolicyDuration) -> i64 {
    // Validation allows only clock durations here.
    d.clock_millis().unwrap_or(0)
}

impl SigninRules {
    fn attempts(&self, subject: Subject) -> u32 {
        match subject {
            Subject::Account => self.account_attempts,
            Subject::Address => self.address_attempts,
        }
    }

    /// When an attempt at `now_ms` is refused without checking its password: the instant it may
    /// be tried again.
    pub fn blocked_until(&self, c: &Counter, now_ms: i64) -> Option<i64> {
        (c.blocked_until_ms > now_ms).then_some(c.blocked_until_ms)
    }

    /// The counter after one more wrong (or reserved) attempt at `now_ms`: within the allowed
    /// attempts nothing waits; then the wait doubles from `backoff_base` up to `backoff_max`; an
    /// account that reaches `lockout_after` is locked for `lockout`.
    pub fn after_failure(&self, subject: Subject, c: Counter, now_ms: i64) -> Counter {
        let stale = c.last_failure_ms.saturating_add(millis(self.window)) <= now_ms;
        let failures = if stale { 1 } else { c.failures.saturating_add(1) };
        let allowed = self.attempts(subject);
        let wait = if subject == Subject::Account && failures >= self.lockout_after {
            millis(self.lockout)
        } else if failures >= allowed {
            let doublings = (failures - allowed).min(40);
            millis(self.backoff_base).saturating_mul(1i64 << doublings).min(millis(self.backoff_max))
        } else {
            0
        };
        Counter { failures, last_failure_ms: now_ms, blocked_until_ms: if wait > 0 { now_ms.saturating_add(wait) } else { 0 } }
    }

    /// An address's counter once a reserved attempt had the right password: the reservation is
    /// given back, and a wait it alone caused is lifted. (The account's counter is deleted.)
    pub fn after_success(&self, subject: Subject, c: Counter) -> Counter {
        let failures = c.failures.saturating_sub(1);
        let blocked_until_ms = if failures >= self.attempts(subject) { c.blocked_until_ms } else { 0 };
        Counter { failures, blocked_until_ms, ..c }
    }

    /// How long a row must be kept: a counter older than this, and not blocking, is forgotten.
    pub fn keep_ms(&self) -> i64 {
        millis(self.window)
    }
}

/// Whole seconds until `until_ms`, at least 1: the `Retry-After` a refused attempt is given.
pub fn retry_after_secs(until_ms: i64, now_ms: i64) -> u64 {
    let ms = until_ms.saturating_sub(now_ms).max(1);
    u64::try_from(ms.saturating_add(999) / 1000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SigninRules {
        SigninRules {
            account_attempts: 3,
            address_attempts: 5,
            window: PolicyDuration::Minutes(15),
            backoff_base: PolicyDuration::Seconds(2),
            backoff_max: PolicyDuration::Seconds(10),
            lockout_after: 8,
            lockout: PolicyDuration::Hours(1),
        }
    }

    /// The waits after each wrong password in a row, one second apart, ignoring the waits.
    fn waits(subject: Subject, n: u32) -> Vec<i64> {
        let r = rules();
        let mut c = Counter::default();
        (0..n)
            .map(|i| {
                let now = 1_000_000 + i64::from(i) * 1000;
                c = r.after_failure(subject, c, now);
                if c.blocked_until_ms == 0 { 0 } else { c.blocked_until_ms - now }
            })
            .collect()
    }

    #[test]
    fn waits_start_after_the_allowed_attempts_double_and_stop_at_the_maximum() {
        assert_eq!(waits(Subject::Account, 7), [0, 0, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(waits(Subject::Address, 7), [0, 0, 0, 0, 2000, 4000, 8000]);
    }

    #[test]
    fn an_account_is_locked_after_lockout_after_wrong_passwords_an_address_is_not() {
        assert_eq!(waits(Subject::Account, 9)[7..], [3_600_000, 3_600_000]);
        assert_eq!(waits(Subject::Address, 9)[7..], [10_000, 10_000]);
    }

    #[test]
    fn a_blocked_counter_refuses_until_its_time() {
        let r = rules();
        let c = Counter { failures: 3, last_failure_ms: 0, blocked_until_ms: 5000 };
        assert_eq!(r.blocked_until(&c, 4999), Some(5000));
        assert_eq!(r.blocked_until(&c, 5000), None);
        assert_eq!(r.blocked_until(&Counter::default(), 0), None);
    }

    #[test]
    fn a_quiet_window_forgets_the_count() {
        let r = rules();
        let c = Counter { failures: 7, last_failure_ms: 0, blocked_until_ms: 10_000 };
        let quiet = 15 * 60 * 1000;
        assert_eq!(r.after_failure(Subject::Account, c, quiet - 1).failures, 8, "still inside the window");
        assert_eq!(r.after_failure(Subject::Account, c, quiet), Counter { failures: 1, last_failure_ms: quiet, blocked_until_ms: 0 });
    }

    #[test]
    fn a_right_password_gives_the_address_its_reservation_back() {
        let r = rules();
        // The reservation that reached the limit set a wait; the right password lifts it.
        let reserved = r.after_failure(Subject::Address, Counter { failures: 4, last_failure_ms: 10, blocked_until_ms: 0 }, 20);
        assert!(reserved.blocked_until_ms > 0);
        assert_eq!(r.after_success(Subject::Address, reserved), Counter { failures: 4, last_failure_ms: 20, blocked_until_ms: 0 });
        // A wait earned by other wrong passwords stays.
        let busy = Counter { failures: 7, last_failure_ms: 20, blocked_until_ms: 9000 };
        assert_eq!(r.after_success(Subject::Address, busy).blocked_until_ms, 9000);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(2001, 0), 3);
        assert_eq!(retry_after_secs(2000, 0), 2);
        assert_eq!(retry_after_secs(5, 5), 1, "never 0: the client must wait");
    }
}

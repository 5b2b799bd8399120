//! Password hashing for console accounts (argon2id, PHC strings). The console and the demo seed
//! use these two functions so there is one way to hash and one way to check.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a password with a fresh random salt; returns the PHC string to store.
pub fn hash_password(password: &str) -> String {
    // A v4 UUID is 16 bytes from the operating system's random source: a good salt, without
    // pulling in another random-number crate.
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters does not fail").to_string()
}

/// Whether `password` matches a stored PHC string. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a password nobody knows, made once per process with the same function (so the same
/// cost) as every account's: an unknown username is checked against it, so that the answer takes
/// as long as for a known one and does not tell which accounts exist.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password(&uuid::Uuid::new_v4().to_string()));

/// The hash a sign-in checks: the account's, or for an unknown username the dummy hash.
fn hash_to_check(stored: Option<&str>) -> &str {
    stored.unwrap_or(DUMMY_HASH.as_str())
}

/// Checks a password against an account's stored hash, or — for an unknown username (`None`)
/// — against the dummy hash, which never matches. Both take the same time.
pub fn verify_sign_in(stored: Option<&str>, password: &str) -> bool {
    let matched = verify_password(hash_to_check(stored), password);
    matched && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_accepts_its_password_only() {
        let h = hash_password("qingling-demo");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "qingling-demo"));
        assert!(!verify_password(&h, "qingling-dem0"));
        assert!(!verify_password("not a hash", "qingling-demo"));
        assert_ne!(h, hash_password("qingling-demo"), "salts differ");
    }

    /// An unknown username runs the same argon2 verification as a known one: against a valid
    /// hash with the very parameters (algorithm, version, memory, passes, lanes) of the
    /// accounts' hashes, so it costs the same. (Timing itself is measured by hand, not in tests.)
    #[test]
    fn an_unknown_user_is_checked_against_a_dummy_hash_of_the_same_cost() {
        let account = hash_password("qingling-demo");
        let dummy = hash_to_check(None);
        assert_ne!(dummy, account);
        let (a, d) = (PasswordHash::new(&account).unwrap(), PasswordHash::new(dummy).unwrap());
        assert_eq!((a.algorithm, a.version), (d.algorithm, d.version));
        assert_eq!(a.params, d.params, "same memory, passes and lanes");
        assert_eq!(a.hash.map(|h| h.len()), d.hash.map(|h| h.len()));
        assert!(!verify_sign_in(None, "qingling-demo"), "an unknown user never signs in");
        assert!(!verify_sign_in(None, ""), "not even with an empty password");
        assert!(verify_sign_in(Some(&account), "qingling-demo"));
        assert!(!verify_sign_in(Some(&account), "qingling-dem0"));
        assert_eq!(hash_to_check(Some(&account)), account);
    }
}

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
}

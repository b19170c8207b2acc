//! Authentication primitives: argon2id passwords, random tokens stored as hashes, log-in throttling, and the
//! OpenID Connect relying party (`oidc`).
//! Serves no HTTP (`oidc` only calls providers); the `http` module decides where tokens travel.

pub mod oidc;
pub mod ticket;
mod throttle;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use throttle::LoginThrottle;

pub const MIN_PASSWORD_LEN: usize = 8;
/// Argon2 processes at most 4 GiB, and a huge password is only a way to burn our CPU.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Hashes a password with argon2id and a fresh salt (PHC string format). CPU-heavy: call from a blocking task.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash password: {err}"))
}

/// What an account without a password (a guest) stores instead of a hash. A PHC string starts with `$`, so no
/// hash equals it, and `verify_password` rejects every password against it without running argon2.
pub const NO_PASSWORD: &str = "!no-password";

/// Checks a password against a stored PHC hash. A malformed stored hash, or `NO_PASSWORD`, counts as a mismatch.
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    if phc_hash == NO_PASSWORD {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), phc_hash)
        .is_ok()
}

/// A fresh random token of 256 bits, URL-safe base64.
pub fn new_token() -> String {
    random_id(32)
}

/// A random identifier of `n_bytes` bytes, URL-safe base64 (16 bytes = 128 bits for ids).
pub fn random_id(n_bytes: usize) -> String {
    let mut bytes = vec![0u8; n_bytes];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token: its SHA-256, hex. Tokens have 256 bits of entropy, so no salt or slow hash is needed.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks the shape of an e-mail address well enough to catch typos; delivery is not our business.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn no_password_matches_the_marker() {
        assert!(!verify_password(NO_PASSWORD, NO_PASSWORD));
        assert!(!verify_password("", NO_PASSWORD));
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(valid_email("ann@example.com"));
        assert!(!valid_email("ann@localhost"));
        assert!(!valid_email("@example.com"));
        assert!(!valid_email("ann example@example.com"));
    }
}

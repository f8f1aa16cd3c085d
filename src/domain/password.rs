//! Password policy and hashing: argon2id at OWASP's recommended parameters.

use super::Invalid;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MIN_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
pub const MAX_CHARS: usize = 256;

/// OWASP: argon2id, 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    // The parameters are constants that argon2 accepts; falling back to its defaults (stronger) is unreachable.
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn check_policy(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        Err(Invalid::new(format!("a password needs at least {MIN_CHARS} characters")))
    } else if n > MAX_CHARS {
        Err(Invalid::new(format!("a password may have at most {MAX_CHARS} characters")))
    } else {
        Ok(())
    }
}

/// Checks the policy, then hashes to a PHC string.
pub fn hash(password: &str) -> Result<String, Invalid> {
    check_policy(password)?;
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Invalid::new(format!("could not hash the password: {e}")))
}

/// Constant-time check of a password against a stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_CHARS * 4 {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same work as [`verify`] when there is no account, so timing does not reveal which emails exist.
pub fn verify_nobody(password: &str) {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash("decoy-password-never-matches").unwrap_or_default());
    let _ = verify(password, decoy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_owasp_parameters() {
        let phc = hash("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterx", &phc));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(hash("eleven char").is_err());
        assert!(check_policy("twelve chars").is_ok());
        assert!(check_policy(&"x".repeat(MAX_CHARS + 1)).is_err());
    }
}

//! Agent credentials: a 256-bit random secret shown once, stored as its SHA-256, checked in constant time.
//! The token names its credential id, so checking costs one lookup and one comparison.

use super::Invalid;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::Duration;
use uuid::Uuid;

const SCHEME: &str = "csa";
pub const DEFAULT_TTL: Duration = Duration::hours(24);
pub const MAX_TTL: Duration = Duration::days(30);

/// A new credential: the token to show once, and what to store.
pub struct Issued {
    pub id: Uuid,
    pub token: String,
    pub prefix: String,
    pub secret_hash: String,
}

pub fn issue() -> Issued {
    // Random, not time-ordered: the id starts the token, and its shown prefix must tell credentials apart.
    let id = Uuid::new_v4();
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let token = format!("{SCHEME}_{}_{secret}", id.simple());
    Issued { id, prefix: prefix_of(&token), secret_hash: hash(&secret), token }
}

/// What a list shows of a token: enough to recognise it, nothing to use.
fn prefix_of(token: &str) -> String {
    token.chars().take(SCHEME.len() + 1 + 8).collect()
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Splits a presented token into its credential id and secret.
pub fn parse(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.strip_prefix(SCHEME)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    Some((Uuid::parse_str(id).ok()?, secret))
}

pub fn matches(secret: &str, stored_hash: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// A time to live as given ("24h", "7d"), within the maximum.
pub fn ttl(text: &str) -> Result<Duration, Invalid> {
    let parsed = humantime::parse_duration(text.trim())
        .map_err(|e| Invalid::new(format!("\"{text}\" is not a duration such as 24h or 7d: {e}")))?;
    let ttl = Duration::try_from(parsed).map_err(|_| Invalid::new("that duration is too long"))?;
    if ttl < Duration::minutes(1) {
        Err(Invalid::new("a credential must live at least a minute"))
    } else if ttl > MAX_TTL {
        Err(Invalid::new("a credential may live at most 30 days"))
    } else {
        Ok(ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_check_against_their_hash_only() {
        let issued = issue();
        let (id, secret) = parse(&issued.token).expect("parses");
        assert_eq!(id, issued.id);
        assert!(secret.len() >= 43, "256 bits in base64url");
        assert!(matches(secret, &issued.secret_hash));
        assert!(!matches("guess", &issued.secret_hash));
        assert!(issued.token.starts_with(&issued.prefix) && issued.prefix.len() < 20);
        assert!(!issued.secret_hash.contains(secret));
    }

    #[test]
    fn prefixes_tell_credentials_minted_together_apart() {
        let prefixes: std::collections::HashSet<String> = (0..50).map(|_| issue().prefix).collect();
        assert_eq!(prefixes.len(), 50);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in ["", "csa", "csa_", "csa_nothex_x", "bearer_0190_x", "csa_0190"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ttl_is_bounded() {
        assert_eq!(ttl("24h"), Ok(Duration::hours(24)));
        assert_eq!(ttl("30days"), Ok(Duration::days(30)));
        assert!(ttl("31d").is_err());
        assert!(ttl("10s").is_err());
        assert!(ttl("soon").is_err());
    }
}

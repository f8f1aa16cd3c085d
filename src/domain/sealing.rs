//! Secrets the server must use again (webhook signing secrets, the receipt signing key) are stored sealed
//! with a key kept outside the database, so a copy of the database (a backup, a replica, a leaked dump)
//! signs nothing. XChaCha20-Poly1305 with a random nonce; the associated data names the row, so a sealed
//! value moved to another row does not open.
//!
//! Stored form: `sealed.v1.<key id>.<nonce>.<ciphertext>` (base64url). A value without the prefix was
//! written before sealing existed; it is read as it is, and `countersign secret-key rotate` seals it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "sealed.v1.";

/// What a stored secret is, for the associated data: `webhook_secret` of agent `id`, `receipt_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'a> {
    WebhookSecret(&'a uuid::Uuid),
    ReceiptKey,
}

impl Purpose<'_> {
    fn label(&self) -> String {
        match self {
            Purpose::WebhookSecret(agent) => format!("countersign:webhook_secret:{agent}"),
            Purpose::ReceiptKey => "countersign:receipt_key".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the secret key must be 32 bytes in base64url (generate one with `countersign secret-key new`)")]
    BadKey,
    #[error("a stored secret was sealed with key {0}, which is not configured (secret_key, secret_key_previous)")]
    UnknownKey(String),
    #[error("a stored secret does not open with the configured key: damaged, or moved from another row")]
    Damaged,
}

/// A 256-bit secret key, with the short id that sealed values name.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretKey::from_bytes(key)
    }

    fn from_bytes(key: [u8; 32]) -> SecretKey {
        // Names the key without revealing it: the first 8 hex digits of its SHA-256.
        let id = hex::encode(&Sha256::digest(key)[..4]);
        SecretKey { key, id }
    }

    pub fn parse(text: &str) -> Result<SecretKey, SealError> {
        let bytes = B64.decode(text.trim()).map_err(|_| SealError::BadKey)?;
        bytes.try_into().map(SecretKey::from_bytes).map_err(|_| SealError::BadKey)
    }

    /// The key as configured (base64url), to print once or write to its file.
    pub fn encode(&self) -> String {
        B64.encode(self.key)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key's bytes, only to derive other keys from (the checkpoint signing key).
    pub(crate) fn derive_input(&self) -> &[u8; 32] {
        &self.key
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }
}

/// The current key, which seals, and any previous ones, which only open (during a rotation).
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(current: SecretKey, previous: Vec<SecretKey>) -> Keyring {
        Keyring { current, previous }
    }

    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// The current key, then the previous ones.
    pub fn all(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    pub fn seal(&self, plain: &str, purpose: Purpose<'_>) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = purpose.label();
        let payload = Payload { msg: plain.as_bytes(), aad: aad.as_bytes() };
        // Encryption fails only for messages of gigabytes; a secret is tens of bytes.
        let sealed = self.current.cipher().encrypt(XNonce::from_slice(&nonce), payload).unwrap_or_default();
        format!("{PREFIX}{}.{}.{}", self.current.id, B64.encode(nonce), B64.encode(sealed))
    }

    /// The secret in `stored`; a value from before sealing is returned as it is.
    pub fn open(&self, stored: &str, purpose: Purpose<'_>) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let mut parts = rest.splitn(3, '.');
        let (Some(id), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Damaged);
        };
        let key = self.all().find(|k| k.id == id).ok_or_else(|| SealError::UnknownKey(id.to_string()))?;
        let nonce = B64.decode(nonce).ok().filter(|n| n.len() == 24).ok_or(SealError::Damaged)?;
        let sealed = B64.decode(sealed).map_err(|_| SealError::Damaged)?;
        let aad = purpose.label();
        let plain = key
            .cipher()
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: aad.as_bytes() })
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(plain).map_err(|_| SealError::Damaged)
    }

    /// Whether `stored` is already sealed with the current key (a rotation leaves it alone).
    pub fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|rest| rest.split('.').next()) == Some(self.current.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_row_only() {
        let ring = Keyring::new(SecretKey::generate(), vec![]);
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let sealed = ring.seal("whsec_abc", Purpose::WebhookSecret(&a));
        assert!(sealed.starts_with("sealed.v1.") && !sealed.contains("whsec_abc"), "{sealed}");
        assert_eq!(ring.open(&sealed, Purpose::WebhookSecret(&a)).as_deref(), Ok("whsec_abc"));
        assert_eq!(ring.open(&sealed, Purpose::WebhookSecret(&b)), Err(SealError::Damaged), "moved to another row");
        assert_eq!(ring.open(&sealed, Purpose::ReceiptKey), Err(SealError::Damaged));
        assert_ne!(sealed, ring.seal("whsec_abc", Purpose::WebhookSecret(&a)), "a fresh nonce each time");
    }

    #[test]
    fn another_key_cannot_open_and_a_previous_key_can() {
        let (old, new) = (SecretKey::generate(), SecretKey::generate());
        let sealed = Keyring::new(old.clone(), vec![]).seal("key", Purpose::ReceiptKey);
        let stranger = Keyring::new(new.clone(), vec![]);
        assert_eq!(stranger.open(&sealed, Purpose::ReceiptKey), Err(SealError::UnknownKey(old.id().to_string())));
        let rotating = Keyring::new(new, vec![old]);
        assert_eq!(rotating.open(&sealed, Purpose::ReceiptKey).as_deref(), Ok("key"));
        assert!(!rotating.is_current(&sealed));
        assert!(rotating.is_current(&rotating.seal("key", Purpose::ReceiptKey)));
    }

    #[test]
    fn tampering_and_bad_keys_are_refused() {
        let ring = Keyring::new(SecretKey::generate(), vec![]);
        let mut sealed = ring.seal("key", Purpose::ReceiptKey);
        let last = sealed.pop().map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        sealed.push(last);
        assert_eq!(ring.open(&sealed, Purpose::ReceiptKey), Err(SealError::Damaged));
        assert_eq!(ring.open("plain-from-before", Purpose::ReceiptKey).as_deref(), Ok("plain-from-before"));
        assert_eq!(SecretKey::parse("too-short").err(), Some(SealError::BadKey));
        let key = SecretKey::generate();
        assert_eq!(SecretKey::parse(&key.encode()).map(|k| k.id().to_string()), Ok(key.id().to_string()));
    }
}

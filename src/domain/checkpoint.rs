//! Signed checkpoints of the audit chain. The chain's hashes show an edit in the middle, but someone who can
//! write the database could drop the newest events, or rewrite events and recompute every hash after them.
//! So the head (seq, hash) is signed every minute with a key derived from `secret_key`, which the database
//! never holds; `audit verify` then requires each checkpoint's event to be there with the signed hash.

use super::sealing::SecretKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One signed head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The id of the secret key it was signed with (as sealed values name it).
    pub key_id: String,
    /// Ed25519 over `signed_text`, base64url.
    pub signature: String,
}

/// What a checkpoint signs.
pub fn signed_text(seq: i64, hash: &str, at: OffsetDateTime) -> String {
    format!("countersign.checkpoint.v1\n{seq}\n{hash}\n{}", at.format(&Rfc3339).unwrap_or_default())
}

/// The signing key for checkpoints, derived from a secret key (so there is one key to keep, not two).
pub struct CheckpointKey {
    key_id: String,
    signing: SigningKey,
}

impl CheckpointKey {
    pub fn derive(secret: &SecretKey) -> CheckpointKey {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(b"countersign.checkpoint-key.v1")
            .chain_update(secret.derive_input())
            .finalize()
            .into();
        CheckpointKey { key_id: secret.id().to_string(), signing: SigningKey::from_bytes(&seed) }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key, base64url: published with the exported checkpoints.
    pub fn public_key(&self) -> String {
        B64.encode(self.signing.verifying_key().as_bytes())
    }

    /// Signs the head (`seq`, `hash`) as of `at`, kept to the second (every store keeps that exactly).
    pub fn sign(&self, seq: i64, hash: &str, at: OffsetDateTime) -> Checkpoint {
        let at = at.replace_nanosecond(0).unwrap_or(at);
        let signature = self.signing.sign(signed_text(seq, hash, at).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at,
            key_id: self.key_id.clone(),
            signature: B64.encode(signature.to_bytes()),
        }
    }

    fn verifying(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
}

/// Checks signatures with the configured keys (current and previous).
pub struct CheckpointKeys(pub Vec<CheckpointKey>);

impl CheckpointKeys {
    /// Why `checkpoint` is not to be trusted, if it is not.
    pub fn refusal(&self, checkpoint: &Checkpoint) -> Option<String> {
        let Some(key) = self.0.iter().find(|k| k.key_id == checkpoint.key_id) else {
            return Some(format!("signed with key {}, which is not configured", checkpoint.key_id));
        };
        let signature = B64.decode(&checkpoint.signature).ok().and_then(|b| Signature::from_slice(&b).ok());
        let text = signed_text(checkpoint.seq, &checkpoint.hash, checkpoint.at);
        match signature {
            Some(s) if key.verifying().verify(text.as_bytes(), &s).is_ok() => None,
            _ => Some("its signature does not verify: it was altered or forged".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_checkpoint_verifies_with_its_key_only_and_unaltered() {
        let (secret, other) = (SecretKey::generate(), SecretKey::generate());
        let key = CheckpointKey::derive(&secret);
        let at = datetime!(2026-12-02 09:00 UTC);
        let checkpoint = key.sign(42, "abc", at);
        let keys = CheckpointKeys(vec![CheckpointKey::derive(&secret)]);
        assert_eq!(keys.refusal(&checkpoint), None);
        assert_eq!(key.public_key(), CheckpointKey::derive(&secret).public_key(), "derived the same each time");
        let moved = Checkpoint { seq: 41, ..checkpoint.clone() };
        assert!(keys.refusal(&moved).is_some_and(|r| r.contains("does not verify")));
        let strangers = CheckpointKeys(vec![CheckpointKey::derive(&other)]);
        assert!(strangers.refusal(&checkpoint).is_some_and(|r| r.contains("not configured")));
    }
}

//! Outcome receipts: an Ed25519 signature over what was decided, so an agent (or anyone holding the public
//! key at `/api/v1/receipt-key`) can prove the outcome came from Countersign and was not altered.
//!
//! The signed message is the UTF-8 text `countersign.receipt.v1`, then one line per field, in this order:
//! id, status, approvals, approved amount (empty when as requested), decided_at (RFC 3339), content hash
//! of the submission, reason (empty when none). The receipt is `v1.` followed by the unpadded base64url
//! signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// What a receipt attests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested<'a> {
    pub id: Uuid,
    pub status: &'a str,
    pub approvals: i64,
    pub approved_amount: Option<String>,
    pub decided_at: OffsetDateTime,
    pub content_hash: &'a str,
    pub reason: Option<&'a str>,
}

impl Attested<'_> {
    pub fn message(&self) -> String {
        format!(
            "countersign.receipt.v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.id,
            self.status,
            self.approvals,
            self.approved_amount.as_deref().unwrap_or(""),
            self.decided_at.format(&Rfc3339).unwrap_or_default(),
            self.content_hash,
            self.reason.unwrap_or(""),
        )
    }
}

/// The installation's receipt key.
#[derive(Clone)]
pub struct ReceiptKey(SigningKey);

impl ReceiptKey {
    pub fn generate() -> ReceiptKey {
        ReceiptKey(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The stored form: the 32-byte seed in base64url.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_bytes())
    }

    pub fn decode(stored: &str) -> Option<ReceiptKey> {
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(stored).ok()?.try_into().ok()?;
        Some(ReceiptKey(SigningKey::from_bytes(&bytes)))
    }

    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, what: &Attested) -> String {
        format!("v1.{}", URL_SAFE_NO_PAD.encode(self.0.sign(what.message().as_bytes()).to_bytes()))
    }
}

/// Checks a receipt against the public key (base64url), as an agent would.
pub fn verify(public_key: &str, what: &Attested, receipt: &str) -> bool {
    let check = || -> Option<()> {
        let key: [u8; 32] = URL_SAFE_NO_PAD.decode(public_key).ok()?.try_into().ok()?;
        let sig: [u8; 64] = URL_SAFE_NO_PAD.decode(receipt.strip_prefix("v1.")?).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&key).ok()?.verify(what.message().as_bytes(), &Signature::from_bytes(&sig)).ok()
    };
    check().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_receipt_verifies_and_any_change_breaks_it() {
        let key = ReceiptKey::generate();
        let what = Attested {
            id: Uuid::from_u128(7),
            status: "approved",
            approvals: 2,
            approved_amount: Some("100.00 EUR".into()),
            decided_at: datetime!(2026-11-23 10:00 UTC),
            content_hash: "abc",
            reason: None,
        };
        let receipt = key.sign(&what);
        let restored = ReceiptKey::decode(&key.encode()).map(|k| k.public_key());
        assert_eq!(restored.as_deref(), Some(key.public_key().as_str()));
        assert!(verify(&key.public_key(), &what, &receipt));
        let widened = Attested { approved_amount: Some("500.00 EUR".into()), ..what.clone() };
        assert!(!verify(&key.public_key(), &widened, &receipt));
        assert!(!verify(&ReceiptKey::generate().public_key(), &what, &receipt));
    }
}

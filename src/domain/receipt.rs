//! Outcome receipts: a compact JWS (EdDSA over Ed25519, the key named by `kid`) whose claims are what was
//! decided, so an agent, or anyone with the keys published at `/.well-known/jwks.json`, can prove with a stock
//! JOSE library that the outcome came from Countersign and was not altered.
//!
//! Keys rotate: the newest signs, every older one stays published so old receipts still verify. Receipts
//! from before JWS (`v1.` and a bare signature over fixed lines) still verify against the same keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The `iss` of every receipt.
pub const ISSUER: &str = "countersign";
/// The JWS `typ`: a receipt is not a credential and must not be mistaken for one.
pub const TYPE: &str = "countersign-receipt+jwt";

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

/// The receipt's claims: `sub` is the held action, the rest as the decision reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub iat: i64,
    pub status: String,
    pub approvals: i64,
    pub approved_amount: Option<String>,
    pub decided_at: String,
    pub content_hash: String,
    pub reason: Option<String>,
}

impl Attested<'_> {
    fn decided_at(&self) -> String {
        self.decided_at.format(&Rfc3339).unwrap_or_default()
    }

    pub fn claims(&self) -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: self.id.to_string(),
            iat: self.decided_at.unix_timestamp(),
            status: self.status.into(),
            approvals: self.approvals,
            approved_amount: self.approved_amount.clone(),
            decided_at: self.decided_at(),
            content_hash: self.content_hash.into(),
            reason: self.reason.map(Into::into),
        }
    }

    /// The text a `v1.` receipt signed.
    fn legacy_message(&self) -> String {
        format!(
            "countersign.receipt.v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.id,
            self.status,
            self.approvals,
            self.approved_amount.as_deref().unwrap_or(""),
            self.decided_at(),
            self.content_hash,
            self.reason.unwrap_or(""),
        )
    }
}

/// One receipt key.
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

    /// The public key, base64url: a JWK's `x`.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.verifying_key().to_bytes())
    }

    /// The key id: its RFC 7638 JWK thumbprint, so the id follows from the key and needs no bookkeeping.
    pub fn kid(&self) -> String {
        thumbprint(&self.public_key())
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": self.public_key(), "kid": self.kid(), "alg": "EdDSA", "use": "sig" })
    }

    /// The receipt for `what`; `None` only if the key cannot be put in PKCS #8 form, which a valid key always can.
    pub fn sign(&self, what: &Attested) -> Option<String> {
        let der = self.0.to_pkcs8_der().ok()?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid());
        header.typ = Some(TYPE.into());
        jsonwebtoken::encode(&header, &what.claims(), &EncodingKey::from_ed_der(der.as_bytes())).ok()
    }
}

fn thumbprint(x: &str) -> String {
    // RFC 7638: the required members in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Every receipt key, newest (the one that signs) first.
#[derive(Clone)]
pub struct ReceiptKeys(pub Vec<ReceiptKey>);

impl ReceiptKeys {
    pub fn current(&self) -> Option<&ReceiptKey> {
        self.0.first()
    }

    /// The JWK Set published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": self.0.iter().map(ReceiptKey::jwk).collect::<Vec<_>>() })
    }

    /// Whether `receipt` was signed by one of these keys and attests exactly `what`.
    pub fn verify(&self, what: &Attested, receipt: &str) -> bool {
        let publics: Vec<String> = self.0.iter().map(ReceiptKey::public_key).collect();
        match receipt.strip_prefix("v1.") {
            Some(signature) => publics.iter().any(|key| verify_legacy(key, what, signature)),
            None => verify_jws(&publics, what, receipt),
        }
    }
}

/// Checks a JWS receipt against public keys (base64url `x` values), as an agent holding the JWKS would.
pub fn verify_jws(public_keys: &[String], what: &Attested, receipt: &str) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(receipt) else { return false };
    let Some(x) = public_keys.iter().find(|x| header.kid.as_deref() == Some(thumbprint(x).as_str())) else {
        return false;
    };
    let Ok(key) = DecodingKey::from_ed_components(x) else { return false };
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Claims>(receipt, &key, &validation).is_ok_and(|data| data.claims == what.claims())
}

fn verify_legacy(public_key: &str, what: &Attested, signature: &str) -> bool {
    let check = || -> Option<()> {
        let key: [u8; 32] = URL_SAFE_NO_PAD.decode(public_key).ok()?.try_into().ok()?;
        let sig: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&key).ok()?.verify(what.legacy_message().as_bytes(), &Signature::from_bytes(&sig)).ok()
    };
    check().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;
    use time::macros::datetime;

    fn attested() -> Attested<'static> {
        Attested {
            id: Uuid::from_u128(7),
            status: "approved",
            approvals: 2,
            approved_amount: Some("100.00 EUR".into()),
            decided_at: datetime!(2026-11-23 10:00 UTC),
            content_hash: "abc",
            reason: None,
        }
    }

    #[test]
    fn a_receipt_verifies_and_any_change_breaks_it() {
        let key = ReceiptKey::generate();
        let what = attested();
        let receipt = key.sign(&what).expect("signs");
        assert_eq!(receipt.split('.').count(), 3, "compact JWS");
        let restored = ReceiptKey::decode(&key.encode()).map(|k| k.kid());
        assert_eq!(restored.as_deref(), Some(key.kid().as_str()));
        let keys = ReceiptKeys(vec![key.clone()]);
        assert!(keys.verify(&what, &receipt));
        let widened = Attested { approved_amount: Some("500.00 EUR".into()), ..what.clone() };
        assert!(!keys.verify(&widened, &receipt));
        assert!(!ReceiptKeys(vec![ReceiptKey::generate()]).verify(&what, &receipt));
    }

    #[test]
    fn after_rotation_old_receipts_still_verify() {
        let (old, new) = (ReceiptKey::generate(), ReceiptKey::generate());
        let receipt = old.sign(&attested()).expect("signs");
        let keys = ReceiptKeys(vec![new.clone(), old.clone()]);
        assert_eq!(keys.current().map(ReceiptKey::kid), Some(new.kid()));
        assert!(keys.verify(&attested(), &receipt));
        assert_eq!(keys.jwks()["keys"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn legacy_receipts_verify() {
        let key = ReceiptKey::generate();
        let legacy =
            format!("v1.{}", URL_SAFE_NO_PAD.encode(key.0.sign(attested().legacy_message().as_bytes()).to_bytes()));
        assert!(ReceiptKeys(vec![ReceiptKey::generate(), key]).verify(&attested(), &legacy));
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}

//! Workload identity: an agent proves who it is with a JWT its platform gives it (an OIDC token, a SPIFFE
//! JWT-SVID), from an issuer its tenant trusts, for the one subject it is bound to.
//!
//! Every check of the token is the JOSE library's (`jsonwebtoken`): signature, an allow-list of asymmetric
//! algorithms (so no `none`, and no HMAC "signed" with a public key), `iss`, `aud`, `exp` and `nbf` with a
//! small skew. Only choosing which issuer's keys to try reads the token before it is verified.

use super::Invalid;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// Asymmetric algorithms only: a public key can never be used as an HMAC secret.
pub const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const SKEW_SECONDS: u64 = 30;
const MAX_SUBJECT: usize = 512;

/// An issuer a tenant trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The `iss` its tokens carry, or a SPIFFE trust domain as `spiffe://domain`.
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    /// A pasted JWKS, for networks that cannot reach the issuer.
    pub jwks: Option<String>,
    pub created_at: OffsetDateTime,
    pub created_by: Option<Uuid>,
}

impl Issuer {
    /// A SPIFFE trust domain vouches for the IDs under it; a JWT-SVID need not carry `iss`.
    pub fn is_spiffe(&self) -> bool {
        self.issuer.starts_with("spiffe://")
    }
}

/// The issuer as given: an `https` URL (or `http` on a private network allowed by the operator), or
/// `spiffe://trust-domain`.
pub fn issuer_name(raw: &str) -> Result<String, Invalid> {
    let raw = raw.trim().trim_end_matches('/');
    if let Some(domain) = raw.strip_prefix("spiffe://") {
        if domain.is_empty()
            || domain.contains('/')
            || !domain.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        {
            return Err(Invalid::new("a SPIFFE trust domain is spiffe:// and a domain name, with no path"));
        }
        return Ok(format!("spiffe://{}", domain.to_ascii_lowercase()));
    }
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(raw.to_string()),
        _ => Err(Invalid::new("the issuer is its URL (https://…), as its tokens' iss claim reads, or spiffe://domain")),
    }
}

pub fn audience(raw: &str) -> Result<String, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 512 {
        return Err(Invalid::new(
            "the audience is the aud claim this installation's tokens carry (1 to 512 characters)",
        ));
    }
    Ok(raw.to_string())
}

/// A subject as bound to an agent: a SPIFFE ID or an OIDC `sub`, printable, without spaces.
pub fn subject(raw: &str) -> Result<String, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_SUBJECT || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new("a subject is a SPIFFE ID or an OIDC sub: 1 to 512 characters, no spaces"));
    }
    if let Some(rest) = raw.strip_prefix("spiffe://") {
        if !rest.contains('/') {
            return Err(Invalid::new("a SPIFFE ID is spiffe://trust-domain/path"));
        }
    }
    Ok(raw.to_string())
}

/// A JWKS as pasted or fetched: only asymmetric keys, each with a `kid`.
pub fn jwks(text: &str) -> Result<JwkSet, Invalid> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| Invalid::new(format!("not a JWKS: {e}")))?;
    if set.keys.is_empty() {
        return Err(Invalid::new("the JWKS has no keys"));
    }
    for key in &set.keys {
        if key.common.key_id.is_none() {
            return Err(Invalid::new("every key in the JWKS needs a kid"));
        }
        if !matches!(
            key.algorithm,
            AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_) | AlgorithmParameters::OctetKeyPair(_)
        ) {
            return Err(Invalid::new("the JWKS may hold public keys only (RSA, EC or OKP), never a shared secret"));
        }
    }
    Ok(set)
}

/// What is read of a token before it is verified: only where to look for its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    pub kid: Option<String>,
    /// Which issuers to try: those named by its `iss`, and for a SPIFFE ID its trust domain's.
    pub issuer_keys: Vec<String>,
}

#[derive(Deserialize)]
struct Peek {
    iss: Option<String>,
    sub: Option<String>,
}

/// Whether a bearer token is a JWT at all (three base64url parts), not a `csa_` credential.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("ey") && token.split('.').count() == 3
}

pub fn peek(token: &str) -> Option<Unverified> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Peek>(token).ok()?;
    let spiffe = claims.sub.as_deref().and_then(trust_domain);
    let issuer_keys: Vec<String> = claims.iss.into_iter().chain(spiffe).collect();
    (!issuer_keys.is_empty()).then_some(Unverified { kid: header.kid, issuer_keys })
}

fn trust_domain(sub: &str) -> Option<String> {
    let rest = sub.strip_prefix("spiffe://")?;
    let domain = rest.split('/').next().filter(|d| !d.is_empty())?;
    Some(format!("spiffe://{}", domain.to_ascii_lowercase()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No key in the issuer's JWKS has the token's `kid`: the keys may have rotated.
    #[error("the token's key is not in the issuer's JWKS")]
    UnknownKey,
    #[error("the token does not verify: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Verified {
    sub: String,
}

/// Verifies `token` against `issuer` and its keys at `now`, living at most `max_lifetime`; the verified
/// subject.
pub fn verify(
    token: &str,
    issuer: &Issuer,
    keys: &JwkSet,
    now: OffsetDateTime,
    max_lifetime: time::Duration,
) -> Result<String, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| Refusal::Invalid(e.to_string()))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(Refusal::Invalid(format!("algorithm {:?} is not allowed", header.alg)));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys.find(kid).ok_or(Refusal::UnknownKey)?,
        None if keys.keys.len() == 1 => &keys.keys[0],
        None => return Err(Refusal::Invalid("the token names no kid".into())),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| Refusal::Invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&issuer.audience]);
    validation.leeway = SKEW_SECONDS;
    // Time is the service's clock, checked below, so every check of a request reads the same clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    if !issuer.is_spiffe() {
        validation.set_issuer(&[&issuer.issuer]);
    }
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|e| Refusal::Invalid(e.to_string()))?;
    let at = |name: &str| data.claims.get(name).and_then(serde_json::Value::as_i64);
    let (now, skew) = (now.unix_timestamp(), SKEW_SECONDS as i64);
    match (at("exp"), at("nbf")) {
        (Some(exp), _) if exp + skew <= now => return Err(Refusal::Invalid("the token has expired".into())),
        (None, _) => return Err(Refusal::Invalid("the token has no exp".into())),
        (_, Some(nbf)) if nbf - skew > now => return Err(Refusal::Invalid("the token is not valid yet".into())),
        _ => {}
    }
    lifetime(at("exp"), at("iat"), now, max_lifetime.whole_seconds())?;
    let verified: Verified =
        serde_json::from_value(data.claims).map_err(|_| Refusal::Invalid("the token has no sub".into()))?;
    if issuer.is_spiffe() && trust_domain(&verified.sub).as_deref() != Some(issuer.issuer.as_str()) {
        return Err(Refusal::Invalid("the SPIFFE ID is outside the trust domain".into()));
    }
    Ok(verified.sub)
}

/// A stolen token is worth only as long as it lives: its lifetime (`exp` − `iat`, or `exp` − now without
/// `iat`) and what is left of it may not exceed `max` seconds (plus the skew).
fn lifetime(exp: Option<i64>, iat: Option<i64>, now: i64, max: i64) -> Result<(), Refusal> {
    let Some(exp) = exp else { return Err(Refusal::Invalid("the token has no exp".into())) };
    let limit = max.saturating_add(SKEW_SECONDS as i64);
    let issued = iat.unwrap_or(now);
    if exp.saturating_sub(issued) > limit || exp.saturating_sub(now) > limit {
        return Err(Refusal::Invalid(format!("the token lives longer than the {max} seconds allowed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_and_subjects_are_checked_as_given() {
        assert_eq!(issuer_name("spiffe://Acme.example/").as_deref(), Ok("spiffe://acme.example"));
        assert!(issuer_name("spiffe://acme.example/path").is_err());
        assert_eq!(issuer_name("https://idp.example/").as_deref(), Ok("https://idp.example"));
        assert!(issuer_name("idp.example").is_err());
        assert!(subject("spiffe://acme.example").is_err());
        assert!(subject("has space").is_err());
        assert_eq!(
            subject(" spiffe://acme.example/support/refunds ").as_deref(),
            Ok("spiffe://acme.example/support/refunds")
        );
    }

    #[test]
    fn a_jwks_holds_public_keys_with_ids() {
        let okp =
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}]}"#;
        assert!(jwks(okp).is_ok());
        assert!(jwks(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]}"#).is_err(), "a shared secret");
        assert!(jwks(r#"{"keys":[]}"#).is_err());
        assert!(jwks(&okp.replace(r#","kid":"a""#, "")).is_err(), "no kid");
    }

    #[test]
    fn long_lived_tokens_are_refused() {
        let now = 1_800_000_000;
        assert!(lifetime(Some(now + 300), Some(now), now, 3600).is_ok());
        assert!(lifetime(Some(now + 300), None, now, 3600).is_ok());
        assert!(lifetime(Some(253_402_300_799), Some(now), now, 3600).is_err(), "exp in year 9999");
        assert!(lifetime(Some(253_402_300_799), None, now, 3600).is_err());
        assert!(lifetime(Some(now + 7200), Some(now + 7000), now, 3600).is_err(), "iat in the future");
        assert!(lifetime(Some(now + 600), Some(now - 7200), now, 3600).is_err(), "issued long before");
    }

    #[test]
    fn a_spiffe_id_is_looked_up_by_its_trust_domain() {
        assert_eq!(trust_domain("spiffe://acme.example/support/x").as_deref(), Some("spiffe://acme.example"));
        assert_eq!(trust_domain("user-17"), None);
        assert!(looks_like_jwt("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(!looks_like_jwt("csa_0190_secret"));
    }
}

//! Issuers' keys: pasted, or fetched from their JWKS URL through the guarded client and cached. Fetches of
//! one issuer are one at a time (concurrent requests wait for the fetch under way rather than start
//! their own), a body is read only up to 256 KB, and a failed fetch is not tried again for a minute: a
//! stream of tokens, good or bad, never becomes a stream of requests to the issuer.

use super::agent_auth::AgentAuthError;
use super::Service;
use crate::domain::workload::{self, Issuer, Refusal};
use jsonwebtoken::jwk::JwkSet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A fetched JWKS is used this long before it is fetched again.
const JWKS_FRESH_FOR: Duration = Duration::from_secs(600);
/// After a fetch that worked, an unknown `kid` fetches the JWKS again at most this often per issuer.
const REFETCH_AFTER: Duration = Duration::from_secs(1);
/// After a fetch that failed, the next is tried no sooner than this, whatever asks for it.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// What is known of one issuer's JWKS.
#[derive(Default)]
struct Entry {
    /// The keys last fetched, and when.
    keys: Option<(Instant, JwkSet)>,
    /// The last fetch tried, and whether it failed.
    tried: Option<(Instant, bool)>,
}

impl Entry {
    /// Whether a fetch may be tried now: never within a minute of a failure, a second of a success.
    fn may_fetch(&self) -> bool {
        self.tried.is_none_or(|(at, failed)| at.elapsed() >= if failed { RETRY_FAILED_AFTER } else { REFETCH_AFTER })
    }
}

type Slot = Arc<tokio::sync::Mutex<Entry>>;

/// Issuers' keys as last fetched, by issuer id; each issuer's behind its own lock, held across a fetch.
#[derive(Clone, Default)]
pub struct JwksCache(Arc<Mutex<HashMap<Uuid, Slot>>>);

impl JwksCache {
    fn slot(&self, issuer: Uuid) -> Option<Slot> {
        Some(self.0.lock().ok()?.entry(issuer).or_default().clone())
    }

    /// Forgets an issuer's keys (it was edited or removed): its next token fetches them afresh, if it still
    /// exists.
    pub fn forget(&self, issuer: Uuid) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&issuer);
        }
    }
}

impl Service {
    /// The token's subject if it verifies against `issuer`'s keys, fetching them again once on an unknown key.
    pub(super) async fn verified_subject(
        &self,
        token: &str,
        issuer: &Issuer,
    ) -> Result<Option<String>, AgentAuthError> {
        let (now, max) = (self.clock.now(), self.workload_token_max_lifetime);
        let keys = self.issuer_keys(issuer, false).await;
        match keys.as_ref().map(|k| workload::verify(token, issuer, k, now, max)) {
            Some(Ok(subject)) => Ok(Some(subject)),
            Some(Err(Refusal::UnknownKey)) | None => {
                let Some(keys) = self.issuer_keys(issuer, true).await else { return Ok(None) };
                Ok(workload::verify(token, issuer, &keys, now, max).ok())
            }
            Some(Err(Refusal::Invalid(why))) => {
                tracing::debug!(issuer = %issuer.issuer, why, "a workload token was refused");
                Ok(None)
            }
        }
    }

    /// The issuer's keys: pasted, cached, or fetched (`again`: the cached ones lacked the token's key).
    async fn issuer_keys(&self, issuer: &Issuer, again: bool) -> Option<JwkSet> {
        if let Some(text) = &issuer.jwks {
            return if again { None } else { workload::jwks(text).ok() };
        }
        let url = issuer.jwks_url.as_ref()?;
        let slot = self.jwks.slot(issuer.id)?;
        let mut entry = slot.lock().await;
        let cached = entry.keys.as_ref().map(|(at, keys)| (at.elapsed() < JWKS_FRESH_FOR, keys.clone()));
        if let Some((true, keys)) = &cached {
            if !again {
                return Some(keys.clone());
            }
        }
        if !entry.may_fetch() {
            // Perhaps fetched while this request waited for the lock; else the old keys, or none.
            return cached.map(|(_, keys)| keys);
        }
        entry.tried = Some((Instant::now(), true));
        match self.fetch_jwks(url).await {
            Ok(keys) => {
                entry.tried = Some((Instant::now(), false));
                entry.keys = Some((Instant::now(), keys.clone()));
                Some(keys)
            }
            Err(why) => {
                tracing::warn!(issuer = %issuer.issuer, url, why, "cannot fetch the issuer's JWKS");
                entry.tried = Some((Instant::now(), true));
                cached.map(|(_, keys)| keys).filter(|_| !again)
            }
        }
    }

    async fn fetch_jwks(&self, url: &str) -> Result<JwkSet, String> {
        // Checked again at each fetch: a URL that is an address never reaches the guarded resolver.
        let url = self.outbox.egress().url(url).map_err(|r| r.to_string())?;
        let response = self.outbox.client().get(url).send().await.map_err(|e| {
            if crate::delivery::client::refused(&e) {
                crate::domain::egress::Refused::PrivateAddress.to_string()
            } else {
                e.to_string()
            }
        })?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = crate::delivery::client::read_capped(response, MAX_JWKS_BYTES).await?;
        workload::jwks(&String::from_utf8_lossy(&body)).map_err(|e| e.0)
    }
}

//! The receipt keys: made on first use, rotated by an operator, read back by every app server within
//! [`FRESH_FOR`] so that all of them sign with the newest key soon after a rotation.

use super::{Service, ServiceError};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::receipt::{Attested, ReceiptKey, ReceiptKeys};
use crate::domain::sealing::Purpose;
use crate::store::StoreError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FRESH_FOR: Duration = Duration::from_secs(10);

#[derive(Clone, Default)]
pub struct ReceiptCache(Arc<Mutex<Option<(Instant, ReceiptKeys)>>>);

impl ReceiptCache {
    fn fresh(&self) -> Option<ReceiptKeys> {
        let slot = self.0.lock().ok()?;
        slot.as_ref().filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, keys)| keys.clone())
    }

    fn keep(&self, keys: &ReceiptKeys) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((Instant::now(), keys.clone()));
        }
    }

    fn forget(&self) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = None;
        }
    }
}

impl Service {
    /// Every receipt key, newest first; the first is made, sealed and stored (audited) on first use.
    pub async fn receipt_keys(&self) -> Result<ReceiptKeys, ServiceError> {
        if let Some(keys) = self.receipts.fresh() {
            return Ok(keys);
        }
        let candidate = ReceiptKey::generate();
        let event = Event::new(Kind::ReceiptKeyCreated, Actor::System, format!("receipt_key:{}", candidate.kid()))
            .data(serde_json::json!({ "kid": candidate.kid(), "public_key": candidate.public_key() }));
        let sealed = self.secrets.seal(&candidate.encode(), Purpose::ReceiptKey);
        let mut keys = Vec::new();
        for stored in self.store.receipt_keys(&sealed, event, self.clock.now()).await? {
            let opened =
                self.secrets.open(&stored, Purpose::ReceiptKey).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            keys.push(ReceiptKey::decode(&opened).ok_or_else(|| StoreError::Corrupt("a stored receipt key".into()))?);
        }
        let keys = ReceiptKeys(keys);
        self.receipts.keep(&keys);
        Ok(keys)
    }

    /// The key that signs receipts now.
    pub async fn receipt_key(&self) -> Result<ReceiptKey, ServiceError> {
        let keys = self.receipt_keys().await?;
        Ok(keys.current().cloned().ok_or_else(|| StoreError::Corrupt("no receipt key".into()))?)
    }

    /// The receipt for a decision, signed with the newest key.
    pub(super) async fn sign_receipt(&self, what: &Attested<'_>) -> Result<String, ServiceError> {
        let signed = self.receipt_key().await?.sign(what);
        Ok(signed.ok_or_else(|| StoreError::Corrupt("the receipt key does not sign".into()))?)
    }

    /// The operator's `receipt-key rotate`: a new key signs from now on; the old ones stay published.
    pub async fn rotate_receipt_key(&self) -> Result<ReceiptKey, ServiceError> {
        let previous = self.receipt_key().await?;
        let key = ReceiptKey::generate();
        let event = Event::new(Kind::ReceiptKeyRotated, Actor::Cli, format!("receipt_key:{}", key.kid()))
            .data(serde_json::json!({ "kid": key.kid(), "public_key": key.public_key(), "previous": previous.kid() }));
        let sealed = self.secrets.seal(&key.encode(), Purpose::ReceiptKey);
        self.store.add_receipt_key(&key.kid(), &sealed, event, self.clock.now()).await?;
        self.receipts.forget();
        Ok(key)
    }
}

//! Recently verified credentials, so a busy agent is not re-read from the database on every request.
//!
//! Entries live at most [`FRESH_FOR`]. This server drops them at once when it revokes a credential or
//! changes an agent; another app server sharing a PostgreSQL database notices within that time.

use crate::store::{Agent, Credential};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const FRESH_FOR: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

/// A credential, its agent, and when they were read.
type Entry = (Credential, Agent, Instant);

#[derive(Clone, Default)]
pub struct CredentialCache(Arc<Mutex<HashMap<Uuid, Entry>>>);

impl CredentialCache {
    pub fn get(&self, id: Uuid) -> Option<(Credential, Agent)> {
        let map = self.0.lock().ok()?;
        map.get(&id).filter(|(_, _, at)| at.elapsed() < FRESH_FOR).map(|(c, a, _)| (c.clone(), a.clone()))
    }

    pub fn put(&self, credential: Credential, agent: Agent) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, (_, _, at)| at.elapsed() < FRESH_FOR);
            }
            map.insert(credential.id, (credential, agent, Instant::now()));
        }
    }

    /// Forgets the credentials of every agent of `tenant` (an issuer of it was removed).
    pub fn forget_tenant(&self, tenant: Uuid) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (_, a, _)| a.tenant_id != tenant);
        }
    }

    pub fn forget_agent(&self, agent: Uuid) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (_, a, _)| a.id != agent);
        }
    }
}

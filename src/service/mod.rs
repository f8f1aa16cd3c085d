//! Application services: each use case loads what it needs, asks the domain, and has the store commit the
//! change with its audit event. The console (server functions), the CLI and the demo all come through here.

mod accounts;
mod agents;
mod credential_cache;
mod intake;
mod records;

use crate::domain::catalog::Catalog;
use crate::domain::clock::Clock;
use crate::domain::Invalid;
use crate::store::{Store, StoreError};
use std::sync::Arc;

pub use accounts::SignInError;
pub use agents::{AgentAuthError, AgentChanges, AgentDraft, AuthenticatedAgent, By};
pub use intake::{IntakeError, IntakeOutcome};

#[derive(Clone)]
pub struct Service {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub catalog: Catalog,
    intake: intake::IntakeWriter,
    credentials: credential_cache::CredentialCache,
    /// Ids of held actions whose status just changed; long-polls listen here.
    changes: tokio::sync::broadcast::Sender<uuid::Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not allowed")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Service {
    /// Starts the intake writer, so it must be called inside the async runtime.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, catalog: Catalog) -> Self {
        let intake = intake::IntakeWriter::spawn(store.clone());
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        Service { store, clock, catalog, intake, changes, credentials: Default::default() }
    }
}

/// Runs CPU-heavy work (argon2) off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    let failed = |e: String| ServiceError::Store(StoreError::Corrupt(format!("worker failed: {e}")));
    let _permit = HASHING.acquire().await.map_err(|e| failed(e.to_string()))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| failed(e.to_string()))
}

/// At most this many argon2 computations (19 MiB each) run at once: a sign-in flood queues instead of
/// exhausting memory and threads.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

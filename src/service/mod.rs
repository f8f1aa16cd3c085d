//! Application services: each use case loads what it needs, asks the domain, and has the store commit the
//! change with its audit event. The console (server functions), the CLI and the demo all come through here.

pub mod accounts;
mod agent_auth;
mod agents;
mod attestation;
mod chain_check;
mod credential_cache;
mod export;
mod history;
mod insights;
mod intake;
pub mod intake_limits;
mod issuers;
mod jwks;
mod lifecycle;
mod people;
pub mod qa;
mod receipts;
mod records;
mod refusals;
mod review;
mod review_facts;
pub mod tasks;
mod workload;

use crate::delivery::webhook::Outbox;
use crate::delivery::Change;
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::catalog::Catalog;
use crate::domain::checkpoint::{Checkpoint, CheckpointKey, CheckpointKeys};
use crate::domain::clock::Clock;
use crate::domain::sealing::{Keyring, Purpose, SecretKey};
use crate::domain::Invalid;
use crate::store::{SecretOf, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub use accounts::SignInError;
pub use agent_auth::{AgentAuthError, AuthenticatedAgent, CaseBound};
pub use agents::{AgentChanges, AgentDraft, By};
pub use attestation::{Evidence, TypeRecord};
pub use export::{reference_name, Export, PAGE as EXPORT_PAGE};
pub use history::{HistorySlice, Reader, RecordFile, HISTORY_PAGE};
pub use insights::{Insights, Rate, PERIODS};
pub use intake::{pending_action, IntakeError, IntakeOutcome};
pub use issuers::{IssuerChange, IssuerDraft};
pub use lifecycle::{owner_standing, Sweep};
pub use qa::{Disagreement, MAX_SAMPLE};
pub use review::{CaseFile, DecideError};
pub use review_facts::submitted_subject;
pub use workload::CaseRequest;

#[derive(Clone)]
pub struct Service {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub catalog: Catalog,
    /// Review intervals and grace periods for agents' lives.
    pub lifecycle: crate::domain::lifecycle::Policy,
    intake: intake::IntakeWriter,
    credentials: credential_cache::CredentialCache,
    /// Held actions that just changed, from this app server or (with PostgreSQL) any other: long-polls and
    /// open queues listen here.
    changes: broadcast::Sender<Change>,
    /// Whether the store delivers changes to `changes` itself (PostgreSQL NOTIFY); else we publish.
    store_publishes: bool,
    pub outbox: Outbox,
    receipts: receipts::ReceiptCache,
    jwks: jwks::JwksCache,
    chain_checks: chain_check::ChainChecks,
    /// Seals the secrets the server keeps (webhook signing secrets, the receipt key) with a key held
    /// outside the database; set with `set_secrets`.
    secrets: Keyring,
    /// Per-agent rate and in-flight limits on the intake API (off unless configured).
    pub intake_limits: intake_limits::IntakeLimits,
    refusals: refusals::Refusals,
    /// The longest lifetime a workload token may have (`workload_token_max_lifetime`).
    pub workload_token_max_lifetime: time::Duration,
    /// The background tasks' state, for `/readyz`.
    pub tasks: tasks::Tasks,
    /// Whether outcomes also go to JetStream (`nats_url` is set): decisions then write that message too.
    pub publishes_outcomes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not allowed")]
    Forbidden,
    /// Every password-hashing slot stayed taken for `HASHING_WAIT`: try again shortly.
    #[error("the server is busy checking passwords; try again in a few seconds")]
    Busy,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(invalid) => ServiceError::Invalid(invalid),
            other => ServiceError::Store(other),
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The one outbound HTTP client (no proxy, egress guard) cannot be built: nothing is sent unguarded.
    #[error("cannot build the guarded HTTP client for webhooks and JWKS fetches: {0}")]
    HttpClient(#[from] reqwest::Error),
}

impl Service {
    /// Starts the intake writer and, with PostgreSQL, the change listener. Background workers (expiry,
    /// webhooks) start separately, with `spawn_workers`, so tests can drive them by hand.
    pub async fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, catalog: Catalog) -> Result<Self, StartError> {
        let tasks = tasks::Tasks::default();
        let intake = intake::IntakeWriter::spawn(store.clone(), &tasks);
        let (changes, _) = broadcast::channel(4096);
        let store_publishes = store.listen(changes.clone()).await?;
        // Unless configured (`set_secrets`), a key of this process alone: what it seals, only it opens.
        let secrets = Keyring::new(SecretKey::generate(), vec![]);
        let outbox = Outbox::new(store.clone(), clock.clone(), secrets.clone())?;
        Ok(Service {
            store,
            clock,
            catalog,
            lifecycle: Default::default(),
            intake,
            changes,
            store_publishes,
            outbox,
            receipts: Default::default(),
            jwks: Default::default(),
            credentials: Default::default(),
            chain_checks: Default::default(),
            secrets,
            intake_limits: Default::default(),
            refusals: Default::default(),
            workload_token_max_lifetime: workload::TOKEN_MAX_LIFETIME_DEFAULT,
            tasks,
            publishes_outcomes: false,
        })
    }

    pub fn spawn_workers(&self) {
        let service = self.clone();
        self.tasks.every("expiry", Duration::from_secs(1), move || {
            let service = service.clone();
            async move { service.expiry_pass().await.map(|(_, skipped)| skipped).map_err(|e| e.to_string()) }
        });
        let service = self.clone();
        self.tasks.every("lifecycle", Duration::from_secs(60), move || {
            let service = service.clone();
            async move { service.lifecycle_sweep().await.map(|sweep| sweep.skipped).map_err(|e| e.to_string()) }
        });
        let service = self.clone();
        self.tasks.every("refusal log", refusals::FLUSH_EVERY, move || {
            let service = service.clone();
            async move {
                service.intake_limits.forget_quiet();
                service.flush_refusals().await.map(|_| vec![]).map_err(|e| e.to_string())
            }
        });
        let service = self.clone();
        self.tasks.every("checkpoints", Duration::from_secs(60), move || {
            let service = service.clone();
            async move { service.checkpoint().await.map(|_| vec![]).map_err(|e| e.to_string()) }
        });
        self.outbox.clone().spawn(&self.tasks);
    }

    /// The keys that seal and open stored secrets (`secret_key`, `secret_key_previous`).
    pub fn set_secrets(&mut self, secrets: Keyring) {
        self.outbox.set_secrets(secrets.clone());
        self.secrets = secrets;
    }

    /// Live changes of held actions, for the queue's event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn publish(&self, changes: &[Change]) {
        if !self.store_publishes {
            changes.iter().for_each(|c| {
                let _ = self.changes.send(*c);
            });
        }
    }

    /// Seals every stored secret with the current key (those sealed with a previous key, or from before
    /// sealing) and re-signs with it every checkpoint a previous key signed and still verifies, in one audited
    /// transaction; returns how many secrets were resealed and checkpoints re-signed.
    pub async fn reseal_secrets(&self) -> Result<(usize, usize), ServiceError> {
        let mut resealed = Vec::new();
        for (of, stored) in self.store.stored_secrets().await? {
            if self.secrets.is_current(&stored) {
                continue;
            }
            let purpose = match &of {
                SecretOf::Agent(id) => Purpose::WebhookSecret(id),
                SecretOf::ReceiptKey(_) => Purpose::ReceiptKey,
            };
            let plain = self.secrets.open(&stored, purpose).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let sealed = self.secrets.seal(&plain, purpose);
            resealed.push((of, sealed));
        }
        // A checkpoint that does not verify now is left as it is: `audit verify` keeps reporting it.
        let keys = CheckpointKeys(self.secrets.all().map(CheckpointKey::derive).collect());
        let current = CheckpointKey::derive(self.secrets.current());
        let resigned: Vec<Checkpoint> = (self.store.checkpoints().await?.into_iter())
            .filter(|c| c.key_id != current.key_id() && keys.refusal(c).is_none())
            .map(|c| current.sign(c.seq, &c.hash, c.at))
            .collect();
        let counts = (resealed.len(), resigned.len());
        let event = Event::new(Kind::SecretsResealed, Actor::Cli, "secrets").data(serde_json::json!({
            "key": self.secrets.current().id(), "resealed": counts.0, "checkpoints_resigned": counts.1 }));
        self.store.reseal_secrets(resealed, resigned, event, self.clock.now()).await?;
        Ok(counts)
    }

    /// `secret` sealed for agent `id`'s webhook.
    fn seal_webhook_secret(&self, secret: &str, id: &uuid::Uuid) -> String {
        self.secrets.seal(secret, Purpose::WebhookSecret(id))
    }
}

/// Runs CPU-heavy work (argon2) off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    let failed = |e: String| ServiceError::Store(StoreError::Corrupt(format!("worker failed: {e}")));
    let slot = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await.map_err(|_| ServiceError::Busy)?;
    let _permit = slot.map_err(|e| failed(e.to_string()))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| failed(e.to_string()))
}

/// At most this many argon2 computations (19 MiB each) run at once: a sign-in flood queues instead of
/// exhausting memory and threads.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
/// The longest a request waits for one of those slots before it is told to come back (a bounded wait).
const HASHING_WAIT: Duration = Duration::from_secs(5);

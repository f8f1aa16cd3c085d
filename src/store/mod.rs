//! The Store port and its adapters. SQLite is the embedded default; PostgreSQL serves several app servers.
//! Both speak the same SQL (sqlx accepts `$1` placeholders in SQLite too), written once in `sql.rs`; each
//! adapter supplies its pool, its migrations and how it serialises writers.

// The shared SQL macros must be declared before the adapters that expand them.
pub(crate) mod bulk;
#[macro_use]
mod sql;
#[macro_use]
mod sql_agents;
#[macro_use]
mod sql_held_actions;
#[macro_use]
mod sql_reviews;
#[macro_use]
mod sql_apply;
#[macro_use]
mod sql_lifecycle;
#[macro_use]
mod sql_people;
#[macro_use]
mod sql_history;
#[macro_use]
mod sql_insights;
#[macro_use]
mod sql_workload;
#[macro_use]
mod sql_provenance;
mod history;
mod insights;
mod lifecycle;
mod postgres;
mod reviews;
mod rows;
mod sessions;
mod sqlite;
mod sqlite_checkpoints;
mod sqlite_malloc;
mod workload;

pub use history::{AuditQuery, HistoryQuery, HistoryStore};
pub use insights::{DecisionCount, InsightsStore, QaSample, Tally, VoteCount};
pub use lifecycle::{Activity, LifecycleStore, PeopleStore, PersonChange, RetirementPreview, StateChange};
pub use postgres::PostgresStore;
pub use reviews::{
    AgentGuard, Attempt, Channel, Delivery, DeliveryState, NewDelivery, Outcome, QueueQuery, Review, ReviewStore,
    SecretOf, Transition,
};
pub use sessions::SessionBackend;
pub use sqlite::SqliteStore;
/// For code that opens SQLite itself (the tests' raw SQL) to call first, as `SqliteStore::connect` does.
pub use sqlite_malloc::install as install_sqlite_allocator;
pub use workload::{Binding, WorkloadStore};

use crate::domain::audit::{Event, Record};
use crate::domain::review::Claim;
use crate::domain::scope::{Money, Scope};
use crate::domain::throttle::{Throttle, Verdict};
use crate::domain::{ActionType, AgentState, HeldStatus, RiskTier, Role};
use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A rule re-checked inside the write transaction refused the change; nothing was written.
    #[error(transparent)]
    Invalid(crate::domain::Invalid),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Rows read for background work: those that could be read, and why the others could not. A worker skips
/// and reports the unreadable ones instead of stopping on them (and on everything behind them).
#[derive(Debug)]
pub struct Readable<T> {
    pub rows: Vec<T>,
    pub unreadable: Vec<String>,
}

impl<T> Readable<T> {
    pub fn from_rows<R: TryInto<T, Error = StoreError>>(rows: Vec<R>) -> Readable<T> {
        let mut readable = Readable { rows: Vec::with_capacity(rows.len()), unreadable: Vec::new() };
        for row in rows {
            match row.try_into() {
                Ok(row) => readable.rows.push(row),
                Err(e) => readable.unreadable.push(e.to_string()),
            }
        }
        readable
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub active: bool,
    /// Every role held in any tenant (or outside every tenant): what the console shows and offers.
    pub roles: Vec<Role>,
    pub tenants: Vec<Tenant>,
    /// The roles held in each tenant: what every check of a right asks.
    pub memberships: crate::domain::access::Memberships,
    pub throttle: Throttle,
    /// Sessions remember the epoch they began in; a password change moves it on and so ends them all.
    pub session_epoch: i64,
    /// Set by an admin's one-time password: the person must choose their own before anything else.
    pub must_change_password: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub tenants: Vec<Uuid>,
    pub must_change_password: bool,
    pub created_at: OffsetDateTime,
}

/// An agent: a non-human identity with a named owner and a scope of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub purpose: String,
    pub owner_id: Uuid,
    pub sponsor_id: Option<Uuid>,
    pub state: AgentState,
    pub scope: Scope,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub created_at: OffsetDateTime,
    pub life: Life,
    /// The workload subject (SPIFFE ID or OIDC `sub`) whose tokens authenticate it.
    pub workload_subject: Option<String>,
    /// Set by its owner: no owner-minted long-lived credentials, workload identity only.
    pub workload_only: bool,
}

/// Where an agent is in its life, beyond its state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Life {
    /// `None`: registration plus the review interval.
    pub review_due_at: Option<OffsetDateTime>,
    pub last_reviewed_at: Option<OffsetDateTime>,
    /// Why, when and by whom (the actor as the audit log names it) its state last changed.
    pub state_reason: Option<String>,
    pub state_changed_at: Option<OffsetDateTime>,
    pub state_changed_by: Option<String>,
    /// Since when its owner can no longer own it.
    pub orphaned_at: Option<OffsetDateTime>,
    /// The person who registered it and the one who last changed its scope (`None`: the command line, or
    /// not recorded); neither may decide its actions.
    pub registered_by: Option<Uuid>,
    pub scope_changed_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// The person who issued it (`None`: an operator at the command line, the agent itself, or not recorded).
    pub issued_by: Option<Uuid>,
    /// A just-in-time credential's case and action types: intake refuses it for any other.
    pub case_id: Option<String>,
    pub action_types: Option<Vec<ActionType>>,
    /// The workload subject that obtained it.
    pub subject: Option<String>,
    /// A case credential's parent: the credential it was exchanged from (it never outlives it).
    pub parent_id: Option<Uuid>,
    /// The issuer whose workload token obtained it.
    pub issuer_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeldAction {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    pub idempotency_key: String,
    pub action: ActionType,
    pub amount: Option<Money>,
    pub tier: RiskTier,
    pub case_id: String,
    pub customer_id: String,
    /// The submission as received, in canonical JSON.
    pub body: String,
    pub content_hash: String,
    pub status: HeldStatus,
    pub received_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    /// Approvals counted so far (and, once approved, in all).
    pub approvals: i64,
    /// The deny reason, or why it expired or was cancelled.
    pub outcome_reason: Option<String>,
    /// A narrowed amount; `None` means as requested.
    pub approved_amount: Option<Money>,
    /// Who cast the deciding vote.
    pub decided_by: Option<Uuid>,
    pub receipt: Option<String>,
    pub claim: Option<Claim>,
    /// The credential that submitted it (`None` before that was recorded).
    pub credential_id: Option<Uuid>,
}

/// What became of one submission in a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    Created(HeldAction),
    /// The same key and content again: the original.
    Replayed(HeldAction),
    /// The same key with different content.
    KeyReused,
    /// The agent was suspended or retired before the batch committed.
    AgentInactive(AgentState),
}

/// The whole port: one object the services hold, whatever the database.
pub trait Store:
    Core
    + AgentStore
    + HeldActionStore
    + ReviewStore
    + LifecycleStore
    + PeopleStore
    + HistoryStore
    + InsightsStore
    + WorkloadStore
    + ProvenanceStore
{
}
impl<T> Store for T where
    T: Core
        + AgentStore
        + HeldActionStore
        + ReviewStore
        + LifecycleStore
        + PeopleStore
        + HistoryStore
        + InsightsStore
        + WorkloadStore
        + ProvenanceStore
{
}

/// Who could have produced a held action and how people's accounts were provisioned (append-only).
#[async_trait]
pub trait ProvenanceStore: Send + Sync + 'static {
    /// Everyone who could have produced the action: as recorded at intake, plus the agent's authority
    /// history since.
    async fn producers(&self, held_action: Uuid) -> Result<Vec<crate::domain::provenance::Producer>>;
    /// How each of `users` was provisioned, by whom.
    async fn provisioned(&self, users: &[Uuid]) -> Result<Vec<crate::domain::provenance::Provisioned>>;
}

/// Every method that changes state writes its audit event(s) in the same transaction.
#[async_trait]
pub trait Core: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    /// Migrations known to this binary but not applied to the database.
    async fn pending_migrations(&self) -> Result<usize>;
    fn sessions(&self) -> SessionBackend;
    /// Refreshes the planner's statistics after a bulk load (autovacuum does it in time; a benchmark cannot wait).
    async fn refresh_statistics(&self) -> Result<()>;
    /// Where several app servers share the database, forwards every committed change of a held action
    /// (from any server) into `into` and returns `true`; otherwise `false`, and the caller publishes its own.
    async fn listen(&self, into: tokio::sync::broadcast::Sender<crate::delivery::Change>) -> Result<bool>;

    async fn create_tenant(&self, tenant: &Tenant, event: Event) -> Result<()>;
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;

    async fn create_user(&self, user: &NewUser, event: Event) -> Result<()>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>>;
    /// People who belong to any of `tenants`.
    async fn users_in(&self, tenants: &[Uuid]) -> Result<Vec<User>>;
    /// Decides a sign-in attempt against the account's stored throttle, stores the new state and its events.
    /// Decides a sign-in attempt of `client` on `user`'s account (slowed down per account and client) and
    /// records it, in one transaction.
    async fn sign_in_attempt(&self, user: Uuid, client: &str, password_ok: bool, at: OffsetDateTime)
        -> Result<Verdict>;
    /// Sets a new password hash and moves the session epoch on, ending every session; returns the new epoch.
    async fn set_password(&self, user: Uuid, password_hash: &str, event: Event, at: OffsetDateTime) -> Result<i64>;

    /// Appends an event that records no other change (a sign-out, a refused sign-in).
    async fn append(&self, event: Event, at: OffsetDateTime) -> Result<Record>;
    /// Appends several such events in one transaction (an export, one per tenant it covers).
    async fn append_all(&self, events: Vec<Event>, at: OffsetDateTime) -> Result<Vec<Record>>;
    /// The chain in order, for verification: events after `after`, at most `limit`.
    async fn audit_chain(&self, after: i64, limit: i64) -> Result<Vec<Record>>;
}

#[async_trait]
pub trait AgentStore: Send + Sync + 'static {
    async fn create_agent(&self, agent: &Agent, event: Event) -> Result<()>;
    /// Stores purpose, sponsor, scope, webhook URL and review dates as given (state moves by `change_state`).
    async fn update_agent(&self, agent: &Agent, event: Event, at: OffsetDateTime) -> Result<()>;
    async fn agent(&self, id: Uuid) -> Result<Option<Agent>>;
    /// Agents of these tenants; with `owner`, only those that person owns or sponsors.
    async fn agents(&self, tenants: &[Uuid], owner: Option<Uuid>) -> Result<Vec<Agent>>;
    async fn create_credential(&self, credential: &Credential, event: Event) -> Result<()>;
    async fn credential(&self, id: Uuid) -> Result<Option<Credential>>;
    async fn credentials(&self, agent: Uuid) -> Result<Vec<Credential>>;
    /// Revokes a live credential; `false` when it was already revoked or does not exist.
    async fn revoke_credential(&self, id: Uuid, event: Event, at: OffsetDateTime) -> Result<bool>;
}

/// A credential's last use, written with the next group commit (not audited: it changes no authority).
pub type CredentialUse = (Uuid, OffsetDateTime);

/// A submission ready to store, with its audit event.
#[derive(Debug, Clone)]
pub struct NewHeldAction {
    pub action: HeldAction,
    pub event: Event,
    /// The issuer whose workload token submitted it (its registrants are in its provenance).
    pub issuer: Option<Uuid>,
}

#[async_trait]
pub trait HeldActionStore: Send + Sync + 'static {
    /// Stores a batch in one transaction (one commit for many concurrent requests), deciding idempotency
    /// for each against what is stored and against the batch itself; records `used` in the same commit.
    /// On disk when it returns.
    async fn submit(&self, batch: Vec<NewHeldAction>, used: &[CredentialUse]) -> Result<Vec<Submitted>> {
        let outcomes = self.submit_unsettled(batch, used).await?;
        self.settle().await?;
        Ok(outcomes)
    }
    /// `submit`, except that the commit may not be on disk until `settle` returns: the group commit answers
    /// after `settle` while the next batch already writes.
    async fn submit_unsettled(&self, batch: Vec<NewHeldAction>, used: &[CredentialUse]) -> Result<Vec<Submitted>>;
    /// Puts every commit made so far on disk.
    async fn settle(&self) -> Result<()>;
    async fn held_action(&self, id: Uuid) -> Result<Option<HeldAction>>;
}

/// Opens the store a database URL names: `postgres://` or `postgresql://` selects PostgreSQL, anything
/// else is a SQLite path (created if missing).
pub async fn open(url: &str, sqlite_synchronous: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url, sqlite_synchronous).await?))
    }
}

fn map_unique(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Database(e),
    }
}

//! The Store port and its adapters. SQLite is the embedded default; PostgreSQL serves several app servers.
//! Both speak the same SQL (sqlx accepts `$1` placeholders in SQLite too), written once in `sql.rs`; each
//! adapter supplies its pool, its migrations and how it serialises writers.

// The shared SQL macro must be declared before the adapters that expand it.
#[macro_use]
mod sql;
mod postgres;
mod rows;
mod sessions;
mod sqlite;

pub use postgres::PostgresStore;
pub use sessions::SessionBackend;
pub use sqlite::SqliteStore;

use crate::domain::access::AuditScope;
use crate::domain::audit::{Event, Record};
use crate::domain::throttle::{Throttle, Verdict};
use crate::domain::Role;
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
}

pub type Result<T> = std::result::Result<T, StoreError>;

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
    pub roles: Vec<Role>,
    pub tenants: Vec<Tenant>,
    pub throttle: Throttle,
    /// Sessions remember the epoch they began in; a password change moves it on and so ends them all.
    pub session_epoch: i64,
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
    pub created_at: OffsetDateTime,
}

/// Every method that changes state writes its audit event(s) in the same transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    /// Migrations known to this binary but not applied to the database.
    async fn pending_migrations(&self) -> Result<usize>;
    fn sessions(&self) -> SessionBackend;

    async fn create_tenant(&self, tenant: &Tenant, event: Event) -> Result<()>;
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;

    async fn create_user(&self, user: &NewUser, event: Event) -> Result<()>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>>;
    /// People who belong to any of `tenants`.
    async fn users_in(&self, tenants: &[Uuid]) -> Result<Vec<User>>;
    /// Decides a sign-in attempt against the account's stored throttle, stores the new state and its events.
    async fn sign_in_attempt(&self, user: Uuid, password_ok: bool, at: OffsetDateTime) -> Result<Verdict>;
    /// Sets a new password hash and moves the session epoch on, ending every session; returns the new epoch.
    async fn set_password(&self, user: Uuid, password_hash: &str, event: Event, at: OffsetDateTime) -> Result<i64>;

    /// Appends an event that records no other change (a sign-out, a refused sign-in).
    async fn append(&self, event: Event, at: OffsetDateTime) -> Result<Record>;
    /// Newest first, at most `limit`, older than `before` when given.
    async fn audit_page(&self, scope: &AuditScope, before: Option<i64>, limit: i64) -> Result<Vec<Record>>;
    /// The chain in order, for verification: events after `after`, at most `limit`.
    async fn audit_chain(&self, after: i64, limit: i64) -> Result<Vec<Record>>;
}

/// Opens the store a database URL names: `postgres://` or `postgresql://` selects PostgreSQL, anything
/// else is a SQLite path (created if missing).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}

fn map_unique(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Database(e),
    }
}

//! PostgreSQL, for several app servers sharing one database.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Postgres;
use std::time::Duration;

pub struct PostgresStore {
    pool: PgPool,
}

/// Arbitrary, fixed key of the advisory lock that serialises appends to the audit chain.
const AUDIT_CHAIN_LOCK: i64 = 0x0063_6f75_6e74_6572;

impl PostgresStore {
    const BACKEND: &'static str = "postgres";
    const MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

    pub async fn connect(url: &str) -> Result<Self, crate::store::StoreError> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        Ok(PostgresStore { pool })
    }

    /// Every write appends to the audit chain, whose next link depends on the last one: a transaction-scoped
    /// advisory lock makes writers take turns, across every app server.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_CHAIN_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }
}

sql_store!(PostgresStore, Postgres);
sql_agents!(PostgresStore, Postgres);
sql_held_actions!(PostgresStore, Postgres);

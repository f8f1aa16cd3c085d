//! PostgreSQL, for several app servers sharing one database.

use crate::delivery::{live, Change};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::Postgres;
use std::time::Duration;
use tokio::sync::broadcast;

pub struct PostgresStore {
    pool: PgPool,
}

/// Arbitrary, fixed key of the advisory lock that serialises appends to the audit chain.
const AUDIT_CHAIN_LOCK: i64 = 0x0063_6f75_6e74_6572;
/// Rows an invariant is re-checked on inside a write transaction are locked until it commits.
const ROW_LOCK: &str = " FOR UPDATE";

impl PostgresStore {
    const BACKEND: &'static str = "postgres";
    const PENDING_BY_DEADLINE: &'static str = "held_actions";
    const ANALYZE: &'static str = "ANALYZE";
    const MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");
    /// Words of the free text, against the generated `search` column and its GIN index.
    const TEXT_MATCH: &'static str = "search @@ plainto_tsquery('english', ";
    const AMOUNT_NUMBER: &'static str = "CAST(amount_value AS DOUBLE PRECISION)";
    /// Rows come off the socket, many at a time.
    const ROWS_FROM_A_THREAD: bool = false;

    /// PostgreSQL's planner picks the index itself.
    async fn history_source(&self, _: &crate::domain::history::Filter) -> sqlx::Result<&'static str> {
        Ok("held_actions")
    }

    /// `plainto_tsquery` reads plain words (every one must occur) and no operators.
    fn text_query(words: &[String]) -> String {
        words.join(" ")
    }

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

    /// A PostgreSQL commit is on disk when it returns.
    async fn begin_unsettled(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.begin_write().await
    }

    async fn settle_log(&self) -> crate::store::Result<()> {
        Ok(())
    }

    /// Sent when the transaction commits, to every app server listening (this one included).
    async fn notify_in(tx: &mut sqlx::Transaction<'static, Postgres>, changes: &[Change]) -> sqlx::Result<()> {
        for payload in live::payloads(changes) {
            sqlx::query("SELECT pg_notify($1, $2)").bind(live::CHANNEL).bind(payload).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Listens on its own connection and rebroadcasts; `PgListener` reconnects by itself when the
    /// connection drops (changes sent meanwhile are lost, which consoles and long-polls recover from by
    /// reading again).
    async fn listen_for_changes(&self, into: broadcast::Sender<Change>) -> crate::store::Result<bool> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(live::CHANNEL).await?;
        // Holds the channel weakly, so the listener ends (and frees its connection) with the service.
        let into = into.downgrade();
        tokio::spawn(async move {
            let mut check = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    note = listener.recv() => match (note, into.upgrade()) {
                        (_, None) => break,
                        (Ok(note), Some(into)) => live::parse_payload(note.payload()).into_iter().for_each(|c| {
                            let _ = into.send(c);
                        }),
                        (Err(e), Some(_)) => {
                            tracing::warn!(error = %e, "lost the change listener; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                    _ = check.tick() => if into.upgrade().is_none() { break },
                }
            }
        });
        Ok(true)
    }
}

sql_store!(PostgresStore, Postgres);
sql_insights!(PostgresStore, Postgres);
sql_agents!(PostgresStore, Postgres);
sql_workload!(PostgresStore, Postgres);
sql_held_actions!(PostgresStore, Postgres);
sql_reviews!(PostgresStore, Postgres);
sql_apply!(PostgresStore, Postgres);
sql_lifecycle!(PostgresStore, Postgres);
sql_people!(PostgresStore, Postgres);
sql_history!(PostgresStore, Postgres);
sql_provenance!(PostgresStore, Postgres);

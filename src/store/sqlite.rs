//! The embedded default: one file, WAL, `synchronous=FULL` so an acknowledged change survives a power cut.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;
use std::str::FromStr;
use std::time::Duration;

/// The writer's prepared statements. The group commit's three statements differ by their row count; keeping one
/// of each for every batch size held ~10 MB under load (peak RSS 100–104 MB against 90–97 MB with 24) and bought
/// no measurable speed: preparing a batch's statement costs far less than committing it.
const WRITER_STATEMENTS: usize = 24;

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection that writes. SQLite has one writer anyway; keeping it to one connection keeps its
    /// page cache warm (a connection drops its cache when it finds another one wrote since) and makes writers
    /// queue in order here rather than poll for the lock in SQLite's busy handler.
    writer: SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Sampled, so it takes a moment even on gigabytes.
    /// With statistics, SQLite's planner prefers a tenant index and sorts every pending row of the tenant;
    /// the queue must walk the pending index in deadline order instead.
    const PENDING_BY_DEADLINE: &'static str = "held_actions INDEXED BY held_actions_pending";
    const ANALYZE: &'static str = "PRAGMA analysis_limit = 1000; ANALYZE;";
    const MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
    /// Words of the free text, against the contentless FTS5 index kept by the intake trigger.
    const TEXT_MATCH: &'static str = "rowid IN (SELECT rowid FROM held_actions_text WHERE held_actions_text MATCH ";
    const AMOUNT_NUMBER: &'static str = "CAST(amount_value AS REAL)";
    /// Rows come from the driver's own thread, one message each: read large pages in batches (`bulk`).
    const ROWS_FROM_A_THREAD: bool = true;

    /// The index a history page walks. With statistics, SQLite's planner prefers a tenant-first index and sorts
    /// every row of the tenants (seconds at a million rows); newest-first must walk an index in that order,
    /// the most selective one the filter allows. Free text: the few rows of a rare word are fetched and
    /// sorted; a common word's rows are met walking newest-first (counting stops at the threshold, in a ms).
    async fn history_source(&self, filter: &crate::domain::history::Filter) -> sqlx::Result<&'static str> {
        const COMMON: i64 = 20_000;
        if !filter.words.is_empty() {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT rowid FROM held_actions_text WHERE held_actions_text MATCH $1 LIMIT $2)",
            )
            .bind(Self::text_query(&filter.words))
            .bind(COMMON)
            .fetch_one(&self.pool)
            .await?;
            if n < COMMON {
                return Ok("held_actions");
            }
        }
        Ok(if filter.agent.is_some() {
            "held_actions INDEXED BY held_actions_agent_history"
        } else if filter.customer.is_some() {
            "held_actions INDEXED BY held_actions_by_customer"
        } else if filter.case.is_some() {
            "held_actions INDEXED BY held_actions_by_case"
        } else if filter.outcome.is_some() {
            "held_actions INDEXED BY held_actions_by_status"
        } else {
            "held_actions INDEXED BY held_actions_history"
        })
    }

    /// Every word must occur; each is quoted, so nothing in it is FTS5 syntax.
    fn text_query(words: &[String]) -> String {
        words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")
    }

    pub async fn connect(url: &str, synchronous: &str) -> Result<Self, crate::store::StoreError> {
        let synchronous = match synchronous {
            "full" => SqliteSynchronous::Full,
            "normal" => SqliteSynchronous::Normal,
            other => {
                let why = format!("sqlite_synchronous must be full or normal, not {other:?}");
                return Err(crate::store::StoreError::Corrupt(why));
            }
        };
        super::sqlite_malloc::install();
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // A file connection does not go stale as a network one can: no round trip to check it on each acquire.
        // A whole export page fits the channel rows come through (see `bulk`).
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone().row_buffer_size(crate::service::EXPORT_PAGE as usize))
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.statement_cache_capacity(WRITER_STATEMENTS))
            .await?;
        Ok(SqliteStore { pool, writer })
    }

    /// SQLite has one writer; `BEGIN IMMEDIATE` takes the lock up front, so a transaction never fails
    /// half-way on upgrading a read lock, and audit appends are serialised.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// One process owns the file: the service publishes changes itself.
    async fn notify_in(_: &mut sqlx::Transaction<'static, Sqlite>, _: &[crate::delivery::Change]) -> sqlx::Result<()> {
        Ok(())
    }

    async fn listen_for_changes(
        &self,
        _: tokio::sync::broadcast::Sender<crate::delivery::Change>,
    ) -> crate::store::Result<bool> {
        Ok(false)
    }
}

sql_store!(SqliteStore, Sqlite);
sql_insights!(SqliteStore, Sqlite);
sql_agents!(SqliteStore, Sqlite);
sql_workload!(SqliteStore, Sqlite);
sql_held_actions!(SqliteStore, Sqlite);
sql_reviews!(SqliteStore, Sqlite);
sql_apply!(SqliteStore, Sqlite);
sql_lifecycle!(SqliteStore, Sqlite);
sql_people!(SqliteStore, Sqlite);
sql_history!(SqliteStore, Sqlite);

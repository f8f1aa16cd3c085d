//! The embedded default: one file, WAL, `synchronous=FULL` so an acknowledged change survives a power cut.

use super::sqlite_checkpoints::{one_connection, Checkpoints, AUTOCHECKPOINT};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The writer's prepared statements. The group commit's three statements differ by their row count; keeping one
/// of each for every batch size held ~10 MB under load (peak RSS 100–104 MB against 90–97 MB with 24) and bought
/// no measurable speed: preparing a batch's statement costs far less than committing it.
const WRITER_STATEMENTS: usize = 24;
/// SQLite has one writer at a time (`begin_write`), so rows read in a write transaction need no lock.
const ROW_LOCK: &str = "";

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection that writes. SQLite has one writer anyway; keeping it to one connection keeps its
    /// page cache warm (a connection drops its cache when it finds another one wrote since) and makes writers
    /// queue in order here rather than poll for the lock in SQLite's busy handler.
    writer: SqlitePool,
    /// The write-ahead log, which `settle` flushes for commits made without flushing it (`None` when
    /// `sqlite_synchronous = normal` was chosen, or in memory: nothing is flushed then).
    log: Option<PathBuf>,
    /// Whether the writer connection may be set to commit without flushing the log (see `begin_unsettled`).
    unsettled: AtomicBool,
    /// A flush of the log failed. Linux then marks the pages that failed as written, so a later flush would
    /// succeed without them: no more writes until the server restarts, as PostgreSQL does on a failed fsync.
    flush_failed: Arc<AtomicBool>,
    /// Copies the log back into the file beside the writer (none in memory).
    checkpoints: Option<Checkpoints>,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Sampled, so it takes a moment even on gigabytes.
    /// SQLite's planner prefers an index with `status` or the tenant first and sorts every pending row; the
    /// queue and the expiry pass must walk the pending index in deadline order instead.
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
        let (synchronous, flushed) = match synchronous {
            "full" => (SqliteSynchronous::Full, true),
            "normal" => (SqliteSynchronous::Normal, false),
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
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", AUTOCHECKPOINT.to_string());
        // A file connection does not go stale as a network one can: no round trip to check it on each acquire.
        // A whole export page fits the channel rows come through (see `bulk`).
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone().row_buffer_size(crate::service::EXPORT_PAGE as usize))
            .await?;
        // A group commit's INSERT may abort (foreign keys, the full-text trigger), so SQLite keeps a statement
        // journal of every page it changes: past 64 KB that went to a temporary file in every commit.
        let writer_options = options.clone().statement_cache_capacity(WRITER_STATEMENTS).pragma("temp_store", "MEMORY");
        // Never closed: while it is open the log stays where `log` says.
        let writer = one_connection().connect_with(writer_options).await?;
        // The file as SQLite named it (a `file:` URI resolved, symbolic links followed): its log is beside it.
        let (file,): (String,) =
            sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(&writer).await?;
        let log = (flushed && !file.is_empty()).then(|| PathBuf::from(format!("{file}-wal")));
        let (unsettled, flush_failed) = (AtomicBool::new(false), Arc::new(AtomicBool::new(false)));
        let checkpoints =
            if file.is_empty() { None } else { Some(Checkpoints::start(options, flush_failed.clone()).await?) };
        Ok(SqliteStore { pool, writer, log, unsettled, flush_failed, checkpoints })
    }

    /// SQLite has one writer; `BEGIN IMMEDIATE` takes the lock up front, so a transaction never fails
    /// half-way on upgrading a read lock, and audit appends are serialised.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_flushing(true).await
    }

    /// A write whose commit leaves flushing the log to `settle`, so that the next transaction can write
    /// while the disk takes this one's (the `fsync` was a fifth to a third of a group commit).
    /// The order of the log keeps this sound: a commit acknowledged after a later flush is on disk, and so
    /// is everything before it, which a flushed commit may have read.
    async fn begin_unsettled(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_flushing(self.log.is_none()).await
    }

    /// `PRAGMA synchronous` cannot change inside a transaction, so it is set before one, and only when it
    /// differs: under load, batch follows batch with no change at all. The flag errs towards flushing: it says
    /// "may not flush" before NORMAL is sent and "flushes" only once FULL is in place, so a call dropped
    /// half-way leaves at worst a needless `PRAGMA`.
    async fn begin_flushing(&self, flush: bool) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        if self.flush_failed.load(Ordering::Acquire) {
            return Err(sqlx::Error::Io(std::io::Error::other(
                "a flush of the database log failed; restart the server to write again",
            )));
        }
        let mut conn = self.writer.acquire().await?;
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.before_write(&mut conn).await?;
        }
        if self.log.is_some() && self.unsettled.load(Ordering::Acquire) == flush {
            if flush {
                sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                self.unsettled.store(false, Ordering::Release);
            } else {
                self.unsettled.store(true, Ordering::Release);
                sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
            }
        }
        // What `Pool::begin_with` does, on the connection just set.
        sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into())).await
    }

    /// Flushes the log: every commit made before this call is then on disk. The writer keeps the log open, so
    /// a log that cannot be opened is an error like any other.
    async fn settle_log(&self) -> crate::store::Result<()> {
        let Some(log) = self.log.clone() else { return Ok(()) };
        let flushed = tokio::task::spawn_blocking(move || std::fs::File::open(&log)?.sync_data())
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if flushed.is_err() {
            self.flush_failed.store(true, Ordering::Release);
        }
        Ok(flushed.map_err(sqlx::Error::Io)?)
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
sql_provenance!(SqliteStore, Sqlite);

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("countersign-settle-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    }

    async fn synchronous(tx: &mut sqlx::Transaction<'static, Sqlite>) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut **tx).await.expect("PRAGMA synchronous")
    }

    /// The group commit leaves flushing the log to `settle`; every other write flushes as configured, whatever
    /// the order they come in (1 is NORMAL, 2 FULL).
    #[tokio::test]
    async fn only_the_group_commit_leaves_the_flush_to_settle() {
        let dir = temporary_dir();
        for (configured, unsettled, flushed) in [("full", 1, 2), ("normal", 1, 1)] {
            let url = format!("sqlite://{}", dir.join(format!("{configured}.db")).display());
            let store = SqliteStore::connect(&url, configured).await.expect("open");
            for group_commit in [true, true, false, true, false, false, true] {
                let mut tx = if group_commit { store.begin_unsettled().await } else { store.begin_write().await }
                    .expect("begin");
                let expected = if group_commit { unsettled } else { flushed };
                assert_eq!(synchronous(&mut tx).await, expected, "{configured}, group commit: {group_commit}");
                tx.commit().await.expect("commit");
                store.settle_log().await.expect("settle");
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The writer keeps statement journals in memory (2); readers, which sort in temporary storage, keep the
    /// default (0, a file).
    #[tokio::test]
    async fn only_the_writer_keeps_statement_journals_in_memory() {
        let dir = temporary_dir();
        let store =
            SqliteStore::connect(&format!("sqlite://{}", dir.join("t.db").display()), "full").await.expect("open");
        let mut tx = store.begin_unsettled().await.expect("begin");
        let writer: i64 = sqlx::query_scalar("PRAGMA temp_store").fetch_one(&mut *tx).await.expect("writer");
        tx.commit().await.expect("commit");
        let reader: i64 = sqlx::query_scalar("PRAGMA temp_store").fetch_one(&store.pool).await.expect("reader");
        assert_eq!((writer, reader), (2, 0));
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Writes about `pages` pages of log in one transaction of the writer.
    async fn write_pages(store: &SqliteStore, pages: usize) {
        let mut tx = store.begin_write().await.expect("begin");
        sqlx::query("CREATE TABLE IF NOT EXISTS t (b BLOB)").execute(&mut *tx).await.expect("table");
        let bytes = (pages * 4_000) as i64;
        sqlx::query("INSERT INTO t VALUES (zeroblob($1))").bind(bytes).execute(&mut *tx).await.expect("row");
        tx.commit().await.expect("commit");
    }

    /// The log reaches the file from a connection of its own, while the writer, far below its own
    /// threshold, copies nothing.
    #[tokio::test]
    async fn the_log_is_copied_beside_the_writer() {
        let dir = temporary_dir();
        let file = dir.join("c.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", file.display()), "full").await.expect("open");
        let before = std::fs::metadata(&file).expect("file").len();
        write_pages(&store, 500).await;
        // The next write tells the copier that the one before it committed.
        write_pages(&store, 1).await;
        let mut copied = false;
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            copied = std::fs::metadata(&file).expect("file").len() >= before + 500 * 4_000;
            if copied {
                break;
            }
        }
        assert!(copied, "the log's pages reached the file");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The log starts over while the writer writes, though SQLite's own checkpoints would wait for 32,000 pages.
    /// (Under steady load the writer finishes the copy at 16,000; `bench intake` shows the log staying there.)
    #[tokio::test]
    async fn the_log_starts_over_while_the_writer_writes() {
        let dir = temporary_dir();
        let url = format!("sqlite://{}", dir.join("c.db").display());
        let store = SqliteStore::connect(&url, "full").await.expect("open");
        for _ in 0..25 {
            write_pages(&store, 200).await;
        }
        let other = SqlitePoolOptions::new().max_connections(1).connect(&url).await.expect("open");
        let mut pages = -1;
        // Each small write starts the log over if the copier has copied all of it by then.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            write_pages(&store, 1).await;
            let (busy, log, _): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&other).await.expect("checkpoint");
            pages = log;
            if busy == 0 && (0..1_000).contains(&log) {
                break;
            }
        }
        assert!((0..1_000).contains(&pages), "the log holds {pages} pages");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// After a failed flush no write is taken: a later flush could succeed without the pages that failed.
    #[tokio::test]
    async fn a_failed_flush_stops_every_write() {
        let dir = temporary_dir();
        let store =
            SqliteStore::connect(&format!("sqlite://{}", dir.join("s.db").display()), "full").await.expect("open");
        let tx = store.begin_unsettled().await.expect("begin");
        tx.commit().await.expect("commit");
        store.settle_log().await.expect("settle");
        // The log gone from under the writer stands for a disk that refuses the flush.
        std::fs::remove_file(dir.join("s.db-wal")).expect("the log exists beside the file");
        assert!(store.settle_log().await.is_err());
        assert!(store.begin_write().await.is_err(), "no write after a failed flush");
        assert!(store.begin_unsettled().await.is_err(), "nor a group commit");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The expiry pass runs every second: it must start at the earliest deadline. Left to itself, SQLite takes
    /// `status = 'pending'` from `held_actions_by_status`, then reads and sorts every pending action.
    #[tokio::test]
    async fn the_expiry_pass_walks_the_deadline_index() {
        let store = SqliteStore::connect("sqlite::memory:", "full").await.expect("open");
        SqliteStore::MIGRATOR.run(&store.writer).await.expect("migrate");
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", overdue_sql()))
            .bind(time::OffsetDateTime::now_utc())
            .bind(100)
            .fetch_all(&store.writer)
            .await
            .expect("plan");
        let steps: Vec<&str> = plan.iter().map(|(.., step)| step.as_str()).collect();
        assert_eq!(steps, ["SEARCH held_actions USING INDEX held_actions_pending (expires_at<?)"]);
    }
}

//! Checkpoints beside the writer. Left to itself, SQLite copies the write-ahead log back into the database
//! file inside whichever commit takes the log past 1,000 pages: that commit's batch waits for the copy and
//! for an `fsync` of the database file, and under intake load that was one group commit in seven. A
//! connection of its own copies the log instead, every few milliseconds, while the writer goes on.
//!
//! The log only starts over when the writer begins a transaction with every page of it copied. Under
//! steady load the copy never quite catches up, so once the log passes `LOG_CAP` pages the writer copies
//! the little that is left itself, and the log then starts over with its next transaction.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqliteConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Pages of log (4 KB each, so 64 MB) past which the writer finishes the copy itself. Each time costs the
/// writer a few milliseconds; at 4,000 pages that came six times a second under the intake bench, and intake
/// was 2–8% slower (three alternated pairs).
const LOG_CAP: i64 = 16_000;
/// What the writer's own automatic checkpoint is left at: it acts only if the copier stalls.
pub(super) const WRITER_AUTOCHECKPOINT: i64 = 2 * LOG_CAP;
const EVERY: Duration = Duration::from_millis(20);
/// Passes made after the last write began, so that its pages are copied too; then the copier rests.
const PASSES_AFTER_WRITE: u32 = 50;

pub(super) struct Checkpoints {
    /// Set once the log has passed `LOG_CAP` pages; taken by the writer's next transaction.
    due: Arc<AtomicBool>,
    /// Counts the writer's transactions, so that an idle database costs no passes.
    writes: Arc<AtomicU64>,
    copier: tokio::task::AbortHandle,
}

impl Checkpoints {
    /// Starts copying the log of the database `options` open, on a connection of its own.
    pub async fn start(options: SqliteConnectOptions) -> sqlx::Result<Checkpoints> {
        let connection = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        let (due, writes) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (flag, written) = (due.clone(), writes.clone());
        let copier = tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut seen, mut quiet) = (0, PASSES_AFTER_WRITE);
            loop {
                every.tick().await;
                let now = written.load(Ordering::Acquire);
                quiet = if now == seen { quiet.saturating_add(1) } else { 0 };
                seen = now;
                if quiet > PASSES_AFTER_WRITE {
                    continue;
                }
                match passive(&connection).await {
                    Ok(pages) => flag.store(pages >= LOG_CAP, Ordering::Release),
                    Err(e) => tracing::warn!(error = %e, "a checkpoint of the SQLite log failed"),
                }
            }
        })
        .abort_handle();
        Ok(Checkpoints { due, writes, copier })
    }

    /// Before each of the writer's transactions: when the log is long, copies what is left of it, so that
    /// the transaction starts the log over. A copy already under way makes this one a no-op.
    pub async fn before_write(&self, writer: &mut SqliteConnection) {
        self.writes.fetch_add(1, Ordering::Release);
        if self.due.swap(false, Ordering::AcqRel) {
            if let Err(e) = passive(&mut *writer).await {
                tracing::warn!(error = %e, "a checkpoint of the SQLite log failed");
            }
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.copier.abort();
    }
}

/// Copies what it can of the log without waiting for anyone; returns the pages in the log.
async fn passive<'c, E: sqlx::SqliteExecutor<'c>>(on: E) -> sqlx::Result<i64> {
    let (_busy, pages, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(on).await?;
    Ok(pages)
}

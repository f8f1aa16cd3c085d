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
use tokio::sync::Notify;

/// Pages of log (4 KB each, so 64 MB) past which the writer finishes the copy itself. Each time costs the
/// writer a few milliseconds; at 4,000 pages that came six times a second under the intake bench, and intake
/// was 2–8% slower (three alternated pairs).
const LOG_CAP: i64 = 16_000;
/// Every connection's own automatic checkpoint: it acts only if the copier stalls.
pub(super) const AUTOCHECKPOINT: i64 = 2 * LOG_CAP;
const EVERY: Duration = Duration::from_millis(20);
/// Passes made after the last write began (for its commit); then, once everything is copied, the copier waits
/// for the next write. The writer is one connection, so a transaction begun means the one before it committed:
/// on a quiet server, the last commit is copied when the next write comes (the outbox writes every second).
const PASSES_AFTER_WRITE: u32 = 2;

/// A pool of one connection that stays open: the writer, the copier.
pub(super) fn one_connection() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
}

/// The writer's transactions, counted, and the copier woken from its rest by the next one.
#[derive(Default)]
struct Writes {
    begun: AtomicU64,
    wake: Notify,
}

pub(super) struct Checkpoints {
    /// Set once the log has passed `LOG_CAP` pages; taken by the writer's next transaction.
    due: Arc<AtomicBool>,
    /// Counts the writer's transactions, and wakes the copier from its rest.
    writes: Arc<Writes>,
    /// The store's: a checkpoint begins with an `fsync` of the log, and once Linux has reported a failed one
    /// to this connection it tells no later one, so `settle` would go on answering commits as on disk.
    flush_failed: Arc<AtomicBool>,
    copier: tokio::task::AbortHandle,
}

impl Checkpoints {
    /// Starts copying the log of the database `options` open, on a connection of its own.
    pub async fn start(options: SqliteConnectOptions, flush_failed: Arc<AtomicBool>) -> sqlx::Result<Checkpoints> {
        let connection = one_connection().connect_with(options).await?;
        let (due, writes) = (Arc::new(AtomicBool::new(false)), Arc::new(Writes::default()));
        let (flag, written, failed) = (due.clone(), writes.clone(), flush_failed.clone());
        let copier = tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut seen, mut quiet, mut caught_up) = (0, 0u32, true);
            loop {
                every.tick().await;
                let now = written.begun.load(Ordering::Acquire);
                quiet = if now == seen { quiet.saturating_add(1) } else { 0 };
                seen = now;
                if quiet > PASSES_AFTER_WRITE && caught_up {
                    written.wake.notified().await;
                    continue;
                }
                match passive(&connection).await {
                    Ok((pages, copied)) => {
                        caught_up = copied >= pages;
                        flag.store(pages >= LOG_CAP, Ordering::Release);
                    }
                    Err(e) if failed_flush(&e) => {
                        failed.store(true, Ordering::Release);
                        tracing::error!(error = %e, "a checkpoint of the SQLite log failed; no more writes");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "a checkpoint of the SQLite log failed"),
                }
            }
        })
        .abort_handle();
        Ok(Checkpoints { due, writes, flush_failed, copier })
    }

    /// Before each of the writer's transactions: when the log is long, copies what is left of it, so that
    /// the transaction starts the log over. A copy already under way makes this one a no-op.
    pub async fn before_write(&self, writer: &mut SqliteConnection) -> sqlx::Result<()> {
        self.writes.begun.fetch_add(1, Ordering::Release);
        self.writes.wake.notify_one();
        if self.due.swap(false, Ordering::AcqRel) {
            if let Err(e) = passive(&mut *writer).await {
                if failed_flush(&e) {
                    self.flush_failed.store(true, Ordering::Release);
                    return Err(e);
                }
                tracing::warn!(error = %e, "a checkpoint of the SQLite log failed");
            }
        }
        Ok(())
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.copier.abort();
    }
}

/// Copies what it can of the log without waiting for anyone; returns the pages in the log and those copied
/// (both -1 when another copy was under way).
async fn passive<'c, E: sqlx::SqliteExecutor<'c>>(on: E) -> sqlx::Result<(i64, i64)> {
    let (_busy, pages, copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(on).await?;
    Ok((pages, copied))
}

/// An I/O error (`SQLITE_IOERR` and its extended codes): a write or an `fsync` may have failed.
fn failed_flush(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 10),
        _ => false,
    }
}

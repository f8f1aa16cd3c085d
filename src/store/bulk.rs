//! Reading a large page without a wake-up per row. sqlx's SQLite driver steps the statement on a thread of
//! its own and hands each row over a channel; a reader that waits on that channel is woken, and its thread
//! switched in, once per row, which cost an export about a third of its CPU (`perf`, 2026-12-06). Here the
//! reader takes every row that is ready at once, and when few were, pauses a moment instead of waiting on
//! the channel, so the driver fills it undisturbed (the read pool's channel holds a whole page).

use futures_util::{Stream, StreamExt};
use std::time::Duration;

/// Pages at least this long are read in batches; shorter ones (a console page) as they come.
pub const BULK: usize = 500;

/// Below this many rows ready at once, the reader pauses before looking again.
const FEW: usize = 64;

const PAUSE: Duration = Duration::from_millis(1);

/// `pause`: whether to pause for rows at all (the driver hands them over from a thread of its own).
pub async fn collect<T, E>(rows: impl Stream<Item = Result<T, E>>, expected: usize, pause: bool) -> Result<Vec<T>, E> {
    let mut out = Vec::with_capacity(expected);
    let mut ready = std::pin::pin!(rows.ready_chunks(expected.max(1)));
    while let Some(batch) = ready.next().await {
        let few = batch.len() < FEW;
        for row in batch {
            out.push(row?);
        }
        // A full page has no more rows to wait for: the next query can go at once.
        if pause && few && expected >= BULK && out.len() < expected {
            tokio::time::sleep(PAUSE).await;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> impl Stream<Item = Result<usize, String>> {
        futures_util::stream::iter((0..n).map(Ok))
    }

    #[tokio::test]
    async fn every_row_in_order_with_or_without_pauses() {
        for pause in [false, true] {
            assert_eq!(collect(rows(1_500), 1_000, pause).await, Ok((0..1_500).collect::<Vec<_>>()));
        }
    }

    #[tokio::test]
    async fn the_first_failure_ends_the_read() {
        let failing = futures_util::stream::iter([Ok(1), Err("gone".to_string()), Ok(3)]);
        assert_eq!(collect(failing, 1_000, true).await, Err("gone".to_string()));
    }
}

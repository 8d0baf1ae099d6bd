//! Streaming rows: a blocking task steps the statement and sends decoded rows, a batch at
//! a time, through a bounded channel, so memory stays flat (a few batches in flight) and
//! the hand-off between threads is paid per batch, not per row. Dropping the stream stops
//! it, and the statement is reset before the connection is used again.

use std::future::Future;

use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

/// Rows per message.
const BATCH_ROWS: usize = 256;
/// Messages the channel holds before the stepping thread waits for the consumer.
const BUFFERED_BATCHES: usize = 2;

type Batch<T> = Vec<Result<T>>;

/// Where a streaming task sends its rows, from a blocking thread.
pub(crate) struct RowSink<T> {
    tx: mpsc::Sender<Batch<T>>,
    batch: Batch<T>,
}

impl<T> RowSink<T> {
    /// Adds one row, sending the batch (and waiting for room) when it is full; `false`
    /// once the stream was dropped.
    pub(crate) fn send(&mut self, row: Result<T>) -> bool {
        self.batch.push(row);
        if self.batch.len() < BATCH_ROWS {
            return !self.tx.is_closed();
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        self.tx.blocking_send(batch).is_ok()
    }

    /// Sends the last rows, then the error that ended the statement, if any.
    pub(crate) fn finish(mut self, outcome: Result<()>) -> Result<()> {
        if let Err(e) = outcome {
            self.batch.push(Err(e));
        }
        if !self.batch.is_empty() {
            let _ = self.tx.blocking_send(self.batch);
        }
        Ok(())
    }
}

/// Spawns the task `make` builds, which sends every row to the sink it gets and then
/// calls [`RowSink::finish`]; returns the receiving end. An error the task returns before
/// that ends the stream.
pub(crate) fn spawn_stream<'a, T, F, Fut>(make: F) -> RowStream<'a, T>
where
    T: FromRow + Send + 'static,
    F: FnOnce(RowSink<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Batch<T>>(BUFFERED_BATCHES);
    let task = make(RowSink {
        tx: tx.clone(),
        batch: Vec::with_capacity(BATCH_ROWS),
    });
    tokio::spawn(async move {
        if let Err(e) = task.await {
            let _ = tx.send(vec![Err(e)]).await;
        }
    });
    let batches = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|batch| (batch, rx))
    });
    Box::pin(futures_util::StreamExt::flat_map(
        batches,
        futures_util::stream::iter,
    ))
}

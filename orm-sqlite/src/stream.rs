//! Streaming rows: a blocking task steps the statement and sends decoded rows in batches
//! ([`orm_core::batch`]), so memory stays flat and the hand-off between threads is paid
//! per batch. Dropping the stream stops it, and the statement is reset before the
//! connection is used again.

use std::future::Future;

use orm_core::batch::{self, Batch, Batcher};
use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

/// Where a streaming task sends its rows, from a blocking thread.
pub(crate) struct RowSink<T> {
    tx: mpsc::Sender<Batch<T>>,
    batcher: Batcher<T>,
}

impl<T> RowSink<T> {
    /// Adds one row, sending the batch (and waiting for room) when it is full; `false`
    /// once the stream was dropped.
    pub(crate) fn send(&mut self, row: Result<T>) -> bool {
        match self.batcher.push(row) {
            Some(batch) => self.tx.blocking_send(batch).is_ok(),
            None => !self.tx.is_closed(),
        }
    }

    /// Sends the last rows, then the error that ended the statement, if any.
    pub(crate) fn finish(self, outcome: Result<()>) {
        if let Some(batch) = self.batcher.finish(outcome) {
            let _ = self.tx.blocking_send(batch);
        }
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
    batch::spawn(|tx| {
        make(RowSink {
            tx,
            batcher: Batcher::default(),
        })
    })
}

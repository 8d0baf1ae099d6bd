//! Streaming rows: a task reads the result and sends decoded rows in batches
//! ([`orm_core::batch`]), so memory stays flat and the hand-off between the tasks is paid
//! per batch. When the receiver is dropped half-way, the task stops decoding, reads the
//! rest of the result and leaves the connection clean.

use std::future::Future;

use orm_core::batch::{self, Batch, Batcher};
use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

/// Where a streaming task sends its rows.
pub(crate) struct RowSender<T> {
    tx: mpsc::Sender<Batch<T>>,
    batcher: Batcher<T>,
}

impl<T: Send + 'static> RowSender<T> {
    /// Adds one row; the returned future sends the batch when it is full. It yields
    /// `false` once the stream was dropped.
    pub(crate) fn push(&mut self, row: Result<T>) -> impl Future<Output = Result<bool>> + 'static {
        let send = self.batcher.push(row).map(|batch| (self.tx.clone(), batch));
        let open = !self.tx.is_closed();
        async move {
            match send {
                Some((tx, batch)) => Ok(tx.send(batch).await.is_ok()),
                None => Ok(open),
            }
        }
    }

    /// Sends the last rows, then the error that ended the statement, if any.
    pub(crate) async fn finish(self, outcome: Result<()>) {
        if let Some(batch) = self.batcher.finish(outcome) {
            let _ = self.tx.send(batch).await;
        }
    }
}

/// Spawns `run`, which pushes every decoded row to the [`RowSender`] it is given and then
/// calls [`RowSender::finish`]; returns the receiving end as a stream. An error `run`
/// returns before that ends the stream.
pub(crate) fn spawn_stream<'a, T, F, Fut>(run: F) -> RowStream<'a, T>
where
    T: FromRow + Send + 'static,
    F: FnOnce(RowSender<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    batch::spawn(|tx| {
        run(RowSender {
            tx,
            batcher: Batcher::default(),
        })
    })
}

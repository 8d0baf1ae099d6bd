//! Streaming rows: a task reads the result and sends decoded rows, a batch at a time,
//! through a bounded channel, so memory stays flat (at most a few batches are in flight)
//! and the hand-off between the tasks is paid once per batch, not once per row. When the
//! receiver is dropped half-way, the task stops decoding, reads the rest of the result and
//! leaves the connection clean.

use std::future::Future;

use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

/// Rows per message.
const BATCH_ROWS: usize = 256;
/// Messages the channel holds before the reading task waits for the consumer.
const BUFFERED_BATCHES: usize = 2;

type Batch<T> = Vec<Result<T>>;

/// Where a streaming task sends its rows.
pub(crate) struct RowSender<T> {
    tx: mpsc::Sender<Batch<T>>,
    batch: Batch<T>,
}

impl<T: Send + 'static> RowSender<T> {
    /// Adds one row to the batch; the returned future sends the batch when it is full.
    /// It yields `false` once the stream was dropped.
    pub(crate) fn push(&mut self, row: Result<T>) -> impl Future<Output = Result<bool>> + 'static {
        self.batch.push(row);
        let full = (self.batch.len() >= BATCH_ROWS)
            .then(|| std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS)));
        let send = full.map(|batch| (self.tx.clone(), batch));
        let open = !self.tx.is_closed();
        async move {
            match send {
                Some((tx, batch)) => Ok(tx.send(batch).await.is_ok()),
                None => Ok(open),
            }
        }
    }

    /// Sends the last rows, then the error that ended the statement, if any.
    pub(crate) async fn finish(mut self, outcome: Result<()>) {
        if let Err(e) = outcome {
            self.batch.push(Err(e));
        }
        if !self.batch.is_empty() {
            let _ = self.tx.send(self.batch).await;
        }
    }
}

/// Spawns `run`, which pushes every decoded row to the [`RowSender`] it is given and then
/// calls [`RowSender::finish`], and returns the receiving end as a stream.
pub(crate) fn spawn_stream<'a, T, F, Fut>(run: F) -> RowStream<'a, T>
where
    T: FromRow + Send + 'static,
    F: FnOnce(RowSender<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Batch<T>>(BUFFERED_BATCHES);
    tokio::spawn(run(RowSender {
        tx,
        batch: Vec::with_capacity(BATCH_ROWS),
    }));
    let batches = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|batch| (batch, rx))
    });
    Box::pin(futures_util::StreamExt::flat_map(
        batches,
        futures_util::stream::iter,
    ))
}

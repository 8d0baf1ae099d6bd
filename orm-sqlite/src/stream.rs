//! Streaming rows: a blocking task steps the statement and sends decoded rows through a
//! bounded channel, so memory stays flat; dropping the stream stops it, and the statement
//! is reset before the connection is used again.

use std::future::Future;

use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

const BUFFERED_ROWS: usize = 64;

/// Where a streaming task sends its rows, from a blocking thread.
pub(crate) struct RowSink<T>(mpsc::Sender<Result<T>>);

impl<T> RowSink<T> {
    /// Sends one row, waiting for room; `false` once the stream was dropped.
    pub(crate) fn send(&self, row: Result<T>) -> bool {
        self.0.blocking_send(row).is_ok()
    }
}

/// Spawns the task `make` builds, which sends every row to the sink it gets; returns the
/// receiving end. An error the task returns ends the stream.
pub(crate) fn spawn_stream<'a, T, F, Fut>(make: F) -> RowStream<'a, T>
where
    T: FromRow + Send + 'static,
    F: FnOnce(RowSink<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<T>>(BUFFERED_ROWS);
    let task = make(RowSink(tx.clone()));
    tokio::spawn(async move {
        if let Err(e) = task.await {
            let _ = tx.send(Err(e)).await;
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

//! Streaming rows: a task reads the result and sends decoded rows through a bounded
//! channel, so memory stays flat. When the receiver is dropped half-way, the task stops
//! decoding, reads the rest of the result and leaves the connection clean.

use std::future::Future;

use orm_core::{FromRow, Result, RowStream};
use tokio::sync::mpsc;

const BUFFERED_ROWS: usize = 64;

/// Where a streaming task sends its rows.
pub(crate) struct RowSender<T>(mpsc::Sender<Result<T>>);

impl<T> RowSender<T> {
    /// Sends one row; `false` once the stream was dropped.
    pub(crate) fn send(&self, row: Result<T>) -> impl Future<Output = Result<bool>> + use<'_, T> {
        let sender = self.0.clone();
        async move { Ok(sender.send(row).await.is_ok()) }
    }
}

/// Spawns `run`, which sends every decoded row to the [`RowSender`] it is given, and
/// returns the receiving end as a stream. An error `run` returns ends the stream.
pub(crate) fn spawn_stream<'a, T, F, Fut>(run: F) -> RowStream<'a, T>
where
    T: FromRow + Send + 'static,
    F: FnOnce(RowSender<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<T>>(BUFFERED_ROWS);
    let task = run(RowSender(tx.clone()));
    tokio::spawn(async move {
        if let Err(e) = task.await {
            let _ = tx.send(Err(e)).await;
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

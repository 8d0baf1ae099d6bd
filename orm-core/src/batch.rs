//! Rows handed from the task (or thread) that reads a result to the stream a caller
//! polls, a batch at a time: the hand-off between them is paid once per batch, not once
//! per row, and at most a few batches are in flight, so memory stays flat. Used by the
//! backends whose driver cannot be polled as a stream directly (MySQL, SQLite).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::executor::RowStream;

/// Rows per batch.
pub const BATCH_ROWS: usize = 256;
/// Batches the channel holds before the reader waits for the consumer.
const BUFFERED_BATCHES: usize = 2;

/// Decoded rows (or the error that ended the result), in order.
pub type Batch<T> = Vec<Result<T>>;

/// Collects rows into batches on the reading side.
pub struct Batcher<T> {
    batch: Batch<T>,
}

impl<T> Default for Batcher<T> {
    fn default() -> Self {
        Batcher {
            batch: Vec::with_capacity(BATCH_ROWS),
        }
    }
}

impl<T> Batcher<T> {
    /// Adds one row; returns the batch to send once it is full.
    pub fn push(&mut self, row: Result<T>) -> Option<Batch<T>> {
        self.batch.push(row);
        (self.batch.len() >= BATCH_ROWS)
            .then(|| std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS)))
    }

    /// The rows not sent yet, then the error that ended the result, if any.
    pub fn finish(mut self, outcome: Result<()>) -> Option<Batch<T>> {
        if let Err(e) = outcome {
            self.batch.push(Err(e));
        }
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Spawns the reading task `read` builds from the sending end of a bounded channel, and
/// returns the receiving end as the stream of rows a caller polls. The task sends its rows
/// (ending with [`Batcher::finish`]); an error it returns instead is the stream's last item.
pub fn spawn<'a, T, F, Fut>(read: F) -> RowStream<'a, T>
where
    T: Send + 'static,
    F: FnOnce(mpsc::Sender<Batch<T>>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BUFFERED_BATCHES);
    let task = read(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = task.await {
            let _ = tx.send(vec![Err(e)]).await;
        }
    });
    Box::pin(Rows {
        rx,
        pending: Vec::new().into_iter(),
    })
}

struct Rows<T> {
    rx: mpsc::Receiver<Batch<T>>,
    pending: std::vec::IntoIter<Result<T>>,
}

// Nothing in `Rows` is pinned structurally: the rows are plain values.
impl<T> Unpin for Rows<T> {}

impl<T> Stream for Rows<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if let Some(row) = self.pending.next() {
                return Poll::Ready(Some(row));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(batch)) => self.pending = batch.into_iter(),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T> std::fmt::Debug for Batcher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{Batcher, BATCH_ROWS};
    use crate::Error;

    #[test]
    fn batches_fill_then_the_rest_and_the_error_follow() {
        let mut batcher = Batcher::default();
        let mut sent = Vec::new();
        for i in 0..BATCH_ROWS + 3 {
            if let Some(batch) = batcher.push(Ok(i)) {
                sent.push(batch.len());
            }
        }
        assert_eq!(sent, vec![BATCH_ROWS]);
        let last = batcher
            .finish(Err(Error::Query("cut".into())))
            .expect("rest");
        assert_eq!(last.len(), 4);
        assert!(matches!(last.last(), Some(Err(Error::Query(_)))));
        assert!(Batcher::<u8>::default().finish(Ok(())).is_none());
    }
}

//! Rows handed from the task (or thread) that reads a result to the stream a caller
//! polls, a batch at a time: the hand-off between them is paid once per batch, not once
//! per row, and at most a few batches are in flight, so memory stays flat. Used by the
//! drivers whose connection cannot be polled as a stream directly (MySQL, SQLite): the
//! reader gets a [`RowSender`], pushes every decoded row to it and then finishes it. When
//! the receiver is dropped half-way, pushing answers `false`: the reader stops decoding
//! and leaves the connection clean.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

use orm_core::{Result, RowStream};

/// Rows per batch.
pub const BATCH_ROWS: usize = 256;
/// Batches the channel holds before the reader waits for the consumer.
const BUFFERED_BATCHES: usize = 2;

/// Decoded rows (or the error that ended the result), in order.
type Batch<T> = Vec<Result<T>>;

/// Collects rows into batches on the reading side.
struct Batcher<T> {
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
    fn push(&mut self, row: Result<T>) -> Option<Batch<T>> {
        self.batch.push(row);
        (self.batch.len() >= BATCH_ROWS)
            .then(|| std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS)))
    }

    /// The rows not sent yet, then the error that ended the result, if any.
    fn finish(mut self, outcome: Result<()>) -> Option<Batch<T>> {
        if let Err(e) = outcome {
            self.batch.push(Err(e));
        }
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Where a reader sends its rows: from a task ([`push`](RowSender::push)) or from a
/// blocking thread ([`send_blocking`](RowSender::send_blocking)).
pub struct RowSender<T> {
    tx: mpsc::Sender<Batch<T>>,
    batcher: Batcher<T>,
}

impl<T: Send + 'static> RowSender<T> {
    /// Adds one row; the returned future sends the batch when it is full. It yields
    /// `false` once the stream was dropped.
    pub fn push(&mut self, row: Result<T>) -> impl Future<Output = Result<bool>> + 'static {
        let send = self.batcher.push(row).map(|batch| (self.tx.clone(), batch));
        let open = !self.tx.is_closed();
        async move {
            match send {
                Some((tx, batch)) => Ok(tx.send(batch).await.is_ok()),
                None => Ok(open),
            }
        }
    }

    /// Adds one row from a blocking thread, waiting for room when the batch is full;
    /// `false` once the stream was dropped.
    pub fn send_blocking(&mut self, row: Result<T>) -> bool {
        match self.batcher.push(row) {
            Some(batch) => self.tx.blocking_send(batch).is_ok(),
            None => !self.tx.is_closed(),
        }
    }

    /// Sends the last rows, then the error that ended the statement, if any.
    pub async fn finish(self, outcome: Result<()>) {
        if let Some(batch) = self.batcher.finish(outcome) {
            let _ = self.tx.send(batch).await;
        }
    }

    /// [`finish`](RowSender::finish) from a blocking thread.
    pub fn finish_blocking(self, outcome: Result<()>) {
        if let Some(batch) = self.batcher.finish(outcome) {
            let _ = self.tx.blocking_send(batch);
        }
    }
}

/// Spawns the reader `read` builds from a [`RowSender`], and returns the receiving end as
/// the stream of rows a caller polls. The reader pushes its rows and finishes the sender;
/// an error it returns instead is the stream's last item.
pub fn spawn<'a, T, F, Fut>(read: F) -> RowStream<'a, T>
where
    T: Send + 'static,
    F: FnOnce(RowSender<T>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BUFFERED_BATCHES);
    let task = read(RowSender {
        tx: tx.clone(),
        batcher: Batcher::default(),
    });
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

impl<T> std::fmt::Debug for RowSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowSender").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{Batcher, BATCH_ROWS};
    use orm_core::Error;

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

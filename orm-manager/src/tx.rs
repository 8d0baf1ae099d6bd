//! The state of one open transaction, shared by its guard, its Managers and the task's
//! scope: its connection, its savepoint counter, and the rollbacks queued by savepoints
//! dropped early.
//!
//! A transaction holds a connection taken with [`Database::acquire`]; the connection owns
//! its transaction state ([`Connection::begin`] marks it before BEGIN is sent, only an
//! answered COMMIT or ROLLBACK clears it). Whatever ends a scope early (an error, a panic,
//! a dropped future at any await point) leaves the connection in its transaction, and
//! such a connection is closed when dropped, so the server rolls the work back and nobody
//! else ever gets the connection half-way.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::TryStreamExt;
use orm_core::{
    Connection, Database, Dialect, Error, ExecResult, Executor, FromRow, Result, RowStream,
    Statement, TxOptions,
};

/// An open transaction: its connection, its savepoint counter, and the rollbacks queued
/// by savepoints dropped early.
pub struct TxShared<C> {
    conn: Arc<C>,
    db_id: usize,
    pub(crate) savepoints: AtomicUsize,
    /// Savepoints dropped early, oldest first: each owes a `ROLLBACK TO SAVEPOINT`.
    pending: Mutex<VecDeque<String>>,
    pub(crate) finished: AtomicBool,
    /// A savepoint's work could not be undone: the transaction may only roll back.
    poisoned: AtomicBool,
}

impl<C: Connection> TxShared<C> {
    pub(crate) fn db_id(&self) -> usize {
        self.db_id
    }

    /// The transaction's connection.
    pub(crate) fn connection(&self) -> &C {
        &self.conn
    }

    pub(crate) fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Runs the rollbacks queued by savepoints that were dropped early.
    ///
    /// Each stays queued until the server has answered it: a flush cut half-way sends it
    /// again next time (`ROLLBACK TO SAVEPOINT` may run twice; it is not released). One
    /// that fails leaves work that cannot be undone, so the transaction is poisoned.
    async fn flush(&self) -> Result<()> {
        if self.finished.load(Ordering::Acquire) {
            return Err(Error::Transaction(
                "the transaction has already ended".into(),
            ));
        }
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Transaction(
                "a savepoint of this transaction could not be rolled back; \
                 the transaction can only be rolled back"
                    .into(),
            ));
        }
        loop {
            let Some(name) = self.pending().front().cloned() else {
                return Ok(());
            };
            if let Err(e) = self.conn.rollback_to_savepoint(&name).await {
                self.poison();
                return Err(e);
            }
            self.pending().pop_front();
        }
    }

    /// Streams a query's rows; the stream holds the transaction open while it runs.
    pub(crate) fn stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        let rows = async move {
            self.flush().await?;
            Ok(self.conn.clone().fetch_stream_owned(stmt))
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }

    pub(crate) async fn savepoint(&self, name: &str) -> Result<()> {
        self.flush().await?;
        self.conn.savepoint(name).await
    }

    pub(crate) async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.flush().await?;
        self.conn.release_savepoint(name).await
    }

    pub(crate) async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        self.flush().await?;
        self.conn.rollback_to_savepoint(name).await
    }

    pub(crate) async fn commit(&self) -> Result<()> {
        self.flush().await?;
        self.conn.commit().await?;
        self.finished.store(true, Ordering::Release);
        Ok(())
    }

    pub(crate) async fn rollback(&self) -> Result<()> {
        self.pending().clear();
        self.conn.rollback().await?;
        self.finished.store(true, Ordering::Release);
        Ok(())
    }
}

impl<C: Connection> Executor for TxShared<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.conn.dialect()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.flush().await?;
        self.conn.execute(stmt).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.flush().await?;
        self.conn.fetch_all(stmt).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            self.flush().await?;
            Ok(self.conn.fetch_stream(stmt))
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }
}

/// Opens a transaction on a connection of its own.
pub(crate) async fn begin<D: Database>(
    db: &D,
    options: &TxOptions,
) -> Result<Arc<TxShared<D::Connection>>> {
    let conn = db.acquire().await?;
    // The connection is in its transaction before BEGIN is sent: if this future is
    // dropped now, the connection is closed.
    conn.begin(options).await?;
    Ok(Arc::new(TxShared {
        conn: Arc::new(conn),
        db_id: db.id(),
        savepoints: AtomicUsize::new(0),
        pending: Mutex::new(VecDeque::new()),
        finished: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
    }))
}

//! Transactions and savepoints that never leak.
//!
//! A transaction holds a connection taken with [`Database::acquire`] and marks it dirty
//! before BEGIN is sent; only a completed COMMIT or ROLLBACK marks it clean. Whatever ends
//! a scope early (an error, a panic, a dropped future at any await point) leaves the
//! connection dirty, and a dirty connection is closed when dropped, so the server rolls
//! the work back and nobody else ever gets the connection half-way. A savepoint dropped
//! early queues `ROLLBACK TO SAVEPOINT`, which runs before the transaction's next
//! statement, the way tokio-postgres queues a rollback from `Drop`.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{FutureExt, TryStreamExt};
use orm_core::{
    Connection, Database, Dialect, Error, ExecResult, Executor, FromRow, Result, RowStream,
    Statement,
};

use crate::manager::Manager;
use crate::scope;

/// An open transaction: its connection, its savepoint counter, and the rollbacks queued
/// by savepoints dropped early.
pub struct TxShared<C> {
    conn: Arc<C>,
    db_id: usize,
    savepoints: AtomicUsize,
    /// `ROLLBACK TO SAVEPOINT` statements owed by savepoints dropped early, oldest first.
    pending: Mutex<VecDeque<String>>,
    finished: AtomicBool,
    /// A savepoint's work could not be undone: the transaction may only roll back.
    poisoned: AtomicBool,
}

impl<C: Connection> TxShared<C> {
    pub(crate) fn db_id(&self) -> usize {
        self.db_id
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn poison(&self) {
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
            let Some(sql) = self.pending().front().cloned() else {
                return Ok(());
            };
            if let Err(e) = self.conn.execute(Statement::new(sql)).await {
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

    async fn run(&self, sql: &str) -> Result<()> {
        self.flush().await?;
        self.conn.execute(Statement::new(sql)).await.map(drop)
    }

    async fn commit(&self) -> Result<()> {
        match self.run("COMMIT").await {
            Ok(()) => {
                self.conn.set_dirty(false);
                self.finished.store(true, Ordering::Release);
                Ok(())
            }
            // Sent, but no answer: it may or may not have committed. The connection stays
            // dirty, so it is discarded.
            Err(Error::ConnectionLost { source }) => Err(Error::CommitOutcomeUnknown { source }),
            Err(e) => Err(e),
        }
    }

    async fn rollback(&self) -> Result<()> {
        self.pending().clear();
        self.conn.execute(Statement::new("ROLLBACK")).await?;
        self.conn.set_dirty(false);
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
pub(crate) async fn begin<D: Database>(db: &D) -> Result<Arc<TxShared<D::Connection>>> {
    let conn = db.acquire().await?;
    // Dirty before BEGIN is sent: if this future is dropped now, the connection is closed.
    conn.set_dirty(true);
    let begin = Statement::new(conn.dialect().begin_transaction());
    conn.execute(begin).await?;
    Ok(Arc::new(TxShared {
        conn: Arc::new(conn),
        db_id: db.id(),
        savepoints: AtomicUsize::new(0),
        pending: Mutex::new(VecDeque::new()),
        finished: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
    }))
}

enum Kind {
    Transaction,
    Savepoint(String),
}

/// An open transaction or savepoint, as a guard.
///
/// Derefs to a [`Manager`] whose calls run inside it. End it with [`commit`] or
/// [`rollback`]; dropped without either, it rolls back: a transaction's connection is
/// closed (the server rolls back), a savepoint's rollback runs before the transaction's
/// next statement.
///
/// [`commit`]: TransactionGuard::commit
/// [`rollback`]: TransactionGuard::rollback
#[must_use = "dropped at once, the transaction rolls back"]
pub struct TransactionGuard<D: Database> {
    manager: Manager<D>,
    tx: Arc<TxShared<D::Connection>>,
    kind: Kind,
    done: bool,
    /// Makes the opening task's Manager calls join this transaction while it lasts.
    _registered: scope::Registration,
}

impl<D: Database> TransactionGuard<D> {
    pub(crate) async fn transaction(db: &D) -> Result<Self> {
        let tx = begin(db).await?;
        Ok(TransactionGuard {
            manager: Manager::in_transaction(db.clone(), &tx),
            _registered: scope::register(db.id(), &tx),
            tx,
            kind: Kind::Transaction,
            done: false,
        })
    }

    pub(crate) async fn savepoint(db: &D, tx: Arc<TxShared<D::Connection>>) -> Result<Self> {
        let n = tx.savepoints.fetch_add(1, Ordering::AcqRel) + 1;
        let name = format!("orm_sp_{n}");
        tx.run(&format!("SAVEPOINT {name}")).await?;
        Ok(TransactionGuard {
            manager: Manager::in_transaction(db.clone(), &tx),
            _registered: scope::register(db.id(), &tx),
            tx,
            kind: Kind::Savepoint(name),
            done: false,
        })
    }

    /// True for a savepoint, false for a whole transaction.
    pub fn is_savepoint(&self) -> bool {
        matches!(self.kind, Kind::Savepoint(_))
    }

    /// Commits the transaction, or releases the savepoint. An error from COMMIT itself is
    /// returned; if its outcome is unknown, [`Error::CommitOutcomeUnknown`].
    pub async fn commit(mut self) -> Result<()> {
        // `done` only once the server has answered: a future dropped while the statement
        // is on its way leaves the guard to roll back when it drops.
        match &self.kind {
            Kind::Transaction => self.tx.commit().await?,
            Kind::Savepoint(name) => self.tx.run(&format!("RELEASE SAVEPOINT {name}")).await?,
        }
        self.done = true;
        Ok(())
    }

    /// Rolls back the transaction, or the work since the savepoint.
    pub async fn rollback(mut self) -> Result<()> {
        match &self.kind {
            Kind::Transaction => self.tx.rollback().await?,
            Kind::Savepoint(name) => {
                let rolled_back = self.tx.run(&format!("ROLLBACK TO SAVEPOINT {name}")).await;
                if rolled_back.is_err() {
                    // The savepoint's work is still there: it must never be committed.
                    self.tx.poison();
                }
                self.done = true;
                rolled_back?;
                // Rolled back already; a RELEASE cut on its way changes nothing.
                self.tx.run(&format!("RELEASE SAVEPOINT {name}")).await?;
            }
        }
        self.done = true;
        Ok(())
    }

    /// Runs `body` inside this scope: commits on `Ok`, rolls back on `Err` or panic and
    /// returns the body's own error unchanged.
    pub(crate) async fn run<F, Fut, T, E>(self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        let work = scope::enter(self.tx.db_id(), self.tx.clone(), body(self.manager.clone()));
        match AssertUnwindSafe(work).catch_unwind().await {
            Ok(Ok(value)) => {
                self.commit().await?;
                Ok(value)
            }
            Ok(Err(err)) => {
                if let Err(rollback) = self.rollback().await {
                    // The connection stays dirty and is closed: the server rolls back.
                    tracing::warn!(error = %rollback, "ROLLBACK failed; the connection is discarded");
                }
                Err(err)
            }
            Err(panic) => {
                if let Err(rollback) = self.rollback().await {
                    tracing::warn!(error = %rollback, "ROLLBACK after a panic failed; the connection is discarded");
                }
                std::panic::resume_unwind(panic)
            }
        }
    }
}

impl<D: Database> std::ops::Deref for TransactionGuard<D> {
    type Target = Manager<D>;
    fn deref(&self) -> &Manager<D> {
        &self.manager
    }
}

impl<D: Database> Drop for TransactionGuard<D> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &self.kind {
            // No more statements run in it; the connection closes dirty with the last handle.
            Kind::Transaction => self.tx.finished.store(true, Ordering::Release),
            // Run before the transaction's next statement. Not released: a RELEASE cut on
            // its way may have reached the server, and then this rollback fails and
            // poisons the transaction rather than let the savepoint's work be committed.
            Kind::Savepoint(name) => self
                .tx
                .pending()
                .push_back(format!("ROLLBACK TO SAVEPOINT {name}")),
        }
    }
}

impl<D: Database> std::fmt::Debug for TransactionGuard<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionGuard")
            .field("savepoint", &self.is_savepoint())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

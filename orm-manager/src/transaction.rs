//! Transactions and savepoints as scopes: the guard ([`TransactionGuard`]), the
//! Manager's scope methods (`atomic`, `transaction`, `savepoint` and their `begin_*`
//! guard forms), and the same as free functions over any database.
//!
//! A guard commits or rolls back explicitly; dropped without either, it rolls back: a
//! transaction's connection is closed (the server rolls back), a savepoint queues
//! `ROLLBACK TO SAVEPOINT`, which runs before the transaction's next statement, the way
//! tokio-postgres queues a rollback from `Drop`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::FutureExt;
use orm_core::{Database, Error, Result, TxOptions};

use crate::manager::Manager;
use crate::scope;
use crate::tx::{begin, TxShared};

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
///
/// ```
/// # use orm_manager::prelude::*;
/// # #[derive(Model)]
/// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// # let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
/// # Tag::create_table_async(&objects, false).await?;
/// let tx = objects.begin_transaction().await?;
/// tx.create(Tag::new("kept")).await?;
/// tx.commit().await?;
/// let tx = objects.begin_transaction().await?;
/// tx.create(Tag::new("dropped")).await?;
/// drop(tx); // rolled back
/// assert_eq!(objects.count(Tag::select()).await?, 1);
/// # Ok(()) }
/// ```
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
    pub(crate) async fn transaction(db: &D, options: &TxOptions) -> Result<Self> {
        let tx = begin(db, options).await?;
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
        tx.savepoint(&name).await?;
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
    ///
    /// # Errors
    ///
    /// [`Error::CommitOutcomeUnknown`](orm_core::Error::CommitOutcomeUnknown) when COMMIT
    /// was sent and its answer lost (it may have committed);
    /// [`Error::Database`](orm_core::Error::Database) when the server refuses it (the
    /// transaction is then rolled back).
    pub async fn commit(mut self) -> Result<()> {
        // `done` only once the server has answered: a future dropped while the statement
        // is on its way leaves the guard to roll back when it drops.
        match &self.kind {
            Kind::Transaction => self.tx.commit().await?,
            Kind::Savepoint(name) => self.tx.release_savepoint(name).await?,
        }
        self.done = true;
        Ok(())
    }

    /// Rolls back the transaction, or the work since the savepoint.
    ///
    /// # Errors
    ///
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails
    /// (the connection is closed, so the server rolls back).
    pub async fn rollback(mut self) -> Result<()> {
        match &self.kind {
            Kind::Transaction => self.tx.rollback().await?,
            Kind::Savepoint(name) => {
                let rolled_back = self.tx.rollback_to_savepoint(name).await;
                if rolled_back.is_err() {
                    // The savepoint's work is still there: it must never be committed.
                    self.tx.poison();
                }
                self.done = true;
                rolled_back?;
                // Rolled back already; a RELEASE cut on its way changes nothing.
                self.tx.release_savepoint(name).await?;
            }
        }
        self.done = true;
        Ok(())
    }

    /// Runs `body` inside this scope: commits on `Ok`, rolls back on `Err` or panic and
    /// returns the body's own error unchanged, unless the ROLLBACK failed too: then
    /// [`Error::RollbackFailed`], since the caller must learn that the connection, not only
    /// the work, failed (the guard form, [`Manager::begin_atomic`], keeps both errors).
    pub(crate) async fn run<F, Fut, T, E>(self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.run_scope(body).await.map_err(Failure::into_error)
    }

    /// [`run`](TransactionGuard::run), telling apart where a failure came from: the body,
    /// the COMMIT, or the ROLLBACK after the body failed.
    pub(crate) async fn run_scope<F, Fut, T, E>(self, body: F) -> std::result::Result<T, Failure<E>>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        let work = scope::enter(self.tx.db_id(), self.tx.clone(), body(self.manager.clone()));
        match AssertUnwindSafe(work).catch_unwind().await {
            Ok(Ok(value)) => match self.commit().await {
                Ok(()) => Ok(value),
                Err(e) => Err(Failure::Commit(e)),
            },
            Ok(Err(err)) => match self.rollback().await {
                Ok(()) => Err(Failure::Body(err)),
                // A deadlock or serialization failure answering the ROLLBACK says the
                // server has rolled the transaction back already (a Galera node reports a
                // transaction aborted by a replicated write so): the body's error stands.
                // The connection stays marked and is closed all the same.
                Err(rollback) if rollback.is_retryable() => Err(Failure::Body(err)),
                // The connection stays in its transaction and is closed: the server rolls
                // back.
                Err(rollback) => {
                    drop(err);
                    Err(Failure::Rollback(rollback))
                }
            },
            Err(panic) => {
                if let Err(rollback) = self.rollback().await {
                    tracing::warn!(error = %rollback, "ROLLBACK after a panic failed; the connection is discarded");
                }
                std::panic::resume_unwind(panic)
            }
        }
    }
}

/// Why a scope failed.
pub(crate) enum Failure<E> {
    /// The body returned an error; the scope was rolled back.
    Body(E),
    /// COMMIT failed (or its outcome is unknown: [`Error::CommitOutcomeUnknown`]).
    Commit(Error),
    /// The body failed and so did the ROLLBACK after it.
    Rollback(Error),
}

impl<E: From<Error>> Failure<E> {
    pub(crate) fn into_error(self) -> E {
        match self {
            Failure::Body(e) => e,
            Failure::Commit(e) => E::from(e),
            Failure::Rollback(rollback) => E::from(Error::RollbackFailed {
                rollback: Box::new(rollback),
                body_error: std::any::type_name::<E>(),
            }),
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
            Kind::Savepoint(name) => self.tx.pending().push_back(name.clone()),
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

impl<D: Database> Manager<D> {
    /// Runs `body` in a transaction, or in a savepoint when this task is already in one.
    /// Commits when `body` returns `Ok`; rolls back on `Err` (returned unchanged) or panic.
    ///
    /// # Errors
    ///
    /// The body's own error, after the rollback;
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails
    /// too; [`Error::CommitOutcomeUnknown`](orm_core::Error::CommitOutcomeUnknown) when
    /// COMMIT was sent and its answer lost;
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection can be
    /// taken.
    pub async fn atomic<F, Fut, T, E>(&self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.begin_atomic().await?.run(body).await
    }

    /// Runs `body` in a new transaction; an error if this task is already in one on this
    /// database (use [`atomic`](Manager::atomic) or [`savepoint`](Manager::savepoint)).
    ///
    /// # Errors
    ///
    /// The body's own error, after the rollback;
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails
    /// too; [`Error::CommitOutcomeUnknown`](orm_core::Error::CommitOutcomeUnknown) when
    /// COMMIT was sent and its answer lost;
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection can be
    /// taken. [`Error::Transaction`](orm_core::Error::Transaction) when this task is
    /// already in a transaction on this database.
    pub async fn transaction<F, Fut, T, E>(&self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.begin_transaction().await?.run(body).await
    }

    /// Runs `body` in a transaction that is rolled back at its end, whatever the body
    /// returns (a panic too): for tests, which then see the database as it was and leave
    /// nothing behind, as peewee-async's `TransactionTestCase` and `#[sqlx::test]` do.
    /// Calls through this Manager on the task join the transaction, as in
    /// [`transaction`](Manager::transaction). Returns the body's result.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model, Debug)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, text: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let db = SqliteDatabase::new(SqliteConfig::memory())?;
    /// # Note::create_table(&db, false)?;
    /// let objects = Manager::new(db);
    /// let seen = objects
    ///     .test_transaction(|tx| async move {
    ///         tx.create(Note::new("scratch")).await?;
    ///         tx.count(Note::select()).await
    ///     })
    ///     .await?;
    /// assert_eq!(seen, 1, "the test sees its own rows");
    /// assert_eq!(objects.count(Note::select()).await?, 0, "and leaves none");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The body's own error, after the rollback;
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails.
    pub async fn test_transaction<F, Fut, T, E>(&self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        let guard = self.begin_transaction().await?;
        let work = scope::enter(
            guard.tx.db_id(),
            guard.tx.clone(),
            body(guard.manager.clone()),
        );
        let outcome = AssertUnwindSafe(work).catch_unwind().await;
        if let Err(e) = guard.rollback().await {
            // The connection stays in its transaction and is closed: the server rolls back.
            tracing::warn!(error = %e, "ROLLBACK of a test transaction failed; the connection is discarded");
        }
        match outcome {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// [`transaction`](Manager::transaction) with an isolation level or read-only mode.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// use orm_manager::orm_core::{IsolationLevel, TxOptions};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// objects.execute_raw("CREATE TABLE note (body TEXT)", vec![]).await?;
    /// let report = TxOptions::new().isolation(IsolationLevel::Serializable).read_only(true);
    /// let refused = objects
    ///     .transaction_with(report, |tx| async move {
    ///         tx.execute_raw("INSERT INTO note VALUES ('x')", vec![]).await
    ///     })
    ///     .await;
    /// assert!(refused.is_err(), "a read-only transaction refuses writes");
    /// # Ok::<(), Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The body's own error, after the rollback;
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails
    /// too; [`Error::CommitOutcomeUnknown`](orm_core::Error::CommitOutcomeUnknown) when
    /// COMMIT was sent and its answer lost;
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection can be
    /// taken. [`Error::Transaction`](orm_core::Error::Transaction) when this task is
    /// already in a transaction on this database.
    pub async fn transaction_with<F, Fut, T, E>(
        &self,
        options: TxOptions,
        body: F,
    ) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.begin_transaction_with(options).await?.run(body).await
    }

    /// Runs `body` in a savepoint of the open transaction; an error outside one.
    ///
    /// # Errors
    ///
    /// The body's own error, after the rollback;
    /// [`Error::RollbackFailed`](orm_core::Error::RollbackFailed) when the ROLLBACK fails
    /// too; [`Error::CommitOutcomeUnknown`](orm_core::Error::CommitOutcomeUnknown) when
    /// COMMIT was sent and its answer lost;
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection can be
    /// taken. [`Error::Transaction`](orm_core::Error::Transaction) outside a transaction.
    pub async fn savepoint<F, Fut, T, E>(&self, body: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        self.begin_savepoint().await?.run(body).await
    }

    /// [`atomic`](Manager::atomic) as a guard: commit or roll back explicitly; dropped,
    /// it rolls back. Until it ends, calls through any Manager of this database made by
    /// the task that opened it (or, outside a task, its thread) join it, as calls inside a
    /// closure scope do; a separate transaction beside it needs another task.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection can be
    /// taken; [`Error::Database`](orm_core::Error::Database) when BEGIN is refused.
    pub async fn begin_atomic(&self) -> Result<TransactionGuard<D>> {
        match self.current_tx() {
            Some(tx) => TransactionGuard::savepoint(self.database(), tx).await,
            None => TransactionGuard::transaction(self.database(), &TxOptions::default()).await,
        }
    }

    /// [`transaction`](Manager::transaction) as a guard.
    ///
    /// # Errors
    ///
    /// As [`begin_atomic`](Self::begin_atomic);
    /// [`Error::Transaction`](orm_core::Error::Transaction) when this task is already in a
    /// transaction on this database.
    pub async fn begin_transaction(&self) -> Result<TransactionGuard<D>> {
        self.begin_transaction_with(TxOptions::default()).await
    }

    /// [`transaction_with`](Manager::transaction_with) as a guard.
    ///
    /// # Errors
    ///
    /// As [`begin_transaction`](Self::begin_transaction);
    /// [`Error::Database`](orm_core::Error::Database) for options the server refuses.
    pub async fn begin_transaction_with(&self, options: TxOptions) -> Result<TransactionGuard<D>> {
        if self.current_tx().is_some() {
            return Err(Error::Transaction(
                "transaction() cannot be nested in another transaction; use atomic() or savepoint()".into(),
            ));
        }
        TransactionGuard::transaction(self.database(), &options).await
    }

    /// [`savepoint`](Manager::savepoint) as a guard.
    ///
    /// # Errors
    ///
    /// [`Error::Transaction`](orm_core::Error::Transaction) outside a transaction;
    /// [`Error::Database`](orm_core::Error::Database) when SAVEPOINT is refused.
    pub async fn begin_savepoint(&self) -> Result<TransactionGuard<D>> {
        match self.current_tx() {
            Some(tx) => TransactionGuard::savepoint(self.database(), tx).await,
            None => Err(Error::Transaction(
                "savepoint() needs an open transaction".into(),
            )),
        }
    }
}

/// Runs `body` in a transaction (or a savepoint when already inside one) on `db`.
pub async fn atomic<D, F, Fut, T, Err>(db: &D, body: F) -> std::result::Result<T, Err>
where
    D: Database,
    F: FnOnce(Manager<D>) -> Fut,
    Fut: Future<Output = std::result::Result<T, Err>>,
    Err: From<Error>,
{
    Manager::new(db.clone()).atomic(body).await
}

/// Runs `body` in a new transaction on `db`; an error if one is already open.
pub async fn transaction<D, F, Fut, T, Err>(db: &D, body: F) -> std::result::Result<T, Err>
where
    D: Database,
    F: FnOnce(Manager<D>) -> Fut,
    Fut: Future<Output = std::result::Result<T, Err>>,
    Err: From<Error>,
{
    Manager::new(db.clone()).transaction(body).await
}

/// Runs `body` in a savepoint of the transaction this task is in on `db`.
pub async fn savepoint<D, F, Fut, T, Err>(db: &D, body: F) -> std::result::Result<T, Err>
where
    D: Database,
    F: FnOnce(Manager<D>) -> Fut,
    Fut: Future<Output = std::result::Result<T, Err>>,
    Err: From<Error>,
{
    Manager::new(db.clone()).savepoint(body).await
}

//! A connection held exclusively, for transactions, and the one owner of its transaction
//! state: [`Connection::begin`] marks it in a transaction before BEGIN is sent, and only
//! a COMMIT or ROLLBACK the server answered marks it out of one. Dropped inside a
//! transaction, the connection is closed (the server rolls back) and never reused.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use orm_core::{
    Connection, Dialect, Error, ExecResult, Executor, FromRow, Limits, Result, RowStream,
    Statement, TxOptions,
};
use tokio::sync::OwnedRwLockWriteGuard;

use crate::driver::Driver;
use crate::link::{Link, Slot};
use crate::pool::Holding;
use crate::recycle::Pooled;
use crate::retry::{Execute, FetchAll, Op};
use crate::timeout;

// One per transaction, never in a collection: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Held<D: Driver> {
    /// The single database's connection, with its lock held for writing.
    Single {
        guard: OwnedRwLockWriteGuard<Slot<D>>,
        link: Arc<Link<D>>,
    },
    /// A pooled connection; `None` once discarded.
    Pooled(Option<Pooled<D>>),
}

/// A connection taken for exclusive use ([`Database::acquire`](orm_core::Database::acquire)).
/// Nothing else runs on it until it is dropped. The backends name it `PostgresqlConnection`,
/// `MySQLConnection`, `SqliteConnection`.
pub struct HeldConnection<D: Driver> {
    held: Held<D>,
    conn: Arc<D::Conn>,
    log_values: bool,
    /// How the open transaction began: its end may owe statements (SQLite's read-only
    /// mode is switched off again).
    options: Mutex<TxOptions>,
    /// What a statement with limits of its own left undone when its future was dropped
    /// half-way, done before the connection is used again.
    unfinished: Mutex<Option<Unfinished>>,
    /// Whether `unfinished` holds anything (read on every statement, without the lock).
    has_unfinished: AtomicBool,
    /// A pooled connection counts as held by a transaction until it is dropped.
    _counted: Option<Holding>,
}

/// The work a statement with limits of its own (on a driver that limits transactions)
/// spreads over several statements, cut part-way.
#[derive(Clone, Copy)]
enum Unfinished {
    /// The statement's limits were set in the caller's transaction: the transaction's
    /// own are to be put back, or its next statements would run within them.
    Limits(Limits),
    /// The statement's own transaction was left open: it is rolled back, since the
    /// caller never saw the statement succeed.
    OwnTransaction,
}

impl<D: Driver> HeldConnection<D> {
    pub(crate) fn single(
        guard: OwnedRwLockWriteGuard<Slot<D>>,
        link: Arc<Link<D>>,
        log_values: bool,
    ) -> Self {
        HeldConnection {
            conn: link.conn.clone(),
            held: Held::Single { guard, link },
            log_values,
            options: Mutex::default(),
            unfinished: Mutex::new(None),
            has_unfinished: AtomicBool::new(false),
            _counted: None,
        }
    }

    pub(crate) fn pooled(obj: Pooled<D>, holding: Holding, log_values: bool) -> Self {
        HeldConnection {
            conn: obj.conn.clone(),
            held: Held::Pooled(Some(obj)),
            _counted: Some(holding),
            log_values,
            options: Mutex::default(),
            unfinished: Mutex::new(None),
            has_unfinished: AtomicBool::new(false),
        }
    }

    fn link(&self) -> Option<&Link<D>> {
        match &self.held {
            Held::Single { link, .. } => Some(link),
            Held::Pooled(obj) => obj.as_deref(),
        }
    }

    fn call(&self) -> crate::driver::Call {
        crate::driver::Call {
            log_values: self.log_values,
            in_transaction: self.in_transaction(),
        }
    }

    fn mark(&self, open: bool) {
        if let Some(link) = self.link() {
            link.set_in_transaction(open);
        }
    }

    /// Sends transaction control statements in order.
    async fn control(&self, statements: &[String]) -> Result<()> {
        for sql in statements {
            D::simple(&self.conn, sql, self.call()).await?;
        }
        Ok(())
    }

    /// BEGIN, with `options`.
    async fn open(&self, options: &TxOptions) -> Result<()> {
        if self.in_transaction() {
            return Err(Error::Transaction(
                "a transaction is already open on this connection".into(),
            ));
        }
        let statements = D::begin_statements(&self.conn, options)?;
        *self.options.lock().unwrap_or_else(PoisonError::into_inner) = *options;
        // Marked before anything is sent: if this future is dropped now, the connection
        // is closed.
        self.mark(true);
        self.control(&statements).await
    }

    /// Sends COMMIT or ROLLBACK, and marks the connection out of its transaction once the
    /// server answered.
    async fn end(&self, sql: &str) -> Result<()> {
        match D::simple(&self.conn, sql, self.call()).await {
            Ok(()) => {
                self.finish().await;
                Ok(())
            }
            // A COMMIT sent without an answer may or may not have committed. The
            // connection stays marked, so it is discarded.
            Err(Error::ConnectionLost { source }) if sql == "COMMIT" => {
                Err(Error::CommitOutcomeUnknown { source })
            }
            Err(e) => Err(e),
        }
    }

    /// Notes (or, with `None`, clears) work left to do if the running operation is cut.
    fn set_unfinished(&self, what: Option<Unfinished>) {
        *self
            .unfinished
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = what;
        self.has_unfinished.store(what.is_some(), Ordering::Release);
    }

    /// The work a cut operation left, if any (no lock taken when there is none).
    fn unfinished(&self) -> Option<Unfinished> {
        if !self.has_unfinished.load(Ordering::Acquire) {
            return None;
        }
        *self
            .unfinished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Does what a cut operation left undone (see [`Unfinished`]) before the connection
    /// is used again; an error leaves it to do.
    async fn finish_unfinished(&self) -> Result<()> {
        let Some(what) = self.unfinished() else {
            return Ok(());
        };
        match what {
            Unfinished::Limits(limits) if self.in_transaction() => {
                let began = *self.options.lock().unwrap_or_else(PoisonError::into_inner);
                let restore = D::local_limits(&self.conn, limits, Some(&began));
                D::simple(&self.conn, &restore, self.call()).await?;
            }
            Unfinished::OwnTransaction if self.in_transaction() => {
                self.end("ROLLBACK").await?;
            }
            _ => {}
        }
        self.set_unfinished(None);
        Ok(())
    }

    /// After COMMIT or ROLLBACK was answered: restores the session, then marks the
    /// connection out of its transaction. A session that cannot be restored stays marked
    /// and is discarded.
    async fn finish(&self) {
        let options = *self.options.lock().unwrap_or_else(PoisonError::into_inner);
        let restore = D::dialect().end_statements(&options);
        match self.control(&restore).await {
            Ok(()) => self.mark(false),
            Err(e) => {
                tracing::warn!(error = %e, "session not restored after a transaction; the connection is discarded")
            }
        }
    }
}

impl<D: Driver> Drop for HeldConnection<D> {
    fn drop(&mut self) {
        if !self.in_transaction() && !self.link().is_some_and(Link::is_retired) {
            return;
        }
        // Closing the connection makes the server roll back, and ends what a retired
        // session holds (its locks, its settings).
        match &mut self.held {
            Held::Single { guard, .. } => {
                guard.take();
            }
            Held::Pooled(obj) => {
                if let Some(obj) = obj.take() {
                    drop(deadpool::managed::Object::take(obj));
                }
            }
        }
    }
}

impl<D: Driver> Connection for HeldConnection<D> {
    async fn begin(&self, options: &TxOptions) -> Result<()> {
        self.finish_unfinished().await?;
        self.open(options).await
    }

    async fn commit(&self) -> Result<()> {
        self.end_unfinished().await?;
        self.end("COMMIT").await
    }

    async fn rollback(&self) -> Result<()> {
        self.end_unfinished().await?;
        self.end("ROLLBACK").await
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        self.finish_unfinished().await?;
        D::simple(
            &self.conn,
            &format!("SAVEPOINT {}", ident(name)?),
            self.call(),
        )
        .await
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.finish_unfinished().await?;
        let sql = format!("RELEASE SAVEPOINT {}", ident(name)?);
        D::simple(&self.conn, &sql, self.call()).await
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        // First: a cut statement may have left the transaction aborted, which only this
        // rollback ends. The limits are put back after it.
        let sql = format!("ROLLBACK TO SAVEPOINT {}", ident(name)?);
        D::simple(&self.conn, &sql, self.call()).await?;
        self.finish_unfinished().await
    }

    fn in_transaction(&self) -> bool {
        self.link().is_some_and(Link::in_transaction)
    }

    fn retire(&self) {
        if let Some(link) = self.link() {
            link.retire();
        }
    }

    /// The stream holds the connection while it runs.
    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        if self.has_unfinished.load(Ordering::Acquire) {
            return after_unfinished(async move {
                self.finish_unfinished().await?;
                let (conn, call) = (self.conn.clone(), self.call());
                Ok(D::stream(conn, stmt, call, self))
            });
        }
        let (conn, call) = (self.conn.clone(), self.call());
        D::stream(conn, stmt, call, self)
    }
}

/// The rows of the stream `start` opens once the connection's unfinished work is done
/// (or that work's error).
fn after_unfinished<'a, T: Send + 'a>(
    start: impl std::future::Future<Output = Result<RowStream<'a, T>>> + Send + 'a,
) -> RowStream<'a, T> {
    use futures_util::TryStreamExt;
    Box::pin(futures_util::stream::once(start).try_flatten())
}

/// A savepoint name: letters, digits and `_` only, so it can be written into the SQL.
fn ident(name: &str) -> Result<&str> {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(name)
    } else {
        Err(Error::Transaction(format!(
            "`{name}` is not a plain savepoint name (letters, digits and _)"
        )))
    }
}

impl<D: Driver> Executor for HeldConnection<D> {
    fn dialect(&self) -> &'static dyn Dialect {
        D::dialect()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.released()?;
        self.finish_unfinished().await?;
        if timeout::by_transaction::<D>(&stmt) {
            // Boxed: a rare path that would otherwise enlarge every statement's future.
            return Box::pin(self.limited(stmt, Execute)).await;
        }
        D::execute(&self.conn, Cow::Owned(stmt), self.call()).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.released()?;
        self.finish_unfinished().await?;
        if timeout::by_transaction::<D>(&stmt) {
            return Box::pin(self.limited(stmt, FetchAll::new())).await;
        }
        D::fetch_all(&self.conn, Cow::Owned(stmt), self.call()).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        if let Err(e) = self.released() {
            return Box::pin(orm_core::ErrorStream::new(e));
        }
        if timeout::by_transaction::<D>(&stmt) {
            return Box::pin(orm_core::ErrorStream::new(timeout::no_stream::<D>()));
        }
        if self.has_unfinished.load(Ordering::Acquire) {
            return after_unfinished(async move {
                self.finish_unfinished().await?;
                Ok(D::stream(self.conn.clone(), stmt, self.call(), ()))
            });
        }
        D::stream(self.conn.clone(), stmt, self.call(), ())
    }
}

impl<D: Driver> HeldConnection<D> {
    /// Runs `stmt` in a transaction of its own (none may be open), within its limits.
    pub(crate) async fn in_own_transaction<O: Op<D>>(
        &self,
        mut stmt: Statement,
        op: O,
    ) -> Result<O::Out> {
        self.open(&timeout::own_options(&mut stmt)).await?;
        match op.run(&self.conn, Cow::Owned(stmt), self.call()).await {
            Ok(out) => self.end("COMMIT").await.map(|()| out),
            Err(e) => {
                // A failed ROLLBACK leaves the connection marked: it is discarded.
                let _ = self.end("ROLLBACK").await;
                Err(e)
            }
        }
    }

    /// A statement with limits of its own on a driver that limits transactions: in the open
    /// transaction, or in one of its own.
    /// Each path notes what is left to do should its future be dropped part-way.
    async fn limited<O: Op<D>>(&self, stmt: Statement, op: O) -> Result<O::Out> {
        if !self.in_transaction() {
            self.set_unfinished(Some(Unfinished::OwnTransaction));
            let out = self.in_own_transaction(stmt, op).await;
            if !self.in_transaction() {
                self.set_unfinished(None);
            }
            return out;
        }
        let began = *self.options.lock().unwrap_or_else(PoisonError::into_inner);
        self.set_unfinished(Some(Unfinished::Limits(stmt.limits)));
        let out = timeout::in_transaction(&self.conn, self.call(), stmt, &began, op).await;
        if out.is_ok() {
            self.set_unfinished(None);
        }
        out
    }
}

impl<D: Driver> HeldConnection<D> {
    /// Before the transaction ends: a transaction of a statement's own left open is
    /// rolled back first (the caller's COMMIT or ROLLBACK then finds none); limits left
    /// in the caller's transaction end with it.
    async fn end_unfinished(&self) -> Result<()> {
        match self.unfinished() {
            Some(Unfinished::OwnTransaction) => self.finish_unfinished().await,
            Some(Unfinished::Limits(_)) => {
                self.set_unfinished(None);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// An error once the connection was given up.
    fn released(&self) -> Result<()> {
        match self.link() {
            Some(_) => Ok(()),
            None => Err(Error::Transaction(
                "the connection was already released".into(),
            )),
        }
    }
}

impl<D: Driver> std::fmt::Debug for HeldConnection<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldConnection")
            .field("backend", &D::BACKEND)
            .field("in_transaction", &self.in_transaction())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::ident;

    #[test]
    fn savepoint_names_are_plain_identifiers() {
        assert_eq!(ident("orm_sp_1").ok(), Some("orm_sp_1"));
        for bad in ["", "1a", "a b", "a;DROP TABLE t", "a\"b"] {
            assert!(ident(bad).is_err(), "{bad:?}");
        }
    }
}

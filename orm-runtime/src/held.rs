//! A connection held exclusively, for transactions, and the one owner of its transaction
//! state: [`Connection::begin`] marks it in a transaction before BEGIN is sent, and only
//! a COMMIT or ROLLBACK the server answered marks it out of one. Dropped inside a
//! transaction, the connection is closed (the server rolls back) and never reused.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use orm_core::{
    Connection, Dialect, Error, ExecResult, Executor, FromRow, Result, RowStream, Statement,
    TxOptions,
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
    /// A pooled connection counts as held by a transaction until it is dropped.
    _counted: Option<Holding>,
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
        if !self.in_transaction() {
            return;
        }
        // Closing the connection makes the server roll back.
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

    async fn commit(&self) -> Result<()> {
        match D::simple(&self.conn, "COMMIT", self.call()).await {
            Ok(()) => {
                self.finish().await;
                Ok(())
            }
            // Sent, but no answer: it may or may not have committed. The connection stays
            // marked, so it is discarded.
            Err(Error::ConnectionLost { source }) => Err(Error::CommitOutcomeUnknown { source }),
            Err(e) => Err(e),
        }
    }

    async fn rollback(&self) -> Result<()> {
        D::simple(&self.conn, "ROLLBACK", self.call()).await?;
        self.finish().await;
        Ok(())
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        D::simple(
            &self.conn,
            &format!("SAVEPOINT {}", ident(name)?),
            self.call(),
        )
        .await
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        let sql = format!("RELEASE SAVEPOINT {}", ident(name)?);
        D::simple(&self.conn, &sql, self.call()).await
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        let sql = format!("ROLLBACK TO SAVEPOINT {}", ident(name)?);
        D::simple(&self.conn, &sql, self.call()).await
    }

    fn in_transaction(&self) -> bool {
        self.link().is_some_and(Link::in_transaction)
    }

    /// The stream holds the connection while it runs.
    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        let (conn, call) = (self.conn.clone(), self.call());
        D::stream(conn, stmt, call, self)
    }
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
        if timeout::by_transaction::<D>(&stmt) {
            // Boxed: a rare path that would otherwise enlarge every statement's future.
            return Box::pin(self.limited(stmt, Execute)).await;
        }
        D::execute(&self.conn, Cow::Owned(stmt), self.call()).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.released()?;
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
        self.begin(&timeout::own_options(&mut stmt)).await?;
        match op.run(&self.conn, Cow::Owned(stmt), self.call()).await {
            Ok(out) => self.commit().await.map(|()| out),
            Err(e) => {
                // A failed ROLLBACK leaves the connection marked: it is discarded.
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    /// A statement with limits of its own on a driver that limits transactions: in the open
    /// transaction, or in one of its own.
    async fn limited<O: Op<D>>(&self, stmt: Statement, op: O) -> Result<O::Out> {
        if !self.in_transaction() {
            return self.in_own_transaction(stmt, op).await;
        }
        let began = *self.options.lock().unwrap_or_else(PoisonError::into_inner);
        timeout::in_transaction(&self.conn, self.call(), stmt, &began, op).await
    }
}

impl<D: Driver> HeldConnection<D> {
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

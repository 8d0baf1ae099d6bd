//! `PgConnection`: a connection held exclusively, for transactions.

use futures_util::TryStreamExt;
use orm_core::{
    Connection, Dialect, Error, ExecResult, Executor, FromRow, PostgresDialect, Result, RowStream,
    Statement,
};
use std::sync::Arc;
use tokio::sync::OwnedRwLockWriteGuard;

use crate::conn::PgConn;
use crate::recycle::PgObject;

// One per transaction, never in a collection: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Held {
    /// The single database's connection, with its lock held for writing.
    Single {
        guard: OwnedRwLockWriteGuard<Option<Arc<PgConn>>>,
        conn: Arc<PgConn>,
    },
    /// A pooled connection; `None` once discarded.
    Pooled(Option<PgObject>),
}

/// A PostgreSQL connection taken for exclusive use. Nothing else runs on it until it is
/// dropped. Dropped while a transaction is open, it is closed (the server rolls the
/// transaction back) and never reused.
pub struct PgConnection {
    held: Held,
    log_values: bool,
}

impl PgConnection {
    pub(crate) fn new(held: Held, log_values: bool) -> Self {
        PgConnection { held, log_values }
    }

    fn conn(&self) -> Result<&PgConn> {
        match &self.held {
            Held::Single { conn, .. } => Ok(conn),
            Held::Pooled(Some(obj)) => Ok(obj),
            Held::Pooled(None) => Err(Error::Transaction(
                "the connection was already released".into(),
            )),
        }
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        let dirty = self.conn().is_ok_and(PgConn::is_dirty);
        if !dirty {
            return;
        }
        // Closing the connection makes the server roll back; dropping the client closes it.
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

impl Connection for PgConnection {
    fn set_dirty(&self, dirty: bool) {
        if let Ok(conn) = self.conn() {
            conn.set_dirty(dirty);
        }
    }

    fn is_dirty(&self) -> bool {
        self.conn().is_ok_and(PgConn::is_dirty)
    }

    /// Rows stream as they arrive; the stream holds the connection.
    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        let rows = async move {
            let log = self.log_values;
            self.conn()?.run_stream(&stmt, log, self.clone()).await
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }
}

impl Executor for PgConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.conn()?.run_execute(&stmt, self.log_values).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.conn()?.run_fetch_all(&stmt, self.log_values).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move { self.conn()?.run_stream(&stmt, self.log_values, ()).await };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnection")
            .field("in_transaction", &orm_core::Connection::is_dirty(self))
            .finish_non_exhaustive()
    }
}

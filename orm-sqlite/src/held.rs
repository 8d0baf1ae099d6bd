//! `SqliteConnection`: a connection held exclusively, for transactions.

use std::sync::Arc;

use orm_core::{
    Connection, Dialect, ExecResult, Executor, FromRow, Result, RowStream, SqliteDialect, Statement,
};
use tokio::sync::OwnedMutexGuard;

use crate::conn::{self, blocking, offload, SqliteConn};
use crate::recycle::SqliteObject;
use crate::stream::spawn_stream;

pub(crate) enum Held {
    /// The single database's connection, with its lock held.
    Single(OwnedMutexGuard<Option<Arc<SqliteConn>>>),
    /// A pooled connection; `None` once discarded.
    Pooled(Option<SqliteObject>),
}

/// An SQLite connection taken for exclusive use. Dropped while a transaction is open, it
/// is closed (SQLite rolls the transaction back) and never reused.
pub struct SqliteConnection {
    held: Held,
    conn: Arc<SqliteConn>,
    /// Statements take turns in the order they were sent, and a turn ends when the
    /// statement has run, not when its future is dropped: a statement cut while queued on
    /// the blocking pool still runs before the transaction's next one (the savepoint
    /// rollback queued by a cut scope must come after the cut scope's own writes).
    order: Arc<tokio::sync::Mutex<()>>,
    log_values: bool,
    /// Statements run on the calling task ([`crate::SqliteConfig::run_inline`]).
    inline: bool,
}

impl SqliteConnection {
    pub(crate) fn new(held: Held, conn: Arc<SqliteConn>, log_values: bool, inline: bool) -> Self {
        SqliteConnection {
            held,
            conn,
            order: Arc::default(),
            log_values,
            inline,
        }
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        if !self.conn.is_dirty() {
            return;
        }
        // The connection closes when the last handle to it goes.
        match &mut self.held {
            Held::Single(guard) => {
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

impl Connection for SqliteConnection {
    fn set_dirty(&self, dirty: bool) {
        self.conn.set_dirty(dirty);
    }

    fn is_dirty(&self) -> bool {
        self.conn.is_dirty()
    }

    /// Rows stream in batches; the streaming task holds the connection.
    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        stream(
            self.conn.clone(),
            self.order.clone(),
            self.log_values,
            stmt,
            Some(self),
        )
    }
}

/// Streams `stmt` on `c` from a blocking task; `keep` lives as long as the task.
fn stream<T: FromRow + Send + 'static>(
    c: Arc<SqliteConn>,
    order: Arc<tokio::sync::Mutex<()>>,
    log: bool,
    stmt: Statement,
    keep: Option<Arc<SqliteConnection>>,
) -> RowStream<'static, T> {
    spawn_stream(move |mut sink| async move {
        let turn = order.lock_owned().await;
        blocking(move || {
            let (_held, _turn) = (keep, turn);
            let outcome = conn::for_each_row(&c.lock(), &stmt, log, |row| sink.send(row));
            sink.finish(outcome.map(drop));
            Ok(())
        })
        .await
    })
}

impl Executor for SqliteConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let (c, log) = (self.conn.clone(), self.log_values);
        let turn = self.order.clone().lock_owned().await;
        offload(self.inline, move || {
            let _turn = turn;
            conn::execute(&c.lock(), &stmt, log)
        })
        .await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let (c, log) = (self.conn.clone(), self.log_values);
        let turn = self.order.clone().lock_owned().await;
        offload(self.inline, move || {
            let _turn = turn;
            conn::fetch_all(&c.lock(), &stmt, log)
        })
        .await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        stream(
            self.conn.clone(),
            self.order.clone(),
            self.log_values,
            stmt,
            None,
        )
    }
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("in_transaction", &orm_core::Connection::is_dirty(self))
            .finish_non_exhaustive()
    }
}

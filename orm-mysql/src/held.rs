//! `MyConnection`: a connection held exclusively, for transactions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use orm_core::{
    Connection, Dialect, Error, ExecResult, Executor, FromRow, MySqlDialect, Result, RowStream,
    Statement,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::conn::MyConn;
use crate::recycle::MyObject;

// One per transaction, never in a collection: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Held {
    /// The single database's connection, with its lock held.
    Single(OwnedMutexGuard<Option<MyConn>>),
    /// A pooled connection; `None` once discarded.
    Pooled(Option<MyObject>),
}

impl Held {
    fn conn(&mut self) -> Result<&mut MyConn> {
        let conn = match self {
            Held::Single(guard) => guard.as_mut(),
            Held::Pooled(obj) => obj.as_deref_mut(),
        };
        conn.ok_or_else(|| Error::Transaction("the connection was already released".into()))
    }
}

/// A MySQL connection taken for exclusive use. Dropped while a transaction is open, it is
/// closed (the server rolls the transaction back) and never reused.
pub struct MyConnection {
    held: Mutex<Held>,
    dirty: Arc<AtomicBool>,
    log_values: bool,
}

impl MyConnection {
    pub(crate) fn new(mut held: Held, log_values: bool) -> Result<Self> {
        let dirty = held.conn()?.dirty.clone();
        Ok(MyConnection {
            held: Mutex::new(held),
            dirty,
            log_values,
        })
    }
}

impl Drop for MyConnection {
    fn drop(&mut self) {
        if !self.dirty.load(Ordering::Acquire) {
            return;
        }
        // Closing the connection makes the server roll back.
        match self.held.get_mut() {
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

impl Connection for MyConnection {
    fn set_dirty(&self, dirty: bool) {
        self.dirty.store(dirty, Ordering::Release);
    }

    fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }
}

impl Executor for MyConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &MySqlDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let mut held = self.held.lock().await;
        held.conn()?.execute(&stmt, self.log_values).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let mut held = self.held.lock().await;
        held.conn()?.fetch_all(&stmt, self.log_values).await
    }

    /// Inside a transaction the rows are read in full, then yielded one by one.
    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            let rows: Vec<T> = self.fetch_all(stmt).await?;
            Ok::<_, Error>(futures_util::stream::iter(rows.into_iter().map(Ok)))
        };
        Box::pin(futures_util::TryStreamExt::try_flatten(
            futures_util::stream::once(rows),
        ))
    }
}

impl std::fmt::Debug for MyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyConnection")
            .field("in_transaction", &orm_core::Connection::is_dirty(self))
            .finish_non_exhaustive()
    }
}

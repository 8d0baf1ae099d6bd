//! What a backend implements: run a rendered statement, sync or async.
//!
//! The query builders render a [`Statement`] once; an [`Executor`] (async) or
//! [`SyncExecutor`] (blocking) sends it and decodes rows straight from the driver's row
//! through [`FromRow`]. So one query value runs on any backend, either way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::row::FromRow;
use crate::statement::{ExecResult, Statement};

/// Rows decoded one at a time.
pub type RowStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'a>>;

/// An async database handle: a connection, a pool, or a transaction.
///
/// Implemented by the backends. Futures are `Send`, so queries run inside spawned tasks.
pub trait Executor: Send + Sync {
    /// The SQL dialect this executor speaks.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs a statement that returns no rows.
    fn execute(&self, stmt: Statement) -> impl Future<Output = Result<ExecResult>> + Send;

    /// Runs a query and decodes every row as `T`.
    fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        stmt: Statement,
    ) -> impl Future<Output = Result<Vec<T>>> + Send;

    /// Runs a query and yields rows one at a time, holding memory flat.
    fn fetch_stream<'a, T: FromRow + Send + 'static>(&'a self, stmt: Statement)
        -> RowStream<'a, T>;
}

/// A blocking database handle, for set-up code, scripts and `fn main` without a runtime.
///
/// ```
/// use orm_core::{raw_query, FetchQuery, Result, SyncExecutor};
/// // Set-up code that runs on any database, blocking.
/// fn table_count<E: SyncExecutor>(db: &E) -> Result<i64> {
///     raw_query::<i64>("SELECT count(*) FROM sqlite_master", vec![]).fetch_one_sync(db)
/// }
/// ```
pub trait SyncExecutor {
    /// The SQL dialect this executor speaks.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs a statement that returns no rows, blocking.
    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult>;

    /// Runs a query and decodes every row as `T`, blocking.
    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>>;
}

/// A connection taken from a database for exclusive use: transactions run on one.
///
/// The connection owns its transaction state. [`begin`](Connection::begin) marks it in a
/// transaction before anything is sent, and only a COMMIT or ROLLBACK the server has
/// answered marks it out of one. A connection dropped inside a transaction (its scope was
/// cancelled, panicked, or its ROLLBACK failed) is closed, so the server rolls the work
/// back; it is never handed to anyone else. Nothing else can mark it clean.
pub trait Connection: Executor + Send + Sync + 'static {
    /// Opens a transaction with `options` (the dialect's
    /// [`begin_statements`](Dialect::begin_statements)).
    fn begin(&self, options: &crate::TxOptions) -> impl Future<Output = Result<()>> + Send;

    /// Commits. A COMMIT sent whose answer never came is
    /// [`Error::CommitOutcomeUnknown`]: it may or may not have committed.
    fn commit(&self) -> impl Future<Output = Result<()>> + Send;

    /// Rolls back.
    fn rollback(&self) -> impl Future<Output = Result<()>> + Send;

    /// `SAVEPOINT name`.
    fn savepoint(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// `RELEASE SAVEPOINT name`.
    fn release_savepoint(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// `ROLLBACK TO SAVEPOINT name`.
    fn rollback_to_savepoint(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// True from [`begin`](Connection::begin) until a COMMIT or ROLLBACK has been
    /// answered.
    fn in_transaction(&self) -> bool;

    /// Closes this connection when it is given back (dropped), instead of handing it to
    /// the next user: for work that changes the session in ways the next user must not
    /// inherit (a session lock, SQLite's foreign keys turned off by a migration),
    /// whatever becomes of the future doing it. It can only cost a new connection.
    fn retire(&self);

    /// [`Executor::fetch_stream`] on a shared handle: the stream keeps the connection
    /// alive while it runs, so it outlives the borrow it was made from. By default the
    /// rows are read in full, then yielded one by one; backends that can keep memory flat
    /// override it.
    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: std::sync::Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T>
    where
        Self: Sized,
    {
        Box::pin(ReadInFull {
            read: Some(Box::pin(async move { self.fetch_all(stmt).await })),
            rows: Vec::new().into_iter(),
        })
    }
}

/// The future that reads a whole result.
type FullRead<T> = Pin<Box<dyn Future<Output = Result<Vec<T>>> + Send>>;

/// A stream over rows read in full by one future.
struct ReadInFull<T> {
    read: Option<FullRead<T>>,
    rows: std::vec::IntoIter<T>,
}

// Nothing in it is pinned in place: the future is boxed and the rows are moved out.
impl<T> Unpin for ReadInFull<T> {}

impl<T> Stream for ReadInFull<T> {
    type Item = Result<T>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(read) = this.read.as_mut() {
            let rows = match read.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(rows) => rows,
            };
            this.read = None;
            match rows {
                Ok(rows) => this.rows = rows.into_iter(),
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
        Poll::Ready(this.rows.next().map(Ok))
    }
}

/// A database: async and blocking execution, exclusive connections for transactions,
/// lazy connection management and a sync policy. Implemented by every backend's single
/// and pooled databases; the Manager is generic over it.
///
/// ```
/// use orm_core::{Database, Result};
/// // Code generic over every backend, single or pooled.
/// async fn warm_up<D: Database>(db: &D) -> Result<bool> {
///     db.connect().await?;
///     Ok(db.is_connected())
/// }
/// ```
pub trait Database: Executor + SyncExecutor + Clone + Send + Sync + 'static {
    /// The exclusive connection type.
    type Connection: Connection;

    /// Takes a connection for exclusive use (waits for running statements or a free pooled
    /// connection).
    fn acquire(&self) -> impl Future<Output = Result<Self::Connection>> + Send;

    /// Opens the async side now, if it is not open.
    fn connect(&self) -> impl Future<Output = Result<()>> + Send;

    /// Closes the async side; the next call opens it again.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// True while the async side holds an open connection (peewee-async's
    /// `is_connected`): after [`connect`](Self::connect) or a first statement, until
    /// [`close`](Self::close). A connection the server has dropped counts until the next
    /// statement finds out (and opens another).
    fn is_connected(&self) -> bool;

    /// Closes the sync connection, if open.
    fn close_sync(&self);

    /// The database's sync policy, shared by every clone.
    fn sync_gate(&self) -> &crate::SyncGate;

    /// Sets what blocking calls do from now on (peewee's `set_allow_sync`); returns the
    /// previous policy. It holds for every clone of the database.
    fn set_allow_sync(&self, policy: crate::SyncPolicy) -> crate::SyncPolicy {
        self.sync_gate().set(policy)
    }

    /// The current sync policy.
    fn sync_policy(&self) -> crate::SyncPolicy {
        self.sync_gate().policy()
    }

    /// Identifies the database across clones (for matching transaction scopes).
    fn id(&self) -> usize;

    /// A second handle on the same database, with connections of its own, for statements
    /// that must commit on their own whatever transaction the caller is in: the Manager's
    /// `get_or_create` creates a missing row through it inside a transaction, so
    /// transactions creating the same keys in different orders never wait on each other.
    /// Opened lazily and shared by clones; its lock waits are bounded (the server cannot
    /// see a wait that crosses into the caller's transaction). `None` (the default) where
    /// write transactions never run side by side (SQLite takes its write lock at BEGIN).
    fn autonomous(&self) -> Option<Self> {
        None
    }

    /// The [`autonomous`](Self::autonomous) side for statements made while `conn` holds a
    /// transaction: by default the database's one. A database of several servers answers
    /// with the side on the transaction's own server, so that the transaction sees at once
    /// what the side commits.
    fn autonomous_for(&self, conn: &Self::Connection) -> Option<Self> {
        let _ = conn;
        self.autonomous()
    }
}

impl<E: Executor + ?Sized> Executor for &E {
    fn dialect(&self) -> &'static dyn Dialect {
        (**self).dialect()
    }
    fn execute(&self, stmt: Statement) -> impl Future<Output = Result<ExecResult>> + Send {
        (**self).execute(stmt)
    }
    fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        stmt: Statement,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        (**self).fetch_all(stmt)
    }
    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        (**self).fetch_stream(stmt)
    }
}

/// A stream that yields one error and ends; for queries that fail to render.
pub struct ErrorStream<T> {
    error: Option<Error>,
    _row: std::marker::PhantomData<fn() -> T>,
}

impl<T> ErrorStream<T> {
    /// A stream yielding `error` once.
    pub fn new(error: Error) -> Self {
        ErrorStream {
            error: Some(error),
            _row: std::marker::PhantomData,
        }
    }
}

impl<T> Stream for ErrorStream<T> {
    type Item = Result<T>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().error.take().map(Err))
    }
}

impl<T> std::fmt::Debug for ErrorStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorStream")
            .field("error", &self.error)
            .finish()
    }
}

//! What a backend implements: a [`Driver`] runs statements on one of its connections;
//! the runtime does everything else (single, pooled and held connections, transactions,
//! the blocking side) once for every driver.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use orm_core::{
    Dialect, Error, ExecResult, FromRow, Limits, Result, RowStream, Statement, TxOptions,
};

use crate::pool::PoolSettings;

/// How a statement is run: the facts about its connection a driver needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Record parameter values in query traces.
    pub log_values: bool,
    /// The connection is inside a transaction: a cut statement belongs to it (the
    /// transaction's next statements queue behind it, and its end discards the
    /// connection), so nothing is retired or sent again.
    pub in_transaction: bool,
}

/// Which side of a database a connection serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The single-connection database's async connection.
    Single,
    /// A pooled database's async connection.
    Pooled,
    /// The blocking side's connection, driven by `block_on` on its own runtime.
    Blocking,
}

/// A driver's configuration: what the runtime reads from it.
pub trait DriverConfig: PoolSettings + Clone + Send + Sync + 'static {
    /// Parses a connection URL.
    fn from_url(url: &str) -> Result<Self>;
    /// Record parameter values in query traces.
    fn log_values(&self) -> bool;
    /// The configuration of the [`autonomous`](orm_core::Database::autonomous) side, or
    /// `None` where write transactions never run side by side.
    fn autonomous(&self) -> Option<Self>;
    /// What `Debug` shows of the database: its name or path, never a password.
    fn describe(&self) -> String;
}

/// One backend's connections: open one, run a statement on it, tell whether it can be
/// used again. The real differences between servers stay here: a PostgreSQL connection
/// is shared and pipelined, a MySQL one runs one statement at a time, an SQLite one runs
/// its blocking calls where its configuration says (on the calling task, letting go of
/// the worker when one runs long, or on blocking threads).
pub trait Driver: Sized + Send + Sync + 'static {
    /// The backend's name in traces (`postgres`, `mysql`, `sqlite`).
    const BACKEND: &'static str;
    /// The user-facing names of the single and pooled databases, for `Debug`.
    const NAMES: (&'static str, &'static str);
    /// A blocking connection has an I/O task that only runs inside `block_on` and must be
    /// given a turn before each use to notice what the server sent while it was idle.
    const POLL_BEFORE_USE: bool = true;

    /// Its configuration.
    type Config: DriverConfig;
    /// The driver may ask for a statement to be sent again
    /// ([`retry_on_new_connection`](Driver::retry_on_new_connection)); the runtime then
    /// lends the statement to the first attempt instead of giving it away.
    const RETRIES: bool = false;

    /// The server sets time limits only for a whole transaction (PostgreSQL's `SET LOCAL
    /// statement_timeout` and `lock_timeout`): the runtime then brings a statement with
    /// limits of its own into a transaction ([`local_limits`](Driver::local_limits)).
    /// Otherwise the driver puts [`Statement::limits`] into the statement itself.
    const LIMITS_BY_TRANSACTION: bool = false;

    /// One connection.
    type Conn: Send + Sync + 'static;
    /// State shared by every connection of one database (and its blocking side).
    type Shared: Send + Sync + 'static;

    /// The SQL dialect.
    fn dialect() -> &'static dyn Dialect;

    /// The shared state of a new database.
    fn shared(config: &Self::Config) -> Result<Self::Shared>;

    /// Opens a connection for `role`.
    fn connect(
        config: &Self::Config,
        shared: &Arc<Self::Shared>,
        role: Role,
    ) -> impl Future<Output = Result<Self::Conn>> + Send;

    /// Open, not left mid-statement, and not failed: fit for a new statement.
    fn is_usable(conn: &Self::Conn) -> bool;

    /// Makes a connection that came back to the pool fit for its next user (MySQL resets
    /// session state a statement may have changed).
    fn recycle(
        conn: &Self::Conn,
        config: &Self::Config,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (conn, config);
        async { Ok(()) }
    }

    /// Asks the server whether the connection is alive.
    fn ping(conn: &Arc<Self::Conn>) -> impl Future<Output = Result<()>> + Send;

    /// Runs a statement that returns no rows. The statement comes owned unless the runtime
    /// may send it again.
    fn execute(
        conn: &Arc<Self::Conn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> impl Future<Output = Result<ExecResult>> + Send;

    /// Runs a query and decodes every row.
    fn fetch_all<T: FromRow + Send + 'static>(
        conn: &Arc<Self::Conn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> impl Future<Output = Result<Vec<T>>> + Send;

    /// Runs a query and streams its rows; `keep` (what holds the connection for its user)
    /// lives as long as the stream.
    fn stream<T: FromRow + Send + 'static, K: Send + Sync + 'static>(
        conn: Arc<Self::Conn>,
        stmt: Statement,
        call: Call,
        keep: K,
    ) -> RowStream<'static, T>;

    /// The statements that open a transaction with `options` on `conn`: the dialect's,
    /// unless the connection owes more (PostgreSQL behind a pooler carries its session
    /// timeouts into each transaction).
    fn begin_statements(conn: &Self::Conn, options: &TxOptions) -> Result<Vec<String>> {
        let _ = conn;
        Self::dialect().begin_statements(options)
    }

    /// With [`LIMITS_BY_TRANSACTION`](Driver::LIMITS_BY_TRANSACTION): the statement that
    /// sets `limits` for the rest of the open transaction; or, with `restore`, puts back
    /// for the same settings what the transaction began with.
    fn local_limits(conn: &Self::Conn, limits: Limits, restore: Option<&TxOptions>) -> String {
        let _ = (conn, limits, restore);
        String::new()
    }

    /// Sends transaction control (`BEGIN`, `COMMIT`, `SAVEPOINT`, ...) as a simple query
    /// where the protocol has one: nothing is prepared or cached for it.
    fn simple(
        conn: &Arc<Self::Conn>,
        sql: &str,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Whether a statement that failed with `err` outside a transaction may be sent again
    /// on a new connection: nothing reached the server, or it only reads.
    fn retry_on_new_connection(conn: &Self::Conn, err: &Error, stmt: &Statement) -> bool {
        let _ = (conn, err, stmt);
        false
    }
}

/// Opens a connection within the configured connect timeout.
pub(crate) async fn connect<D: Driver>(
    config: &D::Config,
    shared: &Arc<D::Shared>,
    role: Role,
) -> Result<D::Conn> {
    let limit: Duration = config.pool_options().connect_timeout;
    match tokio::time::timeout(limit, D::connect(config, shared, role)).await {
        Ok(conn) => conn,
        Err(_) => Err(Error::ConnectTimeout(limit)),
    }
}

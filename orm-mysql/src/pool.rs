//! `PooledMySQLDatabase`: async connections from a deadpool pool, one sync connection.

use std::sync::Arc;

use deadpool::managed::{Object, Pool};
use orm_core::{
    Database, Dialect, ExecResult, Executor, FromRow, MySqlDialect, Result, RowStream, Statement,
    SyncExecutor, SyncGate,
};

use crate::config::MySqlConfig;
use crate::conn::retryable;
use crate::held::{Held, MyConnection};
use crate::recycle::Manager;
use crate::stream::spawn_stream;
use crate::sync_side::{self, SyncSide};

/// A MySQL / MariaDB database with a single drop-in sync connection and a deadpool pool
/// of async connections.
///
/// Waiting for a connection is bounded by [`MySqlConfig::acquire_timeout`]; when it runs
/// out the call fails with [`Error::PoolTimeout`](orm_core::Error::PoolTimeout). A connection that comes back broken or
/// in the middle of a statement is discarded; one whose session state may have changed
/// (raw `SET`, `USE`, `LOCK`) is reset first.
#[derive(Clone)]
pub struct PooledMySQLDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: MySqlConfig,
    autonomous: std::sync::OnceLock<Option<PooledMySQLDatabase>>,
    pool: Pool<Manager>,
    sync: SyncSide,
}

impl PooledMySQLDatabase {
    /// A pooled database for `config`; connections open on demand.
    pub fn new(config: MySqlConfig) -> Result<Self> {
        let manager = Manager {
            config: config.clone(),
        };
        let pool = orm_core::pool::build(manager, config.max_connections, config.acquire_timeout)?;
        Ok(PooledMySQLDatabase {
            inner: Arc::new(Inner {
                config,
                pool,
                sync: SyncSide::default(),
                autonomous: std::sync::OnceLock::new(),
            }),
        })
    }

    /// A pooled database for a `mysql://` URL.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Self::new(MySqlConfig::from_url(url)?)
    }

    /// The configuration.
    pub fn config(&self) -> &MySqlConfig {
        &self.inner.config
    }

    /// Opens the sync connection now (subject to the sync policy).
    pub fn connect_sync(&self) -> Result<()> {
        self.inner.sync.connect(&self.inner.config)
    }

    /// True while the sync connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    /// Pool size, connections open, and connections idle.
    pub fn pool_status(&self) -> (usize, usize, usize) {
        orm_core::pool::status(&self.inner.pool)
    }

    async fn get(&self) -> Result<Object<Manager>> {
        orm_core::pool::checkout(&self.inner.pool).await
    }
}

/// Runs `$op` on a pooled connection, once more on another when that is safe.
macro_rules! with_retry {
    ($db:expr, $stmt:expr, |$conn:ident| $op:expr) => {{
        let mut $conn = $db.get().await?;
        match $op.await {
            Err(e) if retryable(&e, $conn.stale, &$stmt.sql) => {
                drop($conn);
                let mut $conn = $db.get().await?;
                $op.await
            }
            other => other,
        }
    }};
}

impl Executor for PooledMySQLDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &MySqlDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let log = self.inner.config.log_values;
        with_retry!(self, stmt, |conn| conn.execute(&stmt, log))
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let log = self.inner.config.log_values;
        with_retry!(self, stmt, |conn| conn.fetch_all(&stmt, log))
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let db = self.clone();
        spawn_stream(move |mut rows| async move {
            let log = db.inner.config.log_values;
            let mut conn = db.get().await?;
            let outcome = conn.for_each_row(&stmt, log, |row| rows.push(row)).await;
            rows.finish(outcome.map(drop)).await;
            Ok(())
        })
    }
}

impl SyncExecutor for PooledMySQLDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &MySqlDialect
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        sync_side::execute(&self.inner.sync, &self.inner.config, stmt)
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        sync_side::fetch_all(&self.inner.sync, &self.inner.config, stmt)
    }
}

impl Database for PooledMySQLDatabase {
    type Connection = MyConnection;

    async fn acquire(&self) -> Result<MyConnection> {
        let conn = self.get().await?;
        MyConnection::new(Held::Pooled(Some(conn)), self.inner.config.log_values)
    }

    async fn connect(&self) -> Result<()> {
        self.get().await.map(drop)
    }

    async fn close(&self) {
        self.inner.pool.retain(|_, _| false);
    }

    fn close_sync(&self) {
        self.inner.sync.close();
    }

    fn sync_gate(&self) -> &SyncGate {
        &self.inner.sync.gate
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    fn autonomous(&self) -> Option<Self> {
        self.inner
            .autonomous
            .get_or_init(|| PooledMySQLDatabase::new(self.inner.config.autonomous()).ok())
            .clone()
    }
}

impl std::fmt::Debug for PooledMySQLDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct("PooledMySQLDatabase")
            .field("database", &self.config().database())
            .finish_non_exhaustive()
    }
}

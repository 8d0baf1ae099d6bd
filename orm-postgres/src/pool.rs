//! `PooledPostgresqlDatabase`: async connections from a deadpool pool, one sync connection.

use std::sync::Arc;

use deadpool::managed::Pool;
use futures_util::TryStreamExt;
use orm_core::{
    Database, Dialect, ExecResult, Executor, FromRow, PostgresDialect, Result, RowStream,
    Statement, SyncExecutor, SyncGate,
};

use crate::config::PgConfig;
use crate::held::{Held, PgConnection};
use crate::recycle::{PgManager, PgObject};
use crate::sync_side::{self, SyncSide};

/// A PostgreSQL database with a single drop-in sync connection and a pool of async
/// connections (deadpool).
///
/// Waiting for a connection is bounded by [`PgConfig::acquire_timeout`]; when it runs
/// out the call fails with [`Error::PoolTimeout`](orm_core::Error::PoolTimeout), never hangs. Connections the server
/// closed, or left inside a transaction, are never handed out again.
#[derive(Clone)]
pub struct PooledPostgresqlDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: PgConfig,
    autonomous: std::sync::OnceLock<Option<PooledPostgresqlDatabase>>,
    pool: Pool<PgManager>,
    sync: SyncSide,
}

impl PooledPostgresqlDatabase {
    /// A pooled database for `config`; connections open on demand.
    pub fn new(config: PgConfig) -> Result<Self> {
        let manager = PgManager {
            config: config.clone(),
        };
        let pool = orm_core::pool::build(manager, config.max_connections, config.acquire_timeout)?;
        Ok(PooledPostgresqlDatabase {
            inner: Arc::new(Inner {
                config,
                pool,
                sync: SyncSide::default(),
                autonomous: std::sync::OnceLock::new(),
            }),
        })
    }

    /// A pooled database for a `postgres://` URL.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Self::new(PgConfig::from_url(url)?)
    }

    /// The configuration.
    pub fn config(&self) -> &PgConfig {
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

    async fn get(&self) -> Result<PgObject> {
        orm_core::pool::checkout(&self.inner.pool).await
    }
}

impl Executor for PooledPostgresqlDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.get()
            .await?
            .run_execute(&stmt, self.inner.config.log_values)
            .await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.get()
            .await?
            .run_fetch_all(&stmt, self.inner.config.log_values)
            .await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            let conn = self.get().await?;
            let log = self.inner.config.log_values;
            // The pooled connection stays checked out until the stream is dropped.
            let stream = conn.run_stream(&stmt, log, ()).await?;
            Ok(futures_util::StreamExt::map(stream, move |row| {
                let _checked_out = &conn;
                row
            }))
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }
}

impl SyncExecutor for PooledPostgresqlDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        sync_side::execute(&self.inner.sync, &self.inner.config, stmt)
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        sync_side::fetch_all(&self.inner.sync, &self.inner.config, stmt)
    }
}

impl Database for PooledPostgresqlDatabase {
    type Connection = PgConnection;

    async fn acquire(&self) -> Result<PgConnection> {
        let conn = self.get().await?;
        Ok(PgConnection::new(
            Held::Pooled(Some(conn)),
            self.inner.config.log_values,
        ))
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
            .get_or_init(|| PooledPostgresqlDatabase::new(self.inner.config.autonomous()).ok())
            .clone()
    }
}

impl std::fmt::Debug for PooledPostgresqlDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct("PooledPostgresqlDatabase")
            .field("database", &self.config().database())
            .finish_non_exhaustive()
    }
}

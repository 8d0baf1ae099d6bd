//! `PooledPostgresqlDatabase`: async connections from a deadpool pool, one sync connection.

use std::sync::Arc;
use std::time::Instant;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures_util::TryStreamExt;
use orm_core::{
    Dialect, Error, ExecResult, Executor, FromRow, PostgresDialect, Result, RowStream, Statement,
    SyncExecutor, SyncPolicy,
};
use tokio_postgres::NoTls;

use crate::config::PgConfig;
use crate::conn;
use crate::error::map;
use crate::sync_side::{self, SyncSide};

/// A PostgreSQL database with a single drop-in sync connection and a pool of async
/// connections (deadpool-postgres).
///
/// Waiting for a connection is bounded by [`PgConfig::acquire_timeout`]; when it runs
/// out the call fails with [`Error::PoolTimeout`], never hangs. Connections the server
/// closed are dropped when they come back to the pool.
#[derive(Clone)]
pub struct PooledPostgresqlDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: PgConfig,
    pool: Pool,
    sync: SyncSide,
}

impl PooledPostgresqlDatabase {
    /// A pooled database for `config`; connections open on demand.
    pub fn new(config: PgConfig) -> Result<Self> {
        let manager = Manager::from_config(
            config.pg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.max_connections)
            .wait_timeout(Some(config.acquire_timeout))
            .create_timeout(Some(config.acquire_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the connection pool: {e}")))?;
        Ok(PooledPostgresqlDatabase {
            inner: Arc::new(Inner {
                config,
                pool,
                sync: SyncSide::default(),
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

    /// Opens one pooled connection now, to fail early on bad settings.
    pub async fn connect(&self) -> Result<()> {
        self.get().await.map(drop)
    }

    /// Closes the idle pooled connections; connections in use close when returned. Later
    /// calls open new ones.
    pub async fn close(&self) {
        self.inner.pool.retain(|_, _| false);
    }

    /// Opens the sync connection now (subject to the sync policy).
    pub fn connect_sync(&self) -> Result<()> {
        self.inner.sync.connect(&self.inner.config)
    }

    /// Closes the sync connection, if open.
    pub fn close_sync(&self) {
        self.inner.sync.close();
    }

    /// True while the sync connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    /// Sets what blocking calls do from now on; returns the previous policy.
    pub fn set_allow_sync(&self, policy: SyncPolicy) -> SyncPolicy {
        self.inner.sync.gate.set(policy)
    }

    /// The current sync policy.
    pub fn sync_policy(&self) -> SyncPolicy {
        self.inner.sync.gate.policy()
    }

    /// Pool size, connections open, and connections idle.
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let s = self.inner.pool.status();
        (s.max_size, s.size, s.available)
    }

    async fn get(&self) -> Result<Object> {
        let started = Instant::now();
        self.inner.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => {
                let s = self.inner.pool.status();
                Error::PoolTimeout {
                    waited: started.elapsed(),
                    in_use: s.size.saturating_sub(s.available),
                    max: s.max_size,
                }
            }
            PoolError::Backend(e) => map(e),
            other => Error::Driver(Box::new(other)),
        })
    }
}

impl Executor for PooledPostgresqlDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        conn::validate(&stmt)?;
        let client = self.get().await?;
        let prepared = client.prepare_cached(&stmt.sql).await.map_err(map)?;
        conn::execute(&client, &prepared, &stmt, self.inner.config.log_values).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        conn::validate(&stmt)?;
        let client = self.get().await?;
        let prepared = client.prepare_cached(&stmt.sql).await.map_err(map)?;
        conn::fetch_all(&client, &prepared, &stmt, self.inner.config.log_values).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            conn::validate(&stmt)?;
            let client = self.get().await?;
            let prepared = client.prepare_cached(&stmt.sql).await.map_err(map)?;
            let log = self.inner.config.log_values;
            let stream = conn::stream(&client, &prepared, &stmt, log, ()).await?;
            // The pooled connection stays checked out until the stream is dropped.
            Ok(futures_util::StreamExt::map(stream, move |row| {
                let _connection = &client;
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

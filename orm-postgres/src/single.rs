//! `PostgresqlDatabase`: one async connection and one sync connection, both lazy.

use std::sync::Arc;

use futures_util::TryStreamExt;
use orm_core::{
    Dialect, ExecResult, Executor, FromRow, PostgresDialect, Result, RowStream, Statement,
    SyncExecutor, SyncPolicy,
};
use tokio::sync::Mutex;

use crate::config::PgConfig;
use crate::conn::{self, PgConn};
use crate::sync_side::{self, SyncSide};

/// A PostgreSQL database with a single drop-in sync connection and a single async
/// connection, both opened on first use and replaced when the server closes them.
///
/// Cheap to clone; clones share the connections and the sync policy. Concurrent tasks
/// share the async connection: tokio-postgres pipelines their queries.
///
/// ```no_run
/// use orm_postgres::PostgresqlDatabase;
/// let db = PostgresqlDatabase::connect_lazy("postgres://postgres@127.0.0.1/test")?;
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Clone)]
pub struct PostgresqlDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: PgConfig,
    conn: Mutex<Option<Arc<PgConn>>>,
    sync: SyncSide,
}

impl PostgresqlDatabase {
    /// A database for `config`; nothing is opened yet.
    pub fn new(config: PgConfig) -> Self {
        PostgresqlDatabase {
            inner: Arc::new(Inner {
                config,
                conn: Mutex::new(None),
                sync: SyncSide::default(),
            }),
        }
    }

    /// A database for a `postgres://` URL; nothing is opened yet.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Ok(Self::new(PgConfig::from_url(url)?))
    }

    /// The configuration.
    pub fn config(&self) -> &PgConfig {
        &self.inner.config
    }

    /// Opens the async connection now, if it is not open.
    pub async fn connect(&self) -> Result<()> {
        self.conn().await.map(drop)
    }

    /// Closes the async connection, if open. The next async call opens a new one.
    pub async fn close(&self) {
        self.inner.conn.lock().await.take();
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

    async fn conn(&self) -> Result<Arc<PgConn>> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
        }
        *slot = None;
        let conn = Arc::new(PgConn::connect(&self.inner.config).await?);
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

impl Executor for PostgresqlDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        conn::validate(&stmt)?;
        let c = self.conn().await?;
        let prepared = c.prepare(&stmt.sql).await?;
        conn::execute(c.client(), &prepared, &stmt, self.inner.config.log_values).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        conn::validate(&stmt)?;
        let c = self.conn().await?;
        let prepared = c.prepare(&stmt.sql).await?;
        conn::fetch_all(c.client(), &prepared, &stmt, self.inner.config.log_values).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            conn::validate(&stmt)?;
            let c = self.conn().await?;
            let prepared = c.prepare(&stmt.sql).await?;
            let log = self.inner.config.log_values;
            let keep = c.clone();
            conn::stream(c.client(), &prepared, &stmt, log, keep).await
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }
}

impl SyncExecutor for PostgresqlDatabase {
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

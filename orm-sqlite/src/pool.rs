//! `PooledSqliteDatabase`: async connections from a deadpool pool, one sync connection.

use std::sync::{Arc, Mutex};

use deadpool::managed::Pool;
use orm_core::{
    Database, Dialect, ExecResult, Executor, FromRow, Result, RowStream, SqliteDialect, Statement,
    SyncExecutor, SyncGate,
};
use rusqlite::Connection;

use crate::config::SqliteConfig;
use crate::conn::{self, blocking};
use crate::held::{Held, SqliteConnection};
use crate::recycle::{Manager, SqliteObject};
use crate::single::keeper;
use crate::stream::spawn_stream;
use crate::sync_side::{self, SyncSide};

/// An SQLite database with a single drop-in sync connection and a deadpool pool of async
/// connections. File databases run in WAL mode with a busy timeout, so concurrent writers
/// through the pool wait for each other instead of failing.
#[derive(Clone)]
pub struct PooledSqliteDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<SqliteConfig>,
    pool: Pool<Manager>,
    gate: Arc<crate::gate::Gate>,
    sync: SyncSide,
    _keeper: Option<Mutex<Connection>>,
}

impl PooledSqliteDatabase {
    /// A pooled database for `config`.
    pub fn new(config: SqliteConfig) -> Result<Self> {
        let keeper = keeper(&config)?;
        let config = Arc::new(config);
        let pool = orm_core::pool::build(
            Manager {
                config: config.clone(),
            },
            config.max_connections,
            config.acquire_timeout,
        )?;
        Ok(PooledSqliteDatabase {
            inner: Arc::new(Inner {
                config,
                pool,
                gate: Arc::default(),
                sync: SyncSide::default(),
                _keeper: keeper,
            }),
        })
    }

    /// A pooled database for `sqlite://path/to/file.db` or `sqlite::memory:`.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Self::new(SqliteConfig::from_url(url)?)
    }

    /// The configuration.
    pub fn config(&self) -> &SqliteConfig {
        &self.inner.config
    }

    /// Pool size, connections open, and connections idle, as on the server backends.
    ///
    /// ```
    /// # use orm_sqlite::{PooledSqliteDatabase, SqliteConfig};
    /// let db = PooledSqliteDatabase::new(SqliteConfig::memory().max_connections(3))?;
    /// assert_eq!(db.pool_status(), (3, 0, 0), "connections open on demand");
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn pool_status(&self) -> (usize, usize, usize) {
        orm_core::pool::status(&self.inner.pool)
    }

    /// True while the sync connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    async fn get(&self) -> Result<SqliteObject> {
        orm_core::pool::checkout(&self.inner.pool).await
    }
}

impl Executor for PooledSqliteDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.inner.gate.clear().await;
        let obj = self.get().await?;
        let log = self.inner.config.log_values;
        self.inner
            .gate
            .run(move || conn::execute(&obj.lock(), &stmt, log))
            .await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.inner.gate.clear().await;
        let obj = self.get().await?;
        let log = self.inner.config.log_values;
        self.inner
            .gate
            .run(move || conn::fetch_all(&obj.lock(), &stmt, log))
            .await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let db = self.clone();
        spawn_stream(move |mut sink| async move {
            let obj = db.get().await?;
            let (c, log) = (Arc::clone(&obj), db.inner.config.log_values);
            blocking(move || {
                let outcome = conn::for_each_row(&c.lock(), &stmt, log, |row| sink.send(row));
                drop(obj);
                sink.finish(outcome.map(drop));
                Ok(())
            })
            .await
        })
    }
}

impl SyncExecutor for PooledSqliteDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        sync_side::execute(&self.inner.sync, &self.inner.config, stmt)
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        sync_side::fetch_all(&self.inner.sync, &self.inner.config, stmt)
    }
}

impl Database for PooledSqliteDatabase {
    type Connection = SqliteConnection;

    async fn acquire(&self) -> Result<SqliteConnection> {
        let obj = self.get().await?;
        let conn = Arc::clone(&obj);
        // Pooled connections always work on the blocking pool (see `run_inline`).
        let log = self.inner.config.log_values;
        Ok(SqliteConnection::new(
            Held::Pooled(Some(obj)),
            conn,
            log,
            false,
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
}

impl std::fmt::Debug for PooledSqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledSqliteDatabase")
            .field("path", &self.config().path())
            .finish_non_exhaustive()
    }
}

//! `PostgresqlDatabase`: one async connection and one sync connection, both lazy.

use std::sync::Arc;

use futures_util::TryStreamExt;
use orm_core::{
    Database, Dialect, Error, ExecResult, Executor, FromRow, PostgresDialect, Result, RowStream,
    Statement, SyncExecutor, SyncGate,
};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::config::PgConfig;
use crate::conn::PgConn;
use crate::held::{Held, PgConnection};
use crate::sync_side::{self, SyncSide};

type Slot = Option<Arc<PgConn>>;

/// A PostgreSQL database with a single drop-in sync connection and a single async
/// connection, both opened on first use and replaced when the server closes them.
///
/// Cheap to clone; clones share the connections and the sync policy. Concurrent tasks
/// share the async connection (tokio-postgres pipelines their queries); a transaction
/// ([`Database::acquire`]) holds it alone until it ends.
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
    slot: Arc<RwLock<Slot>>,
    sync: SyncSide,
    autonomous: std::sync::OnceLock<PostgresqlDatabase>,
    close: orm_core::pool::PendingClose,
}

impl PostgresqlDatabase {
    /// A database for `config`; nothing is opened yet.
    pub fn new(config: PgConfig) -> Self {
        PostgresqlDatabase {
            inner: Arc::new(Inner {
                config,
                slot: Arc::new(RwLock::new(None)),
                sync: SyncSide::default(),
                autonomous: std::sync::OnceLock::new(),
                close: Default::default(),
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

    /// Opens the sync connection now (subject to the sync policy).
    pub fn connect_sync(&self) -> Result<()> {
        self.inner.sync.connect(&self.inner.config)
    }

    /// True while the sync connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    /// The shared connection, with the lock held for reading so that no transaction starts
    /// on it while the caller's statement runs.
    async fn shared(&self) -> Result<(OwnedRwLockReadGuard<Slot>, Arc<PgConn>)> {
        loop {
            let guard = self.inner.slot.clone().read_owned().await;
            let usable = guard.as_ref().filter(|c| c.is_usable()).cloned();
            if let (Some(conn), false) = (usable, self.inner.close.is_requested()) {
                return Ok((guard, conn));
            }
            drop(guard);
            let mut slot = self.inner.slot.write().await;
            self.inner.close.apply(&mut slot);
            if !slot.as_ref().is_some_and(|c| c.is_usable()) {
                *slot = Some(Arc::new(PgConn::connect(&self.inner.config).await?));
            }
        }
    }
}

impl Executor for PostgresqlDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let (_guard, conn) = self.shared().await?;
        conn.run_execute(&stmt, self.inner.config.log_values).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let (_guard, conn) = self.shared().await?;
        conn.run_fetch_all(&stmt, self.inner.config.log_values)
            .await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let rows = async move {
            let (guard, conn) = self.shared().await?;
            let log = self.inner.config.log_values;
            conn.run_stream(&stmt, log, (guard, conn.clone())).await
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

impl Database for PostgresqlDatabase {
    type Connection = PgConnection;

    async fn acquire(&self) -> Result<PgConnection> {
        let mut guard = self.inner.slot.clone().write_owned().await;
        self.inner.close.apply(&mut guard);
        if !guard.as_ref().is_some_and(|c| c.is_usable()) {
            *guard = Some(Arc::new(PgConn::connect(&self.inner.config).await?));
        }
        let conn = guard
            .as_ref()
            .cloned()
            .ok_or_else(|| Error::Config("the PostgreSQL connection could not be opened".into()))?;
        Ok(PgConnection::new(
            Held::Single { guard, conn },
            self.inner.config.log_values,
        ))
    }

    async fn connect(&self) -> Result<()> {
        self.shared().await.map(drop)
    }

    /// Closes the connection now if it is free; if a transaction (or a statement) holds
    /// it, returns at once and the connection closes when it is released.
    async fn close(&self) {
        match self.inner.slot.try_write() {
            Ok(mut slot) => drop(slot.take()),
            Err(_) => self.inner.close.request(),
        }
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
        let side = self
            .inner
            .autonomous
            .get_or_init(|| PostgresqlDatabase::new(self.inner.config.autonomous()));
        Some(side.clone())
    }
}

impl std::fmt::Debug for PostgresqlDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct("PostgresqlDatabase")
            .field("database", &self.config().database())
            .finish_non_exhaustive()
    }
}

//! `SqliteDatabase`: one async connection and one sync connection, both lazy.

use std::sync::{Arc, Mutex};

use orm_core::{
    Database, Dialect, ExecResult, Executor, FromRow, Result, RowStream, SqliteDialect, Statement,
    SyncExecutor, SyncGate,
};
use rusqlite::Connection;
use tokio::sync::Mutex as AsyncMutex;

use crate::config::SqliteConfig;
use crate::conn::{self, blocking, offload, SqliteConn};
use crate::held::{Held, SqliteConnection};
use crate::stream::spawn_stream;
use crate::sync_side::{self, SyncSide};

type Slot = Option<Arc<SqliteConn>>;

/// An SQLite database with a single drop-in sync connection and a single async connection,
/// both opened on first use. Async calls run the SQLite work on tokio's blocking threads.
///
/// ```
/// use orm_sqlite::SqliteDatabase;
/// let db = SqliteDatabase::connect_lazy("sqlite::memory:")?;
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SqliteDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<SqliteConfig>,
    slot: Arc<AsyncMutex<Slot>>,
    sync: SyncSide,
    close: orm_core::pool::PendingClose,
    /// Keeps an in-memory database alive while the `Database` value exists.
    _keeper: Option<Mutex<Connection>>,
}

/// Opens a connection for the memory database to live in, if it is one.
pub(crate) fn keeper(config: &SqliteConfig) -> Result<Option<Mutex<Connection>>> {
    if config.is_memory() {
        Ok(Some(Mutex::new(conn::open(config)?)))
    } else {
        Ok(None)
    }
}

/// The slot's connection, opened if empty or left dirty by a cancelled transaction.
pub(crate) fn ensure(slot: &mut Slot, config: &SqliteConfig) -> Result<Arc<SqliteConn>> {
    match slot {
        Some(conn) if !conn.is_dirty() => Ok(conn.clone()),
        _ => {
            *slot = None;
            let conn = SqliteConn::new(conn::open(config)?);
            *slot = Some(conn.clone());
            Ok(conn)
        }
    }
}

impl SqliteDatabase {
    /// A database for `config`. An in-memory database is created now; a file opens on
    /// first use.
    pub fn new(config: SqliteConfig) -> Result<Self> {
        Ok(SqliteDatabase {
            inner: Arc::new(Inner {
                _keeper: keeper(&config)?,
                config: Arc::new(config),
                slot: Arc::new(AsyncMutex::new(None)),
                sync: SyncSide::default(),
                close: Default::default(),
            }),
        })
    }

    /// A database for `sqlite://path/to/file.db` or `sqlite::memory:`.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Self::new(SqliteConfig::from_url(url)?)
    }

    /// The configuration.
    pub fn config(&self) -> &SqliteConfig {
        &self.inner.config
    }

    /// True while the sync connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    /// Runs `work` on the async connection, on a blocking thread, holding it alone.
    async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let mut guard = self.inner.slot.clone().lock_owned().await;
        self.inner.close.apply(&mut guard);
        let config = self.inner.config.clone();
        offload(config.inline, move || {
            let conn = ensure(&mut guard, &config)?;
            let result = work(&conn.lock());
            drop(guard);
            result
        })
        .await
    }
}

impl Executor for SqliteDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let log = self.inner.config.log_values;
        self.run(move |c| conn::execute(c, &stmt, log)).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let log = self.inner.config.log_values;
        self.run(move |c| conn::fetch_all(c, &stmt, log)).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        let (inner, config) = (self.inner.clone(), self.inner.config.clone());
        spawn_stream(move |mut sink| async move {
            let mut guard = inner.slot.clone().lock_owned().await;
            inner.close.apply(&mut guard);
            blocking(move || {
                let outcome = ensure(&mut guard, &config).and_then(|conn| {
                    let log = config.log_values;
                    conn::for_each_row(&conn.lock(), &stmt, log, |row| sink.send(row))
                });
                sink.finish(outcome.map(drop));
                Ok(())
            })
            .await
        })
    }
}

impl SyncExecutor for SqliteDatabase {
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

impl Database for SqliteDatabase {
    type Connection = SqliteConnection;

    async fn acquire(&self) -> Result<SqliteConnection> {
        let mut guard = self.inner.slot.clone().lock_owned().await;
        self.inner.close.apply(&mut guard);
        let config = self.inner.config.clone();
        offload(config.inline, move || {
            let conn = ensure(&mut guard, &config)?;
            let (log, inline) = (config.log_values, config.inline);
            Ok(SqliteConnection::new(
                Held::Single(guard),
                conn,
                log,
                inline,
            ))
        })
        .await
    }

    async fn connect(&self) -> Result<()> {
        self.run(|_| Ok(())).await
    }

    /// Closes the connection now if it is free; if a transaction (or a statement) holds
    /// it, returns at once and the connection closes when it is released.
    async fn close(&self) {
        match self.inner.slot.try_lock() {
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
}

impl std::fmt::Debug for SqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDatabase")
            .field("path", &self.config().path())
            .finish_non_exhaustive()
    }
}

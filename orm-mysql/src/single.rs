//! `MySQLDatabase`: one async connection and one sync connection, both lazy.

use std::sync::Arc;

use orm_core::{
    Database, Dialect, ExecResult, Executor, FromRow, MySqlDialect, Result, RowStream, Statement,
    SyncExecutor, SyncGate,
};
use tokio::sync::Mutex;

use crate::config::MySqlConfig;
use crate::conn::{ensure, retryable, MyConn};
use crate::held::{Held, MyConnection};
use crate::stream::spawn_stream;
use crate::sync_side::{self, SyncSide};

/// A MySQL / MariaDB database with a single drop-in sync connection and a single async
/// connection, both opened on first use.
///
/// Cheap to clone; clones share the connections and the sync policy. Concurrent tasks take
/// turns on the async connection. A connection the server closed (restart, `KILL`,
/// `wait_timeout`) is replaced: reads are sent again on the new connection, and a
/// connection idle for more than a second is pinged before a write.
///
/// ```no_run
/// use orm_mysql::MySQLDatabase;
/// let db = MySQLDatabase::connect_lazy("mysql://root@127.0.0.1:3306/test")?;
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Clone)]
pub struct MySQLDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    config: MySqlConfig,
    conn: Arc<Mutex<Option<MyConn>>>,
    sync: SyncSide,
    autonomous: std::sync::OnceLock<MySQLDatabase>,
    close: orm_core::pool::PendingClose,
}

impl MySQLDatabase {
    /// A database for `config`; nothing is opened yet.
    pub fn new(config: MySqlConfig) -> Self {
        MySQLDatabase {
            inner: Arc::new(Inner {
                config,
                conn: Arc::new(Mutex::new(None)),
                sync: SyncSide::default(),
                autonomous: std::sync::OnceLock::new(),
                close: Default::default(),
            }),
        }
    }

    /// A database for a `mysql://` URL; nothing is opened yet.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Ok(Self::new(MySqlConfig::from_url(url)?))
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
}

/// Runs `$op` on the async connection, once more on a new connection when that is safe.
macro_rules! with_retry {
    ($db:expr, $stmt:expr, |$conn:ident| $op:expr) => {{
        let mut slot = $db.inner.conn.lock().await;
        let first = {
            let $conn = ensure(&mut slot, &$db.inner.config, &$db.inner.close).await?;
            $op.await
        };
        match first {
            Err(e) if retryable(&e, slot.as_ref().is_some_and(|c| c.stale), &$stmt.sql) => {
                let $conn = ensure(&mut slot, &$db.inner.config, &$db.inner.close).await?;
                $op.await
            }
            other => other,
        }
    }};
}

impl Executor for MySQLDatabase {
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
            let mut slot = db.inner.conn.lock().await;
            let conn = ensure(&mut slot, &db.inner.config, &db.inner.close).await?;
            let outcome = conn.for_each_row(&stmt, log, |row| rows.push(row)).await;
            rows.finish(outcome.map(drop)).await;
            Ok(())
        })
    }
}

impl SyncExecutor for MySQLDatabase {
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

impl Database for MySQLDatabase {
    type Connection = MyConnection;

    async fn acquire(&self) -> Result<MyConnection> {
        let mut guard = self.inner.conn.clone().lock_owned().await;
        ensure(&mut guard, &self.inner.config, &self.inner.close).await?;
        MyConnection::new(Held::Single(guard), self.inner.config.log_values)
    }

    async fn connect(&self) -> Result<()> {
        let mut slot = self.inner.conn.lock().await;
        ensure(&mut slot, &self.inner.config, &self.inner.close)
            .await
            .map(drop)
    }

    /// Closes the connection now if it is free; if a transaction (or a statement) holds
    /// it, returns at once and the connection closes when it is released.
    async fn close(&self) {
        match self.inner.conn.try_lock() {
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
            .get_or_init(|| MySQLDatabase::new(self.inner.config.autonomous()));
        Some(side.clone())
    }
}

impl std::fmt::Debug for MySQLDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct("MySQLDatabase")
            .field("database", &self.config().database())
            .finish_non_exhaustive()
    }
}

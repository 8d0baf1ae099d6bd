//! The SQLite driver: rusqlite connections, run where [`RunOn`] says.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use orm_core::{Dialect, ExecResult, FromRow, Result, RowStream, SqliteDialect, Statement};
use orm_runtime::{batch, Call, Driver, Role};

use crate::config::{RunOn, SqliteConfig};
use crate::conn::{self, SqliteConn, BACKEND};
use crate::gate::Gate;
use crate::offload::{blocking, offload};

/// SQLite for the runtime: SQLite calls block, so statements run where
/// [`SqliteConfig::run_on`] says (by default on the calling task, letting go of the
/// runtime worker when one runs long), one at a time per connection, in the order they
/// were sent; rows stream from a blocking thread in batches.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDriver;

/// What the connections of one SQLite database share.
#[derive(Debug)]
pub struct SqliteShared {
    /// Keeps an in-memory database alive while the database value exists.
    _keeper: Option<Mutex<rusqlite::Connection>>,
    /// Orders the pooled connections' statements after abandoned ones.
    gate: Arc<Gate>,
    /// Connections open one at a time: switching a new file to WAL takes a lock that a
    /// second connection opening at the same moment fails on ("database is locked"),
    /// busy timeout or not.
    opening: Arc<Mutex<()>>,
}

impl SqliteShared {
    /// Opens a connection, one at a time per database.
    fn open(&self, config: &SqliteConfig) -> Result<rusqlite::Connection> {
        let _one_at_a_time = self.opening.lock().unwrap_or_else(PoisonError::into_inner);
        conn::open(config)
    }
}

impl Driver for SqliteDriver {
    const BACKEND: &'static str = BACKEND;
    const NAMES: (&'static str, &'static str) = ("SqliteDatabase", "PooledSqliteDatabase");
    // SQLite runs in the calling thread: there is no I/O task to give a turn to.
    const POLL_BEFORE_USE: bool = false;

    type Config = SqliteConfig;
    type Conn = SqliteConn;
    type Shared = SqliteShared;

    fn dialect() -> &'static dyn Dialect {
        &SqliteDialect
    }

    fn shared(config: &SqliteConfig) -> Result<SqliteShared> {
        let keeper = if config.is_memory() {
            Some(Mutex::new(conn::open(config)?))
        } else {
            None
        };
        Ok(SqliteShared {
            _keeper: keeper,
            gate: Arc::default(),
            opening: Arc::default(),
        })
    }

    async fn connect(
        config: &SqliteConfig,
        shared: &Arc<SqliteShared>,
        role: Role,
    ) -> Result<SqliteConn> {
        let (run_on, peer, busy) = (config.run_on, config.peer(), config.busy_timeout);
        let (config, opener) = (config.clone(), shared.clone());
        let open = move || opener.open(&config);
        match role {
            Role::Blocking => open().map(|c| SqliteConn::new(c, peer, RunOn::Inline, None, busy)),
            Role::Pooled => {
                let gate = shared.gate.clone();
                blocking(open)
                    .await
                    .map(|c| SqliteConn::new(c, peer, run_on, Some(gate), busy))
            }
            Role::Single => offload(run_on == RunOn::Inline, open)
                .await
                .map(|c| SqliteConn::new(c, peer, run_on, None, busy)),
        }
    }

    fn is_usable(_: &SqliteConn) -> bool {
        true
    }

    async fn ping(_: &Arc<SqliteConn>) -> Result<()> {
        Ok(())
    }

    async fn execute(
        conn: &Arc<SqliteConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<ExecResult> {
        let log = call.log_values;
        conn.run(call, stmt, move |c, peer, stmt| {
            conn::execute(c, peer, stmt, log)
        })
        .await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(
        conn: &Arc<SqliteConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<Vec<T>> {
        let log = call.log_values;
        conn.run(call, stmt, move |c, peer, stmt| {
            conn::fetch_all(c, peer, stmt, log)
        })
        .await
    }

    fn stream<T: FromRow + Send + 'static, K: Send + Sync + 'static>(
        conn: Arc<SqliteConn>,
        stmt: Statement,
        call: Call,
        keep: K,
    ) -> RowStream<'static, T> {
        batch::spawn(move |mut rows| async move {
            conn.run_blocking(move |c, peer| {
                let _keep = keep;
                let outcome = conn::for_each_row(c, peer, &stmt, call.log_values, |row| {
                    rows.send_blocking(row)
                });
                rows.finish_blocking(outcome.map(drop));
                Ok(())
            })
            .await
        })
    }

    async fn simple(conn: &Arc<SqliteConn>, sql: &str, call: Call) -> Result<()> {
        let stmt = Cow::Owned(Statement::new(sql));
        conn.run(call, stmt, |c, peer, stmt| conn::simple(c, peer, &stmt.sql))
            .await
    }
}

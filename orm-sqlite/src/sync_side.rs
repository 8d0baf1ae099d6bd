//! The sync side: orm-core's [`BlockingSide`] over one SQLite connection.

use orm_core::{BlockingConnection, BlockingSide, ExecResult, FromRow, Result, Statement};

use crate::config::SqliteConfig;
use crate::conn;

/// The sync side's own connection.
pub(crate) struct SyncConn(rusqlite::Connection);

impl BlockingConnection for SyncConn {
    type Config = SqliteConfig;

    async fn open(config: &SqliteConfig) -> Result<Self> {
        conn::open(config).map(SyncConn)
    }

    fn is_broken(&self) -> bool {
        false
    }

    // SQLite runs in the calling thread: there is no I/O task to give a turn to.
    const POLL_BEFORE_USE: bool = false;
}

pub(crate) type SyncSide = BlockingSide<SyncConn>;

pub(crate) fn execute(
    side: &SyncSide,
    config: &SqliteConfig,
    stmt: Statement,
) -> Result<ExecResult> {
    side.run(config, &stmt.sql, |_, c| {
        conn::execute(&c.0, &stmt, config.log_values)
    })
}

pub(crate) fn fetch_all<T: FromRow + Send>(
    side: &SyncSide,
    config: &SqliteConfig,
    stmt: Statement,
) -> Result<Vec<T>> {
    side.run(config, &stmt.sql, |_, c| {
        conn::fetch_all(&c.0, &stmt, config.log_values)
    })
}

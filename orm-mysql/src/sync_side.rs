//! The sync side: orm-core's [`BlockingSide`] over one MySQL connection.

use orm_core::{BlockingConnection, BlockingSide, ExecResult, FromRow, Result, Statement};

use crate::config::MySqlConfig;
use crate::conn::{retryable, MyConn};

impl BlockingConnection for MyConn {
    type Config = MySqlConfig;

    async fn open(config: &MySqlConfig) -> Result<Self> {
        MyConn::connect(config).await
    }

    fn is_broken(&self) -> bool {
        MyConn::is_broken(self)
    }
}

pub(crate) type SyncSide = BlockingSide<MyConn>;

/// Runs `op` once, and once more on a new connection when that is safe.
fn run<R: Send>(
    side: &SyncSide,
    config: &MySqlConfig,
    stmt: &Statement,
    op: impl Fn(&tokio::runtime::Runtime, &mut MyConn) -> Result<R> + Send + Sync,
) -> Result<R> {
    let mut stale = false;
    let first = side.run(config, &stmt.sql, |rt, conn| {
        let result = op(rt, conn);
        stale = conn.stale;
        result
    });
    match first {
        Err(e) if retryable(&e, stale, &stmt.sql) => side.run(config, &stmt.sql, op),
        other => other,
    }
}

pub(crate) fn execute(
    side: &SyncSide,
    config: &MySqlConfig,
    stmt: Statement,
) -> Result<ExecResult> {
    run(side, config, &stmt, |rt, c| {
        rt.block_on(c.execute(&stmt, config.log_values))
    })
}

pub(crate) fn fetch_all<T: FromRow + Send>(
    side: &SyncSide,
    config: &MySqlConfig,
    stmt: Statement,
) -> Result<Vec<T>> {
    run(side, config, &stmt, |rt, c| {
        rt.block_on(c.fetch_all(&stmt, config.log_values))
    })
}

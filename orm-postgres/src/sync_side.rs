//! The sync side: orm-core's [`BlockingSide`] over one PostgreSQL connection.

use orm_core::{BlockingConnection, BlockingSide, ExecResult, FromRow, Result, Statement};

use crate::config::PgConfig;
use crate::conn::PgConn;

impl BlockingConnection for PgConn {
    type Config = PgConfig;

    async fn open(config: &PgConfig) -> Result<Self> {
        PgConn::connect(config).await
    }

    fn is_broken(&self) -> bool {
        !self.is_usable()
    }
}

pub(crate) type SyncSide = BlockingSide<PgConn>;

pub(crate) fn execute(side: &SyncSide, config: &PgConfig, stmt: Statement) -> Result<ExecResult> {
    side.run(config, &stmt.sql, |rt, c| {
        rt.block_on(c.run_execute(&stmt, config.log_values))
    })
}

pub(crate) fn fetch_all<T: FromRow + Send>(
    side: &SyncSide,
    config: &PgConfig,
    stmt: Statement,
) -> Result<Vec<T>> {
    side.run(config, &stmt.sql, |rt, c| {
        rt.block_on(c.run_fetch_all(&stmt, config.log_values))
    })
}

//! The sync side: orm-core's [`BlockingSide`] over one PostgreSQL connection.

use orm_core::{BlockingConnection, BlockingSide, ExecResult, FromRow, Result, Statement};

use crate::config::PgConfig;
use crate::conn::{self, PgConn};

impl BlockingConnection for PgConn {
    type Config = PgConfig;

    async fn open(config: &PgConfig) -> Result<Self> {
        PgConn::connect(config).await
    }

    fn is_broken(&self) -> bool {
        self.is_closed()
    }
}

pub(crate) type SyncSide = BlockingSide<PgConn>;

pub(crate) fn execute(side: &SyncSide, config: &PgConfig, stmt: Statement) -> Result<ExecResult> {
    conn::validate(&stmt)?;
    side.run(config, &stmt.sql, |rt, c| {
        rt.block_on(async {
            let prepared = c.prepare(&stmt.sql).await?;
            conn::execute(c.client(), &prepared, &stmt, config.log_values).await
        })
    })
}

pub(crate) fn fetch_all<T: FromRow + Send>(
    side: &SyncSide,
    config: &PgConfig,
    stmt: Statement,
) -> Result<Vec<T>> {
    conn::validate(&stmt)?;
    side.run(config, &stmt.sql, |rt, c| {
        rt.block_on(async {
            let prepared = c.prepare(&stmt.sql).await?;
            conn::fetch_all(c.client(), &prepared, &stmt, config.log_values).await
        })
    })
}

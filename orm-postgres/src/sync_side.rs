//! The sync side of a database: one drop-in blocking connection with its own small
//! runtime, guarded by the database's sync policy.

use std::sync::{Mutex, PoisonError};

use orm_core::{run_blocking, Error, ExecResult, FromRow, Result, Statement, SyncGate};
use tokio::runtime::Runtime;

use crate::config::PgConfig;
use crate::conn::{self, PgConn};

struct SyncConn {
    runtime: Option<Runtime>,
    conn: PgConn,
}

impl Drop for SyncConn {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so dropping is safe inside async code too.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The blocking connection of a database, opened on first use.
#[derive(Default)]
pub(crate) struct SyncSide {
    slot: Mutex<Option<SyncConn>>,
    pub(crate) gate: SyncGate,
}

impl SyncSide {
    /// Runs `op` on the sync connection, blocking; see [`run_blocking`] for calls made on
    /// a thread that drives a runtime.
    fn run<R: Send>(
        &self,
        config: &PgConfig,
        sql: &str,
        op: impl FnOnce(&Runtime, &PgConn) -> Result<R> + Send,
    ) -> Result<R> {
        self.gate.check(sql)?;
        run_blocking(|| {
            let mut slot = match self.slot.lock() {
                Ok(slot) => slot,
                Err(poisoned) => {
                    // A panic mid-query left the connection in an unknown state.
                    let mut slot = poisoned.into_inner();
                    *slot = None;
                    slot
                }
            };
            if let Some(SyncConn {
                runtime: Some(rt), ..
            }) = slot.as_ref()
            {
                // The connection's I/O task only runs inside `block_on`: let it read what
                // arrived while idle (a server-side termination) before choosing to reuse it.
                rt.block_on(async {
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                });
            }
            if slot.as_ref().is_none_or(|c| c.conn.is_closed()) {
                *slot = None;
                *slot = Some(open(config)?);
            }
            let Some(SyncConn {
                runtime: Some(rt),
                conn,
            }) = slot.as_ref()
            else {
                return Err(Error::Transaction("sync connection unavailable".into()));
            };
            op(rt, conn)
        })
    }

    pub(crate) fn execute(&self, config: &PgConfig, stmt: Statement) -> Result<ExecResult> {
        conn::validate(&stmt)?;
        let log = config.log_values;
        self.run(config, &stmt.sql, |rt, c| {
            rt.block_on(async {
                let prepared = c.prepare(&stmt.sql).await?;
                conn::execute(c.client(), &prepared, &stmt, log).await
            })
        })
    }

    pub(crate) fn fetch_all<T: FromRow + Send>(
        &self,
        config: &PgConfig,
        stmt: Statement,
    ) -> Result<Vec<T>> {
        conn::validate(&stmt)?;
        let log = config.log_values;
        self.run(config, &stmt.sql, |rt, c| {
            rt.block_on(async {
                let prepared = c.prepare(&stmt.sql).await?;
                conn::fetch_all(c.client(), &prepared, &stmt, log).await
            })
        })
    }

    /// Opens the sync connection now.
    pub(crate) fn connect(&self, config: &PgConfig) -> Result<()> {
        self.run(config, "-- connect", |_, _| Ok(()))
    }

    /// Closes the sync connection if open.
    pub(crate) fn close(&self) {
        let old = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(old);
    }

    pub(crate) fn is_open(&self) -> bool {
        self.slot
            .lock()
            .map(|s| s.as_ref().is_some_and(|c| !c.conn.is_closed()))
            .unwrap_or(false)
    }
}

fn open(config: &PgConfig) -> Result<SyncConn> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Driver(Box::new(e)))?;
    let conn = rt.block_on(PgConn::connect(config))?;
    Ok(SyncConn {
        runtime: Some(rt),
        conn,
    })
}

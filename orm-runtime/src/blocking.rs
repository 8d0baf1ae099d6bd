//! The blocking side of a database: one drop-in connection for sync code, with its own
//! small current-thread runtime, opened on first use, replaced when it fails, and guarded
//! by the database's [`SyncGate`].

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use orm_core::{Error, ExecResult, FromRow, Result, Statement, SyncGate};
use tokio::runtime::Runtime;

use crate::driver::{self, Call, Driver, DriverConfig, Role};
use crate::retry::{Execute, FetchAll, Op};

/// Runs blocking work so that it completes wherever it is called from: directly on a plain
/// thread, or on a helper thread when the caller is driving a tokio runtime (where
/// blocking inside the runtime would panic or starve it).
fn run_blocking<F, R>(work: F) -> R
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Runs `work` to completion on `rt`. Work that finishes on its first poll (SQLite's,
/// which runs in place) is polled once inside the runtime's context and never pays for
/// `block_on` (callgrind: an eighth of a sync SQLite point lookup); anything else is then
/// driven by `block_on` as usual.
fn block_on<F: Future>(rt: &Runtime, work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    {
        let _context = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(out) = work.as_mut().poll(&mut cx) {
            return out;
        }
    }
    rt.block_on(work)
}

struct Owned<D: Driver> {
    runtime: Option<Runtime>,
    conn: Arc<D::Conn>,
}

impl<D: Driver> Drop for Owned<D> {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so dropping is safe inside async code too.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The blocking side: the driver's async code run with `block_on` on a runtime of its
/// own, so sync code needs no runtime and works inside one too.
pub(crate) struct BlockingSide<D: Driver> {
    slot: Mutex<Option<Owned<D>>>,
    shared: Arc<D::Shared>,
    /// The database's sync policy.
    pub(crate) gate: SyncGate,
}

impl<D: Driver> BlockingSide<D> {
    pub(crate) fn new(shared: Arc<D::Shared>) -> Self {
        BlockingSide {
            slot: Mutex::new(None),
            shared,
            gate: SyncGate::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Owned<D>>> {
        self.slot.lock().unwrap_or_else(|poisoned| {
            // A panic mid-statement left the connection in an unknown state.
            let mut slot = poisoned.into_inner();
            *slot = None;
            slot
        })
    }

    /// Applies the sync policy to `sql`, then runs `op` on the connection, blocking; once
    /// more on a new connection when the driver allows it.
    fn run<O: Op<D>>(&self, config: &D::Config, stmt: Statement, op: O) -> Result<O::Out> {
        check_sync(&self.gate, &stmt.sql)?;
        let call = Call {
            log_values: config.log_values(),
            in_transaction: false,
        };
        run_blocking(|| {
            let mut slot = self.lock();
            let (rt, conn) = self.ready(config, &mut slot)?;
            if crate::timeout::by_transaction::<D>(&stmt) {
                return block_on(
                    rt,
                    crate::timeout::own_transaction_on(&conn, call, stmt, op),
                );
            }
            if !D::RETRIES {
                return block_on(rt, op.run(&conn, Cow::Owned(stmt), call));
            }
            match block_on(rt, op.run(&conn, Cow::Borrowed(&stmt), call)) {
                Err(e) if D::retry_on_new_connection(&conn, &e, &stmt) => {
                    let (rt, conn) = self.ready(config, &mut slot)?;
                    block_on(rt, op.run(&conn, Cow::Owned(stmt), call))
                }
                result => result,
            }
        })
    }

    /// The open connection, after giving its I/O a turn; a new one if it is unfit.
    fn ready<'s>(
        &self,
        config: &D::Config,
        slot: &'s mut Option<Owned<D>>,
    ) -> Result<(&'s Runtime, Arc<D::Conn>)> {
        if let (
            true,
            Some(Owned {
                runtime: Some(rt), ..
            }),
        ) = (D::POLL_BEFORE_USE, slot.as_ref())
        {
            // The connection's I/O only runs inside `block_on`: let it read what arrived
            // while idle (a server-side termination) before choosing to reuse it.
            rt.block_on(async {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
            });
        }
        if slot.as_ref().is_none_or(|o| !D::is_usable(&o.conn)) {
            *slot = None;
            *slot = Some(self.open(config)?);
        }
        match slot.as_ref() {
            Some(Owned {
                runtime: Some(rt),
                conn,
            }) => Ok((rt, conn.clone())),
            _ => Err(Error::Config(
                "the sync connection could not be opened".into(),
            )),
        }
    }

    fn open(&self, config: &D::Config) -> Result<Owned<D>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Driver(Box::new(e)))?;
        let conn = rt.block_on(driver::connect::<D>(config, &self.shared, Role::Blocking))?;
        Ok(Owned {
            runtime: Some(rt),
            conn: Arc::new(conn),
        })
    }

    pub(crate) fn execute(&self, config: &D::Config, stmt: Statement) -> Result<ExecResult> {
        self.run(config, stmt, Execute)
    }

    pub(crate) fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        config: &D::Config,
        stmt: Statement,
    ) -> Result<Vec<T>> {
        self.run(config, stmt, FetchAll::new())
    }

    /// Opens the connection now.
    pub(crate) fn connect(&self, config: &D::Config) -> Result<()> {
        check_sync(&self.gate, "-- connect")?;
        run_blocking(|| self.ready(config, &mut self.lock()).map(drop))
    }

    /// Closes the connection, if open.
    pub(crate) fn close(&self) {
        let old = self.lock().take();
        drop(old);
    }

    /// True while the connection is open and usable.
    pub(crate) fn is_open(&self) -> bool {
        self.lock().as_ref().is_some_and(|o| D::is_usable(&o.conn))
    }
}

/// Applies a database's sync policy to a blocking call: the one place that tells the
/// policy whether the calling thread is inside a tokio runtime.
pub(crate) fn check_sync(gate: &orm_core::SyncGate, sql: &str) -> Result<()> {
    gate.check(sql, tokio::runtime::Handle::try_current().is_ok())
}

impl<D: Driver> std::fmt::Debug for BlockingSide<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingSide")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

//! Running one statement outside a transaction, once more on a new connection when the
//! driver says nothing reached the server or the statement only reads.

use std::future::Future;
use std::sync::Arc;

use orm_core::{Result, Statement};

use crate::driver::{Call, Driver};

/// A connection to run one statement on, and what holds it for the caller (a read
/// guard, a pooled object).
pub(crate) struct Checkout<D: Driver, H> {
    /// Kept until the statement has run.
    pub(crate) _holder: H,
    pub(crate) conn: Arc<D::Conn>,
    pub(crate) call: Call,
}

/// Runs `op` on a connection from `get`; when the driver allows it, runs it once more on
/// a new one.
pub(crate) async fn run<D, H, R, Get, GetFut, Op, OpFut>(
    stmt: Statement,
    get: Get,
    op: Op,
) -> Result<R>
where
    D: Driver,
    Get: Fn() -> GetFut,
    GetFut: Future<Output = Result<Checkout<D, H>>>,
    Op: Fn(Arc<D::Conn>, Statement, Call) -> OpFut,
    OpFut: Future<Output = Result<R>>,
{
    let copy = D::RETRIES.then(|| stmt.clone());
    let first = get().await?;
    let result = op(first.conn.clone(), stmt, first.call).await;
    match (result, copy) {
        (Err(e), Some(stmt)) if D::retry_on_new_connection(&first.conn, &e, &stmt) => {
            // The failed connection goes first: its slot is then free to be refilled.
            drop(first);
            let second = get().await?;
            op(second.conn.clone(), stmt, second.call).await
        }
        (result, _) => result,
    }
}

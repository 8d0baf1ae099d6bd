//! A statement's own time limits ([`Statement::limits`]) on a driver that can only set
//! them for a whole transaction ([`Driver::LIMITS_BY_TRANSACTION`]: PostgreSQL's `SET
//! LOCAL statement_timeout` and `lock_timeout`). Outside a transaction the statement runs
//! in one of its own on a connection held for it (`HeldConnection::in_own_transaction`);
//! inside one the limits are set before the statement and the transaction's own put back
//! after it. Other drivers put the limits in the statement.

use std::borrow::Cow;

use orm_core::{Error, Result, Statement, TxOptions};

use crate::driver::{Call, Driver};
use crate::retry::Op;

/// Whether `stmt` needs the runtime's help to be limited on `D`.
pub(crate) fn by_transaction<D: Driver>(stmt: &Statement) -> bool {
    D::LIMITS_BY_TRANSACTION && !stmt.limits.is_empty()
}

/// The error for a limited stream on such a driver: the limit would outlive the
/// statement, since a stream ends when its reader says.
pub(crate) fn no_stream<D: Driver>() -> Error {
    Error::Query(format!(
        "{} has no per-statement time limits for a stream: set them with TxOptions on the \
         transaction that reads it",
        D::BACKEND
    ))
}

/// The options of a transaction of the statement's own: its limits, taken from it (the
/// transaction applies them).
pub(crate) fn own_options(stmt: &mut Statement) -> TxOptions {
    let limits = std::mem::take(&mut stmt.limits);
    TxOptions {
        statement_timeout: limits.statement,
        lock_timeout: limits.lock,
        ..TxOptions::new()
    }
}

/// Runs `stmt` inside the open transaction on `conn`, which began with `began`: its
/// limits first, the transaction's own put back after.
pub(crate) async fn in_transaction<D: Driver, O: Op<D>>(
    conn: &std::sync::Arc<D::Conn>,
    call: Call,
    mut stmt: Statement,
    began: &TxOptions,
    op: O,
) -> Result<O::Out> {
    let limits = std::mem::take(&mut stmt.limits);
    D::simple(conn, &D::local_limits(conn, limits, None), call).await?;
    let out = op.run(conn, Cow::Owned(stmt), call).await?;
    D::simple(conn, &D::local_limits(conn, limits, Some(began)), call).await?;
    Ok(out)
}

/// Runs `stmt` in a transaction of its own on `conn`, which nothing else uses (the
/// blocking side's).
pub(crate) async fn own_transaction_on<D: Driver, O: Op<D>>(
    conn: &std::sync::Arc<D::Conn>,
    call: Call,
    mut stmt: Statement,
    op: O,
) -> Result<O::Out> {
    let options = own_options(&mut stmt);
    let inside = Call {
        in_transaction: true,
        ..call
    };
    for sql in D::begin_statements(conn, &options)? {
        D::simple(conn, &sql, inside).await?;
    }
    match op.run(conn, Cow::Owned(stmt), inside).await {
        Ok(out) => D::simple(conn, "COMMIT", inside).await.map(|()| out),
        Err(e) => {
            let _ = D::simple(conn, "ROLLBACK", inside).await;
            Err(e)
        }
    }
}

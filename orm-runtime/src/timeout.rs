//! A statement's own time limit ([`Statement::timeout`]) on a driver that can only set
//! one for a whole transaction ([`Driver::TIMEOUT_BY_TRANSACTION`]: PostgreSQL's `SET
//! LOCAL statement_timeout`). Outside a transaction the statement runs in one of its own
//! on a connection held for it; inside one the limit is set before the statement and the
//! transaction's own put back after it. Other drivers put the limit in the statement.

use std::borrow::Cow;

use orm_core::{Error, Result, Statement, TxOptions};

use crate::driver::{Call, Driver};
use crate::retry::Op;

/// Whether `stmt` needs the runtime's help to be limited on `D`.
pub(crate) fn by_transaction<D: Driver>(stmt: &Statement) -> bool {
    D::TIMEOUT_BY_TRANSACTION && stmt.timeout.is_some()
}

/// The error for a limited stream on such a driver: the limit would outlive the
/// statement, since a stream ends when its reader says.
pub(crate) fn no_stream<D: Driver>() -> Error {
    Error::Query(format!(
        "{} has no per-statement timeout for a stream: set TxOptions::statement_timeout on \
         the transaction that reads it",
        D::BACKEND
    ))
}

/// The options of a transaction of the statement's own: its limit, taken from it (the
/// transaction applies it).
pub(crate) fn own_options(stmt: &mut Statement) -> TxOptions {
    TxOptions {
        statement_timeout: stmt.timeout.take(),
        ..TxOptions::new()
    }
}

/// Runs `stmt` inside the open transaction on `conn`: its limit first, the transaction's
/// own limit (`restore`, as it began) after.
pub(crate) async fn in_transaction<D: Driver, O: Op<D>>(
    conn: &std::sync::Arc<D::Conn>,
    call: Call,
    mut stmt: Statement,
    restore: Option<std::time::Duration>,
    op: O,
) -> Result<O::Out> {
    let limit = stmt.timeout.take();
    D::simple(conn, &D::local_timeout(conn, limit), call).await?;
    let out = op.run(conn, Cow::Owned(stmt), call).await?;
    D::simple(conn, &D::local_timeout(conn, restore), call).await?;
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

//! Running one statement outside a transaction, once more on a new connection when the
//! driver says nothing reached the server or the statement only reads.
//!
//! The statement is handed to the driver owned where it cannot be needed again (a driver
//! that moves it to another thread then copies nothing), and borrowed on a first attempt
//! that may be retried.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::TryStreamExt;
use orm_core::{ExecResult, FromRow, Result, RowStream, Statement};

use crate::driver::{Call, Driver};

/// A connection to run one statement on, and what holds it for the caller (a read
/// guard, a pooled object).
pub(crate) struct Checkout<D: Driver, H> {
    /// Kept until the statement has run.
    pub(crate) _holder: H,
    pub(crate) conn: Arc<D::Conn>,
    pub(crate) call: Call,
}

/// What to do with the statement: execute it, or fetch its rows.
pub(crate) trait Op<D: Driver>: Send + Sync {
    type Out: Send;
    fn run<'a>(
        &self,
        conn: &'a Arc<D::Conn>,
        stmt: Cow<'a, Statement>,
        call: Call,
    ) -> impl Future<Output = Result<Self::Out>> + Send + 'a;
}

/// [`Driver::execute`].
pub(crate) struct Execute;

impl<D: Driver> Op<D> for Execute {
    type Out = ExecResult;
    fn run<'a>(
        &self,
        conn: &'a Arc<D::Conn>,
        stmt: Cow<'a, Statement>,
        call: Call,
    ) -> impl Future<Output = Result<ExecResult>> + Send + 'a {
        D::execute(conn, stmt, call)
    }
}

/// [`Driver::fetch_all`].
pub(crate) struct FetchAll<T>(PhantomData<fn() -> T>);

impl<T> FetchAll<T> {
    pub(crate) fn new() -> Self {
        FetchAll(PhantomData)
    }
}

impl<D: Driver, T: FromRow + Send + 'static> Op<D> for FetchAll<T> {
    type Out = Vec<T>;
    fn run<'a>(
        &self,
        conn: &'a Arc<D::Conn>,
        stmt: Cow<'a, Statement>,
        call: Call,
    ) -> impl Future<Output = Result<Vec<T>>> + Send + 'a {
        D::fetch_all(conn, stmt, call)
    }
}

/// Streams `stmt`'s rows on the connection `checkout` brings; the checkout's holder (a
/// read guard, a pooled object) lives as long as the stream.
pub(crate) fn stream<'a, D, H, T, C>(checkout: C, stmt: Statement) -> RowStream<'a, T>
where
    D: Driver,
    H: Send + Sync + 'static,
    T: FromRow + Send + 'static,
    C: Future<Output = Result<Checkout<D, H>>> + Send + 'a,
{
    let rows = async move {
        let checkout = checkout.await?;
        let (conn, call) = (checkout.conn.clone(), checkout.call);
        Ok(D::stream(conn, stmt, call, checkout._holder))
    };
    Box::pin(futures_util::stream::once(rows).try_flatten())
}

/// Statements that only read (`SELECT`, `SHOW`), safe to send again on a new connection
/// after the first was lost, whether or not it reached the server.
///
/// ```
/// assert!(orm_runtime::is_read("  select 1"));
/// assert!(!orm_runtime::is_read("UPDATE t SET x = 1"));
/// ```
pub fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("select") || head.eq_ignore_ascii_case("show ")
}

/// Runs `op` on `stmt` on a connection from `get`; when the driver allows it, once more
/// on a new one.
pub(crate) async fn run<D, H, Get, GetFut, O>(stmt: Statement, get: Get, op: O) -> Result<O::Out>
where
    D: Driver,
    Get: Fn() -> GetFut,
    GetFut: Future<Output = Result<Checkout<D, H>>>,
    O: Op<D>,
{
    let first = get().await?;
    if !D::RETRIES {
        return op.run(&first.conn, Cow::Owned(stmt), first.call).await;
    }
    match op.run(&first.conn, Cow::Borrowed(&stmt), first.call).await {
        Err(e) if D::retry_on_new_connection(&first.conn, &e, &stmt) => {
            // The failed connection goes first: its slot is then free to be refilled.
            drop(first);
            let second = get().await?;
            op.run(&second.conn, Cow::Owned(stmt), second.call).await
        }
        result => result,
    }
}

//! The PostgreSQL driver: one tokio-postgres connection, shared and pipelined.

use std::sync::Arc;

use futures_util::TryStreamExt;
use orm_core::{Dialect, ExecResult, FromRow, PostgresDialect, Result, RowStream, Statement};
use orm_runtime::{Call, Driver, Role};

use crate::config::PgConfig;
use crate::conn::{PgConn, BACKEND};

/// PostgreSQL for the runtime: statements from many tasks share one connection
/// (tokio-postgres pipelines them), prepared once per connection and cached by SQL text;
/// rows stream as they arrive.
#[derive(Debug, Clone, Copy)]
pub struct PgDriver;

impl Driver for PgDriver {
    const BACKEND: &'static str = BACKEND;
    const NAMES: (&'static str, &'static str) = ("PostgresqlDatabase", "PooledPostgresqlDatabase");

    type Config = PgConfig;
    type Conn = PgConn;
    type Shared = ();

    fn dialect() -> &'static dyn Dialect {
        &PostgresDialect
    }

    fn shared(_: &PgConfig) -> Result<()> {
        Ok(())
    }

    async fn connect(config: &PgConfig, _: &Arc<()>, _: Role) -> Result<PgConn> {
        PgConn::connect(config).await
    }

    fn is_usable(conn: &PgConn) -> bool {
        conn.is_usable()
    }

    async fn ping(conn: &Arc<PgConn>) -> Result<()> {
        conn.ping().await
    }

    async fn execute(conn: &Arc<PgConn>, stmt: Statement, call: Call) -> Result<ExecResult> {
        conn.run_execute(&stmt, call).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(
        conn: &Arc<PgConn>,
        stmt: Statement,
        call: Call,
    ) -> Result<Vec<T>> {
        conn.run_fetch_all(&stmt, call).await
    }

    fn stream<T: FromRow + Send + 'static, K: Send + Sync + 'static>(
        conn: Arc<PgConn>,
        stmt: Statement,
        call: Call,
        keep: K,
    ) -> RowStream<'static, T> {
        let rows = async move {
            let keep = (keep, conn.clone());
            conn.run_stream(&stmt, call, keep).await
        };
        Box::pin(futures_util::stream::once(rows).try_flatten())
    }

    async fn simple(conn: &Arc<PgConn>, sql: &str, call: Call) -> Result<()> {
        conn.simple(sql, call).await
    }
}

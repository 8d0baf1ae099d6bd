//! The PostgreSQL driver: one tokio-postgres connection, shared and pipelined.

use std::borrow::Cow;
use std::sync::Arc;

use futures_util::TryStreamExt;
use orm_core::{
    Dialect, Error, ExecResult, FromRow, Limits, PostgresqlDialect, Result, RowStream, Statement,
    TxOptions,
};
use orm_runtime::{Call, Driver, Role};

use crate::config::PostgresqlConfig;
use crate::conn::{PostgresqlConn, BACKEND};
use crate::tls::Tls;

/// PostgreSQL for the runtime: statements from many tasks share one connection
/// (tokio-postgres pipelines them), prepared once per connection and cached by SQL text;
/// rows stream as they arrive.
#[derive(Debug, Clone, Copy)]
pub struct PostgresqlDriver;

impl Driver for PostgresqlDriver {
    const BACKEND: &'static str = BACKEND;
    const NAMES: (&'static str, &'static str) = ("PostgresqlDatabase", "PooledPostgresqlDatabase");

    /// A read lost with its connection (a server restart, a terminated backend) is sent
    /// once more on a new connection; a write never is.
    const RETRIES: bool = true;
    /// `SET LOCAL statement_timeout` / `lock_timeout`: PostgreSQL limits statements per
    /// transaction only.
    const LIMITS_BY_TRANSACTION: bool = true;

    type Config = PostgresqlConfig;
    type Conn = PostgresqlConn;
    /// The TLS connector, built once per database.
    type Shared = Tls;

    fn dialect() -> &'static dyn Dialect {
        &PostgresqlDialect
    }

    fn shared(config: &PostgresqlConfig) -> Result<Tls> {
        Tls::new(&config.tls)
    }

    async fn connect(config: &PostgresqlConfig, tls: &Arc<Tls>, _: Role) -> Result<PostgresqlConn> {
        PostgresqlConn::connect(config, tls).await
    }

    fn is_usable(conn: &PostgresqlConn) -> bool {
        conn.is_usable()
    }

    async fn ping(conn: &Arc<PostgresqlConn>) -> Result<()> {
        conn.ping().await
    }

    async fn execute(
        conn: &Arc<PostgresqlConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<ExecResult> {
        conn.run_execute(&stmt, call).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(
        conn: &Arc<PostgresqlConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<Vec<T>> {
        conn.run_fetch_all(&stmt, call).await
    }

    fn stream<T: FromRow + Send + 'static, K: Send + Sync + 'static>(
        conn: Arc<PostgresqlConn>,
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

    fn retry_on_new_connection(_: &PostgresqlConn, err: &Error, stmt: &Statement) -> bool {
        matches!(err, Error::ConnectionLost { .. }) && orm_runtime::is_read(&stmt.sql)
    }

    fn local_limits(conn: &PostgresqlConn, limits: Limits, restore: Option<&TxOptions>) -> String {
        conn.local_limits(limits, restore)
    }

    fn begin_statements(conn: &PostgresqlConn, options: &TxOptions) -> Result<Vec<String>> {
        conn.begin_statements(options)
    }

    async fn simple(conn: &Arc<PostgresqlConn>, sql: &str, call: Call) -> Result<()> {
        conn.simple(sql, call).await
    }
}

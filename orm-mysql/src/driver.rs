//! The MySQL / MariaDB driver: one mysql_async connection, one statement at a time.

use std::borrow::Cow;
use std::sync::Arc;

use orm_core::{Dialect, Error, ExecResult, FromRow, MySQLDialect, Result, RowStream, Statement};
use orm_runtime::{batch, Call, Driver, Role};

use crate::config::MySQLConfig;
use crate::conn::{retryable, MySQLConn, BACKEND};
use crate::tls::Tls;

/// MySQL / MariaDB for the runtime: statements take turns on a connection; a connection
/// left half-way through a statement is discarded; reads (and statements that never
/// reached the server) are sent again on a new connection when the old one was lost;
/// rows stream from a reading task in batches.
#[derive(Debug, Clone, Copy)]
pub struct MySQLDriver;

impl Driver for MySQLDriver {
    const BACKEND: &'static str = BACKEND;
    const NAMES: (&'static str, &'static str) = ("MySQLDatabase", "PooledMySQLDatabase");
    const RETRIES: bool = true;

    type Config = MySQLConfig;
    type Conn = MySQLConn;
    /// The TLS settings, built once per database.
    type Shared = Tls;

    fn dialect() -> &'static dyn Dialect {
        &MySQLDialect
    }

    fn shared(config: &MySQLConfig) -> Result<Tls> {
        Tls::new(&config.tls)
    }

    async fn connect(config: &MySQLConfig, tls: &Arc<Tls>, _: Role) -> Result<MySQLConn> {
        MySQLConn::connect(config, tls).await
    }

    fn is_usable(conn: &MySQLConn) -> bool {
        conn.is_usable()
    }

    async fn recycle(conn: &MySQLConn, config: &MySQLConfig) -> Result<()> {
        conn.reset_if_needed(config).await
    }

    async fn ping(conn: &Arc<MySQLConn>) -> Result<()> {
        conn.ping().await
    }

    async fn execute(
        conn: &Arc<MySQLConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<ExecResult> {
        let stmt = conn.limited(stmt)?;
        conn.execute(stmt, call).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(
        conn: &Arc<MySQLConn>,
        stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<Vec<T>> {
        let stmt = conn.limited(stmt)?;
        conn.fetch_all(&stmt, call).await
    }

    /// A task reads the result and sends decoded rows in batches; dropped half-way, the
    /// stream stops it decoding, and it reads the rest of the result so the connection
    /// stays clean.
    fn stream<T: FromRow + Send + 'static, K: Send + Sync + 'static>(
        conn: Arc<MySQLConn>,
        stmt: Statement,
        call: Call,
        keep: K,
    ) -> RowStream<'static, T> {
        batch::spawn(move |mut rows| async move {
            let _keep = keep;
            let stmt = conn.limited(Cow::Owned(stmt))?;
            let outcome = conn.for_each_row(&stmt, call, |row| rows.push(row)).await;
            rows.finish(outcome.map(drop)).await;
            Ok(())
        })
    }

    async fn simple(conn: &Arc<MySQLConn>, sql: &str, call: Call) -> Result<()> {
        conn.simple(sql, call).await
    }

    fn retry_on_new_connection(_: &MySQLConn, err: &Error, stmt: &Statement) -> bool {
        retryable(err, &stmt.sql)
    }
}

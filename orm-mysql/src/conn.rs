//! One connection and the ways to run a statement on it, shared by the single, pooled and
//! sync databases.
//!
//! mysql_async leaves a connection in an unknown state when a statement's future is
//! dropped half-way, so every statement marks the connection in flight until its result
//! is fully read: a connection still in flight when it is next looked at is discarded,
//! never reused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use orm_core::trace::QuerySpan;
use orm_core::{Error, ExecResult, FromRow, Result, Statement};

use crate::config::MySqlConfig;
use crate::error::map;
use crate::row::MyRow;
use crate::value::params;

pub(crate) const BACKEND: &str = "mysql";

/// A connection idle longer than this is pinged before use: the server may have closed
/// it (`wait_timeout`, `KILL`) and MySQL sends nothing to say so.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

pub(crate) struct MyConn {
    conn: Conn,
    /// A statement started and did not finish (its future was dropped).
    in_flight: bool,
    /// The connection failed; it must not be used again.
    broken: bool,
    /// Failed its liveness check before anything was sent.
    pub(crate) stale: bool,
    /// A statement may have changed session state (raw SET, USE, LOCK...).
    pub(crate) needs_reset: bool,
    /// A transaction is open; shared with the exclusive handle that runs it.
    pub(crate) dirty: Arc<AtomicBool>,
    last_used: Instant,
}

/// Statements that only read, safe to send again on a new connection.
pub(crate) fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("select") || head.eq_ignore_ascii_case("show ")
}

fn changes_session(sql: &str) -> bool {
    let head = sql.trim_start();
    [
        "SET ",
        "USE ",
        "LOCK ",
        "CREATE TEMPORARY",
        "BEGIN",
        "START",
        "XA ",
    ]
    .iter()
    .any(|p| {
        head.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    })
}

impl MyConn {
    pub(crate) async fn connect(config: &MySqlConfig) -> Result<Self> {
        let mut conn = Conn::new(config.opts()).await.map_err(map)?;
        if let Some(sql) = config.statement_timeout_sql(conn.server_version().0) {
            conn.query_drop(sql).await.map_err(map)?;
        }
        Ok(MyConn {
            conn,
            in_flight: false,
            broken: false,
            stale: false,
            needs_reset: false,
            dirty: Arc::new(AtomicBool::new(false)),
            last_used: Instant::now(),
        })
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken || self.in_flight || self.dirty.load(Ordering::Acquire)
    }

    /// Pings a connection that sat idle; a failed ping marks it stale and broken.
    async fn check_idle(&mut self) -> Result<()> {
        if self.last_used.elapsed() > PING_AFTER_IDLE {
            if let Err(e) = self.conn.ping().await {
                self.broken = true;
                self.stale = true;
                return Err(map(e));
            }
        }
        Ok(())
    }

    /// Resets session state (COM_RESET_CONNECTION; the session set-up runs again).
    pub(crate) async fn reset(&mut self, config: &MySqlConfig) -> Result<()> {
        self.conn.reset().await.map_err(map)?;
        if let Some(sql) = config.statement_timeout_sql(self.conn.server_version().0) {
            self.conn.query_drop(sql).await.map_err(map)?;
        }
        self.needs_reset = false;
        Ok(())
    }

    /// Marks a statement as started. A connection whose previous statement was cut before
    /// its result was read is out of step with the server (the next read would take that
    /// statement's answer): it is marked broken and refuses every statement from now on.
    fn begin(&mut self, sql: &str) -> Result<()> {
        if self.in_flight || self.broken {
            self.broken = true;
            return Err(Error::Transaction(
                "a statement on this connection was cancelled before its result was read; \
                 the connection is discarded and its transaction can only be rolled back"
                    .into(),
            ));
        }
        self.in_flight = true;
        self.needs_reset |= changes_session(sql);
        Ok(())
    }

    fn end<T>(&mut self, result: std::result::Result<T, mysql_async::Error>) -> Result<T> {
        self.last_used = Instant::now();
        match result {
            Ok(v) => {
                self.in_flight = false;
                Ok(v)
            }
            Err(e) => {
                if e.is_fatal() {
                    self.broken = true;
                } else {
                    self.in_flight = false;
                }
                Err(map(e))
            }
        }
    }

    pub(crate) async fn execute(
        &mut self,
        stmt: &Statement,
        log_values: bool,
    ) -> Result<ExecResult> {
        let bound = params(&stmt.params)?;
        // In flight from here: a cut during the liveness ping leaves the connection out of
        // step too.
        self.begin(&stmt.sql)?;
        self.check_idle().await?;
        let span = QuerySpan::start(BACKEND, stmt, log_values);
        let result = self.conn.exec_drop(stmt.sql.as_str(), bound).await;
        let result = self.end(result).map(|()| ExecResult {
            rows_affected: self.conn.affected_rows(),
            last_insert_id: self.conn.last_insert_id().filter(|id| *id != 0),
        });
        match &result {
            Ok(r) => span.finish(r.rows_affected),
            Err(e) => span.fail(e),
        }
        result
    }

    pub(crate) async fn fetch_all<T: FromRow>(
        &mut self,
        stmt: &Statement,
        log_values: bool,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.for_each_row(stmt, log_values, |row: Result<T>| {
            let pushed = row.map(|row| {
                out.push(row);
                true
            });
            std::future::ready(pushed)
        })
        .await?;
        Ok(out)
    }

    /// Decodes each row and hands it to `each` until it returns `false`; the rest of the
    /// result is then read and dropped, so the connection is clean for the next statement.
    pub(crate) async fn for_each_row<T, F, Fut>(
        &mut self,
        stmt: &Statement,
        log_values: bool,
        mut each: F,
    ) -> Result<u64>
    where
        T: FromRow,
        F: FnMut(Result<T>) -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let bound = params(&stmt.params)?;
        // In flight from here: a cut during the liveness ping leaves the connection out of
        // step too.
        self.begin(&stmt.sql)?;
        self.check_idle().await?;
        let span = QuerySpan::start(BACKEND, stmt, log_values);
        let outcome = async {
            let mut result = self.conn.exec_iter(stmt.sql.as_str(), bound).await?;
            let mut rows = 0u64;
            let mut failure = None;
            while let Some(row) = result.next().await? {
                rows += 1;
                match each(T::from_whole_row(&MyRow(&row))).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            result.drop_result().await?;
            Ok((rows, failure))
        }
        .await;
        let result = match self.end(outcome) {
            Ok((_, Some(e))) => Err(e),
            Ok((rows, None)) => Ok(rows),
            Err(e) => Err(e),
        };
        match &result {
            Ok(rows) => span.finish(*rows),
            Err(e) => span.fail(e),
        }
        result
    }
}

/// True when `err` allows sending the statement again on a new connection: nothing was
/// sent (the idle check failed), or the statement only reads.
pub(crate) fn retryable(err: &Error, stale: bool, sql: &str) -> bool {
    matches!(err, Error::ConnectionLost { .. }) && (stale || is_read(sql))
}

/// Opens a connection into an empty or broken slot (or one a `close()` is pending for),
/// and returns it.
pub(crate) async fn ensure<'s>(
    slot: &'s mut Option<MyConn>,
    config: &MySqlConfig,
    close: &orm_core::pool::PendingClose,
) -> Result<&'s mut MyConn> {
    close.apply(slot);
    if slot.as_ref().is_none_or(MyConn::is_broken) {
        *slot = None;
        *slot = Some(MyConn::connect(config).await?);
    }
    slot.as_mut()
        .ok_or_else(|| Error::Config("the MySQL connection could not be opened".into()))
}

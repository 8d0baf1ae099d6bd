//! One connection and the ways to run a statement on it.
//!
//! mysql_async leaves a connection in an unknown state when a statement's future is
//! dropped half-way, so every statement takes a [`Turn`] on the connection's session; a
//! turn dropped before the result was fully read marks the connection broken, and a
//! broken connection is discarded, never reused.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use orm_core::{Error, ExecResult, FromRow, Result, Statement};
use orm_runtime::trace::{Peer, QuerySpan};
use orm_runtime::Call;
use tokio::sync::{Mutex, MutexGuard};

use crate::config::MySQLConfig;
use crate::error::map;
use crate::row::MyRow;
use crate::tls::Tls;
use crate::value::{owned_params, params};

pub(crate) const BACKEND: &str = "mysql";

/// A connection idle longer than this is pinged before use: the server may have closed
/// it (`wait_timeout`, `KILL`) and MySQL sends nothing to say so.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// One MySQL / MariaDB connection ([`MySQLDriver`](crate::MySQLDriver)'s connection).
pub struct MySQLConn {
    session: Mutex<Session>,
    /// Where its statements go, for their spans.
    peer: Peer,
    /// The connection failed, or a statement on it was cut half-way: it must not be used
    /// again.
    broken: AtomicBool,
    /// A statement may have changed session state (raw SET, USE, LOCK...).
    needs_reset: AtomicBool,
    /// MariaDB, not MySQL: how a statement's own time limit is written.
    mariadb: bool,
}

struct Session {
    /// Taken only when the connection is dropped.
    conn: Option<Conn>,
    last_used: Instant,
}

impl Session {
    fn conn(&mut self) -> std::result::Result<&mut Conn, mysql_async::Error> {
        self.conn.as_mut().ok_or(mysql_async::Error::Driver(
            mysql_async::DriverError::ConnectionClosed,
        ))
    }
}

/// The cause of a failure before anything reached the server: the statement may be
/// sent again on a new connection.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NothingSent(String);

fn nothing_sent(why: impl std::fmt::Display) -> Error {
    Error::ConnectionLost {
        source: Box::new(NothingSent(why.to_string())),
    }
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

/// `sql` with `limits` written into it; see [`MySQLConn::limited`].
fn with_limits(sql: &str, limits: orm_core::Limits, mariadb: bool) -> Result<String> {
    // InnoDB counts lock waits in whole seconds.
    let lock_secs = |d: Duration| d.as_secs_f64().ceil().max(1.0);
    if mariadb {
        let mut set = Vec::new();
        if let Some(limit) = limits.statement {
            set.push(format!(
                "max_statement_time = {}",
                limit.as_secs_f64().max(0.001)
            ));
        }
        if let Some(limit) = limits.lock {
            set.push(format!("innodb_lock_wait_timeout = {}", lock_secs(limit)));
        }
        return Ok(format!("SET STATEMENT {} FOR {sql}", set.join(", ")));
    }
    let body = sql.trim_start();
    let keyword = body.split_whitespace().next().unwrap_or("");
    let mut hints = Vec::new();
    if let Some(limit) = limits.statement {
        if !keyword.eq_ignore_ascii_case("select") {
            return Err(Error::Query(
                "MySQL limits the time of SELECT statements only (MAX_EXECUTION_TIME); set \
                 MySQLConfig::statement_timeout, or use MariaDB"
                    .into(),
            ));
        }
        hints.push(format!("MAX_EXECUTION_TIME({})", limit.as_millis().max(1)));
    }
    if let Some(limit) = limits.lock {
        hints.push(format!(
            "SET_VAR(innodb_lock_wait_timeout = {})",
            lock_secs(limit)
        ));
    }
    Ok(format!(
        "{keyword} /*+ {} */{}",
        hints.join(" "),
        &body[keyword.len()..]
    ))
}

impl MySQLConn {
    pub(crate) async fn connect(config: &MySQLConfig, tls: &Tls) -> Result<Self> {
        let mut conn = match Conn::new(config.opts(tls.attempt())).await {
            Err(e) if tls.fall_back(&e) => Conn::new(config.opts(None)).await,
            opened => opened,
        }
        .map_err(map)?;
        let mariadb = conn.server_version().0 >= 10;
        for sql in config.server_setup(conn.server_version().0) {
            conn.query_drop(sql).await.map_err(map)?;
        }
        Ok(MySQLConn {
            peer: config.peer(),
            session: Mutex::new(Session {
                conn: Some(conn),
                last_used: Instant::now(),
            }),
            broken: AtomicBool::new(false),
            needs_reset: AtomicBool::new(false),
            mariadb,
        })
    }

    /// `stmt` with its own time limits written into it: MariaDB's `SET STATEMENT
    /// max_statement_time = s, innodb_lock_wait_timeout = s FOR ...`; MySQL's optimizer
    /// hints `MAX_EXECUTION_TIME` (a SELECT only) and `SET_VAR(innodb_lock_wait_timeout)`.
    pub(crate) fn limited<'a>(&self, stmt: Cow<'a, Statement>) -> Result<Cow<'a, Statement>> {
        if stmt.limits.is_empty() {
            return Ok(stmt);
        }
        let mut stmt = stmt.into_owned();
        let limits = std::mem::take(&mut stmt.limits);
        stmt.sql = with_limits(&stmt.sql, limits, self.mariadb)?;
        Ok(Cow::Owned(stmt))
    }

    /// Not failed, and no statement left half-way.
    pub(crate) fn is_usable(&self) -> bool {
        !self.broken.load(Ordering::Acquire)
    }

    /// Resets session state a statement may have changed (COM_RESET_CONNECTION; the
    /// session set-up runs again).
    pub(crate) async fn reset_if_needed(&self, config: &MySQLConfig) -> Result<()> {
        if !self.needs_reset.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut turn = self
            .begin(Call {
                log_values: false,
                in_transaction: false,
            })
            .await?;
        let session = &mut turn.session;
        let result = async {
            let conn = session.conn()?;
            conn.reset().await?;
            let version = conn.server_version().0;
            for sql in config.server_setup(version) {
                conn.query_drop(sql).await?;
            }
            Ok(())
        }
        .await;
        turn.end(result)?;
        self.needs_reset.store(false, Ordering::Release);
        Ok(())
    }

    /// Takes the session for one statement. A connection whose earlier statement was cut
    /// before its result was read is out of step with the server (the next read would
    /// take that statement's answer): it refuses every statement. A connection idle for a
    /// while is pinged first; a failed ping marks it broken. Neither sends the statement.
    async fn begin(&self, call: Call) -> Result<Turn<'_>> {
        let session = self.session.lock().await;
        if self.broken.load(Ordering::Acquire) {
            let why = "a statement on this connection was cancelled before its result was read, or the connection failed";
            return Err(if call.in_transaction {
                Error::Transaction(format!(
                    "{why}; the connection is discarded and its transaction can only be rolled back"
                ))
            } else {
                nothing_sent(why)
            });
        }
        // A turn from here: a cut during the liveness ping leaves the connection out of
        // step too.
        let mut turn = Turn {
            session,
            conn: self,
            finished: false,
        };
        if turn.session.last_used.elapsed() > PING_AFTER_IDLE {
            let ping = async { turn.session.conn()?.ping().await }.await;
            if let Err(e) = ping {
                self.broken.store(true, Ordering::Release);
                return Err(nothing_sent(map(e)));
            }
        }
        Ok(turn)
    }

    /// Asks the server whether the connection is alive.
    pub(crate) async fn ping(&self) -> Result<()> {
        let mut turn = self
            .begin(Call {
                log_values: false,
                in_transaction: false,
            })
            .await?;
        let result = async { turn.session.conn()?.ping().await }.await;
        turn.end(result)
    }

    /// Sends transaction control as a text query: nothing is prepared.
    pub(crate) async fn simple(&self, sql: &str, call: Call) -> Result<()> {
        let mut turn = self.begin(call).await?;
        let span = QuerySpan::start(&self.peer, &Statement::new(sql), false);
        let result = async { turn.session.conn()?.query_drop(sql).await }.await;
        let result = turn.end(result);
        match &result {
            Ok(()) => span.finish(0),
            Err(e) => span.fail(e),
        }
        result
    }

    /// Runs a statement that returns no rows. The values of a statement the driver owns
    /// (in a transaction, or on a last attempt) are moved to mysql_async, not copied,
    /// once the statement's span has recorded them; a borrowed statement's are copied,
    /// and a bad one is refused before the connection is touched.
    pub(crate) async fn execute(
        &self,
        mut stmt: Cow<'_, Statement>,
        call: Call,
    ) -> Result<ExecResult> {
        let borrowed = match &stmt {
            Cow::Borrowed(borrowed) => Some(params(&borrowed.params)?),
            Cow::Owned(_) => None,
        };
        self.needs_reset
            .fetch_or(changes_session(&stmt.sql), Ordering::AcqRel);
        let mut turn = self.begin(call).await?;
        let span = QuerySpan::start(&self.peer, &stmt, call.log_values);
        let bound = match borrowed {
            Some(bound) => bound,
            None => match owned_params(std::mem::take(&mut stmt.to_mut().params)) {
                Ok(bound) => bound,
                Err(e) => {
                    // Nothing was sent: the connection is as clean as before.
                    turn.finished = true;
                    span.fail(&e);
                    return Err(e);
                }
            },
        };
        let result = async {
            let conn = turn.session.conn()?;
            conn.exec_drop(stmt.sql.as_str(), bound).await?;
            Ok(ExecResult {
                rows_affected: conn.affected_rows(),
                last_insert_id: conn.last_insert_id().filter(|id| *id != 0),
            })
        }
        .await;
        let result = turn.end(result);
        match &result {
            Ok(r) => span.finish(r.rows_affected),
            Err(e) => span.fail(e),
        }
        result
    }

    pub(crate) async fn fetch_all<T: FromRow>(
        &self,
        stmt: &Statement,
        call: Call,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.for_each_row(stmt, call, |row: Result<T>| {
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
        &self,
        stmt: &Statement,
        call: Call,
        mut each: F,
    ) -> Result<u64>
    where
        T: FromRow,
        F: FnMut(Result<T>) -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let bound = params(&stmt.params)?;
        self.needs_reset
            .fetch_or(changes_session(&stmt.sql), Ordering::AcqRel);
        let mut turn = self.begin(call).await?;
        let span = QuerySpan::start(&self.peer, stmt, call.log_values);
        let outcome = async {
            let mut result = turn
                .session
                .conn()?
                .exec_iter(stmt.sql.as_str(), bound)
                .await?;
            let mut rows = 0u64;
            let mut failure = None;
            while let Some(row) = result.next().await? {
                rows += 1;
                match each(T::read_row(&MyRow(&row), stmt.columns)).await {
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
        let result = match turn.end(outcome) {
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

/// One statement's hold on the session. Dropped before [`end`](Turn::end) (its future
/// was cut), it marks the connection broken.
struct Turn<'a> {
    session: MutexGuard<'a, Session>,
    conn: &'a MySQLConn,
    finished: bool,
}

impl Turn<'_> {
    /// The statement's result is fully read: the turn ends cleanly unless the connection
    /// failed.
    fn end<T>(&mut self, result: std::result::Result<T, mysql_async::Error>) -> Result<T> {
        self.session.last_used = Instant::now();
        self.finished = true;
        result.map_err(|e| {
            if e.is_fatal() {
                self.conn.broken.store(true, Ordering::Release);
            }
            map(e)
        })
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.broken.store(true, Ordering::Release);
        }
    }
}

/// True when `err` allows sending the statement again on a new connection: nothing was
/// sent, or the statement only reads.
pub(crate) fn retryable(err: &Error, sql: &str) -> bool {
    match err {
        Error::ConnectionLost { source } => source.is::<NothingSent>() || orm_runtime::is_read(sql),
        _ => false,
    }
}

/// Closes the socket itself: mysql_async's own drop first reads whatever result is still
/// pending, and on a connection cut in the middle of a statement that read can wait for
/// ever, leaving the session (and its transaction) open on the server. COM_QUIT is sent
/// without reading anything; a second later the socket is closed regardless.
impl Drop for MySQLConn {
    fn drop(&mut self) {
        let Some(conn) = self.session.get_mut().conn.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), conn.disconnect()).await;
            });
        }
    }
}

impl std::fmt::Debug for MySQLConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySQLConn")
            .field("usable", &self.is_usable())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orm_core::Limits;

    const BOTH: Limits = Limits {
        statement: Some(Duration::from_millis(1500)),
        lock: Some(Duration::from_millis(200)),
    };

    #[test]
    fn mariadb_sets_the_limits_for_the_statement() {
        assert_eq!(
            with_limits("UPDATE t SET n = ?", BOTH, true).unwrap(),
            "SET STATEMENT max_statement_time = 1.5, innodb_lock_wait_timeout = 1 FOR UPDATE t SET n = ?"
        );
    }

    #[test]
    fn mysql_writes_optimizer_hints() {
        assert_eq!(
            with_limits("  SELECT a FROM t", BOTH, false).unwrap(),
            "SELECT /*+ MAX_EXECUTION_TIME(1500) SET_VAR(innodb_lock_wait_timeout = 1) */ a FROM t"
        );
        let lock_only = Limits {
            statement: None,
            ..BOTH
        };
        assert_eq!(
            with_limits("DELETE FROM t", lock_only, false).unwrap(),
            "DELETE /*+ SET_VAR(innodb_lock_wait_timeout = 1) */ FROM t"
        );
        assert!(matches!(
            with_limits("DELETE FROM t", BOTH, false),
            Err(Error::Query(_))
        ));
    }
}

//! Opening connections and running statements on them. SQLite calls block, so the async
//! side runs them on tokio's blocking threads, never on the async workers.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use orm_core::{ExecResult, FromRow, Result, Statement};
use orm_runtime::trace::{Peer, QuerySpan};
use orm_runtime::Call;
use rusqlite::{Connection, OpenFlags};

use crate::gate::Gate;
use crate::offload::blocking;

use crate::config::{Location, SqliteConfig};
use crate::error::map;
use crate::row::SqliteRow;
use crate::value::{check_params, SqliteParam};

pub(crate) const BACKEND: &str = "sqlite";

/// Opens a connection with the settings every connection gets: foreign keys on, a busy
/// timeout (writers wait for each other instead of failing), case-sensitive LIKE as on the
/// other databases, and WAL for files (readers never block the writer).
pub(crate) fn open(config: &SqliteConfig) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match &config.location {
        Location::File(path) => Connection::open_with_flags(path, flags),
        Location::Memory(name) => {
            Connection::open_with_flags(format!("file:{name}?vfs=memdb"), flags)
        }
    }
    .map_err(map)?;
    conn.busy_timeout(config.busy_timeout).map_err(map)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(map)?;
    conn.pragma_update(None, "case_sensitive_like", "ON")
        .map_err(map)?;
    if let Location::File(_) = config.location {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(map)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(map)?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    if let Some(limit) = config.statement_timeout {
        // For the database's limit, the handler is there for every statement; for a
        // statement's own limit alone, only while it runs (see `traced`).
        watch(&conn, Some(limit));
    }
    Ok(conn)
}

/// Has SQLite call, every 1,000 virtual-machine steps of a running statement, the check
/// that stops one past the database's limit (`database_limit`) or its own.
fn watch(conn: &Connection, database_limit: Option<std::time::Duration>) {
    conn.progress_handler(1_000, Some(move || statement_overran(database_limit)));
}

/// The statement running on a thread: when it started, and its own limit.
type Running = Option<(std::time::Instant, Option<std::time::Duration>)>;

thread_local! {
    /// The statement running on this thread. A statement runs from start to end on one
    /// thread (a blocking-pool thread, or the caller's when inline), and its progress
    /// handler is called on that thread.
    static RUNNING: std::cell::Cell<Running> = const { std::cell::Cell::new(None) };
    /// Whether the connection in use on this thread watches every statement (it has a
    /// database-wide limit): set when the connection is taken ([`SqliteConn::enter`]).
    static WATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True when the statement running on this thread has run longer than its limit (the
/// shorter of the database's and its own): the progress handler then interrupts it.
fn statement_overran(database_limit: Option<std::time::Duration>) -> bool {
    RUNNING.with(|running| {
        running.get().is_some_and(|(started, own)| {
            let limit = match (database_limit, own) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            limit.is_some_and(|limit| started.elapsed() > limit)
        })
    })
}

/// One SQLite connection ([`SqliteDriver`](crate::SqliteDriver)'s connection).
///
/// Statements take turns in the order they were sent, and a turn ends when the statement
/// has run, not when its future is dropped: a statement cut while queued on the blocking
/// pool still runs before the next one (the savepoint rollback queued by a cut scope must
/// come after the cut scope's own writes).
pub struct SqliteConn {
    conn: Mutex<Connection>,
    order: Arc<tokio::sync::Mutex<()>>,
    /// Statements run on the calling task ([`crate::SqliteConfig::run_inline`], and the
    /// blocking side).
    inline: bool,
    /// A pooled connection's database-wide order behind abandoned statements.
    gate: Option<Arc<Gate>>,
    /// What its statements' spans name.
    peer: Peer,
    /// It watches every statement's time (the database has a limit; see `open`).
    watched: bool,
}

impl SqliteConn {
    pub(crate) fn new(
        conn: Connection,
        peer: Peer,
        inline: bool,
        gate: Option<Arc<Gate>>,
        database_limit: Option<std::time::Duration>,
    ) -> Self {
        SqliteConn {
            conn: Mutex::new(conn),
            order: Arc::default(),
            inline,
            gate,
            peer,
            watched: database_limit.is_some(),
        }
    }

    /// Takes the connection for a statement on this thread, and tells `traced` whether
    /// it already watches every statement's time.
    fn enter(&self) -> MutexGuard<'_, Connection> {
        WATCHED.with(|watched| watched.set(self.watched));
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` on `stmt` on the connection in its turn: on the calling task when
    /// inline, otherwise on the blocking pool, which takes the statement along (a copy
    /// only when it was lent), behind the database's abandoned statements outside a
    /// transaction.
    pub(crate) async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        call: Call,
        stmt: Cow<'_, Statement>,
        work: impl FnOnce(&Connection, &Peer, &Statement) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        if self.inline {
            // Free in the common case: no waiting (and nothing to pay for it).
            let _turn = match self.order.try_lock() {
                Ok(turn) => turn,
                Err(_) => self.order.lock().await,
            };
            return work(&self.enter(), &self.peer, &stmt);
        }
        let turn = self.order.clone().lock_owned().await;
        let (conn, stmt) = (self.clone(), stmt.into_owned());
        let work = move || {
            let _turn = turn;
            work(&conn.enter(), &conn.peer, &stmt)
        };
        match (&self.gate, call.in_transaction) {
            (Some(gate), false) => {
                gate.clear().await;
                gate.run(work).await
            }
            _ => blocking(work).await,
        }
    }

    /// Runs `work` on the connection in its turn, on a blocking thread, whatever the
    /// connection's mode (streams hand rows over from there).
    pub(crate) async fn run_blocking<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Connection, &Peer) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let turn = self.order.clone().lock_owned().await;
        let conn = self.clone();
        blocking(move || {
            let _turn = turn;
            work(&conn.enter(), &conn.peer)
        })
        .await
    }
}

impl std::fmt::Debug for SqliteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConn")
            .field("inline", &self.inline)
            .finish_non_exhaustive()
    }
}

fn traced<R>(
    conn: &Connection,
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
    count: impl Fn(&R) -> u64,
    run: impl FnOnce() -> Result<R>,
) -> Result<R> {
    check_params(&stmt.params)?;
    let span = QuerySpan::start(peer, stmt, log_values);
    let now = (std::time::Instant::now(), stmt.limits.statement);
    let outer = RUNNING.with(|running| running.replace(Some(now)));
    // A statement's own limit on a connection that does not watch every statement: the
    // handler is there while it runs.
    let watch_this = stmt.limits.statement.is_some() && !WATCHED.with(|w| w.get());
    if watch_this {
        watch(conn, None);
    }
    let result = match stmt.limits.lock {
        None => run(),
        Some(limit) => with_busy_timeout(conn, limit, run),
    };
    if watch_this {
        conn.progress_handler(0, None::<fn() -> bool>);
    }
    RUNNING.with(|running| running.set(outer));
    match &result {
        Ok(r) => span.finish(count(r)),
        Err(e) => span.fail(e),
    }
    result
}

/// Runs `run` with the connection waiting at most `limit` for the database lock (a
/// statement's own lock limit), then puts the connection's busy timeout back.
fn with_busy_timeout<R>(
    conn: &Connection,
    limit: std::time::Duration,
    run: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let before: i64 = conn
        .pragma_query_value(None, "busy_timeout", |row| row.get(0))
        .map_err(map)?;
    conn.busy_timeout(limit).map_err(map)?;
    let result = run();
    let restored = conn
        .busy_timeout(std::time::Duration::from_millis(before.max(0) as u64))
        .map_err(map);
    let out = result?;
    restored.map(|()| out)
}

/// Runs a statement that returns no rows.
pub(crate) fn execute(
    conn: &Connection,
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
) -> Result<ExecResult> {
    traced(
        conn,
        peer,
        stmt,
        log_values,
        |r: &ExecResult| r.rows_affected,
        || {
            let mut prepared = conn.prepare_cached(&stmt.sql).map_err(map)?;
            let params = rusqlite::params_from_iter(stmt.params.iter().map(SqliteParam));
            let n = prepared.execute(params).map_err(map)?;
            Ok(ExecResult {
                rows_affected: n as u64,
                last_insert_id: u64::try_from(conn.last_insert_rowid())
                    .ok()
                    .filter(|id| *id != 0),
            })
        },
    )
}

/// Runs a query, handing each decoded row to `each` until it returns `false`.
pub(crate) fn for_each_row<T: FromRow>(
    conn: &Connection,
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
    mut each: impl FnMut(Result<T>) -> bool,
) -> Result<u64> {
    traced(
        conn,
        peer,
        stmt,
        log_values,
        |n: &u64| *n,
        || {
            let mut prepared = conn.prepare_cached(&stmt.sql).map_err(map)?;
            let params = rusqlite::params_from_iter(stmt.params.iter().map(SqliteParam));
            let mut rows = prepared.query(params).map_err(map)?;
            let mut n = 0;
            while let Some(row) = rows.next().map_err(map)? {
                n += 1;
                if !each(T::read_row(&SqliteRow(row), stmt.columns)) {
                    break;
                }
            }
            Ok(n)
        },
    )
}

/// Runs a query and decodes every row.
pub(crate) fn fetch_all<T: FromRow>(
    conn: &Connection,
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut failure = None;
    for_each_row(conn, peer, stmt, log_values, |row| match row {
        Ok(row) => {
            out.push(row);
            true
        }
        Err(e) => {
            failure = Some(e);
            false
        }
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Runs transaction control as a batch: nothing is prepared or cached.
pub(crate) fn simple(conn: &Connection, peer: &Peer, sql: &str) -> Result<()> {
    let stmt = Statement::new(sql);
    traced(
        conn,
        peer,
        &stmt,
        false,
        |_: &()| 0,
        || conn.execute_batch(sql).map_err(map),
    )
}

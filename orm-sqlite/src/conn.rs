//! Opening connections and running statements on them. SQLite calls block: the async side
//! runs them where [`RunOn`] says (by default on the calling task, letting go of the
//! worker when one runs long; see `handoff`).

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use orm_core::{ExecResult, FromRow, Result, Statement};
use orm_runtime::trace::{Peer, QuerySpan};
use orm_runtime::Call;
use rusqlite::{Connection, OpenFlags};

use crate::gate::Gate;
use crate::offload::blocking;

use crate::config::{Location, RunOn, SqliteConfig};
use crate::error::map;
use crate::handoff;
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
    // Lock waits are the ORM's (`wait_for_lock`): they let go of a runtime worker first.
    LOCK_LIMIT.set(config.busy_timeout);
    conn.busy_handler(Some(wait_for_lock)).map_err(map)?;
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
    // Every 1,000 virtual-machine steps of a running statement: the time limits, and
    // letting go of a runtime worker.
    let database_limit = config.statement_timeout;
    conn.progress_handler(1_000, Some(move || on_progress(database_limit)));
    Ok(conn)
}

/// The statement running on a thread: when it started, and its own limit.
type Running = Option<(Instant, Option<Duration>)>;

thread_local! {
    /// The statement running on this thread. A statement runs from start to end on one
    /// thread (a blocking-pool thread, or the caller's), and SQLite calls its progress
    /// and busy handlers on that thread.
    static RUNNING: Cell<Running> = const { Cell::new(None) };
    /// How long the statement running on this thread may wait for a lock: its own limit,
    /// or its connection's busy timeout.
    static LOCK_LIMIT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// When the current lock wait on this thread began.
    static LOCK_WAIT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The progress handler: lets go of a runtime worker once the statement runs long, and
/// interrupts it (returns true) once it has run longer than its limit (the shorter of
/// the database's and its own).
fn on_progress(database_limit: Option<Duration>) -> bool {
    let Some((started, own)) = RUNNING.get() else {
        return false;
    };
    handoff::if_long(started);
    let limit = match (database_limit, own) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    limit.is_some_and(|limit| started.elapsed() > limit)
}

/// The busy handler, SQLite's own busy timeout otherwise: called while another
/// connection holds the lock a statement needs (`count`: calls so far for this wait).
/// Lets go of a runtime worker first, then sleeps a little more each time until the
/// statement's lock limit; returning false ends the wait with `SQLITE_BUSY`.
fn wait_for_lock(count: i32) -> bool {
    const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    let now = Instant::now();
    if count == 0 {
        LOCK_WAIT.set(Some(now));
        handoff::let_go();
    }
    let waited = now - LOCK_WAIT.get().unwrap_or(now);
    let Some(left) = LOCK_LIMIT
        .get()
        .checked_sub(waited)
        .filter(|d| !d.is_zero())
    else {
        return false;
    };
    let step = DELAYS_MS[usize::try_from(count).unwrap_or(0).min(DELAYS_MS.len() - 1)];
    std::thread::sleep(Duration::from_millis(step).min(left));
    true
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
    /// Where its async statements run (the blocking side's: inline).
    run_on: RunOn,
    /// How long a statement waits for a lock, unless it says otherwise.
    busy_timeout: Duration,
    /// A pooled connection's database-wide order behind abandoned statements.
    gate: Option<Arc<Gate>>,
    /// What its statements' spans name.
    peer: Peer,
}

impl SqliteConn {
    pub(crate) fn new(
        conn: Connection,
        peer: Peer,
        run_on: RunOn,
        gate: Option<Arc<Gate>>,
        busy_timeout: Duration,
    ) -> Self {
        SqliteConn {
            conn: Mutex::new(conn),
            order: Arc::default(),
            run_on,
            gate,
            peer,
            busy_timeout,
        }
    }

    /// Takes the connection for a statement on this thread, and tells `traced` how long
    /// its statements wait for a lock.
    fn enter(&self) -> MutexGuard<'_, Connection> {
        LOCK_LIMIT.set(self.busy_timeout);
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` on `stmt` on the connection in its turn, behind the database's
    /// abandoned statements outside a transaction: on the calling task (armed to let go
    /// of the worker when [`RunOn::Adaptive`]), or on the blocking pool, which takes the
    /// statement along (a copy only when it was lent).
    pub(crate) async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        call: Call,
        stmt: Cow<'_, Statement>,
        work: impl FnOnce(&Connection, &Peer, &Statement) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let gate = self.gate.as_ref().filter(|_| !call.in_transaction);
        let here = match self.run_on {
            RunOn::Inline => Some(false),
            RunOn::Adaptive if handoff::available() => Some(true),
            _ => None,
        };
        if let Some(armed) = here {
            if let Some(gate) = gate {
                gate.clear().await;
            }
            // Free in the common case: no waiting (and nothing to pay for it).
            let _turn = match self.order.try_lock() {
                Ok(turn) => turn,
                Err(_) => self.order.lock().await,
            };
            let run = || work(&self.enter(), &self.peer, &stmt);
            return if armed { handoff::armed(run) } else { run() };
        }
        let turn = self.order.clone().lock_owned().await;
        let (conn, stmt) = (self.clone(), stmt.into_owned());
        let work = move || {
            let _turn = turn;
            work(&conn.enter(), &conn.peer, &stmt)
        };
        match gate {
            Some(gate) => {
                gate.clear().await;
                gate.run(work).await
            }
            None => blocking(work).await,
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
            .field("run_on", &self.run_on)
            .finish_non_exhaustive()
    }
}

fn traced<R>(
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
    count: impl Fn(&R) -> u64,
    run: impl FnOnce() -> Result<R>,
) -> Result<R> {
    check_params(&stmt.params)?;
    let span = QuerySpan::start(peer, stmt, log_values);
    let outer = RUNNING.replace(Some((Instant::now(), stmt.limits.statement)));
    let outer_lock = stmt.limits.lock.map(|limit| LOCK_LIMIT.replace(limit));
    let result = run();
    if let Some(limit) = outer_lock {
        LOCK_LIMIT.set(limit);
    }
    RUNNING.set(outer);
    match &result {
        Ok(r) => span.finish(count(r)),
        Err(e) => span.fail(e),
    }
    result
}

/// Runs a statement that returns no rows.
pub(crate) fn execute(
    conn: &Connection,
    peer: &Peer,
    stmt: &Statement,
    log_values: bool,
) -> Result<ExecResult> {
    traced(
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
        peer,
        &stmt,
        false,
        |_: &()| 0,
        || conn.execute_batch(sql).map_err(map),
    )
}

//! A primary and its read replicas behind one database: plain reads go to a replica
//! (in turn, or the least busy), everything else to the primary: writes, `SELECT ... FOR
//! UPDATE` / `FOR SHARE`, every statement of a transaction (`acquire` is the primary's),
//! DDL. A replica that fails to answer (down, unreachable) is skipped for a while and the
//! read runs on the primary instead; a read is safe to send twice. With
//! [`read_your_writes`](ReplicatedDatabase::read_your_writes), a task that wrote reads
//! from the primary until a replica has replayed its write, so what it wrote is what it
//! reads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use orm_core::{
    Database, Dialect, Error, ExecResult, Executor, FromRow, ReplayPositions, Result, RowMap,
    RowStream, Statement, SyncExecutor, SyncGate, SyncPolicy, Value,
};

use crate::member::MemberConnection;
use crate::rotation::{unavailable, Member, Rotation};
use crate::written::{Writes, Written};

/// How often a replica's lag is asked, with [`ReplicatedDatabase::max_lag`].
const LAG_CHECK_EVERY: Duration = Duration::from_secs(1);

/// A primary database `P` and replicas `R` (any single or pooled databases of one
/// backend) as one [`Database`]. See the module documentation for the routing.
///
/// ```
/// use orm_core::{raw_query, FetchQuery};
/// use orm_runtime::ReplicatedDatabase;
/// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
/// # fn main() -> orm_core::Result<()> {
/// # let primary = SqliteDatabase::new(SqliteConfig::memory())?;
/// # let replica = SqliteDatabase::new(SqliteConfig::memory())?;
/// let db = ReplicatedDatabase::new(primary, vec![replica]);
/// // Reads go to the replica; `db.primary()` pins one to the primary.
/// let one: i64 = raw_query("SELECT 1", vec![]).fetch_one_sync(&db)?;
/// assert_eq!(one, 1);
/// # Ok(()) }
/// ```
pub struct ReplicatedDatabase<P, R = P> {
    inner: Arc<Inner<P, R>>,
}

struct Inner<P, R> {
    /// The sync policy of the whole (the members' own are set to allow).
    gate: SyncGate,
    primary: P,
    replicas: Rotation<Replica<R>>,
    settings: Settings,
    /// The primary could not say its replication position (MySQL): reads after a write
    /// stay on it for the read-your-writes window.
    positions_unknown: AtomicBool,
    /// Plain reads answered by a replica, and by the primary.
    by_replicas: AtomicU64,
    by_primary: AtomicU64,
}

/// Where the plain reads of a [`ReplicatedDatabase`] went (see
/// [`ReplicatedDatabase::reads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReadCounts {
    /// Plain reads answered by a replica.
    pub by_replicas: u64,
    /// Plain reads answered by the primary: right after the task's writes, while no
    /// replica was fit, or after one failed.
    pub by_primary: u64,
}

/// What the builder methods set.
#[derive(Clone)]
struct Settings {
    /// Reads go to the least busy replica rather than the next in turn.
    least_busy: bool,
    /// Who wrote lately, for read-your-writes (shared with the autonomous side).
    writes: Arc<Writes>,
    /// Replicas further behind than this are skipped, and how to ask them (a query and
    /// the column with the seconds).
    max_lag: Option<(Duration, (&'static str, &'static str))>,
}

struct Replica<R> {
    db: R,
    /// When its lag was last asked, in milliseconds on the rotation's clock (0: never).
    lag_checked_ms: AtomicU64,
    /// It was further behind than `max_lag` when last asked.
    behind: AtomicBool,
    /// The position it last said it has replayed.
    replayed: Mutex<Option<String>>,
}

impl<R> Replica<R> {
    /// Whether the position it last said it has replayed includes `written`.
    fn known_to_include(&self, positions: &ReplayPositions, written: &str) -> bool {
        let replayed = self.replayed.lock().unwrap_or_else(PoisonError::into_inner);
        replayed
            .as_deref()
            .is_some_and(|r| (positions.includes)(r, written))
    }
}

impl<P, R> Clone for ReplicatedDatabase<P, R> {
    fn clone(&self) -> Self {
        ReplicatedDatabase {
            inner: self.inner.clone(),
        }
    }
}

impl<P: Database, R: Database> ReplicatedDatabase<P, R> {
    /// `primary` with `replicas` (none: everything goes to the primary).
    pub fn new(primary: P, replicas: Vec<R>) -> Self {
        Self::with_retry_after(primary, replicas, crate::rotation::DEFAULT_RETRY_AFTER)
    }

    /// As [`new`](Self::new); a replica that failed is left out for `retry_after`
    /// (5 s by default).
    pub fn with_retry_after(primary: P, replicas: Vec<R>, retry_after: Duration) -> Self {
        let settings = Settings {
            least_busy: false,
            writes: Arc::new(Writes::new(None)),
            max_lag: None,
        };
        Self::assemble(primary, replicas, retry_after, settings)
    }

    fn assemble(primary: P, replicas: Vec<R>, retry_after: Duration, settings: Settings) -> Self {
        for replica in &replicas {
            replica.set_allow_sync(SyncPolicy::Allow);
        }
        let replicas = replicas
            .into_iter()
            .map(|db| Replica {
                db,
                lag_checked_ms: AtomicU64::new(0),
                behind: AtomicBool::new(false),
                replayed: Mutex::new(None),
            })
            .collect();
        let gate = crate::rotation::one_gate(std::slice::from_ref(&primary));
        ReplicatedDatabase {
            inner: Arc::new(Inner {
                gate,
                primary,
                replicas: Rotation::new(replicas, retry_after),
                settings,
                positions_unknown: AtomicBool::new(false),
                by_replicas: AtomicU64::new(0),
                by_primary: AtomicU64::new(0),
            }),
        }
    }

    /// Changes a setting; an error once the database is shared (set them first).
    fn configure(self, what: &str, change: impl FnOnce(&mut Settings)) -> Result<Self> {
        let mut inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::Config(format!("{what} on a ReplicatedDatabase already shared")))?;
        change(&mut inner.settings);
        Ok(ReplicatedDatabase {
            inner: Arc::new(inner),
        })
    }

    /// Skips a replica that is further behind its primary than `bound` (asked at most once
    /// a second, on the way to a read: PostgreSQL answers with the age of the last
    /// transaction it replayed while it has WAL left to replay, MySQL and MariaDB with
    /// `Seconds_Behind_Master`, NULL while the replica does not apply, which counts as
    /// behind). Reads go to the other replicas, or the primary. A replica that cannot
    /// answer (a user without the privilege to ask) is left out like a failed one. An
    /// error for a backend whose replicas cannot say, or once the database is shared.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use orm_runtime::ReplicatedDatabase;
    /// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
    /// # let primary = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// # let replica = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// let refused = ReplicatedDatabase::new(primary, vec![replica]).max_lag(Duration::from_secs(5));
    /// assert!(refused.is_err(), "SQLite has no replicas to ask");
    /// ```
    pub fn max_lag(self, bound: Duration) -> Result<Self> {
        let dialect = Executor::dialect(&self.inner.primary);
        let Some(ask) = dialect.replica_lag() else {
            return Err(Error::Config(format!(
                "{} replicas cannot report their lag",
                dialect.name()
            )));
        };
        self.configure("max_lag", |s| s.max_lag = Some((bound, ask)))
    }

    /// Read-your-writes: after a task writes (a statement, or a transaction, counted from
    /// its end), its reads go to the primary until a replica has replayed the write, then
    /// to that replica again; other tasks' reads are not held back. Whether a replica has
    /// replayed it is known from replication positions: the primary's WAL position after
    /// the write and the standby's replayed one (PostgreSQL), or their GTID positions
    /// (MariaDB); a replica is asked only while a task waits for it. `window` bounds the
    /// wait; where positions are unknown (MySQL), a task's reads stay on the primary for
    /// the whole `window` after its write. Blocking calls made outside a task count per
    /// thread. An error once the database is shared.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use orm_runtime::ReplicatedDatabase;
    /// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
    /// # let primary = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// # let replica = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// let db = ReplicatedDatabase::new(primary, vec![replica])
    ///     .read_your_writes(Duration::from_secs(2))
    ///     .expect("set before the database is shared");
    /// ```
    pub fn read_your_writes(self, window: Duration) -> Result<Self> {
        self.configure("read_your_writes", |s| {
            s.writes = Arc::new(Writes::new(Some(window)))
        })
    }

    /// Sends each read to the replica answering the fewest statements of this database
    /// now, rather than to the next in turn (equals take turns). An error once the
    /// database is shared.
    ///
    /// ```
    /// # use orm_runtime::ReplicatedDatabase;
    /// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
    /// # let primary = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// # let replica = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// let db = ReplicatedDatabase::new(primary, vec![replica]).least_busy().expect("not shared");
    /// ```
    pub fn least_busy(self) -> Result<Self> {
        self.configure("least_busy", |s| s.least_busy = true)
    }

    /// Notes a write, for [`read_your_writes`](Self::read_your_writes).
    fn wrote(&self) {
        self.inner.settings.writes.wrote();
    }

    /// The primary: queries run on it directly are pinned to it.
    pub fn primary(&self) -> &P {
        &self.inner.primary
    }

    /// The replicas.
    pub fn replicas(&self) -> impl Iterator<Item = &R> {
        self.inner.replicas.all().map(|r| &r.db)
    }

    /// Where the plain reads (those a replica may answer) went so far.
    ///
    /// ```
    /// use orm_core::{raw_query, FetchQuery};
    /// use orm_runtime::ReplicatedDatabase;
    /// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
    /// # fn main() -> orm_core::Result<()> {
    /// # let primary = SqliteDatabase::new(SqliteConfig::memory())?;
    /// # let replica = SqliteDatabase::new(SqliteConfig::memory())?;
    /// let db = ReplicatedDatabase::new(primary, vec![replica]);
    /// raw_query::<i64>("SELECT 1", vec![]).fetch_one_sync(&db)?;
    /// assert_eq!(db.reads().by_replicas, 1);
    /// # Ok(()) }
    /// ```
    pub fn reads(&self) -> ReadCounts {
        ReadCounts {
            by_replicas: self.inner.by_replicas.load(Ordering::Relaxed),
            by_primary: self.inner.by_primary.load(Ordering::Relaxed),
        }
    }

    fn count(&self, by_replica: bool) {
        let counter = if by_replica {
            &self.inner.by_replicas
        } else {
            &self.inner.by_primary
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn now_ms(&self) -> u64 {
        self.inner.replicas.now_ms()
    }

    /// The replica to try next, not left out nor known to be behind (unless its lag is
    /// due to be asked again).
    fn pick(&self) -> Option<&Member<Replica<R>>> {
        let fit = |r: &Replica<R>| !r.behind.load(Ordering::Relaxed) || self.lag_check_due(r);
        if self.inner.settings.least_busy {
            self.inner.replicas.pick_least_busy(fit)
        } else {
            self.inner.replicas.pick(fit)
        }
    }

    /// How to compare replication positions, unless they are unknown here.
    fn positions(&self) -> Option<ReplayPositions> {
        if self.inner.positions_unknown.load(Ordering::Relaxed) {
            return None;
        }
        Executor::dialect(&self.inner.primary).replay_positions()
    }

    /// The replica a read goes to, if any: the next one that is fit and, for a task that
    /// wrote lately, has replayed its write.
    async fn replica_for_read(&self) -> Option<&Member<Replica<R>>> {
        let written = self.inner.settings.writes.pending();
        let positions = match written {
            Some(_) => Some(self.positions()?),
            None => None,
        };
        let replica = self.pick()?;
        if !self.fit(replica).await {
            return None;
        }
        let (Some(written), Some(positions)) = (written, positions) else {
            return Some(replica);
        };
        let position = match &written.position {
            Some(position) => position.clone(),
            None => {
                let answer = ask(&self.inner.primary, positions.written).await;
                self.note_written(&written, answer)?
            }
        };
        if !replica.value.known_to_include(&positions, &position) {
            let answer = ask(&replica.value.db, positions.replayed).await;
            self.note_replayed(replica, answer);
            if !replica.value.known_to_include(&positions, &position) {
                return None;
            }
        }
        self.inner.settings.writes.replayed(&written);
        Some(replica)
    }

    /// As [`replica_for_read`](Self::replica_for_read), blocking.
    fn replica_for_read_sync(&self) -> Option<&Member<Replica<R>>> {
        let written = self.inner.settings.writes.pending();
        let positions = match written {
            Some(_) => Some(self.positions()?),
            None => None,
        };
        let replica = self.pick()?;
        if !self.fit_sync(replica) {
            return None;
        }
        let (Some(written), Some(positions)) = (written, positions) else {
            return Some(replica);
        };
        let position = match &written.position {
            Some(position) => position.clone(),
            None => {
                let answer = ask_sync(&self.inner.primary, positions.written);
                self.note_written(&written, answer)?
            }
        };
        if !replica.value.known_to_include(&positions, &position) {
            let answer = ask_sync(&replica.value.db, positions.replayed);
            self.note_replayed(replica, answer);
            if !replica.value.known_to_include(&positions, &position) {
                return None;
            }
        }
        self.inner.settings.writes.replayed(&written);
        Some(replica)
    }

    /// Records the primary's position after `written`; the position, if it said one. A
    /// primary that cannot say (MySQL) is not asked again.
    fn note_written(&self, written: &Written, answer: Result<Option<String>>) -> Option<String> {
        match answer {
            Ok(Some(position)) => {
                self.inner
                    .settings
                    .writes
                    .located(written, position.clone());
                Some(position)
            }
            Ok(None) => None,
            Err(e) if unavailable(&e) => None,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "the primary cannot say its replication position: a task's reads stay \
                     on it for the read-your-writes window after its writes"
                );
                self.inner.positions_unknown.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// Records the position a replica said it has replayed.
    fn note_replayed(&self, member: &Member<Replica<R>>, answer: Result<Option<String>>) {
        match answer {
            Ok(replayed) => {
                *member
                    .value
                    .replayed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = replayed;
            }
            Err(e) if unavailable(&e) => self.leave_out(member, &e),
            Err(e) => tracing::warn!(error = %e, "a replica cannot say its replayed position"),
        }
    }

    /// With `max_lag`: the replica's lag was last asked long enough ago to ask again.
    fn lag_check_due(&self, replica: &Replica<R>) -> bool {
        self.inner.settings.max_lag.is_some() && {
            let checked = replica.lag_checked_ms.load(Ordering::Relaxed);
            checked == 0 || self.now_ms() >= checked + LAG_CHECK_EVERY.as_millis() as u64
        }
    }

    /// Records the lag the replica reported (or its failure to); whether it may serve.
    fn note_lag(&self, member: &Member<Replica<R>>, answer: Result<Vec<RowMap>>) -> bool {
        let replica = &member.value;
        let Some((bound, (_, column))) = self.inner.settings.max_lag else {
            return true;
        };
        replica
            .lag_checked_ms
            .store(self.now_ms().max(1), Ordering::Relaxed);
        match answer {
            Ok(rows) => {
                let seconds = match rows.first() {
                    // Not a replica: nothing to be behind.
                    None => 0.0,
                    Some(row) => seconds(row.get(column)),
                };
                let behind = seconds > bound.as_secs_f64();
                if behind && !replica.behind.load(Ordering::Relaxed) {
                    tracing::warn!(lag_s = seconds, "a replica is behind; reads go elsewhere");
                }
                replica.behind.store(behind, Ordering::Relaxed);
                !behind
            }
            Err(e) => {
                self.leave_out(member, &e);
                false
            }
        }
    }

    /// Asks the replica its lag if it is time to; whether it may serve.
    async fn fit(&self, member: &Member<Replica<R>>) -> bool {
        let replica = &member.value;
        match self.inner.settings.max_lag {
            Some((_, (sql, _))) if self.lag_check_due(replica) => {
                let lag = replica.db.fetch_all::<RowMap>(Statement::new(sql)).await;
                self.note_lag(member, lag)
            }
            _ => !replica.behind.load(Ordering::Relaxed),
        }
    }

    /// As [`fit`](Self::fit), blocking.
    fn fit_sync(&self, member: &Member<Replica<R>>) -> bool {
        let replica = &member.value;
        match self.inner.settings.max_lag {
            Some((_, (sql, _))) if self.lag_check_due(replica) => {
                let lag = replica.db.fetch_all_sync::<RowMap>(Statement::new(sql));
                self.note_lag(member, lag)
            }
            _ => !replica.behind.load(Ordering::Relaxed),
        }
    }

    /// Leaves `replica` out for a while after it failed with `err`.
    fn leave_out(&self, replica: &Member<Replica<R>>, err: &Error) {
        self.inner.replicas.leave_out(replica, err, "a replica");
    }
}

/// A replication position asked of `db` (`sql` answers one text column, `position`).
async fn ask<D: Executor>(db: &D, sql: &'static str) -> Result<Option<String>> {
    let rows = db.fetch_all::<RowMap>(Statement::new(sql)).await?;
    Ok(position(&rows))
}

/// As [`ask`], blocking.
fn ask_sync<D: SyncExecutor>(db: &D, sql: &'static str) -> Result<Option<String>> {
    let rows = db.fetch_all_sync::<RowMap>(Statement::new(sql))?;
    Ok(position(&rows))
}

/// The `position` column of the first row: text, or NULL for none.
fn position(rows: &[RowMap]) -> Option<String> {
    match rows.first()?.get("position")? {
        Value::Text(text) => Some(text.to_string()),
        Value::Bytes(bytes) => String::from_utf8(bytes.clone()).ok(),
        _ => None,
    }
}

/// Seconds from a lag column: a number (or its text); missing or NULL (not replicating)
/// is infinitely behind.
fn seconds(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::F64(s)) => *s,
        Some(Value::F32(s)) => f64::from(*s),
        Some(Value::I64(s)) => *s as f64,
        Some(Value::I32(s)) => f64::from(*s),
        Some(Value::Text(s)) => s.trim().parse().unwrap_or(f64::INFINITY),
        _ => f64::INFINITY,
    }
}

/// A plain read, which a replica may answer: a SELECT (or SHOW) that locks nothing.
///
/// ```
/// use orm_runtime::replicated::for_replica;
/// assert!(for_replica("SELECT * FROM t WHERE id = $1"));
/// assert!(!for_replica("SELECT * FROM t WHERE id = $1 FOR UPDATE"));
/// assert!(!for_replica("UPDATE t SET n = 1"));
/// ```
pub fn for_replica(sql: &str) -> bool {
    const LOCKS: [&str; 3] = [" FOR UPDATE", " FOR SHARE", " LOCK IN SHARE MODE"];
    const KEY_LOCKS: [&str; 2] = [" FOR NO KEY UPDATE", " FOR KEY SHARE"];
    crate::is_read(sql)
        && !LOCKS
            .iter()
            .chain(KEY_LOCKS.iter())
            .any(|lock| contains_ignore_case(sql, lock))
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

impl<P: Database, R: Database> Executor for ReplicatedDatabase<P, R> {
    fn dialect(&self) -> &'static dyn Dialect {
        Executor::dialect(&self.inner.primary)
    }

    fn execute(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<ExecResult>> + Send {
        self.wrote();
        self.inner.primary.execute(stmt)
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        if !for_replica(&stmt.sql) {
            // INSERT ... RETURNING, SELECT ... FOR UPDATE: the primary's, and may write.
            self.wrote();
            return self.inner.primary.fetch_all(stmt).await;
        }
        if let Some(replica) = self.replica_for_read().await {
            let _busy = replica.busy();
            match replica.value.db.fetch_all(stmt.clone()).await {
                Err(e) if unavailable(&e) => self.leave_out(replica, &e),
                answered => {
                    self.count(true);
                    return answered;
                }
            }
        }
        self.count(false);
        self.inner.primary.fetch_all(stmt).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        // A stream does not wait for a check: a replica known to be behind is skipped, and
        // a task's stream right after its write reads from the primary.
        let read = for_replica(&stmt.sql);
        if !read {
            return self.inner.primary.fetch_stream(stmt);
        }
        let replica = self.pick().filter(|r| {
            !r.value.behind.load(Ordering::Relaxed)
                && self.inner.settings.writes.pending().is_none()
        });
        self.count(replica.is_some());
        match replica {
            Some(replica) => replica.value.db.fetch_stream(stmt),
            None => self.inner.primary.fetch_stream(stmt),
        }
    }
}

impl<P: Database, R: Database> SyncExecutor for ReplicatedDatabase<P, R> {
    fn dialect(&self) -> &'static dyn Dialect {
        SyncExecutor::dialect(&self.inner.primary)
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        crate::blocking::check_sync(&self.inner.gate, &stmt.sql)?;
        self.wrote();
        self.inner.primary.execute_sync(stmt)
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        crate::blocking::check_sync(&self.inner.gate, &stmt.sql)?;
        if !for_replica(&stmt.sql) {
            self.wrote();
            return self.inner.primary.fetch_all_sync(stmt);
        }
        if let Some(replica) = self.replica_for_read_sync() {
            let _busy = replica.busy();
            match replica.value.db.fetch_all_sync(stmt.clone()) {
                Err(e) if unavailable(&e) => self.leave_out(replica, &e),
                answered => {
                    self.count(true);
                    return answered;
                }
            }
        }
        self.count(false);
        self.inner.primary.fetch_all_sync(stmt)
    }
}

impl<P: Database, R: Database> Database for ReplicatedDatabase<P, R> {
    /// Transactions run on the primary; when one ends, its task's reads see its writes.
    type Connection = MemberConnection<P::Connection>;

    async fn acquire(&self) -> Result<Self::Connection> {
        let conn = self.inner.primary.acquire().await?;
        let writes = self.inner.settings.writes.clone();
        Ok(MemberConnection::new(conn, 0, Some(writes)))
    }

    /// Opens the primary; a replica that cannot be reached is left out for now.
    async fn connect(&self) -> Result<()> {
        self.inner.primary.connect().await?;
        for replica in self.inner.replicas.members() {
            if let Err(e) = replica.value.db.connect().await {
                self.leave_out(replica, &e);
            }
        }
        Ok(())
    }

    async fn close(&self) {
        self.inner.primary.close().await;
        for replica in self.inner.replicas.all() {
            replica.db.close().await;
        }
    }

    /// True while the primary holds an open connection.
    fn is_connected(&self) -> bool {
        self.inner.primary.is_connected()
    }

    fn close_sync(&self) {
        self.inner.primary.close_sync();
        for replica in self.inner.replicas.all() {
            replica.db.close_sync();
        }
    }

    /// Its own: the members' are set to allow, and this one decides.
    fn sync_gate(&self) -> &SyncGate {
        &self.inner.gate
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    /// The primary's side connection, with the same replicas and settings; its writes
    /// count for read-your-writes as this database's do.
    fn autonomous(&self) -> Option<Self> {
        let primary = self.inner.primary.autonomous()?;
        let replicas = self.inner.replicas.all().map(|r| r.db.clone()).collect();
        let retry_after = self.inner.replicas.retry_after();
        let settings = self.inner.settings.clone();
        Some(Self::assemble(primary, replicas, retry_after, settings))
    }
}

impl<P, R> std::fmt::Debug for ReplicatedDatabase<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedDatabase")
            .field("replicas", &self.inner.replicas.all().count())
            .finish_non_exhaustive()
    }
}

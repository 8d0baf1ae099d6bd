//! A primary and its read replicas behind one database: plain reads go to a replica
//! (round robin), everything else to the primary: writes, `SELECT ... FOR UPDATE` /
//! `FOR SHARE`, every statement of a transaction (`acquire` is the primary's), DDL. A
//! replica that fails to answer (down, unreachable) is skipped for a while and the read
//! runs on the primary instead; a read is safe to send twice. With
//! [`read_your_writes`](ReplicatedDatabase::read_your_writes), reads go to the primary
//! for a while after each write, so a write is seen by the reads that follow it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::rotation::{unavailable, Member, Rotation};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orm_core::{
    Connection, Database, Dialect, Error, ExecResult, Executor, FromRow, Result, RowMap, RowStream,
    Statement, SyncExecutor, SyncGate, SyncPolicy, TxOptions, Value,
};

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
    /// When the last write was sent, for read-your-writes.
    writes: Arc<WriteClock>,
    /// Replicas further behind than this are skipped, and how to ask them (a query and
    /// the column with the seconds).
    max_lag: Option<(Duration, (&'static str, &'static str))>,
}

/// When a database last wrote, for [`ReplicatedDatabase::read_your_writes`].
struct WriteClock {
    epoch: Instant,
    /// Reads stay on the primary this long after a write (none: they never do).
    window: Option<Duration>,
    /// Milliseconds after `epoch` of the last write (0: none yet).
    last_ms: AtomicU64,
}

impl WriteClock {
    fn mark(&self) {
        if self.window.is_some() {
            let now = self.epoch.elapsed().as_millis() as u64;
            self.last_ms.store(now.max(1), Ordering::Relaxed);
        }
    }

    fn recent(&self) -> bool {
        let Some(window) = self.window else {
            return false;
        };
        let last = self.last_ms.load(Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64;
        last != 0 && now < last + window.as_millis() as u64
    }
}

struct Replica<R> {
    db: R,
    /// When its lag was last asked, in milliseconds on the rotation's clock (0: never).
    lag_checked_ms: AtomicU64,
    /// It was further behind than `max_lag` when last asked.
    behind: AtomicBool,
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
        for replica in &replicas {
            replica.set_allow_sync(SyncPolicy::Allow);
        }
        let replicas = replicas
            .into_iter()
            .map(|db| Replica {
                db,
                lag_checked_ms: AtomicU64::new(0),
                behind: AtomicBool::new(false),
            })
            .collect();
        let gate = crate::rotation::one_gate(std::slice::from_ref(&primary));
        ReplicatedDatabase {
            inner: Arc::new(Inner {
                gate,
                primary,
                replicas: Rotation::new(replicas, retry_after),
                writes: Arc::new(WriteClock {
                    epoch: Instant::now(),
                    window: None,
                    last_ms: AtomicU64::new(0),
                }),
                max_lag: None,
            }),
        }
    }

    /// Skips a replica that is further behind its primary than `bound` (asked at most once
    /// a second, on the way to a read: PostgreSQL answers with the age of the last
    /// transaction it replayed while it has WAL left to replay, MySQL and MariaDB with
    /// `Seconds_Behind_Master`, NULL while the replica does not apply, which counts as
    /// behind). Reads go to the other replicas, or the primary. A replica that cannot
    /// answer (a user without the privilege to ask) is left out like a failed one. An
    /// error for a backend whose replicas cannot say.
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
        let Some(ask) = Executor::dialect(&self.inner.primary).replica_lag() else {
            return Err(Error::Config(format!(
                "{} replicas cannot report their lag",
                Executor::dialect(&self.inner.primary).name()
            )));
        };
        let mut inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::Config("max_lag on a ReplicatedDatabase already shared".into()))?;
        inner.max_lag = Some((bound, ask));
        Ok(ReplicatedDatabase {
            inner: Arc::new(inner),
        })
    }

    /// After a write (or a transaction, which may write: counted from its end), reads go
    /// to the primary for `window`: long enough for the replicas to replay it, so that
    /// what was written is what is read. It holds for every task using this database (it
    /// does not track which task wrote). Set it before the database is shared.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use orm_runtime::ReplicatedDatabase;
    /// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
    /// # let primary = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// # let replica = SqliteDatabase::new(SqliteConfig::memory()).unwrap();
    /// let db = ReplicatedDatabase::new(primary, vec![replica])
    ///     .read_your_writes(Duration::from_secs(2));
    /// ```
    pub fn read_your_writes(self, window: Duration) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => {
                tracing::warn!("read_your_writes on a shared ReplicatedDatabase is ignored");
                return ReplicatedDatabase { inner: shared };
            }
        };
        inner.writes = Arc::new(WriteClock {
            epoch: Instant::now(),
            window: Some(window),
            last_ms: AtomicU64::new(0),
        });
        ReplicatedDatabase {
            inner: Arc::new(inner),
        }
    }

    /// Notes a write, for [`read_your_writes`](Self::read_your_writes).
    fn wrote(&self) {
        self.inner.writes.mark();
    }

    /// Whether a write was sent within the read-your-writes window.
    fn wrote_lately(&self) -> bool {
        self.inner.writes.recent()
    }

    /// The primary: queries run on it directly are pinned to it.
    pub fn primary(&self) -> &P {
        &self.inner.primary
    }

    /// The replicas.
    pub fn replicas(&self) -> impl Iterator<Item = &R> {
        self.inner.replicas.all().map(|r| &r.db)
    }

    fn now_ms(&self) -> u64 {
        self.inner.replicas.now_ms()
    }

    /// The next replica in turn that is not left out; none right after a write when reads
    /// should see it.
    fn pick(&self) -> Option<&Member<Replica<R>>> {
        if self.inner.replicas.is_empty() || self.wrote_lately() {
            return None;
        }
        self.inner
            .replicas
            .pick(|r| !r.behind.load(Ordering::Relaxed) || self.lag_check_due(r))
    }

    /// With `max_lag`: the replica's lag was last asked long enough ago to ask again.
    fn lag_check_due(&self, replica: &Replica<R>) -> bool {
        self.inner.max_lag.is_some() && {
            let checked = replica.lag_checked_ms.load(Ordering::Relaxed);
            checked == 0 || self.now_ms() >= checked + LAG_CHECK_EVERY.as_millis() as u64
        }
    }

    /// Records the lag the replica reported (or its failure to); whether it may serve.
    fn note_lag(&self, member: &Member<Replica<R>>, answer: Result<Vec<RowMap>>) -> bool {
        let replica = &member.value;
        let Some((bound, (_, column))) = self.inner.max_lag else {
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
        match self.inner.max_lag {
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
        match self.inner.max_lag {
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
        if for_replica(&stmt.sql) {
            if let Some(replica) = self.pick() {
                if !self.fit(replica).await {
                    return self.inner.primary.fetch_all(stmt).await;
                }
                match replica.value.db.fetch_all(stmt.clone()).await {
                    Err(e) if unavailable(&e) => self.leave_out(replica, &e),
                    answered => return answered,
                }
            }
        } else {
            // INSERT ... RETURNING, SELECT ... FOR UPDATE: the primary's, and may write.
            self.wrote();
        }
        self.inner.primary.fetch_all(stmt).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        // A stream does not wait for a lag check: a replica known to be behind is skipped.
        let replica = self
            .pick()
            .filter(|r| for_replica(&stmt.sql) && !r.value.behind.load(Ordering::Relaxed));
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
        self.inner.gate.check(&stmt.sql)?;
        self.wrote();
        self.inner.primary.execute_sync(stmt)
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.inner.gate.check(&stmt.sql)?;
        if for_replica(&stmt.sql) {
            if let Some(replica) = self.pick() {
                if !self.fit_sync(replica) {
                    return self.inner.primary.fetch_all_sync(stmt);
                }
                match replica.value.db.fetch_all_sync(stmt.clone()) {
                    Err(e) if unavailable(&e) => self.leave_out(replica, &e),
                    answered => return answered,
                }
            }
        } else {
            self.wrote();
        }
        self.inner.primary.fetch_all_sync(stmt)
    }
}

impl<P: Database, R: Database> Database for ReplicatedDatabase<P, R> {
    /// Transactions run on the primary.
    type Connection = ReplicatedConnection<P::Connection>;

    async fn acquire(&self) -> Result<Self::Connection> {
        let conn = self.inner.primary.acquire().await?;
        Ok(ReplicatedConnection {
            conn: Arc::new(conn),
            writes: self.inner.writes.clone(),
        })
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

    /// The primary's side connection, with the same replicas.
    fn autonomous(&self) -> Option<Self> {
        let primary = self.inner.primary.autonomous()?;
        let replicas = self.inner.replicas.all().map(|r| r.db.clone()).collect();
        let mut side = Self::with_retry_after(primary, replicas, self.inner.replicas.retry_after());
        if let Some(window) = self.inner.writes.window {
            side = side.read_your_writes(window);
        }
        match self.inner.max_lag {
            Some((bound, _)) => side.max_lag(bound).ok(),
            None => Some(side),
        }
    }
}

/// The primary's connection, held for a transaction; when it is given back, the
/// database's reads stay on the primary for the read-your-writes window.
pub struct ReplicatedConnection<C> {
    conn: Arc<C>,
    writes: Arc<WriteClock>,
}

impl<C> Drop for ReplicatedConnection<C> {
    fn drop(&mut self) {
        self.writes.mark();
    }
}

impl<C: Connection> Executor for ReplicatedConnection<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.conn.dialect()
    }

    fn execute(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<ExecResult>> + Send {
        self.conn.execute(stmt)
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<Vec<T>>> + Send {
        self.conn.fetch_all(stmt)
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        self.conn.fetch_stream(stmt)
    }
}

impl<C: Connection> Connection for ReplicatedConnection<C> {
    fn begin(&self, options: &TxOptions) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.begin(options)
    }

    fn commit(&self) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.commit()
    }

    fn rollback(&self) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.rollback()
    }

    fn savepoint(&self, name: &str) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.savepoint(name)
    }

    fn release_savepoint(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.release_savepoint(name)
    }

    fn rollback_to_savepoint(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.rollback_to_savepoint(name)
    }

    fn in_transaction(&self) -> bool {
        self.conn.in_transaction()
    }

    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        // The stream holds the connection; the write mark comes when it is dropped.
        let conn = self.conn.clone();
        let rows = conn.fetch_stream_owned(stmt);
        Box::pin(futures_util::StreamExt::map(rows, move |row| {
            let _held = &self;
            row
        }))
    }
}

impl<C> std::fmt::Debug for ReplicatedConnection<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplicatedConnection")
    }
}

impl<P, R> std::fmt::Debug for ReplicatedDatabase<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedDatabase")
            .field("replicas", &self.inner.replicas.all().count())
            .finish_non_exhaustive()
    }
}

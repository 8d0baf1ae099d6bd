//! A multi-primary cluster (MariaDB Galera) behind one database: every statement and
//! every transaction goes to the next node in turn, so writes are spread over the nodes.
//! A node that cannot be reached is left out for a while and the work goes to the next
//! one, as long as nothing was sent: a connection is taken on a node first, and only a
//! read that was cut is sent again elsewhere. A statement of its own (outside a
//! transaction) that a certification conflict or deadlock rolled back is run again, a few
//! times. A write whose connection was lost is the caller's to retry, as is a
//! transaction (`transaction_with_retry` does, for a connection lost before BEGIN and for
//! certification conflicts, which Galera reports as deadlocks).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use orm_core::{
    Database, Dialect, Error, ExecResult, Executor, FromRow, Result, RowStream, Statement,
    SyncExecutor, SyncGate,
};

use crate::member::MemberConnection;
use crate::rotation::{unavailable, Member, Rotation, DEFAULT_RETRY_AFTER};

/// Nodes of one cluster (any single or pooled databases of one backend) as one
/// [`Database`]; see the module documentation.
///
/// ```
/// use orm_core::{raw_query, FetchQuery};
/// use orm_runtime::ClusterDatabase;
/// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
/// # fn main() -> orm_core::Result<()> {
/// # let (a, b) = (SqliteDatabase::new(SqliteConfig::memory())?, SqliteDatabase::new(SqliteConfig::memory())?);
/// let cluster = ClusterDatabase::new(vec![a, b])?;
/// let one: i64 = raw_query("SELECT 1", vec![]).fetch_one_sync(&cluster)?;
/// assert_eq!(one, 1);
/// # Ok(()) }
/// ```
pub struct ClusterDatabase<D> {
    nodes: Arc<Rotation<D>>,
    /// The sync policy of the whole cluster (the nodes' own are set to allow).
    gate: Arc<SyncGate>,
    /// Each node's autonomous side, as a cluster of that one node, made when first asked
    /// (`None`: the nodes have none).
    sides: Arc<OnceLock<Option<Vec<ClusterDatabase<D>>>>>,
}

impl<D> Clone for ClusterDatabase<D> {
    fn clone(&self) -> Self {
        ClusterDatabase {
            nodes: self.nodes.clone(),
            gate: self.gate.clone(),
            sides: self.sides.clone(),
        }
    }
}

impl<D: Database> ClusterDatabase<D> {
    /// The nodes (at least one).
    pub fn new(nodes: Vec<D>) -> Result<Self> {
        Self::with_retry_after(nodes, DEFAULT_RETRY_AFTER)
    }

    /// As [`new`](Self::new); a node that failed is left out for `retry_after` (5 s by
    /// default).
    pub fn with_retry_after(nodes: Vec<D>, retry_after: Duration) -> Result<Self> {
        if nodes.is_empty() {
            return Err(Error::Config("a cluster needs at least one node".into()));
        }
        let gate = Arc::new(crate::rotation::one_gate(&nodes));
        Ok(ClusterDatabase {
            nodes: Arc::new(Rotation::new(nodes, retry_after)),
            gate,
            sides: Arc::new(OnceLock::new()),
        })
    }

    /// The nodes.
    pub fn nodes(&self) -> impl Iterator<Item = &D> {
        self.nodes.all()
    }

    /// A connection on the next node that can give one, and that node's place: nothing
    /// has been sent yet, so a node that cannot is left out and the next one asked.
    async fn take(&self) -> Result<(usize, D::Connection)> {
        let mut last = None;
        for _ in 0..self.nodes.members().len() {
            let Some(node) = self.nodes.pick(|_| true) else {
                break;
            };
            match node.value.acquire().await {
                Ok(conn) => return Ok((node.index, conn)),
                Err(e) if unavailable(&e) => {
                    self.nodes.leave_out(node, &e, "a cluster node");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Config("no cluster node is available".into())))
    }

    /// Whether a statement that failed with `err` on its own (outside a transaction) runs
    /// again: a certification conflict or deadlock rolled it back whole, so it is safe,
    /// and on a cluster it is common (a write racing a DDL or another node's write to the
    /// same row). A few times, after a short, growing pause.
    async fn again(&self, err: &Error, attempt: &mut u32) -> bool {
        match pause_before_again(err, attempt) {
            Some(pause) => {
                tokio::time::sleep(pause).await;
                true
            }
            None => false,
        }
    }

    /// The next node that is not left out (for streams and blocking calls, which do not
    /// take a connection first).
    fn next(&self) -> Result<&Member<D>> {
        self.nodes
            .pick(|_| true)
            .ok_or_else(|| Error::Config("no cluster node is available".into()))
    }
}

/// The pause before running a statement again after `err`, if it runs again; counts the
/// attempt.
fn pause_before_again(err: &Error, attempt: &mut u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 5;
    if !err.is_retryable() || *attempt + 1 >= ATTEMPTS {
        return None;
    }
    let pause = Duration::from_millis(5 << *attempt);
    *attempt += 1;
    Some(pause)
}

/// As `ClusterDatabase::again`, blocking.
fn again_sync(err: &Error, attempt: &mut u32) -> bool {
    match pause_before_again(err, attempt) {
        Some(pause) => {
            std::thread::sleep(pause);
            true
        }
        None => false,
    }
}

impl<D: Database> Executor for ClusterDatabase<D> {
    fn dialect(&self) -> &'static dyn Dialect {
        Executor::dialect(&self.nodes.members()[0].value)
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        let mut attempt = 0;
        loop {
            match self.take().await?.1.execute(stmt.clone()).await {
                Err(e) if self.again(&e, &mut attempt).await => {}
                answered => return answered,
            }
        }
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        let read = crate::is_read(&stmt.sql);
        let mut attempt = 0;
        loop {
            match self.take().await?.1.fetch_all(stmt.clone()).await {
                // A read cut with its connection is sent once more, on another node.
                Err(e) if read && unavailable(&e) && attempt == 0 => attempt += 1,
                Err(e) if self.again(&e, &mut attempt).await => {}
                answered => return answered,
            }
        }
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        match self.next() {
            Ok(node) => node.value.fetch_stream(stmt),
            Err(e) => Box::pin(orm_core::ErrorStream::new(e)),
        }
    }
}

impl<D: Database> SyncExecutor for ClusterDatabase<D> {
    fn dialect(&self) -> &'static dyn Dialect {
        SyncExecutor::dialect(&self.nodes.members()[0].value)
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        crate::blocking::check_sync(&self.gate, &stmt.sql)?;
        let mut attempt = 0;
        loop {
            match self.next()?.value.execute_sync(stmt.clone()) {
                Err(e) if again_sync(&e, &mut attempt) => {}
                answered => return answered,
            }
        }
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        crate::blocking::check_sync(&self.gate, &stmt.sql)?;
        let read = crate::is_read(&stmt.sql);
        let mut attempt = 0;
        loop {
            let node = self.next()?;
            match node.value.fetch_all_sync(stmt.clone()) {
                Err(e) if read && unavailable(&e) && attempt == 0 => {
                    self.nodes.leave_out(node, &e, "a cluster node");
                    attempt += 1;
                }
                Err(e) if again_sync(&e, &mut attempt) => {}
                answered => return answered,
            }
        }
    }
}

impl<D: Database> Database for ClusterDatabase<D> {
    /// A node's connection, which knows its node.
    type Connection = MemberConnection<D::Connection>;

    async fn acquire(&self) -> Result<Self::Connection> {
        let (node, conn) = self.take().await?;
        Ok(MemberConnection::new(conn, node, None))
    }

    /// Opens every node; one that cannot be reached is left out for now. Fails only when
    /// none can.
    async fn connect(&self) -> Result<()> {
        let mut last = None;
        let mut any = false;
        for node in self.nodes.members() {
            match node.value.connect().await {
                Ok(()) => any = true,
                Err(e) => {
                    self.nodes.leave_out(node, &e, "a cluster node");
                    last = Some(e);
                }
            }
        }
        match (any, last) {
            (false, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    async fn close(&self) {
        for node in self.nodes.all() {
            node.close().await;
        }
    }

    /// True while any node holds an open connection.
    fn is_connected(&self) -> bool {
        self.nodes.all().any(|node| node.is_connected())
    }

    fn close_sync(&self) {
        for node in self.nodes.all() {
            node.close_sync();
        }
    }

    /// The cluster's own: the nodes' are set to allow, and this one decides.
    fn sync_gate(&self) -> &SyncGate {
        &self.gate
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.nodes) as *const () as usize
    }

    /// Every node's side connection, as a cluster.
    fn autonomous(&self) -> Option<Self> {
        let nodes: Option<Vec<D>> = self.nodes.all().map(Database::autonomous).collect();
        Self::with_retry_after(nodes?, self.nodes.retry_after()).ok()
    }

    /// The side connection of the transaction's own node: what it commits is seen by
    /// the transaction at once. (On another node it may not be yet: Galera's causal
    /// reads, `wsrep_sync_wait`, do not wait inside a transaction.)
    fn autonomous_for(&self, conn: &Self::Connection) -> Option<Self> {
        let sides = self.sides.get_or_init(|| {
            self.nodes
                .all()
                .map(|node| {
                    let side = node.autonomous()?;
                    Self::with_retry_after(vec![side], self.nodes.retry_after()).ok()
                })
                .collect()
        });
        sides.as_ref()?.get(conn.member()).cloned()
    }
}

impl<D> std::fmt::Debug for ClusterDatabase<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterDatabase")
            .field("nodes", &self.nodes.all().count())
            .finish_non_exhaustive()
    }
}

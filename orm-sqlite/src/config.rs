//! Where the database lives: a file, or memory shared by every connection of one
//! `Database` value.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orm_core::{Error, Result};
use orm_runtime::{DriverConfig, PoolOptions, PoolSettings};

/// The database file, or a private in-memory database.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Location {
    File(PathBuf),
    /// A `memdb` database: shared by every connection that opens the same name, with
    /// ordinary locking, alive while one connection stays open.
    Memory(String),
}

/// How to open an SQLite database, and the ORM's options for it.
///
/// ```
/// use orm_sqlite::SqliteConfig;
/// let file = SqliteConfig::from_url("sqlite://data/app.db").unwrap();
/// let memory = SqliteConfig::from_url("sqlite::memory:").unwrap();
/// assert!(!file.is_memory() && memory.is_memory());
/// ```
#[derive(Clone, Debug)]
pub struct SqliteConfig {
    pub(crate) location: Location,
    pub(crate) pool: PoolOptions,
    pub(crate) busy_timeout: Duration,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) log_values: bool,
    pub(crate) run_on: RunOn,
}

/// Where a database's async statements run ([`SqliteConfig::run_on`]).
///
/// ```
/// use orm_sqlite::{RunOn, SqliteConfig};
/// let config = SqliteConfig::memory().run_on(RunOn::BlockingPool);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunOn {
    /// The default. On a multi-threaded tokio runtime, on the calling task, letting go of
    /// the worker (`block_in_place`) once a statement has run a millisecond or has to wait
    /// for a lock: short statements cost what the sync API costs, and long ones do not
    /// hold up the worker's other tasks. On a current-thread runtime, on tokio's blocking
    /// pool, since its one thread has no worker to spare.
    #[default]
    Adaptive,
    /// On the calling task, always: the least overhead, but a long statement, or a wait
    /// for another process's lock, holds the worker thread while it runs.
    Inline,
    /// On tokio's blocking pool, always: two thread hand-offs per statement (10-50 µs on a
    /// small, busy machine).
    BlockingPool,
}

static MEMORY_DATABASES: AtomicUsize = AtomicUsize::new(0);

impl SqliteConfig {
    /// A database file at `path` (created if missing).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::with(Location::File(path.into()))
    }

    /// A new in-memory database, shared by all connections of the database built from
    /// this config (not one per connection).
    pub fn memory() -> Self {
        let n = MEMORY_DATABASES.fetch_add(1, Ordering::Relaxed);
        Self::with(Location::Memory(format!(
            "/orm-memory-{}-{n}",
            std::process::id()
        )))
    }

    /// Parses `sqlite://path/to/file.db`, `sqlite:path` or `sqlite::memory:`.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = url.strip_prefix("sqlite:").ok_or_else(|| {
            Error::Config(format!(
                "not an SQLite URL: {url} (expected sqlite://path or sqlite::memory:)"
            ))
        })?;
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Self::memory());
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(Error::Config(format!("SQLite URL without a path: {url}")));
        }
        Ok(Self::file(path))
    }

    fn with(location: Location) -> Self {
        SqliteConfig {
            location,
            pool: PoolOptions {
                max_size: 4,
                ..PoolOptions::default()
            },
            busy_timeout: Duration::from_secs(5),
            statement_timeout: None,
            log_values: false,
            run_on: RunOn::default(),
        }
    }

    /// The database file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &self.location {
            Location::File(path) => Some(path),
            Location::Memory(_) => None,
        }
    }

    /// True for an in-memory database.
    pub fn is_memory(&self) -> bool {
        matches!(self.location, Location::Memory(_))
    }

    /// How long a statement waits for another connection's write lock (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// A statement running longer than this is interrupted (SQLite's `SQLITE_INTERRUPT`,
    /// an [`Error::Database`](orm_core::Error::Database) naming the timeout), inside
    /// transactions and out; a stream's time includes its consumer's. The lock wait is
    /// [`busy_timeout`](SqliteConfig::busy_timeout). `None` (the default): no limit.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = orm_sqlite::SqliteConfig::memory().statement_timeout(Some(Duration::from_secs(5)));
    /// # let _ = config;
    /// ```
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Where async statements run: [`RunOn::Adaptive`] (the default), always on the
    /// calling task, or always on tokio's blocking pool. Streams always run on the
    /// blocking pool (they hand rows over from there).
    ///
    /// ```
    /// # use orm_sqlite::{RunOn, SqliteConfig};
    /// let config = SqliteConfig::memory().run_on(RunOn::Inline);
    /// # let _ = config;
    /// ```
    pub fn run_on(mut self, run_on: RunOn) -> Self {
        self.run_on = run_on;
        self
    }

    /// `run_inline(true)` is [`run_on(RunOn::Inline)`](SqliteConfig::run_on),
    /// `run_inline(false)` is [`run_on(RunOn::BlockingPool)`](SqliteConfig::run_on).
    ///
    /// ```
    /// # use orm_sqlite::SqliteConfig;
    /// let config = SqliteConfig::memory().run_inline(true);
    /// # let _ = config;
    /// ```
    pub fn run_inline(self, on: bool) -> Self {
        self.run_on(if on {
            RunOn::Inline
        } else {
            RunOn::BlockingPool
        })
    }

    /// Records parameter values in query traces (off by default).
    pub fn log_values(mut self, on: bool) -> Self {
        self.log_values = on;
        self
    }
}

impl SqliteConfig {
    /// What the connections' query spans name.
    pub(crate) fn peer(&self) -> orm_runtime::trace::Peer {
        let namespace = match &self.location {
            Location::File(path) => path.display().to_string(),
            Location::Memory(_) => ":memory:".into(),
        };
        orm_runtime::trace::Peer {
            system: "sqlite",
            namespace: namespace.into(),
            address: None,
            port: None,
        }
    }
}

impl PoolSettings for SqliteConfig {
    fn pool_options(&self) -> &PoolOptions {
        &self.pool
    }
    fn pool_options_mut(&mut self) -> &mut PoolOptions {
        &mut self.pool
    }
}

impl DriverConfig for SqliteConfig {
    fn from_url(url: &str) -> Result<Self> {
        SqliteConfig::from_url(url)
    }

    fn log_values(&self) -> bool {
        self.log_values
    }

    /// None: SQLite takes its write lock at BEGIN, so write transactions never run side
    /// by side and never wait on each other's rows.
    fn autonomous(&self) -> Option<Self> {
        None
    }

    fn describe(&self) -> String {
        self.peer().namespace.to_string()
    }
}

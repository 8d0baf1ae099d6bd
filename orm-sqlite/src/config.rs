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
    pub(crate) inline: bool,
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
            inline: false,
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

    /// Runs each async statement of a [`SqliteDatabase`](crate::SqliteDatabase) on the
    /// calling task instead of tokio's blocking pool (off by default). A statement then
    /// costs what the sync API costs, without the two thread hand-offs (10-50 µs on a
    /// small, busy machine), but it holds the runtime's worker thread while it runs,
    /// including while it waits up to [`busy_timeout`](SqliteConfig::busy_timeout) for a
    /// lock another process holds. Use it for short statements on a database this
    /// process writes alone. Streams always run on the blocking pool, and so does
    /// [`PooledSqliteDatabase`](crate::PooledSqliteDatabase), whatever this says: two of
    /// its connections waiting on each other's locks could otherwise hold every worker.
    ///
    /// ```
    /// # use orm_sqlite::SqliteConfig;
    /// let config = SqliteConfig::memory().run_inline(true);
    /// ```
    pub fn run_inline(mut self, on: bool) -> Self {
        self.inline = on;
        self
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

//! Connection settings: from a URL or from parameters, like peewee's constructor.

use std::time::Duration;

use orm_core::{Error, Result};
use orm_runtime::{DriverConfig, PoolOptions, PoolSettings};

/// How to reach a PostgreSQL server, and the ORM's options for it.
///
/// ```
/// use orm_postgres::PostgresqlConfig;
/// let from_url = PostgresqlConfig::from_url("postgres://postgres@127.0.0.1:5432/test").unwrap();
/// let from_parts = PostgresqlConfig::new("test").host("127.0.0.1").port(5432).user("postgres");
/// assert_eq!(from_url.database(), from_parts.database());
/// ```
#[derive(Clone, Debug)]
pub struct PostgresqlConfig {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) pool: PoolOptions,
    pub(crate) log_values: bool,
    pub(crate) idle_in_transaction_timeout: Option<Duration>,
    pub(crate) register_hstore: bool,
    pub(crate) statement_cache: bool,
    pub(crate) statement_cache_capacity: usize,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) lock_timeout: Option<Duration>,
}

impl PostgresqlConfig {
    /// Database `database` on `127.0.0.1:5432` as user `postgres`; change any of them with
    /// the builder methods.
    pub fn new(database: &str) -> Self {
        let mut pg = tokio_postgres::Config::new();
        pg.dbname(database)
            .host("127.0.0.1")
            .port(5432)
            .user("postgres");
        Self::with(pg)
    }

    /// Parses a `postgres://user:password@host:port/database?options` URL or a libpq
    /// `key=value` string.
    pub fn from_url(url: &str) -> Result<Self> {
        let pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::Config(format!("invalid PostgreSQL URL: {e}")))?;
        Ok(Self::with(pg))
    }

    fn with(pg: tokio_postgres::Config) -> Self {
        PostgresqlConfig {
            pg,
            pool: PoolOptions::default(),
            log_values: false,
            idle_in_transaction_timeout: Some(Duration::from_secs(60)),
            register_hstore: true,
            statement_cache: true,
            statement_cache_capacity: crate::cache::DEFAULT_CAPACITY,
            statement_timeout: None,
            lock_timeout: None,
        }
    }

    /// Server host name or address.
    pub fn host(mut self, host: &str) -> Self {
        self.pg.host(host);
        self
    }

    /// Server port.
    pub fn port(mut self, port: u16) -> Self {
        self.pg.port(port);
        self
    }

    /// User name.
    pub fn user(mut self, user: &str) -> Self {
        self.pg.user(user);
        self
    }

    /// Password.
    pub fn password(mut self, password: &str) -> Self {
        self.pg.password(password);
        self
    }

    /// Command-line options sent to the server, e.g. `-c statement_timeout=5000`.
    pub fn options(mut self, options: &str) -> Self {
        self.pg.options(options);
        self
    }

    /// `application_name` reported to the server (visible in `pg_stat_activity`).
    pub fn application_name(mut self, name: &str) -> Self {
        self.pg.application_name(name);
        self
    }

    /// The `application_name` set with [`application_name`](Self::application_name).
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::new("test").application_name("billing");
    /// assert_eq!(config.get_application_name(), Some("billing"));
    /// ```
    pub fn get_application_name(&self) -> Option<&str> {
        self.pg.get_application_name()
    }

    /// Records parameter values in query traces (off by default: values may be secrets).
    pub fn log_values(mut self, on: bool) -> Self {
        self.log_values = on;
        self
    }

    /// The server-side backstop against a transaction left open: the server ends a session
    /// idle inside a transaction for this long (`idle_in_transaction_session_timeout`,
    /// default 60 s; `None` leaves the server's setting).
    pub fn idle_in_transaction_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }

    /// The server cancels any statement that runs longer than this
    /// (`statement_timeout`; error 57014), inside transactions and out, on every
    /// connection of the database. `None` (the default) leaves the server's setting.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = orm_postgres::PostgresqlConfig::new("test")
    ///     .statement_timeout(Some(Duration::from_secs(5)))
    ///     .lock_timeout(Some(Duration::from_millis(500)));
    /// # let _ = config;
    /// ```
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// A statement waiting longer than this for a lock fails (`lock_timeout`; error
    /// 55P03, retryable). `None` (the default) leaves the server's setting.
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The driver configuration for a new connection, with the session options applied.
    pub(crate) fn session(&self) -> tokio_postgres::Config {
        let mut pg = self.pg.clone();
        let settings = [
            (
                "idle_in_transaction_session_timeout",
                self.idle_in_transaction_timeout,
            ),
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
        ];
        let mut options = self.pg.get_options().unwrap_or("").to_owned();
        for (name, timeout) in settings {
            if let Some(timeout) = timeout {
                // At least 1 ms: 0 means "no timeout" to the server.
                let ms = timeout.as_millis().max(1);
                options.push_str(&format!(" -c {name}={ms}"));
            }
        }
        if !options.trim().is_empty() {
            pg.options(options.trim());
        }
        pg
    }

    /// hstore support, on by default as in peewee-async's `PostgresqlExtDatabase`;
    /// `false` refuses hstore values (for servers without the extension).
    ///
    /// The ORM never installs the extension itself (`create_table` of a model with an
    /// hstore column included): that needs a privilege a service should not hold. A
    /// database without it answers with an [`Error::Database`](orm_core::Error::Database)
    /// that names the extension and the fix (`CREATE EXTENSION hstore`).
    pub fn register_hstore(mut self, on: bool) -> Self {
        self.register_hstore = on;
        self
    }

    /// Prepared statements are cached per connection (the default). `false` sends every
    /// statement unnamed with its parameter types and keeps nothing on the server, which
    /// is what PgBouncer in transaction mode needs.
    pub fn statement_cache(mut self, on: bool) -> Self {
        self.statement_cache = on;
        self
    }

    /// How many prepared statements each connection keeps (default 256). When full, the
    /// least recently used one is closed. Statements whose text varies with their input
    /// (`IN` lists, multi-row inserts of different lengths) each take a slot.
    ///
    /// ```
    /// # use orm_postgres::PostgresqlConfig;
    /// let config = PostgresqlConfig::new("app").statement_cache_capacity(1024);
    /// ```
    pub fn statement_cache_capacity(mut self, statements: usize) -> Self {
        self.statement_cache_capacity = statements;
        self
    }

    /// The database name, if set.
    pub fn database(&self) -> Option<&str> {
        self.pg.get_dbname()
    }
}

impl PostgresqlConfig {
    /// Where the connections go, as their query spans name it.
    pub(crate) fn peer(&self) -> orm_runtime::trace::Peer {
        let address = self.pg.get_hosts().first().map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.as_str().into(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string().into(),
        });
        orm_runtime::trace::Peer {
            system: "postgresql",
            namespace: self.database().unwrap_or_default().into(),
            address,
            port: self.pg.get_ports().first().copied(),
        }
    }
}

impl PoolSettings for PostgresqlConfig {
    fn pool_options(&self) -> &PoolOptions {
        &self.pool
    }
    fn pool_options_mut(&mut self) -> &mut PoolOptions {
        &mut self.pool
    }
}

impl DriverConfig for PostgresqlConfig {
    fn from_url(url: &str) -> Result<Self> {
        PostgresqlConfig::from_url(url)
    }

    fn log_values(&self) -> bool {
        self.log_values
    }

    /// The side connection that commits on its own: its lock waits are bounded, since
    /// the server cannot see a wait that crosses into the caller's transaction.
    fn autonomous(&self) -> Option<Self> {
        Some(orm_runtime::autonomous_config(
            self.clone(),
            self.lock_timeout,
            |config, bound| config.lock_timeout(Some(bound)),
        ))
    }

    fn describe(&self) -> String {
        self.database().unwrap_or_default().to_string()
    }
}

//! Connection settings: from a URL or from parameters, like peewee's constructor.

use std::time::Duration;

use orm_core::{Error, Result};
use orm_runtime::tls::{self, SslMode, TlsOptions, TlsSettings};
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
    pub(crate) pooler: bool,
    pub(crate) tls: TlsOptions,
}

impl PostgresqlConfig {
    /// Database `database` on `127.0.0.1:5432` as user `postgres`; change any of them with
    /// the builder methods.
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::new("app").host("db.internal");
    /// assert_eq!(config.get_host().as_deref(), Some("db.internal"));
    /// assert_eq!(config.get_port(), Some(5432));
    /// ```
    pub fn new(database: &str) -> Self {
        let mut pg = tokio_postgres::Config::new();
        // The host and port defaults are applied when connecting: `host` and `port` add
        // to a list (libpq's fallback hosts), so a default set here would come first.
        pg.dbname(database).user("postgres");
        Self::with(pg)
    }

    /// The driver configuration with the default host and port where none was given.
    fn with_defaults(&self) -> tokio_postgres::Config {
        let mut pg = self.pg.clone();
        if pg.get_hosts().is_empty() {
            pg.host("127.0.0.1");
        }
        if pg.get_ports().is_empty() {
            pg.port(5432);
        }
        pg
    }

    /// Parses a `postgres://user:password@host:port/database?options` URL or a libpq
    /// `key=value` string. Besides libpq's options it takes the ORM's own:
    /// `pooler=true` ([`pooler`](Self::pooler)), and reads the TLS ones itself:
    /// `sslmode` (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`),
    /// `sslrootcert`, `sslcert`, `sslkey` (see [`TlsSettings`]).
    ///
    /// ```
    /// use orm_postgres::{PostgresqlConfig, SslMode, TlsSettings};
    /// let config = PostgresqlConfig::new("app")
    ///     .host("db.internal")
    ///     .ssl_mode(SslMode::VerifyFull)
    ///     .ssl_root_cert("/etc/ssl/db-ca.pem");
    /// let same = PostgresqlConfig::from_url(
    ///     "postgres://postgres@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem",
    /// )?;
    /// assert_eq!(config.tls_options(), same.tls_options());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::from_url(
    ///     "postgres://app@pgbouncer:6432/app?pooler=true&application_name=billing",
    /// )?;
    /// assert!(config.is_pooler());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let keys: Vec<&str> = std::iter::once("pooler")
            .chain(tls::URL_KEYS.iter().copied())
            .collect();
        let (rest, own) = orm_runtime::url::take_options(url, &keys)?;
        let pg: tokio_postgres::Config = rest
            .parse()
            .map_err(|e| Error::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let mut config = Self::with(pg);
        for (key, value) in own {
            if key == "pooler" {
                config = config.pooler(orm_runtime::url::flag(&key, &value)?);
            } else {
                config.tls.apply(&key, &value)?;
            }
        }
        Ok(config)
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
            pooler: false,
            // libpq's default: TLS when the server offers it (with the `tls` feature).
            tls: TlsOptions {
                mode: SslMode::Prefer,
                ..TlsOptions::default()
            },
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

    /// Safe behind a transaction-mode pooler (PgBouncer, RDS Proxy, Neon, Supavisor),
    /// which hands each transaction, or each statement outside one, to whichever server
    /// session is free:
    ///
    /// - nothing is sent at startup that a pooler refuses (no `options`);
    /// - statements go unnamed ([`statement_cache(false)`](Self::statement_cache)), so
    ///   none is looked for on a session that never prepared it;
    /// - no session state outlives a transaction: the timeouts of this config
    ///   ([`statement_timeout`](Self::statement_timeout), [`lock_timeout`](Self::lock_timeout),
    ///   [`idle_in_transaction_timeout`](Self::idle_in_transaction_timeout)) are set with
    ///   `SET LOCAL` at the start of each transaction the ORM opens. Statements outside a
    ///   transaction run with the server's settings: set those on the role
    ///   (`ALTER ROLE app SET statement_timeout = '5s'`).
    ///
    /// Types without a fixed OID (hstore) are looked up once per connection inside a
    /// transaction, where the pooler keeps one server session. Also `?pooler=true` in the
    /// URL.
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::new("app").port(6432).pooler(true);
    /// assert!(config.is_pooler());
    /// ```
    pub fn pooler(mut self, on: bool) -> Self {
        self.pooler = on;
        self.statement_cache = !on;
        self
    }

    /// Whether [`pooler`](Self::pooler) mode is on.
    pub fn is_pooler(&self) -> bool {
        self.pooler
    }

    /// The session timeouts of this config, which pooler mode sets in each transaction.
    pub(crate) fn transaction_timeouts(&self) -> Option<SessionTimeouts> {
        self.pooler.then_some(SessionTimeouts {
            statement: self.statement_timeout,
            lock: self.lock_timeout,
            idle_in_transaction: self.idle_in_transaction_timeout,
        })
    }

    /// The driver configuration for a new connection, with the session options applied
    /// (none in pooler mode: a pooler refuses startup `options`).
    pub(crate) fn session(&self) -> tokio_postgres::Config {
        let mut pg = self.with_defaults();
        if self.pooler {
            return pg;
        }
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

    /// Another database on the same server.
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::from_url("postgres://app@db/main")?.dbname("audit");
    /// assert_eq!(config.database(), Some("audit"));
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn dbname(mut self, database: &str) -> Self {
        self.pg.dbname(database);
        self
    }

    /// The first host name (or socket directory), if set.
    ///
    /// ```
    /// let config = orm_postgres::PostgresqlConfig::from_url("postgres://app@db.internal:6432/main")?;
    /// assert_eq!(config.get_host().as_deref(), Some("db.internal"));
    /// assert_eq!(config.get_port(), Some(6432));
    /// assert_eq!(config.get_user(), Some("app"));
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn get_host(&self) -> Option<String> {
        self.peer().address.map(|a| a.to_string())
    }

    /// The first port (5432 unless set).
    pub fn get_port(&self) -> Option<u16> {
        self.with_defaults().get_ports().first().copied()
    }

    /// The user name, if set.
    pub fn get_user(&self) -> Option<&str> {
        self.pg.get_user()
    }
}

/// The timeouts a pooler-mode connection sets at the start of each transaction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionTimeouts {
    pub(crate) statement: Option<Duration>,
    pub(crate) lock: Option<Duration>,
    pub(crate) idle_in_transaction: Option<Duration>,
}

impl SessionTimeouts {
    /// The BEGIN statements for `options`, with these timeouts where the options set none,
    /// sent as one simple query.
    pub(crate) fn begin_statements(&self, options: &orm_core::TxOptions) -> Result<Vec<String>> {
        use orm_core::Dialect;
        let mut options = *options;
        options.statement_timeout = options.statement_timeout.or(self.statement);
        options.lock_timeout = options.lock_timeout.or(self.lock);
        options.idle_timeout = options.idle_timeout.or(self.idle_in_transaction);
        let statements = orm_core::PostgresqlDialect.begin_statements(&options)?;
        Ok(vec![statements.join("; ")])
    }
}

impl PostgresqlConfig {
    /// Where cancel requests go: the one TCP host. With fallback hosts the driver's own
    /// cancel request finds the host the connection reached.
    pub(crate) fn cancel_target(&self) -> Option<crate::cancel::CancelTarget> {
        let pg = self.with_defaults();
        if pg.get_hosts().len() != 1 {
            return None;
        }
        match pg.get_hosts().first()? {
            tokio_postgres::config::Host::Tcp(host) => Some(crate::cancel::CancelTarget {
                host: host.clone(),
                port: pg.get_ports().first().copied().unwrap_or(5432),
            }),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => None,
        }
    }

    /// Where the connections go, as their query spans name it.
    pub(crate) fn peer(&self) -> orm_runtime::trace::Peer {
        let pg = self.with_defaults();
        let address = pg.get_hosts().first().map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.as_str().into(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string().into(),
        });
        orm_runtime::trace::Peer {
            system: "postgresql",
            namespace: self.database().unwrap_or_default().into(),
            address,
            port: pg.get_ports().first().copied(),
        }
    }
}

impl TlsSettings for PostgresqlConfig {
    fn tls_options(&self) -> &TlsOptions {
        &self.tls
    }
    fn tls_options_mut(&mut self) -> &mut TlsOptions {
        &mut self.tls
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

//! Connection settings: from a URL or from parameters, like peewee's constructor.

use std::time::Duration;

use mysql_async::{Opts, OptsBuilder};
use orm_core::{Error, Result};
use orm_runtime::tls::{SslMode, TlsOptions, TlsSettings};
use orm_runtime::{DriverConfig, PoolOptions, PoolSettings};

/// Session settings every connection gets, on connect and after each reset: strict mode
/// (values MySQL would silently truncate or mangle are refused), UTC, utf8mb4.
const SESSION_SETUP: &[&str] = &[
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    "SET SESSION time_zone = '+00:00'",
];

/// How to reach a MySQL or MariaDB server, and the ORM's options for it.
///
/// ```
/// use orm_mysql::MySQLConfig;
/// let from_url = MySQLConfig::from_url("mysql://root@127.0.0.1:3306/test").unwrap();
/// let from_parts = MySQLConfig::new("test").host("127.0.0.1").port(3306).user("root");
/// assert_eq!(from_url.database(), from_parts.database());
/// ```
#[derive(Clone, Debug)]
pub struct MySQLConfig {
    opts: OptsBuilder,
    charset: String,
    pub(crate) pool: PoolOptions,
    pub(crate) log_values: bool,
    statement_timeout: Option<Duration>,
    lock_timeout: Option<Duration>,
    idle_in_transaction_timeout: Option<Duration>,
    pub(crate) tls: TlsOptions,
    /// Statements of the user's for every session, after the ORM's own.
    session_setup: Vec<String>,
}

impl MySQLConfig {
    /// Database `database` on `127.0.0.1:3306` as `root`; change any of them with the
    /// builder methods.
    pub fn new(database: &str) -> Self {
        let opts = OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(3306)
            .user(Some("root"))
            .db_name(Some(database));
        Self::with(opts)
    }

    /// Parses a `mysql://user:password@host:port/database` URL, with the TLS options
    /// `ssl-mode` (`DISABLED`, `PREFERRED`, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`, or
    /// libpq's names), `ssl-ca`, `ssl-cert`, `ssl-key` (see [`TlsSettings`]).
    ///
    /// ```
    /// use orm_mysql::{MySQLConfig, SslMode, TlsSettings};
    /// let config = MySQLConfig::from_url(
    ///     "mysql://app@db.internal/app?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ssl/db-ca.pem",
    /// )?;
    /// assert_eq!(config.tls_options().mode, SslMode::VerifyFull);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let (rest, own) = orm_runtime::url::take_options(url, orm_runtime::tls::URL_KEYS)?;
        let opts =
            Opts::from_url(&rest).map_err(|e| Error::Config(format!("invalid MySQL URL: {e}")))?;
        let mut config = Self::with(OptsBuilder::from_opts(opts));
        for (key, value) in own {
            config.tls.apply(&key, &value)?;
        }
        Ok(config)
    }

    fn with(opts: OptsBuilder) -> Self {
        MySQLConfig {
            opts,
            charset: "utf8mb4".into(),
            pool: PoolOptions::default(),
            log_values: false,
            statement_timeout: None,
            lock_timeout: None,
            idle_in_transaction_timeout: Some(Duration::from_secs(60)),
            // The MySQL client's default: TLS when the server offers it (`tls` feature).
            tls: TlsOptions {
                mode: SslMode::Prefer,
                ..TlsOptions::default()
            },
            session_setup: Vec::new(),
        }
    }

    /// Server host name or address.
    pub fn host(mut self, host: &str) -> Self {
        self.opts = self.opts.ip_or_hostname(host);
        self
    }

    /// Server port.
    pub fn port(mut self, port: u16) -> Self {
        self.opts = self.opts.tcp_port(port);
        self
    }

    /// User name.
    pub fn user(mut self, user: &str) -> Self {
        self.opts = self.opts.user(Some(user));
        self
    }

    /// Password.
    pub fn password(mut self, password: &str) -> Self {
        self.opts = self.opts.pass(Some(password));
        self
    }

    /// Connection character set (default `utf8mb4`, which holds every Unicode character).
    pub fn charset(mut self, charset: &str) -> Self {
        self.charset = charset.to_owned();
        self
    }

    /// Records parameter values in query traces (off by default: values may be secrets).
    pub fn log_values(mut self, on: bool) -> Self {
        self.log_values = on;
        self
    }

    /// Runs `sql` on every new session and again after each reset, after the ORM's own
    /// set-up: a session variable the application relies on. On a Galera cluster,
    /// `SET SESSION wsrep_sync_wait = 1` makes each read see what any node committed
    /// before it.
    ///
    /// ```
    /// let config = orm_mysql::MySQLConfig::new("app").session_setup("SET SESSION wsrep_sync_wait = 1");
    /// # let _ = config;
    /// ```
    pub fn session_setup(mut self, sql: impl Into<String>) -> Self {
        self.session_setup.push(sql.into());
        self
    }

    /// The database name, if set.
    pub fn database(&self) -> Option<String> {
        Opts::from(self.opts.clone()).db_name().map(str::to_owned)
    }

    /// The server stops any statement that runs longer than this, inside transactions
    /// and out, on every connection of the database (MariaDB `max_statement_time`, error
    /// 1969; MySQL `max_execution_time`, which covers SELECTs only). `None` (the default)
    /// leaves the server's setting.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = orm_mysql::MySQLConfig::new("test")
    ///     .statement_timeout(Some(Duration::from_secs(5)))
    ///     .lock_timeout(Some(Duration::from_secs(1)));
    /// # let _ = config;
    /// ```
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// A statement waiting longer than this for a row lock fails
    /// (`innodb_lock_wait_timeout`, whole seconds, at least one; error 1205, retryable).
    /// `None` (the default) leaves the server's setting.
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The server-side backstop against a transaction left open: MariaDB ends a session
    /// idle inside a transaction for this long (`idle_transaction_timeout`, whole seconds,
    /// default 60 s, as on PostgreSQL; MySQL has no such setting and is left as it is).
    /// `None` leaves the server's setting.
    pub fn idle_in_transaction_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }

    /// The session settings that depend on the server: MariaDB (10 and later) counts the
    /// statement timeout in seconds and has an idle-in-transaction timeout; MySQL counts
    /// milliseconds and has none.
    pub(crate) fn server_setup(&self, server_major: u16) -> Vec<String> {
        let mariadb = server_major >= 10;
        let mut setup = Vec::new();
        if let Some(timeout) = self.statement_timeout {
            setup.push(if mariadb {
                format!(
                    "SET SESSION max_statement_time = {}",
                    timeout.as_secs_f64().max(0.001)
                )
            } else {
                format!(
                    "SET SESSION max_execution_time = {}",
                    timeout.as_millis().max(1)
                )
            });
        }
        if let (Some(timeout), true) = (self.idle_in_transaction_timeout, mariadb) {
            setup.push(format!(
                "SET SESSION idle_transaction_timeout = {}",
                timeout.as_secs().max(1)
            ));
        }
        setup
    }

    /// The driver options, with the session set-up, statement cache and TLS (`ssl`)
    /// applied.
    pub(crate) fn opts(&self, ssl: Option<mysql_async::SslOpts>) -> Opts {
        let mut setup: Vec<String> = vec![format!("SET NAMES {}", self.charset)];
        setup.extend(SESSION_SETUP.iter().map(|s| s.to_string()));
        if let Some(timeout) = self.lock_timeout {
            let secs = timeout.as_secs_f64().ceil().max(1.0);
            setup.push(format!("SET SESSION innodb_lock_wait_timeout = {secs}"));
        }
        setup.extend(self.session_setup.iter().cloned());
        self.opts
            .clone()
            .setup(setup)
            .stmt_cache_size(256)
            .prefer_socket(false)
            .ssl_opts(ssl)
            .into()
    }
}

impl MySQLConfig {
    /// Where the connections go, as their query spans name it.
    pub(crate) fn peer(&self) -> orm_runtime::trace::Peer {
        let opts = Opts::from(self.opts.clone());
        orm_runtime::trace::Peer {
            system: "mysql",
            namespace: opts.db_name().unwrap_or_default().into(),
            address: Some(opts.ip_or_hostname().into()),
            port: Some(opts.tcp_port()),
        }
    }
}

impl TlsSettings for MySQLConfig {
    fn tls_options(&self) -> &TlsOptions {
        &self.tls
    }
    fn tls_options_mut(&mut self) -> &mut TlsOptions {
        &mut self.tls
    }
}

impl PoolSettings for MySQLConfig {
    fn pool_options(&self) -> &PoolOptions {
        &self.pool
    }
    fn pool_options_mut(&mut self) -> &mut PoolOptions {
        &mut self.pool
    }
}

impl DriverConfig for MySQLConfig {
    fn from_url(url: &str) -> Result<Self> {
        MySQLConfig::from_url(url)
    }

    fn log_values(&self) -> bool {
        self.log_values
    }

    /// The side connection that commits on its own, with bounded lock waits.
    fn autonomous(&self) -> Option<Self> {
        Some(orm_runtime::autonomous_config(
            self.clone(),
            self.lock_timeout,
            |config, bound| config.lock_timeout(Some(bound)),
        ))
    }

    fn describe(&self) -> String {
        self.database().unwrap_or_default()
    }
}

//! How a transaction opens: its isolation level and access mode.
//!
//! The dialects render these into their own `BEGIN` statements
//! ([`Dialect::begin_statements`](crate::Dialect::begin_statements)); the backends send
//! them when a transaction scope opens.

use std::time::Duration;

/// The isolation level of a transaction (SQL standard names).
///
/// SQLite runs every transaction serializable: any level asks for no less than that, so
/// each is accepted there and gets serializable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (PostgreSQL runs it as read committed).
    ReadUncommitted,
    /// `READ COMMITTED`, PostgreSQL's default.
    ReadCommitted,
    /// `REPEATABLE READ`, MySQL's default.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl IsolationLevel {
    /// The level as SQL writes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// How a transaction opens; the default is the server's default level, read-write.
///
/// ```
/// use std::time::Duration;
/// use orm_core::{Dialect, IsolationLevel, MySQLDialect, PostgresqlDialect, SqliteDialect, TxOptions};
///
/// let report = TxOptions::new()
///     .isolation(IsolationLevel::Serializable)
///     .read_only(true)
///     .deferrable(true);
/// assert_eq!(
///     PostgresqlDialect.begin_statements(&report)?,
///     ["BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE"]
/// );
/// assert_eq!(
///     MySQLDialect.begin_statements(&report)?,
///     ["SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION READ ONLY"]
/// );
/// // SQLite: serializable always; read only is enforced by `query_only` until the end.
/// assert_eq!(
///     SqliteDialect.begin_statements(&report)?,
///     ["PRAGMA query_only = ON", "BEGIN DEFERRED"]
/// );
/// assert_eq!(SqliteDialect.begin_statements(&TxOptions::new())?, ["BEGIN IMMEDIATE"]);
///
/// // Timeouts for one transaction.
/// let bounded = TxOptions::new().lock_timeout(Duration::from_millis(250));
/// assert_eq!(
///     PostgresqlDialect.begin_statements(&bounded)?,
///     ["BEGIN", "SET LOCAL lock_timeout = 250"]
/// );
/// assert_eq!(
///     MySQLDialect.begin_statements(&bounded)?,
///     [
///         "SET @orm_lock_wait = @@SESSION.innodb_lock_wait_timeout",
///         "SET SESSION innodb_lock_wait_timeout = 1",
///         "START TRANSACTION"
///     ]
/// );
/// assert_eq!(
///     MySQLDialect.end_statements(&bounded),
///     ["SET SESSION innodb_lock_wait_timeout = @orm_lock_wait"]
/// );
/// assert!(SqliteDialect.begin_statements(&bounded).is_err());
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use = "options do nothing until a transaction is opened with them"]
pub struct TxOptions {
    /// The isolation level; `None` keeps the server's (or session's) default.
    pub isolation: Option<IsolationLevel>,
    /// No writes: the server refuses them.
    pub read_only: bool,
    /// PostgreSQL's `DEFERRABLE` (with serializable and read only: waits for a snapshot
    /// that cannot fail with a serialization error). Ignored by the other servers.
    pub deferrable: bool,
    /// The server stops a statement of this transaction that runs longer (PostgreSQL
    /// `SET LOCAL statement_timeout`, MariaDB `max_statement_time`; SQLite refuses it: set
    /// it on the database).
    pub statement_timeout: Option<Duration>,
    /// A statement of this transaction waiting longer for a lock fails (PostgreSQL
    /// `SET LOCAL lock_timeout`, MySQL `innodb_lock_wait_timeout` in whole seconds; SQLite
    /// refuses it: set `busy_timeout` on the database).
    pub lock_timeout: Option<Duration>,
    /// The server ends the session if this transaction sits idle (no statement running)
    /// longer, and rolls it back (PostgreSQL `SET LOCAL
    /// idle_in_transaction_session_timeout`, MariaDB `idle_transaction_timeout` in whole
    /// seconds; MySQL and SQLite refuse it).
    pub idle_timeout: Option<Duration>,
}

impl TxOptions {
    /// The server's default level, read-write.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the isolation level.
    pub fn isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Makes the transaction read only (`true`) or read-write.
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    /// PostgreSQL's `DEFERRABLE`.
    pub fn deferrable(mut self, on: bool) -> Self {
        self.deferrable = on;
        self
    }

    /// A statement timeout for this transaction only.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// A lock wait bound for this transaction only.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// An idle-in-transaction bound for this transaction only.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use orm_core::{Dialect, MySQLDialect, PostgresqlDialect, TxOptions};
    /// let watched = TxOptions::new().idle_timeout(Duration::from_secs(2));
    /// assert_eq!(
    ///     PostgresqlDialect.begin_statements(&watched)?,
    ///     ["BEGIN", "SET LOCAL idle_in_transaction_session_timeout = 2000"]
    /// );
    /// assert_eq!(
    ///     MySQLDialect.end_statements(&watched),
    ///     ["SET SESSION idle_transaction_timeout = @orm_idle"]
    /// );
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }
}

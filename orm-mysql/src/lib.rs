//! MySQL / MariaDB backend of the async ORM, on mysql_async: its [`MySQLDriver`] for the
//! ORM's connection runtime (orm-runtime), its configuration, rows, values and errors.
//!
//! - [`MySQLDatabase`]: one lazily opened async connection, and one sync connection.
//! - [`PooledMySQLDatabase`]: a deadpool pool of async connections, and one sync
//!   connection.
//!
//! Both implement orm-core's [`Executor`](orm_core::Executor) and
//! [`SyncExecutor`](orm_core::SyncExecutor). Every connection runs in strict mode (a value
//! MySQL would truncate is an error), in UTC, with utf8mb4; prepared statements are cached
//! per connection by the driver; server errors are mapped by error number.
//!
//! ```no_run
//! use orm_mysql::MySQLDatabase;
//! let db = MySQLDatabase::connect_lazy("mysql://root@127.0.0.1:3306/test")?;
//! # Ok::<(), orm_core::Error>(())
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod config;
mod conn;
mod driver;
mod error;
mod row;
mod tls;
mod value;

pub use config::MySQLConfig;
pub use driver::MySQLDriver;
pub use orm_runtime::tls::{SslMode, TlsOptions, TlsSettings};
pub use orm_runtime::{PoolOptions, PoolSettings};

/// A MySQL / MariaDB database with a single drop-in sync connection and a single async
/// connection, both opened on first use. Concurrent tasks take turns on the async
/// connection. A connection the server closed (restart, `KILL`, `wait_timeout`) is
/// replaced: reads are sent again on the new connection, and a connection idle for more
/// than a second is pinged before a write.
///
/// ```
/// # use orm_mysql::MySQLDatabase;
/// # use orm_core::Database;
/// // Nothing is opened until the first statement (or `connect`).
/// let db = MySQLDatabase::connect_lazy("mysql://root@127.0.0.1:3306/app")?;
/// assert!(!db.is_connected());
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type MySQLDatabase = orm_runtime::SingleDatabase<MySQLDriver>;

/// A MySQL / MariaDB database with a single drop-in sync connection and a deadpool pool
/// of async connections. A connection that comes back broken or in the middle of a
/// statement is discarded; one whose session state may have changed (raw `SET`, `USE`,
/// `LOCK`) is reset first.
///
/// ```
/// # use orm_mysql::{MySQLConfig, PooledMySQLDatabase, PoolSettings};
/// let config = MySQLConfig::from_url("mysql://root@127.0.0.1:3306/app")?.max_connections(8);
/// let db = PooledMySQLDatabase::new(config)?;
/// assert_eq!(db.pool_status(), (8, 0, 0), "connections open on demand");
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type PooledMySQLDatabase = orm_runtime::PooledDatabase<MySQLDriver>;

/// A MySQL connection taken for exclusive use, for a transaction.
pub type MySQLConnection = orm_runtime::HeldConnection<MySQLDriver>;

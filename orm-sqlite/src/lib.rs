//! SQLite backend of the async ORM, on rusqlite with the bundled SQLite (no system
//! library needed): the embedded default, for a first run, a CLI tool or a test suite.
//! Its [`SqliteDriver`] plugs into the ORM's connection runtime (orm-runtime).
//!
//! - [`SqliteDatabase`]: one async connection and one sync connection.
//! - [`PooledSqliteDatabase`]: a deadpool pool of async connections, and one sync
//!   connection.
//!
//! URLs: `sqlite://path/to/file.db`, `sqlite::memory:` (one in-memory database shared by
//! all connections of the `Database` value). Every connection has foreign keys on, a busy
//! timeout, case-sensitive LIKE, and WAL journaling for files. Async calls run the SQLite
//! work on the calling task and let go of the runtime worker when a statement runs long
//! or waits for a lock ([`RunOn`]). Dates and times are stored as ISO-8601 text that
//! sorts correctly, UUIDs and decimals as text (decimals without loss).
//!
//! ```
//! use orm_sqlite::SqliteDatabase;
//! let db = SqliteDatabase::connect_lazy("sqlite::memory:")?;
//! # Ok::<(), orm_core::Error>(())
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod config;
mod conn;
mod driver;
mod error;
mod gate;
mod handoff;
mod offload;
mod row;
mod value;

pub use config::{RunOn, SqliteConfig};
pub use driver::{SqliteDriver, SqliteShared};
pub use orm_runtime::{PoolOptions, PoolSettings};

/// An SQLite database with a single drop-in sync connection and a single async
/// connection, both opened on first use (an in-memory database is created at once).
/// Async calls run the SQLite work where [`SqliteConfig::run_on`] says.
///
/// ```
/// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
/// # use orm_core::{raw_query, FetchQuery, Query};
/// let db = SqliteDatabase::new(SqliteConfig::memory())?;
/// raw_query::<()>("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)", vec![]).execute_sync(&db)?;
/// let count = raw_query::<i64>("SELECT count(*) FROM note", vec![]).fetch_one_sync(&db)?;
/// assert_eq!(count, 0);
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type SqliteDatabase = orm_runtime::SingleDatabase<SqliteDriver>;

/// An SQLite database with a single drop-in sync connection and a deadpool pool of async
/// connections. File databases run in WAL mode with a busy timeout, so concurrent writers
/// through the pool wait for each other instead of failing.
///
/// ```
/// # use orm_sqlite::{PoolSettings, PooledSqliteDatabase, SqliteConfig};
/// let db = PooledSqliteDatabase::new(SqliteConfig::memory().max_connections(3))?;
/// assert_eq!(db.pool_status(), (3, 0, 0), "connections open on demand");
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type PooledSqliteDatabase = orm_runtime::PooledDatabase<SqliteDriver>;

/// An SQLite connection taken for exclusive use, for a transaction.
pub type SqliteConnection = orm_runtime::HeldConnection<SqliteDriver>;

//! PostgreSQL backend of the async ORM, on tokio-postgres: its [`PostgresqlDriver`] for the
//! ORM's connection runtime (orm-runtime), its configuration, rows, values and errors.
//!
//! - [`PostgresqlDatabase`]: one lazily opened async connection shared by all tasks, and
//!   one lazily opened sync connection.
//! - [`PooledPostgresqlDatabase`]: a pool of async connections, and one sync connection.
//!
//! Both implement orm-core's [`Executor`](orm_core::Executor) (async) and
//! [`SyncExecutor`](orm_core::SyncExecutor) (blocking), so every query of the core runs on
//! them either way. Statements are prepared once per connection and cached by SQL text;
//! rows are decoded straight from the driver's row; server errors are mapped by SQLSTATE.
//!
//! ```no_run
//! use orm_postgres::PostgresqlDatabase;
//! let db = PostgresqlDatabase::connect_lazy("postgres://postgres@127.0.0.1/test")?;
//! # Ok::<(), orm_core::Error>(())
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod cache;
mod cancel;
mod config;
mod conn;
mod driver;
mod error;
mod row;
mod tls;
mod value;

pub use config::PostgresqlConfig;
pub use driver::PostgresqlDriver;
pub use orm_runtime::tls::{SslMode, TlsOptions, TlsSettings};
pub use orm_runtime::{PoolOptions, PoolSettings};

/// A PostgreSQL database with a single drop-in sync connection and a single async
/// connection, both opened on first use and replaced when the server closes them.
/// Concurrent tasks share the async connection (tokio-postgres pipelines their queries); a
/// transaction holds it alone until it ends.
///
/// ```
/// # use orm_postgres::PostgresqlDatabase;
/// # use orm_core::Database;
/// // Nothing is opened until the first statement (or `connect`).
/// let db = PostgresqlDatabase::connect_lazy("postgres://postgres@127.0.0.1/app?sslmode=prefer")?;
/// assert!(!db.is_connected());
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type PostgresqlDatabase = orm_runtime::SingleDatabase<PostgresqlDriver>;

/// A PostgreSQL database with a single drop-in sync connection and a pool of async
/// connections (deadpool), sized and bounded by the configuration's
/// [`PoolSettings`].
///
/// ```
/// # use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig, PoolSettings};
/// let config = PostgresqlConfig::from_url("postgres://postgres@127.0.0.1/app")?.max_connections(16);
/// let db = PooledPostgresqlDatabase::new(config)?;
/// assert_eq!(db.pool_status(), (16, 0, 0), "connections open on demand");
/// # Ok::<(), orm_core::Error>(())
/// ```
pub type PooledPostgresqlDatabase = orm_runtime::PooledDatabase<PostgresqlDriver>;

/// A PostgreSQL connection taken for exclusive use, for a transaction.
pub type PostgresqlConnection = orm_runtime::HeldConnection<PostgresqlDriver>;

/// peewee-async's `PostgresqlExtDatabase`: JSON / JSONB, hstore and arrays are always
/// available on every PostgreSQL database of this crate, so this is the same type.
pub type PostgresqlExtDatabase = PostgresqlDatabase;

/// peewee-async's `PooledPostgresqlExtDatabase`; see [`PostgresqlExtDatabase`].
pub type PooledPostgresqlExtDatabase = PooledPostgresqlDatabase;

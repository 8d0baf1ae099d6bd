//! PostgreSQL backend of the async ORM, on tokio-postgres and deadpool-postgres.
//!
//! - [`PostgresqlDatabase`]: one lazily opened async connection shared by all tasks, and
//!   one lazily opened sync connection.
//! - [`PooledPostgresqlDatabase`]: a pool of async connections, and one sync connection.
//!
//! Both implement orm-core's [`Executor`](orm_core::Executor) (async) and
//! [`SyncExecutor`](orm_core::SyncExecutor) (blocking), so every query of the core runs on
//! them either way. Statements are prepared once per connection and cached by SQL text;
//! rows are decoded straight from the driver's row; server errors are mapped by SQLSTATE.

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod cache;
mod config;
mod conn;
mod error;
mod held;
mod pool;
mod recycle;
mod row;
mod single;
mod sync_side;
mod value;

pub use config::PgConfig;
pub use held::PgConnection;
pub use pool::PooledPostgresqlDatabase;
pub use single::PostgresqlDatabase;

/// peewee-async's `PostgresqlExtDatabase`: JSON / JSONB, hstore and arrays are always
/// available on every PostgreSQL database of this crate, so this is the same type.
pub type PostgresqlExtDatabase = PostgresqlDatabase;

/// peewee-async's `PooledPostgresqlExtDatabase`; see [`PostgresqlExtDatabase`].
pub type PooledPostgresqlExtDatabase = PooledPostgresqlDatabase;

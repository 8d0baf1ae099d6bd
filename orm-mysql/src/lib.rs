//! MySQL / MariaDB backend of the async ORM, on mysql_async and deadpool.
//!
//! - [`MySQLDatabase`]: one lazily opened async connection, and one sync connection.
//! - [`PooledMySQLDatabase`]: a deadpool pool of async connections, and one sync
//!   connection.
//!
//! Both implement orm-core's [`Executor`](orm_core::Executor) and
//! [`SyncExecutor`](orm_core::SyncExecutor). Every connection runs in strict mode (a value
//! MySQL would truncate is an error), in UTC, with utf8mb4; prepared statements are cached
//! per connection by the driver; server errors are mapped by error number.

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod config;
mod conn;
mod error;
mod held;
mod pool;
mod recycle;
mod row;
mod single;
mod stream;
mod sync_side;
mod value;

pub use config::MySqlConfig;
pub use held::MyConnection;
pub use pool::PooledMySQLDatabase;
pub use single::MySQLDatabase;

//! SQLite backend of the async ORM, on rusqlite with the bundled SQLite (no system
//! library needed): the embedded default, for a first run, a CLI tool or a test suite.
//!
//! - [`SqliteDatabase`]: one async connection and one sync connection.
//! - [`PooledSqliteDatabase`]: a deadpool pool of async connections, and one sync
//!   connection.
//!
//! URLs: `sqlite://path/to/file.db`, `sqlite::memory:` (one in-memory database shared by
//! all connections of the `Database` value). Every connection has foreign keys on, a busy
//! timeout, case-sensitive LIKE, and WAL journaling for files. Async calls run the SQLite
//! work on tokio's blocking threads. Dates and times are stored as ISO-8601 text that
//! sorts correctly, UUIDs and decimals as text (decimals without loss).

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod config;
mod conn;
mod error;
mod gate;
mod held;
mod pool;
mod recycle;
mod row;
mod single;
mod stream;
mod sync_side;
mod value;

pub use config::SqliteConfig;
pub use held::SqliteConnection;
pub use pool::PooledSqliteDatabase;
pub use single::SqliteDatabase;

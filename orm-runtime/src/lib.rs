//! The connection runtime of the async ORM, written once for every backend.
//!
//! A backend implements a [`Driver`]: open a connection, run a statement on it, tell
//! whether it can be used again. This crate does the rest: [`SingleDatabase`] (one
//! connection shared by every task), [`PooledDatabase`] (a deadpool pool built from
//! [`PoolOptions`]), [`HeldConnection`] (a connection held for a transaction, the one
//! owner of its transaction state and its `Drop` policy), the blocking side for sync
//! code, and the batched row streams of drivers that cannot stream in place.
//!
//! Users meet these types under the backends' names: `PostgresqlDatabase` is
//! `SingleDatabase<PostgresqlDriver>`, `PooledMySQLDatabase` is `PooledDatabase<MySQLDriver>`.

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod batch;
mod blocking;
pub mod cluster;
mod driver;
mod executors;
mod held;
mod link;
mod member;
mod pool;
mod pooled;
mod recycle;
pub mod replicated;
mod retry;
mod rotation;
mod single;
mod timeout;
pub mod tls;
pub mod trace;
pub mod url;
mod written;

pub use cluster::ClusterDatabase;
pub use driver::{Call, Driver, DriverConfig, Role};
pub use held::HeldConnection;
pub use member::MemberConnection;
pub use pool::{
    autonomous_config, autonomous_lock_timeout, PoolMetrics, PoolOptions, PoolSettings,
    AUTONOMOUS_CONNECTIONS,
};
pub use pooled::PooledDatabase;
pub use replicated::{ReadCounts, ReplicatedDatabase};
pub use retry::is_read;
pub use single::SingleDatabase;

//! The async ORM after peewee-async: the one crate users depend on.
//!
//! Pick the backends with features (`sqlite` is on by default and needs no server;
//! `postgres` and `mysql` add PostgreSQL and MySQL / MariaDB; `chrono`, `uuid`,
//! `decimal`, `json` add value types), then:
//!
//! ```no_run
//! use orm_manager::prelude::*;
//!
//! #[derive(Model, Debug)]
//! struct TestModel {
//!     #[orm(primary_key, auto)]
//!     id: i64,
//!     text: String,
//! }
//!
//! fn main() -> Result<(), Error> {
//!     let database = PostgresqlDatabase::connect_lazy("postgres://postgres@127.0.0.1/test")?;
//!     // Sync code works: set-up needs no runtime.
//!     TestModel::create_table(&database, true)?;
//!     TestModel::new("Yo, I can do it sync!").insert().execute_sync(&database)?;
//!     database.close_sync();
//!
//!     let objects = Manager::new(database.clone());
//!     database.set_allow_sync(SyncPolicy::Deny); // no more sync from here on
//!
//!     tokio::runtime::Runtime::new().expect("runtime").block_on(async {
//!         objects.create(TestModel::new("Not bad. Watch this, I'm async!")).await?;
//!         for obj in objects.execute(TestModel::select().order_by(TestModel::ID)).await? {
//!             println!("{}", obj.text);
//!         }
//!         Ok::<_, Error>(())
//!     })?;
//!
//!     let _sync = objects.allow_sync(); // sync again, for clean-up
//!     TestModel::drop_table(&database, true)
//! }
//! ```
//!
//! The [`Manager`] is the high-level API. The free functions ([`execute`], [`get_object`],
//! [`create_object`], [`update_object`], [`delete_object`], [`count_rows`], [`scalar`],
//! [`atomic`], [`transaction`], [`savepoint`]) are the lower layer it is built on.
//!
//! # Models
//!
//! `#[derive(Model)]` maps a struct with named fields to a table, implements [`Model`]
//! (queries, DDL, lifecycle hooks) and adds a typed column constant per field
//! (`User::NAME`) and `User::new(..)`, which takes every field but the generated key and
//! the columns the ORM maintains. An `Option<T>` field is a nullable column.
//!
//! Struct attributes, `#[orm(...)]`:
//!
//! | attribute | meaning |
//! |---|---|
//! | `table = "name"` | the table's name (default: the struct's name in snake_case) |
//! | `schema = "name"` | its schema (PostgreSQL) or database (MySQL) |
//! | `primary_key(a, b)` | a composite primary key |
//! | `unique(a, b)`, `index(a, b)` | a composite unique constraint or index (repeatable) |
//! | `no_constructor` | no `new(..)` |
//! | `hooks` | you write `impl Model for T` with lifecycle hooks ([`Model::before_save`], [`Model::after_save`], [`Model::before_delete`], [`Model::after_delete`]) |
//! | `crate = "path"` | where the facade is, when it is renamed |
//!
//! Field attributes:
//!
//! | attribute | meaning |
//! |---|---|
//! | `primary_key`, `auto` | the key; `auto` for one the database generates (an integer) |
//! | `column = "name"` | the column's name (default: the field's) |
//! | `unique`, `index` | a unique constraint or an index on the column |
//! | `default = "SQL"` | the column's default, as SQL |
//! | `max_length = n` | `VARCHAR(n)`, checked before anything is sent |
//! | `sql_type = "TYPE"` | the column's type, as SQL |
//! | `references = Model` | a foreign key, with `ref_column = "col"`, `on_delete = "..."`, `on_update = "..."` (`no_action`, `restrict`, `cascade`, `set_null`, `set_default`) |
//! | `skip` | not a column (`Default::default()` when loaded) |
//! | `version` | an integer checked and bumped by every object update: optimistic locking, [`Error::StaleObject`] |
//! | `created_at`, `updated_at` | a timestamp (`chrono::NaiveDateTime` or `DateTime<Utc>`) the ORM sets on insert / on every write |
//! | `soft_delete` | an `Option` of a timestamp: deletes set it, queries leave such rows out unless `with_deleted()`, `Delete::hard()` removes for good |
//!
//! Mistakes are compile errors at the attribute or the field's type.
//!
//! ```
//! # #[cfg(feature = "chrono")] {
//! use orm_manager::prelude::*;
//!
//! #[derive(Model, Debug, Clone)]
//! struct Page {
//!     #[orm(primary_key, auto)]
//!     id: i64,
//!     #[orm(unique, max_length = 80)]
//!     slug: String,
//!     body: String,
//!     #[orm(version)]
//!     version: i32,
//!     #[orm(created_at)]
//!     created_at: chrono::NaiveDateTime,
//!     #[orm(updated_at)]
//!     updated_at: chrono::NaiveDateTime,
//!     #[orm(soft_delete)]
//!     deleted_at: Option<chrono::NaiveDateTime>,
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
//! Page::create_table_async(&objects, false).await?;
//! let mut page = objects.create(Page::new("home", "Hello")).await?;
//! assert_eq!(page.created_at, page.updated_at);
//!
//! let stale = page.clone();
//! page.body = "Hello, world".into();
//! objects.update(&mut page).await?; // version 0 -> 1
//! let mut stale = stale;
//! assert!(matches!(objects.update(&mut stale).await, Err(Error::StaleObject { .. })));
//!
//! // Raw SQL fills a model by column name: any columns, in any order.
//! let pages: Vec<Page> = objects
//!     .execute(Page::raw("SELECT * FROM page WHERE slug = ?", vec!["home".into()]))
//!     .await?;
//! assert_eq!(pages[0].version, 1);
//!
//! objects.delete(&page).await?; // soft: sets deleted_at
//! assert_eq!(objects.count(Page::select()).await?, 0);
//! assert_eq!(objects.count(Page::select().with_deleted()).await?, 1);
//! # Ok::<(), Error>(()) }).unwrap();
//! # }
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod any;
mod lowlevel;
mod manager;
mod prefetch;
mod retry;
mod scope;
mod transaction;
mod tx;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub use any::{AnyConnection, AnyDatabase};
pub use lowlevel::{
    bulk_insert, count_rows, create_from_values, create_object, create_or_get, delete_object,
    delete_object_recursive, execute, execute_raw, exists, get_object, get_object_or_none,
    get_or_create, peek, save_object, scalar, update_object, CountLimit, ExecuteQuery, IntoSelect,
    OnNullable,
};
pub use manager::{AllowSync, Manager};
pub use prefetch::{prefetch, PrefetchStep, Prefetched, Store, Subqueries, KEYS_PER_QUERY};
pub use retry::{RetryPolicy, Retryable};
pub use transaction::{atomic, savepoint, transaction, TransactionGuard};

/// The core crate, re-exported: generated code and advanced users reach it here.
pub use orm_core;
pub use orm_core::{Error, IsolationLevel, Model, Result, SyncPolicy, TxOptions};
/// `#[derive(Model)]`; its attributes are in the [crate documentation](crate#models).
pub use orm_derive::Model;
/// The connection runtime, re-exported: pool options and the driver trait.
pub use orm_runtime;
pub use orm_runtime::tls::{SslMode, TlsOptions, TlsSettings};
pub use orm_runtime::{ClusterDatabase, PoolOptions, PoolSettings, ReplicatedDatabase};

#[cfg(feature = "mysql")]
pub use orm_mysql::{MySQLConfig, MySQLConnection, MySQLDatabase, PooledMySQLDatabase};
#[cfg(feature = "postgres")]
pub use orm_postgres::{
    PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlConnection, PostgresqlDatabase,
};
#[cfg(feature = "sqlite")]
pub use orm_sqlite::{PooledSqliteDatabase, RunOn, SqliteConfig, SqliteConnection, SqliteDatabase};

/// Everything an application needs in one `use`: the Manager and databases, the query
/// functions and traits (`ExprExt`, the array and hstore operators; with the `json`
/// feature `Json` and the JSON operators), and the error with its kinds.
///
/// ```
/// use orm_manager::prelude::*;
/// fn taken(e: &Error) -> bool {
///     matches!(e, Error::Integrity { kind: IntegrityKind::Unique, .. })
/// }
/// assert!(!taken(&Error::Query("x".into())));
/// ```
pub mod prelude {
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    pub use crate::AnyDatabase;
    pub use crate::{AllowSync, Manager, Model, OnNullable, Prefetched, TransactionGuard};
    pub use orm_core::{
        avg, cast, coalesce, count, count_all, count_distinct, exists, lower, max, min, not,
        not_exists, raw, raw_query, sum, upper, ArrayExt, Condition, Database, Error, ExprExt,
        FetchQuery, HStore, HStoreExt, Insert, IntegrityKind, Query, RowMap, Select, SyncExecutor,
        SyncPolicy, Value,
    };
    #[cfg(feature = "json")]
    pub use orm_core::{Json, JsonExt};
    // A model's table metadata (`User::TABLE`, for schema tools) without naming the trait.
    pub use orm_core::Table as _;
    pub use orm_runtime::tls::{SslMode, TlsSettings};
    pub use orm_runtime::PoolSettings;

    #[cfg(feature = "mysql")]
    pub use crate::{MySQLConfig, MySQLDatabase, PooledMySQLDatabase};
    #[cfg(feature = "postgres")]
    pub use crate::{PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase};
    #[cfg(feature = "sqlite")]
    pub use crate::{PooledSqliteDatabase, SqliteConfig, SqliteDatabase};
}

//! Schema tools for the async ORM, the same on SQLite, PostgreSQL and MySQL/MariaDB, sync
//! and async: what tables a database has ([`tools`]), creating and dropping the models'
//! tables in foreign-key order, and the live schema read back ([`introspect()`]) into a
//! [`Schema`] that the models' metadata turns into too ([`Table::of_model`]), so the two
//! can be compared.
//!
//! ```
//! # use orm_core::Table as _;
//! use orm_migrate::{introspect_sync, tools, Table};
//! # use orm_sqlite::{SqliteConfig, SqliteDatabase};
//! # #[derive(orm_derive::Model)]
//! # struct Tag { #[orm(primary_key, auto)] id: i64, #[orm(unique, max_length = 40)] name: String }
//! # fn main() -> orm_core::Result<()> {
//! let db = SqliteDatabase::new(SqliteConfig::memory())?;
//! tools::create_tables_sync(&db, &[Tag::TABLE])?;
//! assert!(tools::table_exists_sync(&db, "tag")?);
//! let live = introspect_sync(&db)?;
//! let model = Table::of_model(Tag::TABLE, &orm_core::SqliteDialect);
//! assert_eq!(live.table("tag"), Some(&model));
//! # Ok(()) }
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod blocking;
pub mod cli;
pub mod diff;
pub mod introspect;
pub mod migration;
pub mod ops;
mod record;
pub mod runner;
pub mod schema;
pub mod tools;
mod types;

pub use diff::{diff, Hints};
pub use introspect::{introspect, introspect_sync};
pub use migration::{generate, load_dir, Migration};
pub use ops::Operation;
pub use record::MIGRATIONS_TABLE;
pub use runner::{down, status, up, State};
pub use schema::{Column, ForeignKey, Index, Schema, Table};

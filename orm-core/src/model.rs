//! The [`Model`] trait: what every [`Table`] can build (queries) and do to its table (DDL).

use crate::error::Result;
use crate::executor::{Executor, SyncExecutor};
use crate::query::{Alias, Delete, Insert, RawQuery, Select, Update};
use crate::table::Table;

/// A model: a [`Table`] (implemented by `#[derive(Model)]`) with its query constructors
/// and DDL. Implemented for every `Table`; bring it into scope to call `User::select()`.
pub trait Model: Table {
    /// `SELECT` every column of this model.
    fn select() -> Select<Self, Self> {
        Select::new()
    }

    /// This model's table under another name, for self-joins.
    fn alias(name: impl Into<std::borrow::Cow<'static, str>>) -> Alias<Self> {
        Alias::new(name)
    }

    /// Raw SQL whose rows fill this model by column name (peewee's `Model.raw`): the
    /// query may select some columns, in any order; see [`RawQuery`].
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct User { #[orm(primary_key, auto)] id: i64, name: String, bio: Option<String> }
    /// let q = User::raw("SELECT name, id FROM user WHERE id > ?", vec![Value::I64(5)]);
    /// let stmt = q.render(&PostgresqlDialect)?;
    /// assert_eq!(stmt.sql, "SELECT name, id FROM user WHERE id > $1");
    /// assert_eq!(stmt.columns, ColumnMatch::ByName);
    /// # Ok::<(), Error>(())
    /// ```
    fn raw(sql: impl Into<String>, params: Vec<crate::Value>) -> RawQuery<Self> {
        crate::query::raw_query(sql, params)
    }

    /// `INSERT` this object (auto-increment columns are left to the database).
    fn insert(&self) -> Insert<Self> {
        Insert::one(self)
    }

    /// `INSERT` many objects in one statement.
    fn insert_many<'a, I>(objects: I) -> Insert<Self>
    where
        I: IntoIterator<Item = &'a Self>,
    {
        Insert::many(objects)
    }

    /// `UPDATE` this model's table; add `.set(..)` and `.where_(..)`.
    fn update() -> Update<Self> {
        Update::new()
    }

    /// `DELETE FROM` this model's table; add `.where_(..)`.
    fn delete() -> Delete<Self> {
        Delete::new()
    }

    /// Creates the table and its indexes, blocking. With `safe`, an existing table is kept
    /// (`IF NOT EXISTS`).
    fn create_table<E: SyncExecutor + ?Sized>(db: &E, safe: bool) -> Result<()> {
        for stmt in crate::ddl::create_table(Self::TABLE, db.dialect(), safe)? {
            db.execute_sync(stmt)?;
        }
        Ok(())
    }

    /// Drops the table, blocking. With `safe`, a missing table is not an error.
    fn drop_table<E: SyncExecutor + ?Sized>(db: &E, safe: bool) -> Result<()> {
        db.execute_sync(crate::ddl::drop_table(Self::TABLE, db.dialect(), safe)?)?;
        Ok(())
    }

    /// Creates the table and its indexes.
    fn create_table_async<E: Executor + ?Sized>(
        db: &E,
        safe: bool,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let stmts = crate::ddl::create_table(Self::TABLE, db.dialect(), safe);
        async move {
            for stmt in stmts? {
                db.execute(stmt).await?;
            }
            Ok(())
        }
    }

    /// Drops the table.
    fn drop_table_async<E: Executor + ?Sized>(
        db: &E,
        safe: bool,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let stmt = crate::ddl::drop_table(Self::TABLE, db.dialect(), safe);
        async move {
            db.execute(stmt?).await?;
            Ok(())
        }
    }
}

impl<T: Table> Model for T {}

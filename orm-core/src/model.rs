//! The [`Model`] trait: what every [`Table`] can build (queries) and do to its table (DDL).

use std::future::Future;

use crate::error::Result;
use crate::executor::{Executor, SyncExecutor};
use crate::query::{Alias, Delete, Insert, RawQuery, Select, Update};
use crate::table::Table;

/// A model: a [`Table`] with its query constructors, DDL and lifecycle hooks.
/// `#[derive(Model)]` implements it; bring it into scope to call `User::select()`.
///
/// # Lifecycle hooks
///
/// With `#[orm(hooks)]` on the struct, the derive leaves this impl to you, and you
/// override the hooks you need. They run around the Manager's (and the low-level
/// functions') object writes: `create`, `save`, `update`, `update_only`, `delete`,
/// `delete_recursive` (the object itself), in this order:
///
/// - insert: the ORM's timestamps, `before_save(created = true)`, INSERT,
///   `after_save(created = true)` on the stored object;
/// - update: `updated_at`, `before_save(created = false)`, UPDATE (checking the version),
///   the version bumped, `after_save(created = false)` (only when a row was updated);
/// - delete: `before_delete`, DELETE (or the soft delete), `after_delete` (only when a
///   row was deleted).
///
/// Through the Manager, the hooks and the write run in one transaction (a savepoint inside
/// one): a hook's error undoes the write and whatever the hooks wrote through `exec`.
/// Query builders (`Model::update()`, `Model::delete()`, `insert_many`, `bulk_insert`)
/// write rows, not objects, and run no hooks. `get_or_create` / `create_or_get` run the
/// save hooks around the insert they make, on the executor that makes it, without a
/// transaction of their own.
///
/// ```
/// use orm_core::{Error, Executor, Model, Result};
///
/// #[derive(orm_derive::Model, Debug)]
/// #[orm(hooks)]
/// struct Article { #[orm(primary_key, auto)] id: i64, title: String, slug: String }
///
/// impl Model for Article {
///     async fn before_save<E: Executor + ?Sized>(&mut self, _exec: &E, _created: bool) -> Result<()> {
///         if self.title.trim().is_empty() {
///             return Err(Error::Query("an article needs a title".into()));
///         }
///         self.slug = self.title.to_lowercase().replace(' ', "-");
///         Ok(())
///     }
/// }
/// ```
///
/// The facade's documentation (`orm_manager`) runs this model through a Manager.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "expected a struct with #[derive(Model)]",
    note = "add #[derive(Model)] to `{Self}`; with #[orm(hooks)], also write `impl Model for {Self}`"
)]
pub trait Model: Table {
    /// Runs before the object is inserted (`created`) or updated; it may change the
    /// object, or refuse the write with an error.
    fn before_save<E: Executor + ?Sized>(
        &mut self,
        exec: &E,
        created: bool,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (exec, created);
        async { Ok(()) }
    }

    /// Runs after the object was inserted (`created`) or updated.
    fn after_save<E: Executor + ?Sized>(
        &self,
        exec: &E,
        created: bool,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (exec, created);
        async { Ok(()) }
    }

    /// Runs before the object is deleted; an error keeps it.
    fn before_delete<E: Executor + ?Sized>(
        &self,
        exec: &E,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = exec;
        async { Ok(()) }
    }

    /// Runs after the object was deleted.
    fn after_delete<E: Executor + ?Sized>(
        &self,
        exec: &E,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = exec;
        async { Ok(()) }
    }

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

    /// A new row named column by column, the columns left out taking their database
    /// defaults: see [`Values`](crate::Values).
    fn values() -> crate::Values<Self> {
        crate::Values::new()
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

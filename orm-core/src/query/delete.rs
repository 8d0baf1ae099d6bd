//! DELETE.

use std::marker::PhantomData;

use crate::expr::Condition;
use crate::table::Table;

use crate::tree::{DeleteStatement, TableRef};

use super::select::Selection;
use super::update::Returning;

impl crate::Query for DeleteStatement {
    fn render(&self, dialect: &dyn crate::Dialect) -> crate::Result<crate::Statement> {
        crate::render::delete(self, dialect)
    }
}

/// A typed DELETE from model `M`'s table.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Session { #[orm(primary_key)] token: String, user_id: i64 }
/// let stmt = Session::delete().where_(Session::USER_ID.eq(7)).render(&PostgresqlDialect).unwrap();
/// assert_eq!(stmt.sql, r#"DELETE FROM "session" WHERE ("session"."user_id" = $1)"#);
/// assert_eq!(stmt.params, vec![Value::I64(7)]);
/// ```
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Delete<M> {
    stmt: DeleteStatement,
    /// Removes the rows even from a model with a soft-delete column.
    hard: bool,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Delete<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stmt.fmt(f)
    }
}

impl<M: Table> Delete<M> {
    /// A DELETE of every row, until `where_` narrows it.
    pub fn new() -> Self {
        Delete {
            stmt: DeleteStatement {
                table: TableRef::of(M::TABLE),
                filter: None,
                returning: Vec::new(),
            },
            hard: false,
            _model: PhantomData,
        }
    }

    /// Adds a WHERE condition; several calls are joined with AND.
    pub fn where_<S: crate::scope::Names<M>>(mut self, condition: Condition<S>) -> Self {
        self.stmt.filter = Some(crate::tree::and_nodes(
            self.stmt.filter.take(),
            condition.into_node(),
        ));
        self
    }

    /// `RETURNING` the given columns (PostgreSQL and SQLite; an error on MySQL).
    pub fn returning<S: Selection>(mut self, selection: S) -> Returning<Self, S::Output> {
        selection.push_items(&mut self.stmt.returning);
        Returning::new(self)
    }

    /// Removes the rows for good, even from a model with a `#[orm(soft_delete)]` column
    /// (whose DELETE otherwise sets that column to now, on live rows only).
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[cfg(feature = "chrono")] {
    /// # #[derive(orm_derive::Model)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, #[orm(soft_delete)] deleted_at: Option<chrono::NaiveDateTime> }
    /// let soft = Note::delete().where_(Note::ID.eq(3)).render(&PostgresqlDialect)?;
    /// assert_eq!(
    ///     soft.sql,
    ///     r#"UPDATE "note" SET "deleted_at" = $1 WHERE (("note"."id" = $2)) AND ("note"."deleted_at" IS NULL)"#
    /// );
    /// assert!(matches!(soft.params[0], Value::Timestamp(_)));
    /// let hard = Note::delete().where_(Note::ID.eq(3)).hard().render(&PostgresqlDialect)?;
    /// assert_eq!(hard.sql, r#"DELETE FROM "note" WHERE ("note"."id" = $1)"#);
    /// # }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn hard(mut self) -> Self {
        self.hard = true;
        self
    }

    /// The statement this DELETE sends: the soft delete's UPDATE for a model with a
    /// soft-delete column (unless [`hard`](Self::hard)), else `None` (the DELETE itself).
    pub(crate) fn soft(&self) -> Option<crate::tree::UpdateStatement> {
        if self.hard {
            return None;
        }
        let mut update = crate::tree::UpdateStatement::soft_delete_from_meta(
            M::TABLE,
            self.stmt.filter.clone(),
        )?;
        update.returning = self.stmt.returning.clone();
        Some(update)
    }

    /// The untyped statement.
    pub fn statement(&self) -> &DeleteStatement {
        &self.stmt
    }
}

impl<M: Table> Default for Delete<M> {
    fn default() -> Self {
        Self::new()
    }
}

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
            _model: PhantomData,
        }
    }

    /// Adds a WHERE condition; several calls are joined with AND.
    pub fn where_(mut self, condition: Condition) -> Self {
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

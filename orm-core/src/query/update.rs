//! UPDATE with values or expressions.

use std::marker::PhantomData;

use crate::expr::{AsExpr, Column, Condition};
use crate::meta::ColumnRole;
use crate::table::Table;
use crate::tree::{ExprNode, TableRef, UpdateStatement};
use crate::types::ColumnType;

use super::select::Selection;

impl crate::Query for UpdateStatement {
    fn render(&self, dialect: &dyn crate::Dialect) -> crate::Result<crate::Statement> {
        crate::render::update(self, dialect)
    }
}

/// A typed UPDATE of model `M`'s table.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Counter { #[orm(primary_key)] name: String, hits: i64 }
/// let stmt = Counter::update()
///     .set(Counter::HITS, Counter::HITS + 1)
///     .where_(Counter::NAME.eq("home"))
///     .render(&MySQLDialect)
///     .unwrap();
/// assert_eq!(stmt.sql, "UPDATE `counter` SET `hits` = (`counter`.`hits` + ?) WHERE (`counter`.`name` = ?)");
/// ```
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Update<M> {
    stmt: UpdateStatement,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Update<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stmt.fmt(f)
    }
}

impl<M: Table> Update<M> {
    /// An UPDATE with nothing set yet.
    pub fn new() -> Self {
        Update {
            stmt: UpdateStatement {
                table: TableRef::of(M::TABLE),
                sets: Vec::new(),
                filter: None,
                returning: Vec::new(),
                with_deleted: false,
            },
            _model: PhantomData,
        }
    }

    /// `SET column = value`; the value is a value, column or expression of the column's
    /// type (`None` sets NULL).
    pub fn set<C: ColumnType, V: AsExpr<C::Base>>(
        mut self,
        column: Column<M, C>,
        value: V,
    ) -> Self {
        let value = stored_as::<M>(column.name(), value.into_expr());
        self.stmt.sets.push((column.name(), value));
        self
    }

    /// Sets column `index` of `obj` (used by `Manager::update`).
    pub fn set_from(mut self, obj: &M, index: usize) -> Self {
        let meta = &M::TABLE.columns[index];
        self.stmt.sets.push((
            meta.name,
            ExprNode::Param(meta.admit(obj.column_value(index))),
        ));
        self
    }

    /// The UPDATE that saves `obj` by its primary key: every column but the key (or only
    /// the columns named in `only`, and `updated_at`). A model with a `#[orm(version)]`
    /// column sets it to `version + 1` and matches the row only at the object's version,
    /// so an update made from a stale copy changes nothing (optimistic locking). An error
    /// for a model without a primary key.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Doc { #[orm(primary_key, auto)] id: i64, body: String, #[orm(version)] version: i32 }
    /// let doc = Doc { id: 7, body: "text".into(), version: 3 };
    /// let stmt = Update::for_object(&doc, None)?.render(&PostgresqlDialect)?;
    /// assert_eq!(
    ///     stmt.sql,
    ///     r#"UPDATE "doc" SET "body" = $1, "version" = ("doc"."version" + 1) WHERE (("doc"."id" = $2) AND ("doc"."version" = $3))"#
    /// );
    /// assert_eq!(stmt.params, [Value::Text("text".into()), Value::I64(7), Value::I32(3)]);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn for_object(obj: &M, only: Option<&[&str]>) -> crate::Result<Self> {
        let table = M::TABLE;
        let mut update = Update::<M>::new();
        let mut filter = None;
        for (i, column) in table.columns.iter().enumerate() {
            let node = if column.primary_key {
                filter = Some(crate::tree::and_nodes(
                    filter,
                    crate::expr::column_equals(table.name, column.name, obj.column_value(i))
                        .into_node(),
                ));
                continue;
            } else if column.role == ColumnRole::Version {
                filter = Some(crate::tree::and_nodes(
                    filter,
                    crate::expr::column_equals(table.name, column.name, obj.column_value(i))
                        .into_node(),
                ));
                ExprNode::column(Some(table.name), column.name).binary(
                    crate::tree::BinOp::Add,
                    ExprNode::Raw("1".into(), Vec::new()),
                )
            } else if only.is_none_or(|names| names.contains(&column.name))
                || column.role == ColumnRole::UpdatedAt
            {
                ExprNode::Param(column.admit(obj.column_value(i)))
            } else {
                continue;
            };
            update.stmt.sets.push((column.name, node));
        }
        if !table.columns.iter().any(|c| c.primary_key) {
            return Err(crate::Error::Query(format!(
                "{} has no primary key to find the object by",
                table.model
            )));
        }
        update.stmt.filter = filter;
        Ok(update)
    }

    /// Adds a WHERE condition; several calls are joined with AND. Without one, every row
    /// is updated.
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

    /// Updates soft-deleted rows too (a model with a `#[orm(soft_delete)]` column updates
    /// only live rows otherwise): to restore one, set its column back to `None`.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[cfg(feature = "chrono")] {
    /// # #[derive(orm_derive::Model)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, #[orm(soft_delete)] deleted_at: Option<chrono::NaiveDateTime> }
    /// let restore = Note::update().set(Note::DELETED_AT, None).where_(Note::ID.eq(3)).with_deleted();
    /// assert_eq!(
    ///     restore.render(&PostgresqlDialect)?.sql,
    ///     r#"UPDATE "note" SET "deleted_at" = $1 WHERE ("note"."id" = $2)"#
    /// );
    /// # }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_deleted(mut self) -> Self {
        self.stmt.with_deleted = true;
        self
    }

    /// The untyped statement.
    pub fn statement(&self) -> &UpdateStatement {
        &self.stmt
    }
}

/// A value written into column `name` of `M`: a parameter as the column admits it
/// ([`ColumnMeta::admit`](crate::ColumnMeta::admit): text over `max_length` is refused),
/// an expression as it is.
pub(crate) fn stored_as<M: Table>(name: &str, node: ExprNode) -> ExprNode {
    match (node.into_param(), M::TABLE.column(name)) {
        (Ok(v), Some(meta)) => ExprNode::Param(meta.admit(v)),
        (Ok(v), None) => ExprNode::Param(v),
        (Err(expr), _) => expr,
    }
}

impl<M: Table> Default for Update<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// A statement with a RETURNING clause whose rows decode as `Out`.
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Returning<Q, Out> {
    pub(crate) query: Q,
    _out: PhantomData<fn() -> Out>,
}

impl<Q, Out> Returning<Q, Out> {
    pub(crate) fn new(query: Q) -> Self {
        Returning {
            query,
            _out: PhantomData,
        }
    }
}

impl<Q: std::fmt::Debug, Out> std::fmt::Debug for Returning<Q, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Returning")
            .field("query", &self.query)
            .finish()
    }
}

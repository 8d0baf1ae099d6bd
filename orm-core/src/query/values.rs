//! A row named column by column: a new object without a positional constructor, where the
//! columns left out take their database defaults.

use std::marker::PhantomData;

use crate::expr::{AsExpr, Column, Condition};
use crate::meta::ColumnRole;
use crate::table::Table;
use crate::tree::{ExprNode, InsertSource};
use crate::types::ColumnType;
use crate::value::{SqlType, Value};

use super::insert::Insert;

/// A new row of model `M`, column by column: each value is named by its column (so two
/// of the same type cannot be swapped unseen) and typed by it; a column left out takes
/// the database's default (`#[orm(default = ..)]`, an identity, NULL). The ORM fills in
/// what it maintains: `created_at` / `updated_at` (now) and a version (0). Built by
/// [`Model::values`](crate::Model::values); insert it with
/// [`insert`](Values::insert) or, for the stored object back, the Manager's
/// `create_from`.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post {
/// #     #[orm(primary_key, auto)] id: i64,
/// #     title: String,
/// #     #[orm(default = "'draft'")] status: String,
/// #     body: String,
/// # }
/// let post = Post::values().set(Post::TITLE, "Hello").set(Post::BODY, "...");
/// let stmt = post.insert().render(&PostgresqlDialect)?;
/// assert_eq!(stmt.sql, r#"INSERT INTO "post" ("title", "body") VALUES ($1, $2)"#);
/// # Ok::<(), Error>(())
/// ```
#[must_use = "a row does nothing until it is inserted"]
pub struct Values<M> {
    columns: Vec<&'static str>,
    values: Vec<ExprNode>,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Values<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Values")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl<M: Table> Values<M> {
    /// A row with no column set yet.
    pub fn new() -> Self {
        Values {
            columns: Vec::new(),
            values: Vec::new(),
            _model: PhantomData,
        }
    }

    /// Sets `column` to `value` (a value, column or expression of its type; `None` for
    /// NULL). Setting a column again replaces its value.
    pub fn set<C: ColumnType, V: AsExpr<C::Base>>(
        mut self,
        column: Column<M, C>,
        value: V,
    ) -> Self {
        let name = column.name();
        let node = super::update::stored_as::<M>(name, value.into_expr());
        match self.columns.iter().position(|c| *c == name) {
            Some(at) => self.values[at] = node,
            None => {
                self.columns.push(name);
                self.values.push(node);
            }
        }
        self
    }

    /// The columns the ORM maintains that were not set: now for the timestamps, 0 for the
    /// version.
    fn completed(mut self) -> Self {
        let now = crate::table::Now::read();
        for column in M::TABLE.columns {
            if self.columns.contains(&column.name) {
                continue;
            }
            let value = match column.role {
                ColumnRole::CreatedAt | ColumnRole::UpdatedAt => now.value_for(column),
                ColumnRole::Version => match column.sql_type {
                    SqlType::SmallInt => Value::I16(0),
                    SqlType::BigInt => Value::I64(0),
                    _ => Value::I32(0),
                },
                _ => continue,
            };
            self.columns.push(column.name);
            self.values.push(ExprNode::Param(value));
        }
        self
    }

    /// `column = value AND ...` over the primary key, when every key column was set to a
    /// value: how the stored row is found again where the server returns no row.
    pub fn key_condition(&self) -> Option<Condition> {
        let mut condition: Option<Condition> = None;
        for name in M::TABLE.primary_key_columns() {
            let at = self.columns.iter().position(|c| *c == name)?;
            let ExprNode::Param(value) = &self.values[at] else {
                return None;
            };
            let equal = crate::expr::column_equals(M::TABLE.name, name, value.clone());
            condition = Some(match condition {
                Some(c) => c.and(equal),
                None => equal,
            });
        }
        condition
    }

    /// The INSERT of this row.
    pub fn insert(self) -> Insert<M> {
        let row = self.completed();
        Insert::with(row.columns, InsertSource::Values(vec![row.values]))
    }
}

impl<M: Table> Default for Values<M> {
    fn default() -> Self {
        Self::new()
    }
}

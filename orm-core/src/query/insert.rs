//! INSERT: one row, many rows, INSERT ... SELECT, upserts, returning keys.

use std::marker::PhantomData;

use crate::expr::Column;
use crate::table::Table;
use crate::tree::{ConflictAction, ExprNode, InsertSource, InsertStatement, OnConflict, TableRef};
use crate::types::ColumnType;

use super::select::{Select, Selection};

/// An auto-increment key not chosen yet: 0 (what `Model::new` puts there).
fn is_unset_key(value: &crate::Value) -> bool {
    matches!(
        value,
        crate::Value::I16(0) | crate::Value::I32(0) | crate::Value::I64(0) | crate::Value::Null
    )
}

/// A typed INSERT into model `M`'s table.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Tag { #[orm(primary_key, auto)] id: i64, #[orm(unique)] name: String, uses: i32 }
/// let tag = Tag::new("rust", 1);
/// let stmt = tag.insert().on_conflict(Tag::NAME).update(Tag::USES)
///     .render(&PostgresqlDialect).unwrap();
/// assert_eq!(stmt.sql, r#"INSERT INTO "tag" ("name", "uses") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "uses" = EXCLUDED."uses""#);
/// ```
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Insert<M> {
    stmt: InsertStatement,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Insert<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stmt.fmt(f)
    }
}

impl<M: Table> Insert<M> {
    pub(crate) fn with(columns: Vec<&'static str>, source: InsertSource) -> Self {
        Insert {
            stmt: InsertStatement {
                table: TableRef::of(M::TABLE),
                columns,
                source,
                on_conflict: None,
                returning: Vec::new(),
            },
            _model: PhantomData,
        }
    }

    /// The columns to insert: all but an auto-increment key, unless every object carries
    /// an explicit (non-zero) key, which is then inserted as given.
    fn insert_columns(objects: &[&M]) -> Vec<usize> {
        let explicit_keys = M::TABLE
            .columns
            .iter()
            .position(|c| c.auto)
            .is_some_and(|auto| {
                !objects.is_empty() && objects.iter().all(|o| !is_unset_key(&o.column_value(auto)))
            });
        (0..M::TABLE.columns.len())
            .filter(|i| explicit_keys || !M::TABLE.columns[*i].auto)
            .collect()
    }

    fn with_rows(objects: &[&M]) -> Self {
        let columns = Self::insert_columns(objects);
        let names = columns.iter().map(|i| M::TABLE.columns[*i].name).collect();
        // One flat list of values, not a node per value and a list per row: a 1,000-row
        // insert spent a fifth of its client time building and dropping those.
        let mut values = Vec::with_capacity(objects.len() * columns.len());
        for obj in objects {
            values.extend(
                columns
                    .iter()
                    .map(|i| M::TABLE.columns[*i].admit(obj.column_value(*i))),
            );
        }
        let count = objects.len();
        Self::with(names, InsertSource::Rows { count, values })
    }

    /// One object. An auto-increment key of 0 is left to the database; any other value
    /// is inserted as given. (As with any ORM, PostgreSQL's identity sequence does not move
    /// past keys inserted explicitly: mixing both on one table can collide later.)
    pub fn one(obj: &M) -> Self {
        Self::with_rows(&[obj])
    }

    /// Many objects in one statement. Auto-increment keys are left to the database unless
    /// every object carries one.
    pub fn many<'a, I: IntoIterator<Item = &'a M>>(objects: I) -> Self {
        let objects: Vec<&M> = objects.into_iter().collect();
        Self::with_rows(&objects)
    }

    /// `INSERT INTO M (columns) SELECT ...`: the query's row type must match the columns'.
    pub fn from_select<S, Q, J>(columns: S, query: Select<Q, S::Output, J>) -> Self
    where
        S: Selection + ColumnList<M>,
        Q: Table,
    {
        let names = columns.names();
        Self::with(
            names,
            InsertSource::Select(Box::new(query.into_statement())),
        )
    }

    /// The number of rows in the VALUES list (0 for INSERT ... SELECT).
    pub fn row_count(&self) -> usize {
        match &self.stmt.source {
            InsertSource::Values(rows) => rows.len(),
            InsertSource::Rows { count, .. } => *count,
            InsertSource::Select(_) => 0,
        }
    }

    /// Skip rows that conflict with any unique key.
    pub fn on_conflict_ignore(mut self) -> Self {
        self.stmt.on_conflict = Some(OnConflict {
            target: Vec::new(),
            action: ConflictAction::Ignore,
        });
        self
    }

    /// Starts an upsert on a conflict over the unique `target` columns; finish with
    /// [`Upsert::update`] or [`Upsert::ignore`].
    pub fn on_conflict<L: ColumnList<M>>(self, target: L) -> Upsert<M> {
        Upsert {
            insert: self,
            target: target.names(),
        }
    }

    /// Adds `RETURNING` the primary key (used where the dialect supports it).
    pub(crate) fn returning_key(mut self) -> Self {
        self.stmt.returning = M::TABLE
            .primary_key_columns()
            .map(|name| ExprNode::Column {
                qualifier: None,
                name,
            })
            .collect();
        self
    }

    /// Adds `RETURNING` every column of `M` (used where the dialect supports it).
    pub(crate) fn returning_all(mut self) -> Self {
        self.stmt.returning = M::TABLE
            .columns
            .iter()
            .map(|c| ExprNode::Column {
                qualifier: None,
                name: c.name,
            })
            .collect();
        self
    }

    /// The untyped statement.
    pub fn statement(&self) -> &InsertStatement {
        &self.stmt
    }

    /// The untyped statement.
    pub fn into_statement(self) -> InsertStatement {
        self.stmt
    }

    /// The explicit auto-increment keys of the rows, in order, when the rows carry them
    /// (the auto column is inserted as given); `None` when the database generates them.
    pub(crate) fn given_keys(&self) -> Option<Vec<i64>> {
        let auto = M::TABLE.auto_column()?.name;
        let at = self.stmt.columns.iter().position(|c| *c == auto)?;
        let key = |value: Option<&crate::Value>| match value {
            Some(crate::Value::I64(k)) => Some(*k),
            Some(crate::Value::I32(k)) => Some(i64::from(*k)),
            Some(crate::Value::I16(k)) => Some(i64::from(*k)),
            _ => None,
        };
        match &self.stmt.source {
            InsertSource::Values(rows) => rows
                .iter()
                .map(|row| match row.get(at) {
                    Some(ExprNode::Param(value)) => key(Some(value)),
                    _ => None,
                })
                .collect(),
            InsertSource::Rows { values, .. } => values
                .chunks(self.stmt.columns.len())
                .map(|row| key(row.get(at)))
                .collect(),
            InsertSource::Select(_) => None,
        }
    }

    /// True when the rows may be skipped on a conflict.
    pub(crate) fn ignores_conflicts(&self) -> bool {
        self.stmt
            .on_conflict
            .as_ref()
            .is_some_and(|c| c.action == ConflictAction::Ignore)
    }

    /// One INSERT per row, each with the same conflict clause.
    pub(crate) fn split_rows(self) -> Vec<Self> {
        let InsertStatement {
            table,
            columns,
            source,
            on_conflict,
            returning,
        } = self.stmt;
        let width = columns.len();
        let rows: Vec<InsertSource> = match source {
            InsertSource::Values(rows) => rows
                .into_iter()
                .map(|row| InsertSource::Values(vec![row]))
                .collect(),
            InsertSource::Rows { count, values } => {
                let mut values = values.into_iter();
                (0..count)
                    .map(|_| InsertSource::Rows {
                        count: 1,
                        values: values.by_ref().take(width).collect(),
                    })
                    .collect()
            }
            InsertSource::Select(_) => return Vec::new(),
        };
        rows.into_iter()
            .map(|source| Insert {
                stmt: InsertStatement {
                    table: table.clone(),
                    columns: columns.clone(),
                    source,
                    on_conflict: on_conflict.clone(),
                    returning: returning.clone(),
                },
                _model: PhantomData,
            })
            .collect()
    }
}

/// An INSERT waiting for its conflict action.
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Upsert<M> {
    insert: Insert<M>,
    target: Vec<&'static str>,
}

impl<M: Table> Upsert<M> {
    /// On conflict, overwrite `columns` with the values of the row being inserted.
    pub fn update<L: ColumnList<M>>(mut self, columns: L) -> Insert<M> {
        self.insert.stmt.on_conflict = Some(OnConflict {
            target: self.target,
            action: ConflictAction::Update(columns.names()),
        });
        self.insert
    }

    /// On conflict over the target, skip the row.
    pub fn ignore(mut self) -> Insert<M> {
        self.insert.stmt.on_conflict = Some(OnConflict {
            target: self.target,
            action: ConflictAction::Ignore,
        });
        self.insert
    }
}

/// Columns of model `M` named as an INSERT column list: a column or a tuple of columns.
pub trait ColumnList<M> {
    /// Column names in order.
    fn names(&self) -> Vec<&'static str>;
}

impl<M, C: ColumnType> ColumnList<M> for Column<M, C> {
    fn names(&self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

macro_rules! tuple_columns {
    ($($name:ident $idx:tt),+) => {
        impl<M, $($name: ColumnList<M>),+> ColumnList<M> for ($($name,)+) {
            fn names(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(out.extend(self.$idx.names());)+
                out
            }
        }
    };
}
tuple_columns!(A 0);
tuple_columns!(A 0, B 1);
tuple_columns!(A 0, B 1, C 2);
tuple_columns!(A 0, B 1, C 2, D 3);
tuple_columns!(A 0, B 1, C 2, D 3, E 4);
tuple_columns!(A 0, B 1, C 2, D 3, E 4, F 5);

impl<M> std::fmt::Debug for Upsert<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsert")
            .field("insert", &self.insert)
            .field("target", &self.target)
            .finish()
    }
}

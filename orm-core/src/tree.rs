//! The untyped statement tree: what the typed builders build and the renderer walks.
//!
//! [`ExprNode`] is an expression; [`SelectStatement`], [`InsertStatement`],
//! [`UpdateStatement`] and [`DeleteStatement`] are statements over [`TableRef`]s. Values
//! are always held as [`Value`]s and rendered as bound parameters. Application code uses
//! the typed builders (`User::select()`, `Expr<T>`); code that knows its tables only at run
//! time (a recursive delete that follows foreign keys found in the registry) builds trees
//! here from [`TableMeta`]:
//!
//! ```
//! use orm_core::tree::{DeleteStatement, ExprNode, SelectStatement, UpdateStatement};
//! use orm_core::{Dialect, PostgresqlDialect, Query, Value};
//! # #[derive(orm_derive::Model)]
//! # struct Post { #[orm(primary_key, auto)] id: i64, author: Option<i64> }
//! use orm_core::Table;
//!
//! let mine = ExprNode::column(Some("post"), "author").eq(ExprNode::param(7i64));
//! let ids = SelectStatement::column_from_meta(Post::TABLE, "id", mine.clone());
//! assert_eq!(
//!     ids.render(&PostgresqlDialect).unwrap().sql,
//!     r#"SELECT "post"."id" FROM "post" WHERE ("post"."author" = $1)"#
//! );
//! let orphan = UpdateStatement::set_null_from_meta(Post::TABLE, "author", mine.clone());
//! assert_eq!(
//!     orphan.render(&PostgresqlDialect).unwrap().sql,
//!     r#"UPDATE "post" SET "author" = $1 WHERE ("post"."author" = $2)"#
//! );
//! let gone = DeleteStatement::from_meta(Post::TABLE, mine);
//! assert_eq!(
//!     gone.render(&PostgresqlDialect).unwrap().sql,
//!     r#"DELETE FROM "post" WHERE ("post"."author" = $1)"#
//! );
//! ```

use std::borrow::Cow;

use crate::meta::TableMeta;
use crate::value::{SqlType, Value};

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// SQL functions the dialects know how to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `LOWER(x)`
    Lower,
    /// `UPPER(x)`
    Upper,
    /// `COUNT(x)`
    Count,
    /// `COUNT(DISTINCT x)`
    CountDistinct,
    /// `SUM(x)`
    Sum,
    /// `AVG(x)`
    Avg,
    /// `MIN(x)`
    Min,
    /// `MAX(x)`
    Max,
    /// `COALESCE(a, b, ...)`
    Coalesce,
    /// The current timestamp, in UTC.
    Now,
}

/// JSON operators, rendered by each dialect in its own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonOp {
    /// The value at a key, as JSON (`->`).
    Get,
    /// The value at a key, as text (`->>`).
    GetText,
    /// The value at a path of keys, as JSON (`#>`).
    Path,
    /// The value at a path of keys, as text (`#>>`).
    PathText,
    /// The document contains the other (`@>`).
    Contains,
    /// The document is contained in the other (`<@`).
    ContainedBy,
    /// The document has the key at top level (`?`).
    HasKey,
}

/// Array and hstore operators: PostgreSQL's; other dialects refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtOp {
    /// The array holds every given element (`@>`).
    ArrayContains,
    /// Every element of the array is among the given ones (`<@`).
    ArrayContainedBy,
    /// The array shares an element with the given ones (`&&`).
    ArrayOverlaps,
    /// The value equals some element (`value = ANY(array)`).
    AnyEquals,
    /// The expression equals an element of the given array (`expr = ANY($1)`): one
    /// parameter for a list of any length (prefetch uses it for its keys).
    EqualsAny,
    /// The value at a key (`->`).
    HStoreGet,
    /// The key is present (`?`).
    HStoreHasKey,
    /// Holds every given pair (`@>`).
    HStoreContains,
    /// The keys (`akeys`).
    HStoreKeys,
    /// The values (`avals`).
    HStoreValues,
    /// Only the given keys (`slice`).
    HStoreSlice,
}

/// The right-hand side of a JSON operator.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonArg {
    /// Keys: one for `Get`, `GetText`, `HasKey`; several for a path.
    Keys(Vec<String>),
    /// A JSON document, as text.
    Document(String),
}

/// An untyped expression tree, as the renderer sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExprNode {
    /// A column, qualified by its table name or alias.
    Column {
        /// Table name or alias; `None` renders the bare column name.
        qualifier: Option<Cow<'static, str>>,
        /// Column name.
        name: &'static str,
    },
    /// A bound parameter.
    Param(Value),
    /// `left op right`: both operands in one allocation.
    Binary(Box<(ExprNode, ExprNode)>, BinOp),
    /// `NOT (expr)`
    Not(Box<ExprNode>),
    /// `expr IS [NOT] NULL`
    IsNull(Box<ExprNode>, bool),
    /// `expr BETWEEN low AND high`
    Between(Box<ExprNode>, Box<ExprNode>, Box<ExprNode>),
    /// `expr [NOT] IN (a, b, ...)`
    InList(Box<ExprNode>, Vec<ExprNode>, bool),
    /// `expr [NOT] IN (SELECT ...)`
    InSelect(Box<ExprNode>, Box<SelectStatement>, bool),
    /// `[NOT] EXISTS (SELECT ...)`
    Exists(Box<SelectStatement>, bool),
    /// `expr [NOT] LIKE pattern`; with `case_insensitive`, ILIKE or its dialect equivalent.
    /// `escaped` adds `ESCAPE '!'` (used by contains / startswith / endswith).
    Like {
        /// The matched expression.
        expr: Box<ExprNode>,
        /// The pattern.
        pattern: Box<ExprNode>,
        /// ILIKE semantics.
        case_insensitive: bool,
        /// NOT LIKE.
        negated: bool,
        /// The pattern escapes `%`, `_` and `!` with `!`.
        escaped: bool,
    },
    /// A function call.
    Func(Func, Vec<ExprNode>),
    /// `CAST(expr AS type)`.
    Cast(Box<ExprNode>, SqlType),
    /// A raw SQL fragment; each `?` is a parameter from the list, `??` a literal `?`.
    Raw(String, Vec<Value>),
    /// A JSON operator applied to a document: a key, a path, or another document.
    Json(JsonOp, Box<ExprNode>, JsonArg),
    /// An array or hstore operator (PostgreSQL), with its bound argument if it takes one.
    Ext(ExtOp, Box<ExprNode>, Option<Value>),
    /// `*`
    Star,
    /// `expr AS name`: a SELECT list item with a name of its own.
    Named(Box<ExprNode>, Cow<'static, str>),
}

/// Frees a tree in a loop: a condition built from 100,000 nested `|` would otherwise be
/// dropped by as many nested calls and overflow the stack.
impl Drop for ExprNode {
    fn drop(&mut self) {
        if self.is_leaf() {
            return;
        }
        let mut deep = Vec::new();
        self.take_branches(&mut deep);
        while let Some(mut node) = deep.pop() {
            node.take_branches(&mut deep);
            // `node` drops here with only leaves below it.
        }
    }
}

impl ExprNode {
    /// The value of a parameter node, moved out; any other node comes back unchanged.
    pub(crate) fn into_param(mut self) -> std::result::Result<Value, ExprNode> {
        match &mut self {
            ExprNode::Param(value) => Ok(std::mem::replace(value, Value::Null)),
            _ => Err(self),
        }
    }

    /// True for nodes with no expression below them.
    fn is_leaf(&self) -> bool {
        matches!(
            self,
            ExprNode::Column { .. }
                | ExprNode::Param(_)
                | ExprNode::Raw(..)
                | ExprNode::Star
                | ExprNode::Exists(..)
        )
    }

    /// Moves the children that have children of their own into `out`, leaving leaves.
    fn take_branches(&mut self, out: &mut Vec<ExprNode>) {
        let mut take = |child: &mut ExprNode| {
            if !child.is_leaf() {
                out.push(std::mem::replace(child, ExprNode::Star));
            }
        };
        match self {
            ExprNode::Binary(operands, _) => {
                take(&mut operands.0);
                take(&mut operands.1);
            }
            ExprNode::Not(e)
            | ExprNode::IsNull(e, _)
            | ExprNode::Cast(e, _)
            | ExprNode::Json(_, e, _)
            | ExprNode::Ext(_, e, _)
            | ExprNode::Named(e, _)
            | ExprNode::InSelect(e, _, _) => take(e),
            ExprNode::Between(e, low, high) => {
                take(e);
                take(low);
                take(high);
            }
            ExprNode::InList(e, items, _) => {
                take(e);
                items.iter_mut().for_each(take);
            }
            ExprNode::Like { expr, pattern, .. } => {
                take(expr);
                take(pattern);
            }
            ExprNode::Func(_, args) => args.iter_mut().for_each(take),
            ExprNode::Column { .. }
            | ExprNode::Param(_)
            | ExprNode::Raw(..)
            | ExprNode::Star
            | ExprNode::Exists(..) => {}
        }
    }
}

impl ExprNode {
    /// A column; `qualifier` is its table name or alias.
    pub fn column(qualifier: Option<&'static str>, name: &'static str) -> ExprNode {
        ExprNode::Column {
            qualifier: qualifier.map(Cow::Borrowed),
            name,
        }
    }

    /// A bound parameter.
    pub fn param(value: impl Into<Value>) -> ExprNode {
        ExprNode::Param(value.into())
    }

    /// `self op right`.
    pub fn binary(self, op: BinOp, right: ExprNode) -> ExprNode {
        ExprNode::Binary(Box::new((self, right)), op)
    }

    /// `self = right`.
    pub fn eq(self, right: ExprNode) -> ExprNode {
        self.binary(BinOp::Eq, right)
    }

    /// `self AND right`.
    pub fn and(self, right: ExprNode) -> ExprNode {
        self.binary(BinOp::And, right)
    }

    /// `self IN (SELECT ...)`.
    pub fn in_select(self, select: SelectStatement) -> ExprNode {
        ExprNode::InSelect(Box::new(self), Box::new(select), false)
    }
}

/// Where NULLs sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// NULLs before other values.
    First,
    /// NULLs after other values.
    Last,
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub(crate) node: ExprNode,
    pub(crate) desc: bool,
    pub(crate) nulls: Option<Nulls>,
}

impl OrderItem {
    pub(crate) fn new(node: ExprNode, desc: bool) -> Self {
        OrderItem {
            node,
            desc,
            nulls: None,
        }
    }
    /// `NULLS FIRST` (emulated where the dialect lacks it).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(Nulls::First);
        self
    }
    /// `NULLS LAST` (emulated where the dialect lacks it).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(Nulls::Last);
        self
    }
}

/// JOIN kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `INNER JOIN`
    Inner,
    /// `LEFT OUTER JOIN`
    Left,
}

/// One JOIN clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub(crate) kind: JoinKind,
    pub(crate) table: TableRef,
    pub(crate) on: ExprNode,
}

/// Set operations between SELECTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`
    Union,
    /// `UNION ALL`
    UnionAll,
    /// `INTERSECT`
    Intersect,
    /// `EXCEPT`
    Except,
}

/// How a SELECT locks the rows it reads, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// `FOR UPDATE`: exclusive.
    Update,
    /// `FOR SHARE` / `LOCK IN SHARE MODE`: shared with readers and foreign-key checks.
    Share,
}

/// An untyped SELECT, as the renderer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStatement {
    pub(crate) distinct: bool,
    pub(crate) items: Vec<ExprNode>,
    pub(crate) from: TableRef,
    pub(crate) joins: Vec<Join>,
    pub(crate) filter: Option<ExprNode>,
    pub(crate) group_by: Vec<ExprNode>,
    pub(crate) having: Option<ExprNode>,
    pub(crate) order_by: Vec<OrderItem>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) lock: Option<RowLock>,
    pub(crate) compound: Vec<(SetOp, SelectStatement)>,
    /// A mistake found while building (e.g. a join with no foreign key); reported when the
    /// query is rendered, before anything is sent.
    pub(crate) error: Option<String>,
    /// Soft-deleted rows are read too (`with_deleted()`); otherwise a table with a
    /// `#[orm(soft_delete)]` column shows only the rows where it is NULL.
    pub(crate) with_deleted: bool,
    /// Set while the items are every column of this model, qualified by its table name
    /// (`Model::select()`); `items` is then empty, and the renderer copies a list it wrote
    /// before.
    pub(crate) all_columns_of: AllColumnsOf,
}

/// The model whose every column a [`SelectStatement`] selects, when its items are implied.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AllColumnsOf(pub(crate) Option<&'static TableMeta>);

impl PartialEq for AllColumnsOf {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.same_table(b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }
}

impl SelectStatement {
    /// `SELECT table.column FROM table WHERE filter`, for code that knows the table only at
    /// run time (subqueries of recursive deletes).
    /// Soft-deleted rows are included: the ORM's own bookkeeping sees every row.
    pub fn column_from_meta(table: &TableMeta, column: &'static str, filter: ExprNode) -> Self {
        let column = ExprNode::column(Some(table.name), column);
        let mut select = SelectStatement::from(TableRef::of(table), vec![column]);
        select.filter = Some(filter);
        select.with_deleted = true;
        select
    }

    /// `SELECT items FROM table`, nothing else yet.
    pub(crate) fn from(table: TableRef, items: Vec<ExprNode>) -> Self {
        SelectStatement {
            distinct: false,
            items,
            from: table,
            joins: Vec::new(),
            filter: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            lock: None,
            compound: Vec::new(),
            error: None,
            with_deleted: false,
            all_columns_of: AllColumnsOf::default(),
        }
    }

    pub(crate) fn has_tail(&self) -> bool {
        !self.order_by.is_empty() || self.limit.is_some() || self.offset.is_some()
    }
}

/// Where an INSERT's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// `VALUES (...), (...)`
    Values(Vec<Vec<ExprNode>>),
    /// `VALUES (...), (...)` of plain values, one per column, row after row: what an
    /// INSERT of model objects holds. Rendered without a node per value, and moved into
    /// the parameters as it is.
    Rows {
        /// The number of rows (`values` holds `count` times the number of columns).
        count: usize,
        /// The values, row after row.
        values: Vec<Value>,
    },
    /// `SELECT ...`
    Select(Box<SelectStatement>),
}

/// What to do when a row conflicts with a unique key.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    /// Skip the row.
    Ignore,
    /// Overwrite these columns with the new row's values.
    Update(Vec<&'static str>),
}

/// `ON CONFLICT` / `ON DUPLICATE KEY UPDATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    /// The unique columns that conflict (PostgreSQL and SQLite need them for updates;
    /// MySQL uses whichever unique key fails).
    pub(crate) target: Vec<&'static str>,
    pub(crate) action: ConflictAction,
}

/// An untyped INSERT.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertStatement {
    pub(crate) table: TableRef,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) source: InsertSource,
    pub(crate) on_conflict: Option<OnConflict>,
    pub(crate) returning: Vec<ExprNode>,
}

/// An untyped UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStatement {
    pub(crate) table: TableRef,
    pub(crate) sets: Vec<(&'static str, ExprNode)>,
    pub(crate) filter: Option<ExprNode>,
    pub(crate) returning: Vec<ExprNode>,
    /// Soft-deleted rows are updated too; otherwise only live ones are.
    pub(crate) with_deleted: bool,
}

impl UpdateStatement {
    /// `UPDATE table SET column = NULL WHERE filter`, for code that knows the table only
    /// at run time (recursive deletes that keep nullable references); soft-deleted rows
    /// too.
    pub fn set_null_from_meta(table: &TableMeta, column: &'static str, filter: ExprNode) -> Self {
        UpdateStatement {
            table: TableRef::of(table),
            sets: vec![(column, ExprNode::Param(Value::Null))],
            filter: Some(filter),
            returning: Vec::new(),
            with_deleted: true,
        }
    }

    /// The soft delete of the live rows matching `filter`: `UPDATE table SET deleted_at =
    /// now WHERE filter AND deleted_at IS NULL`; `None` for a table without a
    /// `#[orm(soft_delete)]` column.
    pub fn soft_delete_from_meta(table: &TableMeta, filter: Option<ExprNode>) -> Option<Self> {
        let (_, column) = table.column_with(crate::meta::ColumnRole::SoftDelete)?;
        Some(UpdateStatement {
            table: TableRef::of(table),
            sets: vec![(
                column.name,
                ExprNode::Param(crate::table::Now::read().value_for(column)),
            )],
            filter,
            returning: Vec::new(),
            with_deleted: false,
        })
    }
}

/// An untyped DELETE.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStatement {
    pub(crate) table: TableRef,
    pub(crate) filter: Option<ExprNode>,
    pub(crate) returning: Vec<ExprNode>,
}

impl DeleteStatement {
    /// `DELETE FROM table WHERE filter`, for code that knows the table only at run time
    /// (recursive deletes).
    pub fn from_meta(table: &TableMeta, filter: ExprNode) -> Self {
        DeleteStatement {
            table: TableRef::of(table),
            filter: Some(filter),
            returning: Vec::new(),
        }
    }
}

/// A table in FROM, JOIN, INSERT INTO, UPDATE or DELETE FROM.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub(crate) name: &'static str,
    pub(crate) schema: Option<&'static str>,
    pub(crate) alias: Option<Cow<'static, str>>,
    /// The table's `#[orm(soft_delete)]` column, if it has one.
    pub(crate) soft_delete: Option<&'static str>,
}

impl TableRef {
    pub(crate) fn of(table: &TableMeta) -> Self {
        TableRef {
            name: table.name,
            schema: table.schema,
            alias: None,
            soft_delete: table
                .column_with(crate::meta::ColumnRole::SoftDelete)
                .map(|(_, c)| c.name),
        }
    }

    /// `qualifier.deleted_at IS NULL` for a table with a soft-delete column: its live rows.
    pub(crate) fn live_rows(&self) -> Option<ExprNode> {
        let column = self.soft_delete?;
        let qualifier = self.alias.clone().unwrap_or(Cow::Borrowed(self.name));
        Some(ExprNode::IsNull(
            Box::new(ExprNode::Column {
                qualifier: Some(qualifier),
                name: column,
            }),
            false,
        ))
    }

    pub(crate) fn aliased(mut self, alias: Cow<'static, str>) -> Self {
        self.alias = Some(alias);
        self
    }
}

pub(crate) fn and_nodes(existing: Option<ExprNode>, node: ExprNode) -> ExprNode {
    match existing {
        Some(prev) => prev.binary(BinOp::And, node),
        None => node,
    }
}

/// Every column of `table`, qualified by `qualifier` (the table's name by default): the
/// SELECT list of `Model::select()`.
pub(crate) fn model_items(
    table: &TableMeta,
    qualifier: Option<Cow<'static, str>>,
) -> Vec<ExprNode> {
    let qualifier = qualifier.unwrap_or(Cow::Borrowed(table.name));
    table
        .columns
        .iter()
        .map(|c| ExprNode::Column {
            qualifier: Some(qualifier.clone()),
            name: c.name,
        })
        .collect()
}

//! SELECT: the typed builder and the untyped statement it builds.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::expr::{Column, Condition, Expr, Expression, IntoOrder, Named, Subquery};
use crate::meta::TableMeta;
use crate::row::{FromRow, RowMap};
use crate::scope::{In, Models, Only};
use crate::table::Table;
use crate::tree::{
    model_items, AllColumnsOf, BinOp, ExprNode, Join, JoinKind, RowLock, SelectStatement, SetOp,
    TableRef,
};
use crate::types::ColumnType;

/// Columns and expressions a SELECT can return: a column, an expression, or a tuple of
/// them. `Output` is what each row decodes as.
pub trait Selection {
    /// The decoded row type.
    type Output: FromRow;
    /// Appends the SELECT list items.
    fn push_items(self, items: &mut Vec<ExprNode>);
}

impl<M, C: ColumnType + FromRow> Selection for Column<M, C> {
    type Output = C;
    fn push_items(self, items: &mut Vec<ExprNode>) {
        items.push(Expression::into_node(self));
    }
}

impl<C: ColumnType + FromRow, S> Selection for Expr<C, S> {
    type Output = C;
    fn push_items(self, items: &mut Vec<ExprNode>) {
        items.push(self.into_node());
    }
}

impl<C: ColumnType + FromRow> Selection for Named<C> {
    type Output = C;
    fn push_items(self, items: &mut Vec<ExprNode>) {
        items.push(self.into_node());
    }
}

macro_rules! tuple_selection {
    ($($name:ident),+) => {
        impl<$($name: Selection),+> Selection for ($($name,)+) {
            type Output = ($($name::Output,)+);
            #[allow(non_snake_case)]
            fn push_items(self, items: &mut Vec<ExprNode>) {
                let ($($name,)+) = self;
                $($name.push_items(items);)+
            }
        }
    };
}
tuple_selection!(A);
tuple_selection!(A, B);
tuple_selection!(A, B, C);
tuple_selection!(A, B, C, D);
tuple_selection!(A, B, C, D, E);
tuple_selection!(A, B, C, D, E, F);
tuple_selection!(A, B, C, D, E, F, G);
tuple_selection!(A, B, C, D, E, F, G, H);

/// The row type after joining one more model: `A` becomes `(A, B)`, `(A, B)` becomes
/// `(A, B, C)`, and so on.
pub trait Append<B> {
    /// The joined row type.
    type Output;
}
impl<A: Table, B> Append<B> for A {
    type Output = (A, B);
}
impl<A, B, C> Append<C> for (A, B) {
    type Output = (A, B, C);
}
impl<A, B, C, D> Append<D> for (A, B, C) {
    type Output = (A, B, C, D);
}
impl<A, B, C, D, E> Append<E> for (A, B, C, D) {
    type Output = (A, B, C, D, E);
}

/// A model's table under another name, for self-joins.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Employee { #[orm(primary_key, auto)] id: i64, name: String, boss_id: Option<i64> }
/// let boss = Employee::alias("boss");
/// let query = Employee::select()
///     .join_alias(&boss, Employee::BOSS_ID.eq(boss.col(Employee::ID)))
///     .where_(boss.col(Employee::NAME).eq("Ada"));
/// let stmt = query.render(&PostgresqlDialect).unwrap();
/// assert!(stmt.sql.contains(r#"INNER JOIN "employee" AS "boss""#));
/// ```
pub struct Alias<M> {
    name: Cow<'static, str>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Table> Alias<M> {
    /// An alias called `name`.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Alias {
            name: name.into(),
            _model: PhantomData,
        }
    }

    /// A column of the model, qualified by this alias.
    pub fn col<T: ColumnType>(&self, column: Column<M, T>) -> Expr<T> {
        Expr::from_node(column.node_with(Some(self.name.clone())))
    }

    fn table_ref(&self) -> TableRef {
        TableRef::of(M::TABLE).aliased(self.name.clone())
    }

    fn items(&self) -> Vec<ExprNode> {
        model_items(M::TABLE, Some(self.name.clone()))
    }
}

/// A typed SELECT over model `M` whose rows decode as `Out`.
///
/// Built from `M::select()`; methods consume and return the query.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64 }
/// let top: Select<Post, (String, i64)> = Post::select()
///     .columns((Post::TITLE, Post::VIEWS))
///     .where_(Post::VIEWS.ge(100))
///     .order_by(Post::VIEWS.desc())
///     .limit(10);
/// let stmt = top.render(&PostgresqlDialect)?;
/// assert_eq!(
///     stmt.sql,
///     r#"SELECT "post"."title", "post"."views" FROM "post" WHERE ("post"."views" >= $1) ORDER BY "post"."views" DESC LIMIT $2"#
/// );
/// # Ok::<(), Error>(())
/// ```
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Select<M, Out, J = Only<M>> {
    stmt: SelectStatement,
    /// The models joined to `M`, in order (none for most queries, so no allocation).
    joined: Vec<&'static TableMeta>,
    _types: PhantomData<Types<M, Out, J>>,
}

/// The model, row and scope types a [`Select`] carries but does not hold.
type Types<M, Out, J> = fn() -> (M, Out, J);

impl<M, Out, J> Clone for Select<M, Out, J> {
    fn clone(&self) -> Self {
        Select {
            stmt: self.stmt.clone(),
            joined: self.joined.clone(),
            _types: PhantomData,
        }
    }
}

impl<M, Out, J> std::fmt::Debug for Select<M, Out, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stmt.fmt(f)
    }
}

impl<M: Table> Select<M, M> {
    /// `SELECT <every column of M> FROM M`.
    pub fn new() -> Self {
        // The items are implied (every column of M), not built: the renderer copies a
        // list it wrote before.
        let mut stmt = SelectStatement::from(TableRef::of(M::TABLE), Vec::new());
        stmt.all_columns_of = AllColumnsOf(Some(M::TABLE));
        Select {
            stmt,
            joined: Vec::new(),
            _types: PhantomData,
        }
    }
}

impl<M: Table> Default for Select<M, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Table, Out, J> Select<M, Out, J> {
    fn retype<O2, J2>(self) -> Select<M, O2, J2> {
        Select {
            stmt: self.stmt,
            joined: self.joined,
            _types: PhantomData,
        }
    }

    /// The untyped statement.
    pub fn into_statement(self) -> SelectStatement {
        self.stmt
    }

    /// The untyped statement, borrowed.
    pub fn statement(&self) -> &SelectStatement {
        &self.stmt
    }

    /// Adds a WHERE condition; several calls are joined with AND. The condition may name
    /// only the query's models (the one it selects from and the joined ones): anything
    /// else does not compile.
    pub fn where_<S: In<J, I>, I>(mut self, condition: Condition<S>) -> Self {
        self.stmt.filter = Some(and_with(self.stmt.filter.take(), condition));
        self
    }

    /// Adds an ORDER BY term: a column (ascending), or `col.desc()`, `col.asc().nulls_last()`.
    pub fn order_by(mut self, order: impl IntoOrder) -> Self {
        self.stmt.order_by.push(order.into_order());
        self
    }

    /// `LIMIT n`
    pub fn limit(mut self, n: u64) -> Self {
        self.stmt.limit = Some(n);
        self
    }

    /// `LIMIT n`, or the query's own limit if it is already smaller.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
    /// let limit = |q: Select<Tag, Tag>| q.render(&SqliteDialect).unwrap().params;
    /// assert_eq!(limit(Tag::select().limit(1).limit_at_most(2)), limit(Tag::select().limit(1)));
    /// assert_eq!(limit(Tag::select().limit(9).limit_at_most(2)), limit(Tag::select().limit(2)));
    /// assert_eq!(limit(Tag::select().limit_at_most(2)), limit(Tag::select().limit(2)));
    /// ```
    pub fn limit_at_most(mut self, n: u64) -> Self {
        self.stmt.limit = Some(self.stmt.limit.map_or(n, |own| own.min(n)));
        self
    }

    /// `OFFSET n`
    pub fn offset(mut self, n: u64) -> Self {
        self.stmt.offset = Some(n);
        self
    }

    /// Page `page` (counting from 1) of `per_page` rows. Page 0 is treated as page 1.
    pub fn paginate(mut self, page: u64, per_page: u64) -> Self {
        self.stmt.limit = Some(per_page);
        self.stmt.offset = Some(page.saturating_sub(1).saturating_mul(per_page));
        self
    }

    /// `SELECT DISTINCT`
    pub fn distinct(mut self) -> Self {
        self.stmt.distinct = true;
        self
    }

    /// `GROUP BY expr`; several calls add terms.
    pub fn group_by<E: Expression>(mut self, expr: E) -> Self {
        self.stmt.group_by.push(expr.into_node());
        self
    }

    /// `HAVING condition`; several calls are joined with AND.
    pub fn having<S: In<J, I>, I>(mut self, condition: Condition<S>) -> Self {
        self.stmt.having = Some(and_with(self.stmt.having.take(), condition));
        self
    }

    /// `FOR UPDATE`: lock the selected rows until the transaction ends.
    pub fn for_update(mut self) -> Self {
        self.stmt.lock = Some(RowLock::Update);
        self
    }

    /// `FOR SHARE` (MySQL: `LOCK IN SHARE MODE`): read the latest committed rows and keep
    /// them from changing until the transaction ends, alongside other readers and the
    /// foreign-key checks of other transactions.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
    /// let sql = |d: &dyn Dialect| Tag::select().for_share().render(d).map(|s| s.sql);
    /// assert!(sql(&PostgresqlDialect)?.ends_with(" FOR SHARE"));
    /// assert!(sql(&MySQLDialect)?.ends_with(" LOCK IN SHARE MODE"));
    /// assert!(sql(&SqliteDialect).is_err());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn for_share(mut self) -> Self {
        self.stmt.lock = Some(RowLock::Share);
        self
    }

    /// Selects the given columns or expressions instead; rows decode as their tuple.
    pub fn columns<S: Selection>(mut self, selection: S) -> Select<M, S::Output, J> {
        self.stmt.items.clear();
        self.stmt.all_columns_of.0 = None;
        selection.push_items(&mut self.stmt.items);
        self.retype()
    }

    /// Reads soft-deleted rows too: a model with a `#[orm(soft_delete)]` column (in FROM
    /// or joined) shows only its live rows otherwise.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[cfg(feature = "chrono")] {
    /// # #[derive(orm_derive::Model)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, #[orm(soft_delete)] deleted_at: Option<chrono::NaiveDateTime> }
    /// let live = Note::select().render(&SqliteDialect)?;
    /// assert_eq!(
    ///     live.sql,
    ///     r#"SELECT "note"."id", "note"."deleted_at" FROM "note" WHERE ("note"."deleted_at" IS NULL)"#
    /// );
    /// let all = Note::select().with_deleted().render(&SqliteDialect)?;
    /// assert_eq!(all.sql, r#"SELECT "note"."id", "note"."deleted_at" FROM "note""#);
    /// # }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_deleted(mut self) -> Self {
        self.stmt.with_deleted = true;
        self
    }

    /// Rows decode as a [`RowMap`]: every column by its name, as a dynamic
    /// [`Value`](crate::Value). For [`named`](crate::ExprExt::named) aggregates read
    /// by name, or columns chosen at run time.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Post { #[orm(primary_key, auto)] id: i64, views: i64 }
    /// let totals = Post::select()
    ///     .columns((count_all().named("posts"), max(Post::VIEWS).named("most")))
    ///     .as_map();
    /// let stmt = totals.render(&PostgresqlDialect)?;
    /// assert_eq!(stmt.sql, r#"SELECT COUNT(*) AS "posts", MAX("post"."views") AS "most" FROM "post""#);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn as_map(self) -> Select<M, RowMap, J> {
        self.retype()
    }

    /// Lets this query's conditions name `B`, a model of the query this one is a
    /// correlated subquery of (`EXISTS (SELECT .. WHERE post.author_id = users.id)`),
    /// without joining it.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct User { #[orm(primary_key, auto)] id: i64, name: String }
    /// # #[derive(orm_derive::Model)]
    /// # struct Post { #[orm(primary_key, auto)] id: i64, #[orm(references = User)] author_id: i64 }
    /// let has_posts = Post::select().outer::<User>().where_(Post::AUTHOR_ID.eq(User::ID));
    /// let authors = User::select().columns(User::NAME).where_(exists(has_posts));
    /// assert_eq!(
    ///     authors.render(&SqliteDialect)?.sql,
    ///     r#"SELECT "user"."name" FROM "user" WHERE EXISTS (SELECT "post"."id", "post"."author_id" FROM "post" WHERE ("post"."author_id" = "user"."id"))"#
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn outer<B: Table>(self) -> Select<M, Out, Models<B, J>> {
        self.retype()
    }

    /// `INNER JOIN B` on the foreign key between `B` and a model already in the query;
    /// rows gain a `B`.
    pub fn join<B: Table>(self) -> Select<M, Out::Output, Models<B, J>>
    where
        Out: Append<B>,
    {
        self.join_by_key::<B>(crate::query::select::JoinKind::Inner)
            .retype()
    }

    /// `LEFT OUTER JOIN B` on the foreign key; rows gain an `Option<B>`.
    pub fn left_join<B: Table>(self) -> Select<M, <Out as Append<Option<B>>>::Output, Models<B, J>>
    where
        Out: Append<Option<B>>,
    {
        self.join_by_key::<B>(JoinKind::Left).retype()
    }

    /// `INNER JOIN B ON condition`; rows gain a `B`. (The ON condition is not checked
    /// against the query's models, so that `join_on::<B>` needs no more type arguments;
    /// WHERE and HAVING are.)
    pub fn join_on<B: Table>(
        self,
        on: Condition<impl Sized>,
    ) -> Select<M, Out::Output, Models<B, J>>
    where
        Out: Append<B>,
    {
        self.push_join(
            JoinKind::Inner,
            TableRef::of(B::TABLE),
            on.into_node(),
            B::TABLE,
            None,
        )
        .retype()
    }

    /// `LEFT OUTER JOIN B ON condition`; rows gain an `Option<B>`.
    pub fn left_join_on<B: Table>(
        self,
        on: Condition<impl Sized>,
    ) -> Select<M, <Out as Append<Option<B>>>::Output, Models<B, J>>
    where
        Out: Append<Option<B>>,
    {
        self.push_join(
            JoinKind::Left,
            TableRef::of(B::TABLE),
            on.into_node(),
            B::TABLE,
            None,
        )
        .retype()
    }

    /// `INNER JOIN B AS alias ON condition`, for self-joins; rows gain a `B`.
    pub fn join_alias<B: Table>(
        self,
        alias: &Alias<B>,
        on: Condition<impl Sized>,
    ) -> Select<M, Out::Output, J>
    where
        Out: Append<B>,
    {
        let items = alias.items();
        self.push_join(
            JoinKind::Inner,
            alias.table_ref(),
            on.into_node(),
            B::TABLE,
            Some(items),
        )
        .retype()
    }

    /// `LEFT OUTER JOIN B AS alias ON condition`; rows gain an `Option<B>`.
    pub fn left_join_alias<B: Table>(
        self,
        alias: &Alias<B>,
        on: Condition<impl Sized>,
    ) -> Select<M, <Out as Append<Option<B>>>::Output, J>
    where
        Out: Append<Option<B>>,
    {
        let items = alias.items();
        self.push_join(
            JoinKind::Left,
            alias.table_ref(),
            on.into_node(),
            B::TABLE,
            Some(items),
        )
        .retype()
    }

    fn push_join(
        mut self,
        kind: JoinKind,
        table: TableRef,
        on: ExprNode,
        meta: &'static TableMeta,
        items: Option<Vec<ExprNode>>,
    ) -> Self {
        let items = items.unwrap_or_else(|| model_items(meta, None));
        if let Some(table) = self.stmt.all_columns_of.0.take() {
            self.stmt.items = model_items(table, None);
        }
        self.stmt.items.extend(items);
        self.stmt.joins.push(Join { kind, table, on });
        self.joined.push(meta);
        self
    }

    fn join_by_key<B: Table>(self, kind: JoinKind) -> Self {
        let sources = std::iter::once(M::TABLE).chain(self.joined.iter().copied());
        match foreign_key_condition(sources, B::TABLE) {
            Some(on) => self.push_join(kind, TableRef::of(B::TABLE), on, B::TABLE, None),
            None => {
                let mut this =
                    self.push_join(kind, TableRef::of(B::TABLE), ExprNode::Star, B::TABLE, None);
                this.stmt.error = Some(format!(
                    "no foreign key links {} to a model already in the query; use join_on",
                    B::TABLE.model
                ));
                this
            }
        }
    }

    fn compound<J2>(mut self, op: super::select::SetOp, other: Select<M, Out, J2>) -> Self {
        self.stmt.compound.push((op, other.stmt));
        self
    }

    /// `self UNION other` (duplicates removed).
    pub fn union<J2>(self, other: Select<M, Out, J2>) -> Self {
        self.compound(SetOp::Union, other)
    }

    /// `self UNION ALL other`.
    pub fn union_all<J2>(self, other: Select<M, Out, J2>) -> Self {
        self.compound(SetOp::UnionAll, other)
    }

    /// `self INTERSECT other`.
    pub fn intersect<J2>(self, other: Select<M, Out, J2>) -> Self {
        self.compound(SetOp::Intersect, other)
    }

    /// `self EXCEPT other`.
    pub fn except<J2>(self, other: Select<M, Out, J2>) -> Self {
        self.compound(SetOp::Except, other)
    }

    /// The same query returning `COUNT(*)` of its rows, as `Manager::count` runs it. With
    /// `clear_limit`, LIMIT and OFFSET are dropped first.
    pub fn count_query(self, clear_limit: bool) -> super::Count {
        let mut stmt = self.stmt;
        if clear_limit {
            stmt.limit = None;
            stmt.offset = None;
        }
        stmt.order_by.clear();
        super::Count::new(stmt)
    }
}

impl<M: Table, C: ColumnType, J> Subquery<C::Base> for Select<M, C, J> {
    fn into_statement(self) -> SelectStatement {
        self.stmt
    }
}

/// `EXISTS (SELECT ...)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(Post::ID).where_(exists(Post::select().columns(Post::ID).where_(Post::VIEWS.gt(100)))).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT "post"."id" FROM "post" WHERE EXISTS (SELECT "post"."id" FROM "post" WHERE ("post"."views" > ?1))"#);
/// # Ok::<(), Error>(())
/// ```
pub fn exists<M: Table, O, J>(query: Select<M, O, J>) -> Condition {
    Expr::from_node(ExprNode::Exists(Box::new(query.into_statement()), false))
}

/// `NOT EXISTS (SELECT ...)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(Post::ID).where_(not_exists(Post::select().columns(Post::ID))).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT "post"."id" FROM "post" WHERE NOT EXISTS (SELECT "post"."id" FROM "post")"#);
/// # Ok::<(), Error>(())
/// ```
pub fn not_exists<M: Table, O, J>(query: Select<M, O, J>) -> Condition {
    Expr::from_node(ExprNode::Exists(Box::new(query.into_statement()), true))
}

fn and_with<S>(existing: Option<ExprNode>, condition: Condition<S>) -> ExprNode {
    match existing {
        Some(prev) => prev.binary(BinOp::And, condition.into_node()),
        None => condition.into_node(),
    }
}

/// `ON` for a join of `target` with the first table in `joined` that it shares a foreign
/// key with, in either direction.
fn foreign_key_condition(
    joined: impl Iterator<Item = &'static TableMeta>,
    target: &'static TableMeta,
) -> Option<ExprNode> {
    let col = |table: &'static str, name: &'static str| ExprNode::Column {
        qualifier: Some(Cow::Borrowed(table)),
        name,
    };
    for source in joined {
        for c in target.columns {
            if let Some(fk) = &c.references {
                if (fk.table)().same_table(source) {
                    let left = col(target.name, c.name);
                    let right = col(source.name, fk.target_column());
                    return Some(left.binary(BinOp::Eq, right));
                }
            }
        }
        for c in source.columns {
            if let Some(fk) = &c.references {
                if (fk.table)().same_table(target) {
                    let left = col(source.name, c.name);
                    let right = col(target.name, fk.target_column());
                    return Some(left.binary(BinOp::Eq, right));
                }
            }
        }
    }
    None
}

impl<M> std::fmt::Debug for Alias<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alias").field("name", &self.name).finish()
    }
}

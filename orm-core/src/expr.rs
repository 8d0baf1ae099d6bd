//! Typed SQL expressions: columns, values, comparisons, arithmetic and functions.
//!
//! Every expression carries the Rust type of its result (`Expr<i64>`, `Column<User,
//! String>`), so comparing a column with a value or column of another type does not
//! compile. Underneath, expressions are an untyped [`ExprNode`] tree that the dialects
//! render; values always become bound parameters.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops;

use crate::scope::{Both, Joined, Merge, Union};
use crate::tree::{BinOp, ExprNode, ExtOp, Func, OrderItem, SelectStatement};
#[cfg(feature = "json")]
use crate::tree::{JsonArg, JsonOp};
use crate::types::{ColumnType, Field};
use crate::value::{SqlType, Value};

/// A SELECT usable as `IN (subquery)` for a column whose base type is `T`: it selects one
/// column or expression of that type.
#[diagnostic::on_unimplemented(
    message = "this query cannot be used as a subquery of `{T}` values",
    note = "select exactly one column of the same type with `.columns(..)`"
)]
pub trait Subquery<T> {
    /// The untyped statement.
    fn into_statement(self) -> SelectStatement;
}

/// A typed expression whose SQL result decodes as `T` and names the models `S` (`()` for
/// values and raw SQL; see [`scope`](crate::scope)).
///
/// `Expr<bool, S>` is a condition: combine conditions on one model with `&` (AND), `|`
/// (OR) and `!` (NOT), or with [`Expr::and`] / [`Expr::or`]; conditions on two models
/// with [`Expr::and_across`] / [`Expr::or_across`].
pub struct Expr<T, S = ()> {
    node: ExprNode,
    _type: PhantomData<fn() -> (T, S)>,
}

/// A boolean SQL expression, as used in WHERE and HAVING. `S` is the models it names
/// (see [`scope`](crate::scope)): a query accepts it only when they are the query's.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let popular: Condition<Post> = Post::VIEWS.gt(10) & Post::NOTE.is_null();
/// let sql = Post::select().columns(Post::ID).where_(popular).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT "post"."id" FROM "post" WHERE (("post"."views" > ?1) AND ("post"."note" IS NULL))"#);
/// # Ok::<(), Error>(())
/// ```
pub type Condition<S = ()> = Expr<bool, S>;

impl<T, S> Clone for Expr<T, S> {
    fn clone(&self) -> Self {
        Expr::from_node(self.node.clone())
    }
}

impl<T, S> std::fmt::Debug for Expr<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.node.fmt(f)
    }
}

impl<T, S> Expr<T, S> {
    /// Wraps an untyped node. The caller promises the node's SQL result decodes as `T`
    /// and names the models `S`.
    pub fn from_node(node: ExprNode) -> Self {
        Expr {
            node,
            _type: PhantomData,
        }
    }

    /// The untyped tree.
    pub fn into_node(self) -> ExprNode {
        self.node
    }

    /// The untyped tree, borrowed.
    pub fn node(&self) -> &ExprNode {
        &self.node
    }

    pub(crate) fn retyped<S2>(self) -> Expr<T, S2> {
        Expr::from_node(self.node)
    }

    /// The same expression, no longer checked against the query's models: the escape
    /// hatch for a condition the types cannot follow.
    pub fn unchecked(self) -> Expr<T> {
        Expr::from_node(self.node)
    }
}

impl<S> Expr<bool, S> {
    /// `self AND other`, both on one model (or one of them a value's): the result stays on
    /// that model, so conditions built in a loop keep one type.
    pub fn and<S2>(self, other: Condition<S2>) -> Condition<Joined<S, S2>>
    where
        S: Union<S2>,
    {
        Expr::from_node(self.node.binary(BinOp::And, other.node))
    }

    /// `self OR other`, both on one model (or one of them a value's).
    pub fn or<S2>(self, other: Condition<S2>) -> Condition<Joined<S, S2>>
    where
        S: Union<S2>,
    {
        Expr::from_node(self.node.binary(BinOp::Or, other.node))
    }

    /// `self AND other`, on different models (of a join):
    /// `Post::SCORE.gt(2.0).and_across(User::NAME.eq("ann"))`.
    pub fn and_across<S2>(self, other: Condition<S2>) -> Condition<Both<S, S2>>
    where
        S: Merge<S2>,
    {
        Expr::from_node(self.node.binary(BinOp::And, other.node))
    }

    /// `self OR other`, on different models (of a join).
    pub fn or_across<S2>(self, other: Condition<S2>) -> Condition<Both<S, S2>>
    where
        S: Merge<S2>,
    {
        Expr::from_node(self.node.binary(BinOp::Or, other.node))
    }
}

impl<S: Union<S2>, S2> ops::BitAnd<Condition<S2>> for Expr<bool, S> {
    type Output = Condition<Joined<S, S2>>;
    fn bitand(self, rhs: Condition<S2>) -> Self::Output {
        self.and(rhs)
    }
}

impl<S: Union<S2>, S2> ops::BitOr<Condition<S2>> for Expr<bool, S> {
    type Output = Condition<Joined<S, S2>>;
    fn bitor(self, rhs: Condition<S2>) -> Self::Output {
        self.or(rhs)
    }
}

impl<S> ops::Not for Expr<bool, S> {
    type Output = Condition<S>;
    fn not(self) -> Condition<S> {
        Expr::from_node(ExprNode::Not(Box::new(self.node)))
    }
}

/// `NOT condition`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(Post::ID).where_(not(Post::VIEWS.gt(10))).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT "post"."id" FROM "post" WHERE NOT ("post"."views" > ?1)"#);
/// # Ok::<(), Error>(())
/// ```
pub fn not<S>(condition: Condition<S>) -> Condition<S> {
    !condition
}

/// A model's column: knows its model `M` and its Rust type `T`.
///
/// `#[derive(Model)]` generates one constant per field (`User::NAME`).
pub struct Column<M, T> {
    table: &'static str,
    name: &'static str,
    _type: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.table, self.name)
    }
}

impl<M, T> Column<M, T> {
    /// A column of table `table` called `name`. Used by generated code.
    pub const fn new(table: &'static str, name: &'static str) -> Self {
        Column {
            table,
            name,
            _type: PhantomData,
        }
    }

    /// The column's SQL name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The name of the column's table.
    pub const fn table(&self) -> &'static str {
        self.table
    }

    pub(crate) fn node_with(&self, qualifier: Option<Cow<'static, str>>) -> ExprNode {
        ExprNode::Column {
            qualifier,
            name: self.name,
        }
    }
}

/// Anything with a SQL result type: columns and typed expressions.
pub trait Expression: Sized {
    /// The Rust type the result decodes as.
    type Type: ColumnType;
    /// The models it names (see [`scope`](crate::scope)).
    type Source;
    /// The untyped tree.
    fn into_node(self) -> ExprNode;
}

impl<M, T: ColumnType> Expression for Column<M, T> {
    type Type = T;
    type Source = M;
    fn into_node(self) -> ExprNode {
        self.node_with(Some(Cow::Borrowed(self.table)))
    }
}

impl<T: ColumnType, S> Expression for Expr<T, S> {
    type Type = T;
    type Source = S;
    fn into_node(self) -> ExprNode {
        self.node
    }
}

/// Something usable where a SQL value of Rust type `T` is expected: a value of that type,
/// `Option` of it (NULL), a borrowed form (`&str` for `String`), or a column or expression
/// with the same type.
#[diagnostic::on_unimplemented(
    message = "expected a `{T}` value, column or expression, found `{Self}`",
    label = "not comparable with a `{T}` column",
    note = "columns compare only with values, columns and expressions of the same Rust type"
)]
pub trait AsExpr<T> {
    /// The models it names: `()` for a value.
    type Source;
    /// The untyped tree.
    fn into_expr(self) -> ExprNode;
}

impl<T: Field> AsExpr<T> for T {
    type Source = ();
    #[inline]
    fn into_expr(self) -> ExprNode {
        ExprNode::Param(self.to_value())
    }
}

impl<T: Field> AsExpr<T> for &T {
    type Source = ();
    #[inline]
    fn into_expr(self) -> ExprNode {
        ExprNode::Param(self.to_value())
    }
}

impl<T: Field> AsExpr<T> for Option<T> {
    type Source = ();
    #[inline]
    fn into_expr(self) -> ExprNode {
        ExprNode::Param(ColumnType::to_value(&self))
    }
}

impl AsExpr<String> for &str {
    type Source = ();
    #[inline]
    fn into_expr(self) -> ExprNode {
        ExprNode::Param(Value::Text(self.into()))
    }
}

impl AsExpr<Vec<u8>> for &[u8] {
    type Source = ();
    #[inline]
    fn into_expr(self) -> ExprNode {
        ExprNode::Param(Value::Bytes(self.to_vec()))
    }
}

impl<M, C: ColumnType> AsExpr<C::Base> for Column<M, C> {
    type Source = M;
    fn into_expr(self) -> ExprNode {
        Expression::into_node(self)
    }
}

impl<C: ColumnType, S> AsExpr<C::Base> for Expr<C, S> {
    type Source = S;
    fn into_expr(self) -> ExprNode {
        self.node
    }
}

/// An expression with a name of its own in the SELECT list (`expr AS name`), built by
/// [`ExprExt::named`]: the name a [`RowMap`](crate::RowMap) or a
/// raw mapping reads it by.
#[derive(Debug, Clone)]
pub struct Named<T> {
    node: ExprNode,
    name: Cow<'static, str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Named<T> {
    pub(crate) fn new(node: ExprNode, name: Cow<'static, str>) -> Self {
        Named {
            node,
            name,
            _type: PhantomData,
        }
    }

    /// The SELECT list item: `expr AS name`.
    pub fn into_node(self) -> ExprNode {
        ExprNode::Named(Box::new(self.node), self.name)
    }
}

/// Numeric column types: arithmetic, SUM and AVG apply to them.
#[diagnostic::on_unimplemented(message = "`{Self}` is not a numeric SQL type")]
pub trait Numeric: Field {}
impl Numeric for i16 {}
impl Numeric for i32 {}
impl Numeric for i64 {}
impl Numeric for f32 {}
impl Numeric for f64 {}
#[cfg(feature = "decimal")]
impl Numeric for rust_decimal::Decimal {}

/// Text column types: LIKE, LOWER and UPPER apply to them.
#[diagnostic::on_unimplemented(message = "`{Self}` is not a text SQL type")]
pub trait Text: Field {}
impl Text for String {}

/// Escapes `%`, `_` and the escape character `!` for a LIKE pattern with `ESCAPE '!'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(ch);
    }
    out
}

type BaseOf<E> = <<E as Expression>::Type as ColumnType>::Base;

/// The sources of `E` compared with `V`.
type Compared<E, V> = Both<<E as Expression>::Source, <V as AsExpr<BaseOf<E>>>::Source>;

fn compare<E: Expression, S>(left: E, op: BinOp, right: ExprNode) -> Condition<S> {
    Expr::from_node(left.into_node().binary(op, right))
}

/// Comparison and ordering methods on columns and expressions.
///
/// Brought into scope by the prelude. Each method takes values of the column's own Rust
/// type only:
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct User { #[orm(primary_key, auto)] id: i64, name: String, age: i32 }
/// let adults: Condition<User> = User::AGE.ge(18) & User::NAME.startswith("A");
/// ```
// `is_in` / `is_null` are the names SQL users know; they build a condition from `self`.
#[allow(clippy::wrong_self_convention)]
pub trait ExprExt: Expression {
    /// `self AS name` in a SELECT list: read back by that name from a
    /// [`RowMap`](crate::RowMap) ([`Select::as_map`](crate::Select::as_map)).
    fn named(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Named<Self::Type> {
        Named::new(self.into_node(), name.into())
    }

    /// `self = value`; comparing with `None` renders `IS NULL`.
    fn eq<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        match value.into_expr() {
            ExprNode::Param(Value::Null) => self.is_null().retyped(),
            right => compare(self, BinOp::Eq, right),
        }
    }
    /// `self <> value`; comparing with `None` renders `IS NOT NULL`.
    fn ne<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        match value.into_expr() {
            ExprNode::Param(Value::Null) => self.is_not_null().retyped(),
            right => compare(self, BinOp::Ne, right),
        }
    }
    /// `self < value`
    fn lt<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        compare(self, BinOp::Lt, value.into_expr())
    }
    /// `self <= value`
    fn le<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        compare(self, BinOp::Le, value.into_expr())
    }
    /// `self > value`
    fn gt<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        compare(self, BinOp::Gt, value.into_expr())
    }
    /// `self >= value`
    fn ge<V: AsExpr<BaseOf<Self>>>(self, value: V) -> Condition<Compared<Self, V>>
    where
        Self::Source: Merge<V::Source>,
    {
        compare(self, BinOp::Ge, value.into_expr())
    }
    /// `self BETWEEN low AND high`
    fn between<L: AsExpr<BaseOf<Self>>, H: AsExpr<BaseOf<Self>>>(
        self,
        low: L,
        high: H,
    ) -> Condition<Self::Source> {
        Expr::from_node(ExprNode::Between(
            Box::new(self.into_node()),
            Box::new(low.into_expr()),
            Box::new(high.into_expr()),
        ))
    }
    /// `self IN (values...)`; an empty list matches nothing.
    fn is_in<I>(self, values: I) -> Condition<Self::Source>
    where
        I: IntoIterator,
        I::Item: AsExpr<BaseOf<Self>>,
    {
        let list = values.into_iter().map(AsExpr::into_expr).collect();
        Expr::from_node(ExprNode::InList(Box::new(self.into_node()), list, false))
    }
    /// `self NOT IN (values...)`; an empty list matches everything.
    fn not_in<I>(self, values: I) -> Condition<Self::Source>
    where
        I: IntoIterator,
        I::Item: AsExpr<BaseOf<Self>>,
    {
        let list = values.into_iter().map(AsExpr::into_expr).collect();
        Expr::from_node(ExprNode::InList(Box::new(self.into_node()), list, true))
    }
    /// `self IN (SELECT ...)`; the subquery selects one column of the same type.
    fn in_query<Q: Subquery<BaseOf<Self>>>(self, query: Q) -> Condition<Self::Source> {
        Expr::from_node(ExprNode::InSelect(
            Box::new(self.into_node()),
            Box::new(query.into_statement()),
            false,
        ))
    }
    /// `self NOT IN (SELECT ...)`
    fn not_in_query<Q: Subquery<BaseOf<Self>>>(self, query: Q) -> Condition<Self::Source> {
        Expr::from_node(ExprNode::InSelect(
            Box::new(self.into_node()),
            Box::new(query.into_statement()),
            true,
        ))
    }
    /// `self IS NULL`
    fn is_null(self) -> Condition<Self::Source> {
        Expr::from_node(ExprNode::IsNull(Box::new(self.into_node()), false))
    }
    /// `self IS NOT NULL`
    fn is_not_null(self) -> Condition<Self::Source> {
        Expr::from_node(ExprNode::IsNull(Box::new(self.into_node()), true))
    }
    /// `self LIKE pattern` (case-sensitive where the database allows; see the dialect notes).
    fn like(self, pattern: impl Into<String>) -> Condition<Self::Source>
    where
        BaseOf<Self>: Text,
    {
        like(self, Value::Text(pattern.into().into()), false, false)
    }
    /// Case-insensitive LIKE: `ILIKE` on PostgreSQL, `LOWER(x) LIKE LOWER(p)` elsewhere.
    fn ilike(self, pattern: impl Into<String>) -> Condition<Self::Source>
    where
        BaseOf<Self>: Text,
    {
        like(self, Value::Text(pattern.into().into()), true, false)
    }
    /// Case-insensitive substring match; `%` and `_` in `needle` match themselves.
    fn contains(self, needle: &str) -> Condition<Self::Source>
    where
        BaseOf<Self>: Text,
    {
        let pattern = format!("%{}%", escape_like(needle));
        like(self, Value::Text(pattern.into()), true, true)
    }
    /// Case-insensitive prefix match; `%` and `_` in `prefix` match themselves.
    fn startswith(self, prefix: &str) -> Condition<Self::Source>
    where
        BaseOf<Self>: Text,
    {
        let pattern = format!("{}%", escape_like(prefix));
        like(self, Value::Text(pattern.into()), true, true)
    }
    /// Case-insensitive suffix match; `%` and `_` in `suffix` match themselves.
    fn endswith(self, suffix: &str) -> Condition<Self::Source>
    where
        BaseOf<Self>: Text,
    {
        let pattern = format!("%{}", escape_like(suffix));
        like(self, Value::Text(pattern.into()), true, true)
    }
    /// Ascending order.
    fn asc(self) -> OrderItem {
        OrderItem::new(self.into_node(), false)
    }
    /// Descending order.
    fn desc(self) -> OrderItem {
        OrderItem::new(self.into_node(), true)
    }
}

impl<E: Expression> ExprExt for E {}

fn like<E: Expression>(
    expr: E,
    pattern: Value,
    case_insensitive: bool,
    escaped: bool,
) -> Condition<E::Source> {
    Expr::from_node(ExprNode::Like {
        expr: Box::new(expr.into_node()),
        pattern: Box::new(ExprNode::Param(pattern)),
        case_insensitive,
        negated: false,
        escaped,
    })
}

/// Things ORDER BY accepts: an [`OrderItem`], or a column or expression (ascending).
pub trait IntoOrder {
    /// The ORDER BY term.
    fn into_order(self) -> OrderItem;
}

impl IntoOrder for OrderItem {
    fn into_order(self) -> OrderItem {
        self
    }
}

impl<E: Expression> IntoOrder for E {
    fn into_order(self) -> OrderItem {
        self.asc()
    }
}

macro_rules! arithmetic {
    ($trait:ident, $method:ident, $op:ident) => {
        impl<M, C, V> ops::$trait<V> for Column<M, C>
        where
            C: ColumnType,
            C::Base: Numeric,
            V: AsExpr<C::Base>,
            M: Merge<V::Source>,
        {
            type Output = Expr<C, Both<M, V::Source>>;
            fn $method(self, rhs: V) -> Self::Output {
                Expr::from_node(Expression::into_node(self).binary(BinOp::$op, rhs.into_expr()))
            }
        }
        impl<C, S, V> ops::$trait<V> for Expr<C, S>
        where
            C: ColumnType,
            C::Base: Numeric,
            V: AsExpr<C::Base>,
            S: Merge<V::Source>,
        {
            type Output = Expr<C, Both<S, V::Source>>;
            fn $method(self, rhs: V) -> Self::Output {
                Expr::from_node(self.node.binary(BinOp::$op, rhs.into_expr()))
            }
        }
    };
}

arithmetic!(Add, add, Add);
arithmetic!(Sub, sub, Sub);
arithmetic!(Mul, mul, Mul);
arithmetic!(Div, div, Div);

fn func<T, S>(f: Func, args: Vec<ExprNode>) -> Expr<T, S> {
    Expr::from_node(ExprNode::Func(f, args))
}

/// `LOWER(x)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(lower(Post::TITLE)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT LOWER("post"."title") FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn lower<E: Expression>(e: E) -> Expr<E::Type, E::Source>
where
    BaseOf<E>: Text,
{
    func(Func::Lower, vec![e.into_node()])
}

/// `UPPER(x)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().where_(upper(Post::TITLE).eq("HI")).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT "post"."id", "post"."title", "post"."views", "post"."note" FROM "post" WHERE (UPPER("post"."title") = ?1)"#);
/// # Ok::<(), Error>(())
/// ```
pub fn upper<E: Expression>(e: E) -> Expr<E::Type, E::Source>
where
    BaseOf<E>: Text,
{
    func(Func::Upper, vec![e.into_node()])
}

/// `COUNT(x)`: the number of non-NULL values.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(count(Post::NOTE)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT COUNT("post"."note") FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn count<E: Expression>(e: E) -> Expr<i64, E::Source> {
    func(Func::Count, vec![e.into_node()])
}

/// `COUNT(DISTINCT x)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(count_distinct(Post::TITLE)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT COUNT(DISTINCT "post"."title") FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn count_distinct<E: Expression>(e: E) -> Expr<i64, E::Source> {
    func(Func::CountDistinct, vec![e.into_node()])
}

/// `COUNT(*)`
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(count_all()).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT COUNT(*) FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn count_all() -> Expr<i64> {
    func(Func::Count, vec![ExprNode::Star])
}

/// `SUM(x)`, cast back to the column's type (the servers widen sums to NUMERIC); NULL for
/// no rows.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(sum(Post::VIEWS)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT CAST(SUM("post"."views") AS INTEGER) FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn sum<E: Expression>(e: E) -> Expr<Option<BaseOf<E>>, E::Source>
where
    BaseOf<E>: Numeric,
{
    let node = ExprNode::Func(Func::Sum, vec![e.into_node()]);
    Expr::from_node(ExprNode::Cast(
        Box::new(node),
        <BaseOf<E> as Field>::SQL_TYPE,
    ))
}

/// `AVG(x)` as a double; NULL for no rows.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(avg(Post::VIEWS)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT CAST(AVG("post"."views") AS REAL) FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn avg<E: Expression>(e: E) -> Expr<Option<f64>, E::Source>
where
    BaseOf<E>: Numeric,
{
    let node = ExprNode::Func(Func::Avg, vec![e.into_node()]);
    Expr::from_node(ExprNode::Cast(Box::new(node), SqlType::Double))
}

/// `MIN(x)`; NULL for no rows.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(min(Post::VIEWS)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT MIN("post"."views") FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn min<E: Expression>(e: E) -> Expr<Option<BaseOf<E>>, E::Source> {
    func(Func::Min, vec![e.into_node()])
}

/// `MAX(x)`; NULL for no rows.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(max(Post::VIEWS)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT MAX("post"."views") FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn max<E: Expression>(e: E) -> Expr<Option<BaseOf<E>>, E::Source> {
    func(Func::Max, vec![e.into_node()])
}

/// `COALESCE(x, fallback)`: never NULL.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(coalesce(Post::NOTE, "none")).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT COALESCE("post"."note", ?1) FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn coalesce<E: Expression, V: AsExpr<BaseOf<E>>>(
    e: E,
    fallback: V,
) -> Expr<BaseOf<E>, Both<E::Source, V::Source>>
where
    E::Source: Merge<V::Source>,
{
    func(Func::Coalesce, vec![e.into_node(), fallback.into_expr()])
}

/// `CAST(x AS <type of T>)`: converts an expression to another column type.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String, views: i64, note: Option<String> }
/// let sql = Post::select().columns(cast::<String, _>(Post::VIEWS)).render(&SqliteDialect)?.sql;
/// assert_eq!(sql, r#"SELECT CAST("post"."views" AS TEXT) FROM "post""#);
/// # Ok::<(), Error>(())
/// ```
pub fn cast<T: ColumnType, E: Expression>(e: E) -> Expr<T, E::Source> {
    Expr::from_node(ExprNode::Cast(
        Box::new(e.into_node()),
        <T::Base as Field>::SQL_TYPE,
    ))
}

/// The current date and time in UTC.
#[cfg(feature = "chrono")]
pub fn now() -> Expr<chrono::DateTime<chrono::Utc>> {
    func(Func::Now, Vec::new())
}

/// A raw SQL fragment typed by the caller, the escape hatch for what the builders lack.
/// Each `?` in `sql` is the next value of `params` (bound, never spliced); write `??` for a
/// literal `?`.
///
/// ```
/// use orm_core::{raw, Condition, Value};
/// let long_names: Condition = raw("length(name) > ?", vec![Value::I32(20)]);
/// ```
pub fn raw<T>(sql: impl Into<String>, params: Vec<Value>) -> Expr<T> {
    Expr::from_node(ExprNode::Raw(sql.into(), params))
}

/// `table.column = value` (or `IS NULL` for NULL), for conditions built from model
/// metadata at run time, such as "this object's primary key".
pub fn column_equals(table: &'static str, column: &'static str, value: Value) -> Condition {
    let column = ExprNode::Column {
        qualifier: Some(Cow::Borrowed(table)),
        name: column,
    };
    let node = match value {
        Value::Null => ExprNode::IsNull(Box::new(column), false),
        value => column.binary(BinOp::Eq, ExprNode::Param(value)),
    };
    Expr::from_node(node)
}

/// JSON operators on JSON columns and expressions (`serde_json::Value`), rendered in each
/// dialect's own syntax: `->`, `->>`, `#>`, `@>`, `?` on PostgreSQL, `JSON_EXTRACT`,
/// `JSON_CONTAINS` and `JSON_CONTAINS_PATH` on MySQL, `->`, `->>` and `json_type` on SQLite
/// (which has no containment: those render as an error, not wrong SQL).
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Event { #[orm(primary_key, auto)] id: i64, data: serde_json::Value }
/// let q = Event::select().where_(Event::DATA.json_get_text("kind").eq("click"));
/// assert_eq!(q.render(&MySQLDialect).unwrap().sql,
///     "SELECT `event`.`id`, `event`.`data` FROM `event` WHERE (JSON_UNQUOTE(JSON_EXTRACT(`event`.`data`, ?)) = ?)");
/// ```
#[cfg(feature = "json")]
pub trait JsonExt: Expression
where
    BaseOf<Self>: JsonDocument,
{
    /// The value at `key`, as JSON; NULL when missing.
    fn json_get(self, key: &str) -> Expr<Option<serde_json::Value>, Self::Source> {
        json(self, JsonOp::Get, JsonArg::Keys(vec![key.to_owned()]))
    }
    /// The value at `key`, as text; NULL when missing.
    fn json_get_text(self, key: &str) -> Expr<Option<String>, Self::Source> {
        json(self, JsonOp::GetText, JsonArg::Keys(vec![key.to_owned()]))
    }
    /// The value at a path of keys, as JSON.
    fn json_path(self, path: &[&str]) -> Expr<Option<serde_json::Value>, Self::Source> {
        json(
            self,
            JsonOp::Path,
            JsonArg::Keys(path.iter().map(|k| k.to_string()).collect()),
        )
    }
    /// The value at a path of keys, as text.
    fn json_path_text(self, path: &[&str]) -> Expr<Option<String>, Self::Source> {
        json(
            self,
            JsonOp::PathText,
            JsonArg::Keys(path.iter().map(|k| k.to_string()).collect()),
        )
    }
    /// The document contains `other` (every key and value of `other` is in it).
    fn json_contains(self, other: &serde_json::Value) -> Condition<Self::Source> {
        json(self, JsonOp::Contains, JsonArg::Document(other.to_string()))
    }
    /// The document is contained in `other`.
    fn json_contained_by(self, other: &serde_json::Value) -> Condition<Self::Source> {
        json(
            self,
            JsonOp::ContainedBy,
            JsonArg::Document(other.to_string()),
        )
    }
    /// The document has `key` at its top level.
    fn json_has_key(self, key: &str) -> Condition<Self::Source> {
        json(self, JsonOp::HasKey, JsonArg::Keys(vec![key.to_owned()]))
    }
}

#[cfg(feature = "json")]
impl<E: Expression> JsonExt for E where BaseOf<E>: JsonDocument {}

/// Array columns (`Vec<T>`): the element type.
pub trait ArrayColumn: Field {
    /// The element type.
    type Element: crate::types::ArrayElement;
}
impl<T: crate::types::ArrayElement> ArrayColumn for Vec<T> {
    type Element = T;
}

fn ext<E: Expression, T>(e: E, op: ExtOp, arg: Option<Value>) -> Expr<T, E::Source> {
    Expr::from_node(ExprNode::Ext(op, Box::new(e.into_node()), arg))
}

fn elements<T: crate::types::ArrayElement>(values: &[T]) -> Option<Value> {
    Some(Value::Array(
        T::ELEMENT,
        values.iter().map(Field::to_value).collect(),
    ))
}

/// Array operators on `Vec<T>` columns (PostgreSQL arrays; other dialects refuse them).
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Article { #[orm(primary_key, auto)] id: i64, tags: Vec<String> }
/// let q = Article::select().where_(Article::TAGS.array_overlaps(&["rust".to_string()]));
/// assert!(q.render(&PostgresqlDialect).unwrap().sql.ends_with(r#"WHERE ("article"."tags" && $1)"#));
/// assert!(q.render(&SqliteDialect).is_err());
/// ```
pub trait ArrayExt: Expression
where
    BaseOf<Self>: ArrayColumn,
{
    /// The array holds every one of `values`.
    fn array_contains(
        self,
        values: &[<BaseOf<Self> as ArrayColumn>::Element],
    ) -> Condition<Self::Source> {
        ext(self, ExtOp::ArrayContains, elements(values))
    }
    /// Every element of the array is among `values`.
    fn array_contained_by(
        self,
        values: &[<BaseOf<Self> as ArrayColumn>::Element],
    ) -> Condition<Self::Source> {
        ext(self, ExtOp::ArrayContainedBy, elements(values))
    }
    /// The array shares at least one element with `values`.
    fn array_overlaps(
        self,
        values: &[<BaseOf<Self> as ArrayColumn>::Element],
    ) -> Condition<Self::Source> {
        ext(self, ExtOp::ArrayOverlaps, elements(values))
    }
    /// `value` equals some element of the array (`value = ANY(array)`).
    fn array_any_eq(
        self,
        value: <BaseOf<Self> as ArrayColumn>::Element,
    ) -> Condition<Self::Source> {
        ext(self, ExtOp::AnyEquals, Some(Field::to_value(&value)))
    }
}
impl<E: Expression> ArrayExt for E where BaseOf<E>: ArrayColumn {}

/// The hstore column type.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Item { #[orm(primary_key, auto)] id: i64, attrs: HStore }
/// let mut attrs = HStore::new();
/// attrs.insert("color".into(), Some("red".into()));
/// let item = Item::new(attrs);
/// assert!(matches!(item.insert().render(&PostgresqlDialect)?.params[0], Value::HStore(_)));
/// # Ok::<(), Error>(())
/// ```
pub type HStore = std::collections::HashMap<String, Option<String>>;

/// HStore operators on `HashMap<String, Option<String>>` columns (PostgreSQL).
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Item { #[orm(primary_key, auto)] id: i64, attrs: HStore }
/// let red = Item::select().where_(Item::ATTRS.hstore_has_key("color"));
/// assert!(red.render(&PostgresqlDialect)?.sql.ends_with(r#"WHERE ("item"."attrs" ? $1)"#));
/// # Ok::<(), Error>(())
/// ```
pub trait HStoreExt: Expression<Type = Self::Store> {
    /// `HStore` or `Option<HStore>`.
    type Store: ColumnType<Base = HStore>;
    /// The value at `key`; NULL when missing.
    fn hstore_get(self, key: &str) -> Expr<Option<String>, Self::Source> {
        ext(self, ExtOp::HStoreGet, Some(Value::Text(key.into())))
    }
    /// `key` is present.
    fn hstore_has_key(self, key: &str) -> Condition<Self::Source> {
        ext(self, ExtOp::HStoreHasKey, Some(Value::Text(key.into())))
    }
    /// Holds every pair of `pairs`.
    fn hstore_contains(self, pairs: &HStore) -> Condition<Self::Source> {
        ext(
            self,
            ExtOp::HStoreContains,
            Some(Value::HStore(pairs.clone())),
        )
    }
    /// The keys.
    fn hstore_keys(self) -> Expr<Vec<String>, Self::Source> {
        ext(self, ExtOp::HStoreKeys, None)
    }
    /// The values (a NULL value fails to decode as `String`).
    fn hstore_values(self) -> Expr<Vec<String>, Self::Source> {
        ext(self, ExtOp::HStoreValues, None)
    }
    /// Only the pairs of `keys`.
    fn hstore_slice(self, keys: &[&str]) -> Expr<HStore, Self::Source> {
        let keys = keys.iter().map(|k| Value::Text((*k).into())).collect();
        ext(
            self,
            ExtOp::HStoreSlice,
            Some(Value::Array(crate::value::ElementType::Text, keys)),
        )
    }
}
impl<E: Expression> HStoreExt for E
where
    E::Type: ColumnType<Base = HStore>,
{
    type Store = E::Type;
}

/// Column types that hold a JSON document.
#[cfg(feature = "json")]
#[diagnostic::on_unimplemented(message = "`{Self}` is not a JSON column type")]
pub trait JsonDocument: Field {}
#[cfg(feature = "json")]
impl JsonDocument for serde_json::Value {}
#[cfg(feature = "json")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> JsonDocument for crate::types::Json<T> {}

#[cfg(feature = "json")]
fn json<E: Expression, T>(e: E, op: JsonOp, arg: JsonArg) -> Expr<T, E::Source> {
    Expr::from_node(ExprNode::Json(op, Box::new(e.into_node()), arg))
}

impl<T: Field> From<T> for Value {
    fn from(v: T) -> Value {
        v.to_value()
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.into())
    }
}

//! Which models an expression names, and which models a query may name: checked when the
//! code compiles, so a condition on `Post` cannot filter a query of `User`.
//!
//! An expression's *sources* are a type: `()` for values and raw SQL (allowed anywhere),
//! a model for its columns, and a pair `(A, B)` for an expression made of two others. A
//! query's *scope* is the list of its models ([`Models`]): the model it selects from, then
//! each joined one. [`Names`] checks the sources against one model (an UPDATE, a DELETE,
//! the Manager's `get`), [`In`] against a query's scope.

use std::marker::PhantomData;

use crate::table::Table;

/// Sources with at least one model: a model, or a pair.
pub trait Named {}
impl<M: Table> Named for M {}
impl<A, B> Named for (A, B) {}

/// The sources of an expression made of two others: `()` adds nothing; two models or
/// pairs make a pair.
pub trait Merge<B> {
    /// The merged sources.
    type Out;
}
impl<B> Merge<B> for () {
    type Out = B;
}
impl<A: Named> Merge<()> for A {
    type Out = A;
}
impl<A: Named, B: Named> Merge<B> for A {
    type Out = (A, B);
}

/// The sources of `A` and `B` together.
pub type Both<A, B> = <A as Merge<B>>::Out;

/// A condition that `&` / `|` may join to one on `M`: one on `M` too, or a value's.
#[diagnostic::on_unimplemented(
    message = "`&` and `|` join conditions on one model; this one is on `{Self}`, the other on `{M}`",
    label = "a condition on another model",
    note = "add it with another `.where_(..)`, or join the two with `.and_across(..)` / `.or_across(..)`"
)]
pub trait SameModel<M> {}
impl<M> SameModel<M> for () {}
impl<M: Table> SameModel<M> for M {}

/// The sources of two conditions joined by `&` or `|`: a condition on one model joined
/// with another on it (or with a value's) stays on that model, so that conditions built in
/// a loop keep their type; across models, see [`Expr::and_across`](crate::Expr::and_across).
pub trait Union<B> {
    /// The joined sources.
    type Out;
}
impl<B> Union<B> for () {
    type Out = B;
}
impl<M: Table, B: SameModel<M>> Union<B> for M {
    type Out = M;
}
impl<A, B, C> Union<C> for (A, B) {
    type Out = ((A, B), C);
}

/// The sources of two conditions joined by `&` or `|`.
pub type Joined<A, B> = <A as Union<B>>::Out;

/// Every model that sources `Self` name is `M`.
#[diagnostic::on_unimplemented(
    message = "this condition names `{Self}`, but the query is over `{M}`",
    label = "a condition on another model",
    note = "a condition may name only the query's models; join `{Self}` into a SELECT first"
)]
pub trait Names<M> {}
impl<M> Names<M> for () {}
impl<M: Table> Names<M> for M {}
impl<M, A: Names<M>, B: Names<M>> Names<M> for (A, B) {}

/// A query's models: `H`, then the rest `T` ([`End`] ends the list).
#[derive(Debug)]
pub struct Models<H, T>(PhantomData<fn() -> (H, T)>);

/// The end of a [`Models`] list.
#[derive(Debug)]
pub struct End;

/// The scope of a query over `M` alone.
pub type Only<M> = Models<M, End>;

/// Where in a scope a model was found: this one.
#[derive(Debug)]
pub struct Here;
/// Where in a scope a model was found: further on, at `I`.
#[derive(Debug)]
pub struct There<I>(PhantomData<fn() -> I>);
/// A value, which belongs anywhere.
#[derive(Debug)]
pub struct Anywhere;

/// Every model that sources `Self` name is in the scope `L`; `I` says where (inferred).
#[diagnostic::on_unimplemented(
    message = "this condition names a model that is not in the query: `{Self}`",
    label = "names a model the query neither selects from nor joins",
    note = "join it first (`.join::<Model>()`), or in a correlated subquery declare the enclosing query's model with `.outer::<Model>()`"
)]
pub trait In<L, I> {}
impl<L> In<L, Anywhere> for () {}
impl<M: Table, T> In<Models<M, T>, Here> for M {}
impl<X: Table, H, T, I> In<Models<H, T>, There<I>> for X where X: In<T, I> {}
impl<A, B, L, IA, IB> In<L, (IA, IB)> for (A, B)
where
    A: In<L, IA>,
    B: In<L, IB>,
{
}

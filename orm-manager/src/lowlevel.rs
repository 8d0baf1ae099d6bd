//! The low-level API: free functions over any executor (a database, a transaction, a
//! held connection). The [`Manager`](crate::Manager) is built on them; use them directly
//! when you hold the executor yourself.
//!
//! ```no_run
//! # use orm_manager::prelude::*;
//! # #[derive(Model, Debug)]
//! # struct Tag { #[orm(primary_key, auto)] id: i64, #[orm(unique)] name: String }
//! # async fn demo(db: PostgresqlDatabase) -> Result<(), Error> {
//! let tag = orm_manager::create_object(&db, Tag::new("rust")).await?;
//! let same: Tag = orm_manager::get_object(&db, Tag::ID.eq(tag.id)).await?;
//! orm_manager::delete_object(&db, &same).await?;
//! # Ok(()) }
//! ```

use std::future::Future;

use orm_core::scope::Names;
use orm_core::tree::{DeleteStatement, ExprNode, SelectStatement, UpdateStatement};
use orm_core::{
    column_equals, ColumnRole, Condition, Dialect, Error, Executor, FetchQuery, Insert, Maintain,
    Model, Query, Result, Select, TableMeta, Update, Value,
};

/// What `get` accepts: a condition on the model (which names it, so that no turbofish is
/// needed), or a base query.
pub trait IntoSelect<M: Model> {
    /// The query's models (see [`orm_core::scope`]).
    type Scope;
    /// The query.
    fn into_select(self) -> Select<M, M, Self::Scope>;
}

impl<M: Model, S: orm_core::scope::Names<M>> IntoSelect<M> for Condition<S> {
    type Scope = orm_core::scope::Only<M>;
    fn into_select(self) -> Select<M, M> {
        M::select().where_(self.unchecked())
    }
}

impl<M: Model, J> IntoSelect<M> for Select<M, M, J> {
    type Scope = J;
    fn into_select(self) -> Select<M, M, J> {
        self
    }
}

/// A query the Manager's `execute` runs, and what it returns: rows for SELECT and
/// RETURNING, the affected count for UPDATE and DELETE, the generated keys for INSERT.
pub trait ExecuteQuery: Send {
    /// The result.
    type Output: Send;
    /// Runs the query on `exec`.
    fn run<E: Executor + ?Sized>(
        self,
        exec: &E,
    ) -> impl Future<Output = Result<Self::Output>> + Send;

    /// True when the query runs as several statements on `dialect`, so that the Manager
    /// runs it in a transaction to keep it all or nothing.
    fn needs_transaction(&self, _dialect: &dyn orm_core::Dialect) -> bool {
        false
    }
}

impl<M: Model, Out: orm_core::FromRow + Send + 'static, J> ExecuteQuery for Select<M, Out, J> {
    type Output = Vec<Out>;
    fn run<E: Executor + ?Sized>(self, exec: &E) -> impl Future<Output = Result<Vec<Out>>> + Send {
        let stmt = self.render(exec.dialect());
        async move { exec.fetch_all(stmt?).await }
    }
}

impl<M: Model> ExecuteQuery for Update<M> {
    type Output = u64;
    fn run<E: Executor + ?Sized>(self, exec: &E) -> impl Future<Output = Result<u64>> + Send {
        let stmt = self.render(exec.dialect());
        async move { Ok(exec.execute(stmt?).await?.rows_affected) }
    }
}

impl<M: Model> ExecuteQuery for orm_core::Delete<M> {
    type Output = u64;
    fn run<E: Executor + ?Sized>(self, exec: &E) -> impl Future<Output = Result<u64>> + Send {
        let stmt = self.render(exec.dialect());
        async move { Ok(exec.execute(stmt?).await?.rows_affected) }
    }
}

impl<M: Model> ExecuteQuery for Insert<M> {
    /// The generated keys, one per row; empty for models without an auto-increment key.
    type Output = Vec<i64>;
    async fn run<E: Executor + ?Sized>(self, exec: &E) -> Result<Vec<i64>> {
        if M::TABLE.auto_column().is_some() {
            self.execute_returning_keys(exec).await
        } else {
            let stmt = self.into_statement_for(exec.dialect())?;
            exec.execute(stmt).await.map(|_| Vec::new())
        }
    }

    fn needs_transaction(&self, dialect: &dyn orm_core::Dialect) -> bool {
        M::TABLE.auto_column().is_some() && self.sends_one_statement_per_row(dialect)
    }
}

impl<T: orm_core::FromRow + Send + 'static> ExecuteQuery for orm_core::RawQuery<T> {
    type Output = Vec<T>;
    fn run<E: Executor + ?Sized>(self, exec: &E) -> impl Future<Output = Result<Vec<T>>> + Send {
        let stmt = self.render(exec.dialect());
        async move { exec.fetch_all(stmt?).await }
    }
}

/// A query with time limits of its own ([`Query::timeout`](orm_core::Query::timeout),
/// [`Query::lock_timeout`](orm_core::Query::lock_timeout)): every statement it sends
/// carries them.
impl<Q: ExecuteQuery> ExecuteQuery for orm_core::Limited<Q> {
    type Output = Q::Output;
    async fn run<E: Executor + ?Sized>(self, exec: &E) -> Result<Q::Output> {
        let (query, limits) = self.into_parts();
        query.run(&orm_core::Timed::new(exec, limits)).await
    }

    fn needs_transaction(&self, dialect: &dyn orm_core::Dialect) -> bool {
        self.query().needs_transaction(dialect)
    }
}

/// `UPDATE` / `DELETE` / `INSERT ... RETURNING`: the returned rows.
impl<Q, Out> ExecuteQuery for orm_core::Returning<Q, Out>
where
    Q: Send,
    Out: orm_core::FromRow + Send + 'static,
    orm_core::Returning<Q, Out>: FetchQuery<Row = Out>,
{
    type Output = Vec<Out>;
    fn run<E: Executor + ?Sized>(self, exec: &E) -> impl Future<Output = Result<Vec<Out>>> + Send {
        let stmt = self.render(exec.dialect());
        async move { exec.fetch_all(stmt?).await }
    }
}

/// Runs any query: see [`ExecuteQuery`] for what each kind returns.
pub async fn execute<E: Executor + ?Sized, Q: ExecuteQuery>(
    exec: &E,
    query: Q,
) -> Result<Q::Output> {
    query.run(exec).await
}

/// Runs raw SQL that returns no rows (`UPDATE`, `DELETE`, DDL, ...); returns the number of
/// rows it changed. Each `?` is a bound parameter from `params`, written in the
/// dialect's own placeholder style; values are never spliced into the text.
pub async fn execute_raw<E: Executor + ?Sized>(
    exec: &E,
    sql: &str,
    params: Vec<Value>,
) -> Result<u64> {
    let stmt = orm_core::raw_query::<()>(sql, params).render(exec.dialect())?;
    Ok(exec.execute(stmt).await?.rows_affected)
}

/// The one object matching `query`: [`Error::DoesNotExist`] for none, [`Error::MultipleRows`]
/// for more than one.
pub async fn get_object<E: Executor + ?Sized, M: Model, Q: IntoSelect<M>>(
    exec: &E,
    query: Q,
) -> Result<M> {
    // Two rows are enough to tell "one" from "more than one"; a smaller limit of the
    // user's own is kept.
    query.into_select().limit_at_most(2).fetch_one(exec).await
}

/// The one object matching `query`, or `None`.
pub async fn get_object_or_none<E: Executor + ?Sized, M: Model, Q: IntoSelect<M>>(
    exec: &E,
    query: Q,
) -> Result<Option<M>> {
    match get_object(exec, query).await {
        Ok(obj) => Ok(Some(obj)),
        Err(Error::DoesNotExist { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Inserts `obj` and returns it as stored, with its generated key (and, where the
/// dialect has RETURNING, the server's defaults). Sets its `created_at` / `updated_at`
/// and runs its save hooks ([`Model::before_save`], [`Model::after_save`]).
pub async fn create_object<E: Executor + ?Sized, M: Model>(exec: &E, mut obj: M) -> Result<M> {
    obj.maintain(Maintain::Insert);
    obj.before_save(exec, true).await?;
    let stored = insert_object(exec, obj).await?;
    stored.after_save(exec, true).await?;
    Ok(stored)
}

/// Inserts a row built column by column ([`Model::values`]) and returns the stored object,
/// with the database's defaults for the columns left out: read back by `RETURNING` where
/// the dialect has it, else by the generated key or the key columns the row set. No hooks
/// run: there is no object before the insert (use [`create_object`] for hooks).
pub async fn create_from_values<E: Executor + ?Sized, M: Model>(
    exec: &E,
    values: orm_core::Values<M>,
) -> Result<M> {
    let given_key = values.key_condition();
    let insert = values.insert();
    let dialect = exec.dialect();
    if dialect.supports_returning() {
        return insert.returning_model().fetch_one(exec).await;
    }
    let result = exec.execute(insert.into_statement_for(dialect)?).await?;
    let lookup = match (given_key, M::TABLE.auto_column(), result.last_insert_id) {
        (Some(key), _, _) => key,
        (None, Some(auto), Some(id)) => {
            let id = i64::try_from(id)
                .map_err(|_| Error::Query(format!("generated key {id} does not fit in i64")))?;
            column_equals(M::TABLE.name, auto.name, Value::I64(id))
        }
        _ => {
            return Err(Error::Query(format!(
                "{} was inserted, but it cannot be read back: set its key columns",
                M::TABLE.model
            )))
        }
    };
    get_object(exec, M::select().with_deleted().where_(lookup)).await
}

/// The INSERT of [`create_object`], without hooks.
async fn insert_object<E: Executor + ?Sized, M: Model>(exec: &E, mut obj: M) -> Result<M> {
    if exec.dialect().supports_returning() {
        return obj.insert().returning_model().fetch_one(exec).await;
    }
    let stmt = obj.insert().into_statement_for(exec.dialect())?;
    let result = exec.execute(stmt).await?;
    if M::TABLE.auto_column().is_some() {
        let key = result
            .last_insert_id
            .ok_or_else(|| Error::Query("the database reported no generated key".into()))?;
        let key = i64::try_from(key)
            .map_err(|_| Error::Query(format!("generated key {key} does not fit in i64")))?;
        obj.set_auto_key(key)?;
    }
    Ok(obj)
}

/// Saves `obj`: a new object (its generated key still 0) is inserted; any other is
/// updated by its primary key, and inserted when no row has that key and the key is the
/// object's own (not generated). Returns the object with its key.
pub async fn save_object<E: Executor + ?Sized, M: Model>(exec: &E, mut obj: M) -> Result<M> {
    let auto = (0..M::TABLE.columns.len()).find(|i| M::TABLE.columns[*i].auto);
    if let Some(index) = auto {
        if is_unset_key(&obj.column_value(index)) {
            return create_object(exec, obj).await;
        }
    }
    // With hooks or a version, whether the row exists decides which write (and which
    // hooks) it is: an UPDATE that finds no row would have run the update's hooks, or
    // called the object stale.
    let decides_first = M::TABLE.hooks || M::TABLE.column_with(ColumnRole::Version).is_some();
    if decides_first && !exists::<E, M, _>(exec, key_condition(&obj)?).await? {
        return match auto {
            Some(_) => Err(Error::DoesNotExist {
                model: M::TABLE.model,
            }),
            None => create_object(exec, obj).await,
        };
    }
    if update_object(exec, &mut obj, None).await? > 0 {
        return Ok(obj);
    }
    if auto.is_some() {
        // A generated key that no row has: saving would have to invent the row.
        return Err(Error::DoesNotExist {
            model: M::TABLE.model,
        });
    }
    create_object(exec, obj).await
}

/// A generated key not assigned yet: 0 (what `Model::new` leaves there).
fn is_unset_key(value: &orm_core::Value) -> bool {
    use orm_core::Value;
    matches!(
        value,
        Value::I64(0) | Value::I32(0) | Value::I16(0) | Value::Null
    )
}

/// `column = value AND ...` over the primary key of `obj`.
pub(crate) fn key_condition<M: Model>(obj: &M) -> Result<Condition> {
    let columns: Vec<usize> = (0..M::TABLE.columns.len())
        .filter(|i| M::TABLE.columns[*i].primary_key)
        .collect();
    if columns.is_empty() {
        return Err(Error::Query(format!(
            "{} has no primary key to find the object by",
            M::TABLE.model
        )));
    }
    Ok(all_equal(obj, &columns))
}

/// `column = value AND ...` for the given columns of `obj`.
fn all_equal<M: Model>(obj: &M, columns: &[usize]) -> Condition {
    let mut conditions = columns.iter().map(|i| {
        column_equals(
            M::TABLE.name,
            M::TABLE.columns[*i].name,
            obj.column_value(*i),
        )
    });
    let first = conditions
        .next()
        .unwrap_or_else(|| orm_core::raw("1 = 1", vec![]));
    conditions.fold(first, Condition::and)
}

/// `unique_a = .. OR (composite_b1 = .. AND composite_b2 = ..) OR ...`: finds the stored
/// row `obj` conflicts with.
fn unique_condition<M: Model>(obj: &M) -> Result<Condition> {
    let table = M::TABLE;
    let mut groups: Vec<Vec<usize>> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.unique)
        .map(|(i, _)| vec![i])
        .collect();
    let key: Vec<usize> = (0..table.columns.len())
        .filter(|i| table.columns[*i].primary_key && !table.columns[*i].auto)
        .collect();
    if !key.is_empty() {
        groups.push(key);
    }
    for index in table.indexes.iter().filter(|i| i.unique) {
        groups.push(
            index
                .columns
                .iter()
                .filter_map(|n| table.columns.iter().position(|c| c.name == *n))
                .collect(),
        );
    }
    let mut conditions = groups.iter().map(|g| all_equal(obj, g));
    let first = conditions.next().ok_or_else(|| {
        Error::Query(format!(
            "{} has no unique columns to look the object up by",
            table.model
        ))
    })?;
    Ok(conditions.fold(first, Condition::or))
}

/// Inserts `objects` in as few statements as the dialect allows; returns the number of
/// rows inserted. The statements are not wrapped in a transaction here:
/// [`Manager::bulk_insert`](crate::Manager::bulk_insert) does that when there is more
/// than one.
///
/// On PostgreSQL the rows travel by binary `COPY ... FROM STDIN` (50,000 rows a
/// statement, each value encoded for its column's type; see
/// [`Insert::into_copy_statement_for`]). Elsewhere they are multi-row INSERTs filled up to
/// the dialect's bind-parameter limit.
pub async fn bulk_insert<E: Executor + ?Sized, M: Model>(exec: &E, objects: &[M]) -> Result<u64> {
    let dialect = exec.dialect();
    let copy = dialect.supports_copy_in();
    let mut inserted = 0;
    for chunk in objects.chunks(bulk_chunk_rows::<M>(dialect)) {
        let insert = M::insert_many(chunk);
        inserted += if copy {
            let stmt = insert.into_copy_statement_for(dialect)?;
            exec.execute(stmt).await?.rows_affected
        } else {
            insert.execute(exec).await?
        };
    }
    Ok(inserted)
}

/// Rows per COPY statement: big enough that the round trips vanish, small enough that
/// the values held for one stay a few megabytes.
const COPY_ROWS: usize = 50_000;

/// Rows per statement: [`COPY_ROWS`], or as many as fit the dialect's parameter limit.
pub(crate) fn bulk_chunk_rows<M: Model>(dialect: &dyn Dialect) -> usize {
    if dialect.supports_copy_in() {
        return COPY_ROWS;
    }
    (dialect.max_params() / M::TABLE.columns.len().max(1)).max(1)
}

/// Saves every column of `obj` (or only the columns named in `only`) by its primary key;
/// returns the number of rows changed. Sets its `updated_at` and runs its save hooks
/// ([`Model::before_save`], then [`Model::after_save`] when a row was updated). A model
/// with a `#[orm(version)]` column is updated only at the object's version, which then
/// goes up by one in the row and in `obj`; finding the row at another version (or gone)
/// is [`Error::StaleObject`], with nothing written.
pub async fn update_object<E: Executor + ?Sized, M: Model>(
    exec: &E,
    obj: &mut M,
    only: Option<&[&str]>,
) -> Result<u64> {
    obj.maintain(Maintain::Update);
    obj.before_save(exec, false).await?;
    let rows = Update::for_object(obj, only)?.execute(exec).await?;
    if let Some((index, _)) = M::TABLE.column_with(ColumnRole::Version) {
        if rows == 0 {
            return Err(Error::StaleObject {
                model: M::TABLE.model,
                version: version_number(&obj.column_value(index)),
            });
        }
        obj.maintain(Maintain::VersionChecked);
    }
    if rows > 0 {
        obj.after_save(exec, false).await?;
    }
    Ok(rows)
}

/// A version column's value as a number, for [`Error::StaleObject`].
fn version_number(value: &orm_core::Value) -> i64 {
    use orm_core::Value;
    match value {
        Value::I16(v) => i64::from(*v),
        Value::I32(v) => i64::from(*v),
        Value::I64(v) => *v,
        _ => 0,
    }
}

/// Deletes `obj` by its primary key, running its delete hooks ([`Model::before_delete`],
/// then [`Model::after_delete`] when a row was deleted); returns the number of rows
/// deleted.
pub async fn delete_object<E: Executor + ?Sized, M: Model>(exec: &E, obj: &M) -> Result<u64> {
    obj.before_delete(exec).await?;
    let rows = M::delete()
        .where_(key_condition(obj)?)
        .execute(exec)
        .await?;
    if rows > 0 {
        obj.after_delete(exec).await?;
    }
    Ok(rows)
}

/// Deletes `obj` (running its delete hooks) and, first, the rows that depend on it
/// through foreign keys (rows, without hooks). A model with a `#[orm(soft_delete)]`
/// column is soft-deleted, and so are its dependents that have one (the others still
/// reference a row that stays). Otherwise rows whose
/// reference is nullable get NULL instead, unless [`OnNullable::Delete`]. Dependents are the
/// models of the program with a foreign key to this one (self-references are not
/// followed). Run it in a transaction (as [`Manager::delete_recursive`](crate::Manager::delete_recursive) does) so that it
/// is all or nothing. Returns the number of `obj` rows deleted.
pub async fn delete_object_recursive<E: Executor + ?Sized, M: Model>(
    exec: &E,
    obj: &M,
    nullable: OnNullable,
) -> Result<u64> {
    let delete_nullable = nullable == OnNullable::Delete;
    let filter = key_condition(obj)?.into_node();
    obj.before_delete(exec).await?;
    let rows = delete_rows(exec, M::TABLE, filter, delete_nullable, 0).await?;
    if rows > 0 {
        obj.after_delete(exec).await?;
    }
    Ok(rows)
}

type BoxedCount<'a> = std::pin::Pin<Box<dyn Future<Output = Result<u64>> + Send + 'a>>;

fn delete_rows<'a, E: Executor + ?Sized>(
    exec: &'a E,
    table: &'static TableMeta,
    filter: ExprNode,
    delete_nullable: bool,
    depth: usize,
) -> BoxedCount<'a> {
    Box::pin(async move {
        if depth > 32 {
            return Err(Error::Query(
                "recursive delete: foreign keys nest more than 32 levels deep".into(),
            ));
        }
        // A soft-deleted row stays, and so may the rows that reference it: only the
        // dependents that are soft-deleted themselves follow it.
        let soft = UpdateStatement::soft_delete_from_meta(table, Some(filter.clone()));
        for (dependent, column) in orm_core::registry::dependents_of(table) {
            if dependent.same_table(table) {
                continue;
            }
            let Some(fk) = column.references else {
                continue;
            };
            let soft_dependent = dependent.column_with(ColumnRole::SoftDelete).is_some();
            if soft.is_some() && !soft_dependent {
                continue;
            }
            let keys = SelectStatement::column_from_meta(table, fk.target_column(), filter.clone());
            let rows = ExprNode::column(Some(dependent.name), column.name).in_select(keys);
            if soft.is_some() {
                delete_rows(exec, dependent, rows, delete_nullable, depth + 1).await?;
            } else if column.nullable && !delete_nullable {
                let update = UpdateStatement::set_null_from_meta(dependent, column.name, rows);
                exec.execute(update.render(exec.dialect())?).await?;
            } else {
                delete_rows(exec, dependent, rows, delete_nullable, depth + 1).await?;
            }
        }
        let stmt = match soft {
            Some(update) => update.render(exec.dialect())?,
            None => DeleteStatement::from_meta(table, filter).render(exec.dialect())?,
        };
        Ok(exec.execute(stmt).await?.rows_affected)
    })
}

/// `SELECT COUNT(*)` of `query`; with `clear_limit`, its LIMIT and OFFSET are ignored.
pub async fn count_rows<E: Executor + ?Sized, M: Model, Out, J>(
    exec: &E,
    query: Select<M, Out, J>,
    limit: CountLimit,
) -> Result<i64> {
    query
        .count_query(limit == CountLimit::Ignore)
        .fetch_one(exec)
        .await
}

/// Whether a count keeps the query's LIMIT / OFFSET (peewee's `clear_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountLimit {
    /// Counts the rows the query returns, LIMIT and OFFSET included.
    Keep,
    /// Counts every matching row, as if the query had no LIMIT or OFFSET.
    Ignore,
}

/// What a recursive delete does with rows that reference the object through a nullable
/// foreign key (peewee's `delete_nullable`).
///
/// ```
/// # use orm_manager::prelude::*;
/// #[derive(Model)]
/// struct Author { #[orm(primary_key, auto)] id: i64 }
/// #[derive(Model)]
/// struct Book { #[orm(primary_key, auto)] id: i64, #[orm(references = Author)] author_id: Option<i64> }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// # let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
/// # Author::create_table_async(&objects, false).await?;
/// # Book::create_table_async(&objects, false).await?;
/// let author = objects.create(Author::new()).await?;
/// objects.create(Book::new(Some(author.id))).await?;
/// objects.delete_recursive(&author, OnNullable::SetNull).await?;
/// let orphans = objects.count(Book::select().where_(Book::AUTHOR_ID.is_null())).await?;
/// assert_eq!(orphans, 1, "the book stays, without its author");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNullable {
    /// Sets the reference to NULL and keeps the row.
    SetNull,
    /// Deletes the row too.
    Delete,
}

/// Whether `query` matches any row (`SELECT ... LIMIT 1`).
pub async fn exists<E: Executor + ?Sized, M: Model, Q: IntoSelect<M>>(
    exec: &E,
    query: Q,
) -> Result<bool> {
    Ok(query
        .into_select()
        .limit(1)
        .fetch_optional(exec)
        .await?
        .is_some())
}

/// The first `n` objects of `query`, in its order.
pub async fn peek<E: Executor + ?Sized, M: Model, Q: IntoSelect<M>>(
    exec: &E,
    query: Q,
    n: u64,
) -> Result<Vec<M>> {
    query.into_select().limit(n).fetch_all(exec).await
}

/// The first row of `query` (a single value or a tuple), for aggregates; `None` when the
/// query returns no row.
pub async fn scalar<E: Executor + ?Sized, M: Model, Out: orm_core::FromRow + Send + 'static, J>(
    exec: &E,
    query: Select<M, Out, J>,
) -> Result<Option<Out>> {
    query.limit(1).fetch_optional(exec).await
}

/// The first row of `query` as a [`RowMap`](orm_core::RowMap): each column (name them
/// with [`named`](orm_core::ExprExt::named)) by its name, as a dynamic value (peewee's
/// `scalar(as_dict=True)`); `None` when the query returns no row.
pub async fn scalar_map<E: Executor + ?Sized, M: Model, Out, J>(
    exec: &E,
    query: Select<M, Out, J>,
) -> Result<Option<orm_core::RowMap>> {
    query.as_map().limit(1).fetch_optional(exec).await
}

/// Finds the object matching `lookup`, or creates `defaults`. Returns it and whether it
/// was created. Safe under concurrency: the insert skips a row that conflicts with a
/// unique key instead of failing, so racing callers all get the one stored row and
/// exactly one of them sees `created = true`; inside a transaction a conflict never
/// aborts it.
pub async fn get_or_create<E: Executor + ?Sized, M: Model, S: Names<M>>(
    exec: &E,
    lookup: Condition<S>,
    defaults: M,
) -> Result<(M, bool)> {
    let lookup = lookup.unchecked();
    if let Some(found) = get_object_or_none(exec, lookup.clone()).await? {
        return Ok((found, false));
    }
    if let Some(created) = insert_unless_conflict(exec, defaults).await? {
        return Ok((created, true));
    }
    Ok((get_stored(exec, lookup).await?, false))
}

/// [`get_or_create`] that looks on `read` and creates a missing row on `write`: the
/// Manager passes a transaction and the database's
/// [`autonomous`](orm_core::Database::autonomous) side, so that the new row is committed
/// at once and no other transaction ever waits for this one to end to see it. A row
/// another writer stored first is read on `write` too, where it is committed, without
/// locking anything in the caller's transaction.
pub async fn get_or_create_with<R, W, M, S>(
    read: &R,
    write: &W,
    lookup: Condition<S>,
    defaults: M,
) -> Result<(M, bool)>
where
    R: Executor + ?Sized,
    W: Executor + ?Sized,
    M: Model,
    S: Names<M>,
{
    let lookup = lookup.unchecked();
    if let Some(found) = get_object_or_none(read, lookup.clone()).await? {
        return Ok((found, false));
    }
    if let Some(created) = insert_unless_conflict(write, defaults).await? {
        return Ok((created, true));
    }
    Ok((get_object(write, lookup).await?, false))
}

/// Creates `obj`, or when it conflicts with a stored row on a unique key, returns that row.
/// Returns the object and whether it was created.
pub async fn create_or_get<E: Executor + ?Sized, M: Model>(exec: &E, obj: M) -> Result<(M, bool)> {
    let lookup = unique_condition(&obj)?;
    if let Some(created) = insert_unless_conflict(exec, obj).await? {
        return Ok((created, true));
    }
    Ok((get_stored(exec, lookup).await?, false))
}

/// [`create_or_get`] on `write`, the [`autonomous`](orm_core::Database::autonomous) side
/// of a transaction's database (see [`get_or_create_with`]).
pub async fn create_or_get_on<W: Executor + ?Sized, M: Model>(
    write: &W,
    obj: M,
) -> Result<(M, bool)> {
    let lookup = unique_condition(&obj)?;
    if let Some(created) = insert_unless_conflict(write, obj).await? {
        return Ok((created, true));
    }
    Ok((get_object(write, lookup).await?, false))
}

/// Inserts `obj` unless it conflicts with a unique key; the stored object, or `None`.
async fn insert_unless_conflict<E: Executor + ?Sized, M: Model>(
    exec: &E,
    mut obj: M,
) -> Result<Option<M>> {
    obj.maintain(Maintain::Insert);
    obj.before_save(exec, true).await?;
    let stored = insert_unless_conflict_row(exec, obj).await?;
    if let Some(stored) = &stored {
        stored.after_save(exec, true).await?;
    }
    Ok(stored)
}

/// The INSERT of [`insert_unless_conflict`], without hooks.
async fn insert_unless_conflict_row<E: Executor + ?Sized, M: Model>(
    exec: &E,
    mut obj: M,
) -> Result<Option<M>> {
    if exec.dialect().supports_returning() {
        let insert = obj.insert().on_conflict_ignore();
        return insert.returning_model().fetch_optional(exec).await;
    }
    // MySQL: a plain INSERT whose duplicate-key error is the answer. Its duplicate check
    // takes a shared lock on the existing row, which other transactions' foreign-key
    // checks share; `ON DUPLICATE KEY UPDATE` would take an exclusive one and wait for
    // them. A failed statement does not end a MySQL transaction.
    let stmt = obj.insert().into_statement_for(exec.dialect())?;
    let result = match exec.execute(stmt).await {
        Err(Error::Integrity {
            kind: orm_core::IntegrityKind::Unique,
            ..
        }) => return Ok(None),
        other => other?,
    };
    if let Some(key) = result.last_insert_id {
        let key = i64::try_from(key)
            .map_err(|_| Error::Query(format!("generated key {key} does not fit in i64")))?;
        obj.set_auto_key(key)?;
    }
    Ok(Some(obj))
}

/// Reads the row another writer stored: a locking read where the dialect has one, so a
/// repeatable-read snapshot does not hide a row committed after it began. A shared lock:
/// other transactions' foreign-key checks on the row hold shared locks too, and an
/// exclusive one would wait for them (and they, later, for it: a deadlock).
async fn get_stored<E: Executor + ?Sized, M: Model>(exec: &E, lookup: Condition) -> Result<M> {
    let query = M::select().where_(lookup);
    let query = if exec.dialect().supports_for_update() {
        query.for_share()
    } else {
        query
    };
    get_object(exec, query).await
}

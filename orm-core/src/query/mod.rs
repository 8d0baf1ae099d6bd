//! Query builders and the way any query runs on any executor, sync or async.

use std::future::Future;
use std::marker::PhantomData;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::executor::{Executor, RowStream, SyncExecutor};
use crate::render;
use crate::row::FromRow;
use crate::statement::{ExecResult, Statement};
use crate::table::Table;
use crate::tree::SelectStatement;
use crate::value::Value;

mod delete;
mod insert;
mod limited;
pub(crate) mod select;
mod update;
mod values;

pub use delete::Delete;
pub use insert::{ColumnList, Insert, Upsert};
pub use limited::{Limited, Timed};
pub use select::{exists, not_exists, Alias, Append, Select, Selection};
pub use update::{Returning, Update};
pub use values::Values;

/// A statement that renders to SQL text and parameters for a dialect.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String }
/// let stmt = Post::update().set(Post::TITLE, "x").where_(Post::ID.eq(1)).render(&MySQLDialect)?;
/// assert_eq!(stmt.sql, "UPDATE `post` SET `title` = ? WHERE (`post`.`id` = ?)");
/// assert_eq!(stmt.params, [Value::Text("x".into()), Value::I64(1)]);
/// # Ok::<(), Error>(())
/// ```
pub trait Query {
    /// Renders the SQL text and its bound parameters. Fails, before anything is sent, when
    /// the dialect cannot express the query.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the dialect cannot express the query,
    /// [`Error::InvalidValue`] for a value it refuses (text
    /// over `max_length`, a JSON document too deep).
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement>;

    /// Runs the statement; returns the number of rows affected.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] when a key or constraint refuses the
    /// write; [`Error::Database`] for what the server refuses,
    /// [`Error::ConnectionLost`] or
    /// [`Error::PoolTimeout`] when no connection answers,
    /// [`Error::Query`] or
    /// [`Error::InvalidValue`] for a statement refused before
    /// sending.
    fn execute<E: Executor + ?Sized>(&self, db: &E) -> impl Future<Output = Result<u64>> + Send
    where
        Self: Sized,
    {
        let stmt = self.render(db.dialect());
        async move { Ok(db.execute(stmt?).await?.rows_affected) }
    }

    /// Runs the statement, blocking; returns the number of rows affected.
    ///
    /// # Errors
    ///
    /// As [`execute`](Query::execute);
    /// [`Error::SyncNotAllowed`] under the `Deny` sync
    /// policy.
    fn execute_sync<E: SyncExecutor + ?Sized>(&self, db: &E) -> Result<u64> {
        Ok(db.execute_sync(self.render(db.dialect())?)?.rows_affected)
    }

    /// The server stops the statement when it has run longer than `limit` and the call
    /// fails with the server's timeout error (PostgreSQL 57014, MariaDB 1969, MySQL 3024,
    /// SQLite's interrupt), inside a transaction or out. How each server does it: MariaDB
    /// `SET STATEMENT max_statement_time`, MySQL the `MAX_EXECUTION_TIME` hint (SELECT
    /// only), SQLite the progress handler; PostgreSQL has no per-statement setting, so the
    /// statement runs with `SET LOCAL statement_timeout` in a transaction of its own, or
    /// inside the caller's with the transaction's own limit put back after it (not for
    /// streams).
    ///
    /// ```
    /// # use orm_core::*;
    /// # use std::time::Duration;
    /// let limited = raw_query::<i64>("SELECT count(*) FROM big", vec![])
    ///     .timeout(Duration::from_secs(2));
    /// let stmt = limited.render(&SqliteDialect)?;
    /// assert_eq!(stmt.limits.statement, Some(Duration::from_secs(2)));
    /// # Ok::<(), Error>(())
    /// ```
    fn timeout(self, limit: std::time::Duration) -> Limited<Self>
    where
        Self: Sized,
    {
        let limits = crate::statement::Limits {
            statement: Some(limit),
            lock: None,
        };
        Limited::new(self, limits)
    }

    /// The statement fails when it has waited longer than `limit` for a lock (a row lock,
    /// SQLite's database lock), with the server's lock-timeout error, which is retryable
    /// (PostgreSQL 55P03, MySQL 1205, SQLite busy). MariaDB `SET STATEMENT
    /// innodb_lock_wait_timeout`, MySQL the `SET_VAR` hint, SQLite the busy timeout around
    /// the statement, PostgreSQL `SET LOCAL lock_timeout` as for
    /// [`timeout`](Query::timeout). MySQL counts whole seconds (at least one).
    ///
    /// ```
    /// # use orm_core::*;
    /// # use std::time::Duration;
    /// let both = raw_query::<()>("UPDATE slot SET n = n + 1", vec![])
    ///     .lock_timeout(Duration::from_millis(250))
    ///     .timeout(Duration::from_secs(5));
    /// let stmt = both.render(&PostgresqlDialect)?;
    /// assert_eq!(stmt.limits.lock, Some(Duration::from_millis(250)));
    /// assert_eq!(stmt.limits.statement, Some(Duration::from_secs(5)));
    /// # Ok::<(), Error>(())
    /// ```
    fn lock_timeout(self, limit: std::time::Duration) -> Limited<Self>
    where
        Self: Sized,
    {
        let limits = crate::statement::Limits {
            statement: None,
            lock: Some(limit),
        };
        Limited::new(self, limits)
    }
}

/// A statement that returns rows of type `Row`.
///
/// ```
/// # use orm_core::*;
/// # #[derive(orm_derive::Model)]
/// # struct Post { #[orm(primary_key, auto)] id: i64, title: String }
/// // Any query that returns rows: a SELECT, a raw query, a RETURNING.
/// fn titles() -> impl FetchQuery<Row = String> {
///     Post::select().columns(Post::TITLE)
/// }
/// assert_eq!(titles().model_name(), "Post");
/// ```
pub trait FetchQuery: Query {
    /// What each row decodes as.
    type Row: FromRow + Send + 'static;

    /// The model named in does-not-exist errors.
    fn model_name(&self) -> &'static str;

    /// All rows.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when a row does not read as `Row`;
    /// [`Error::Database`] for what the server refuses,
    /// [`Error::ConnectionLost`] or
    /// [`Error::PoolTimeout`] when no connection answers,
    /// [`Error::Query`] or
    /// [`Error::InvalidValue`] for a statement refused before
    /// sending.
    fn fetch_all<E: Executor + ?Sized>(
        &self,
        db: &E,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send
    where
        Self: Sized,
    {
        let stmt = self.render(db.dialect());
        async move { db.fetch_all(stmt?).await }
    }

    /// Exactly one row: [`Error::DoesNotExist`] for none, [`Error::MultipleRows`] for more.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] for no row,
    /// [`Error::MultipleRows`] for more; as
    /// [`fetch_all`](FetchQuery::fetch_all).
    fn fetch_one<E: Executor + ?Sized>(
        &self,
        db: &E,
    ) -> impl Future<Output = Result<Self::Row>> + Send
    where
        Self: Sized,
    {
        // The backend's future is created inside this one, not moved into it: futures of
        // pooled databases are a few kilobytes, and each move is a copy (callgrind: 15%
        // of a pooled point lookup's client instructions went to such copies).
        let model = self.model_name();
        let stmt = self.render(db.dialect());
        async move { exactly_one(db.fetch_all(stmt?).await?, model) }
    }

    /// The first row, if any.
    ///
    /// # Errors
    ///
    /// As [`fetch_all`](FetchQuery::fetch_all).
    fn fetch_optional<E: Executor + ?Sized>(
        &self,
        db: &E,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send
    where
        Self: Sized,
    {
        let stmt = self.render(db.dialect());
        async move { Ok(db.fetch_all(stmt?).await?.into_iter().next()) }
    }

    /// Rows one at a time, for results too large to hold in memory.
    fn stream<'e, E: Executor + ?Sized>(&self, db: &'e E) -> RowStream<'e, Self::Row>
    where
        Self: Sized,
    {
        match self.render(db.dialect()) {
            Ok(stmt) => db.fetch_stream(stmt),
            Err(e) => Box::pin(crate::executor::ErrorStream::new(e)),
        }
    }

    /// All rows, blocking.
    ///
    /// # Errors
    ///
    /// As [`fetch_all`](FetchQuery::fetch_all);
    /// [`Error::SyncNotAllowed`] under the `Deny` sync
    /// policy.
    fn fetch_all_sync<E: SyncExecutor + ?Sized>(&self, db: &E) -> Result<Vec<Self::Row>> {
        db.fetch_all_sync(self.render(db.dialect())?)
    }

    /// Exactly one row, blocking.
    ///
    /// # Errors
    ///
    /// As [`fetch_one`](FetchQuery::fetch_one);
    /// [`Error::SyncNotAllowed`] under the `Deny` sync
    /// policy.
    fn fetch_one_sync<E: SyncExecutor + ?Sized>(&self, db: &E) -> Result<Self::Row> {
        exactly_one(self.fetch_all_sync(db)?, self.model_name())
    }

    /// The first row if any, blocking.
    ///
    /// # Errors
    ///
    /// As [`fetch_all_sync`](FetchQuery::fetch_all_sync).
    fn fetch_optional_sync<E: SyncExecutor + ?Sized>(&self, db: &E) -> Result<Option<Self::Row>> {
        Ok(self.fetch_all_sync(db)?.into_iter().next())
    }
}

fn exactly_one<T>(rows: Vec<T>, model: &'static str) -> Result<T> {
    let mut rows = rows.into_iter();
    match (rows.next(), rows.next()) {
        (Some(row), None) => Ok(row),
        (None, _) => Err(Error::DoesNotExist { model }),
        (Some(_), Some(_)) => Err(Error::MultipleRows { model }),
    }
}

impl<M: Table, Out, J> Query for Select<M, Out, J> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::select(self.statement(), dialect)
    }
}

/// An untyped SELECT (see [`crate::tree`]) renders as a typed one does.
impl Query for SelectStatement {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::select(self, dialect)
    }
}

impl<M: Table, Out: FromRow + Send + 'static, J> FetchQuery for Select<M, Out, J> {
    type Row = Out;
    fn model_name(&self) -> &'static str {
        M::TABLE.model
    }
}

impl<M: Table> Query for Update<M> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::update(self.statement(), dialect)
    }
}

impl<M: Table> Query for Delete<M> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        match self.soft() {
            Some(update) => render::update(&update, dialect),
            None => render::delete(self.statement(), dialect),
        }
    }
}

impl<M: Table> Query for Insert<M> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::insert(self.statement(), dialect)
    }
}

impl<M: Table, Out> Query for Returning<Update<M>, Out> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::update(self.query.statement(), dialect)
    }
}

impl<M: Table, Out: FromRow + Send + 'static> FetchQuery for Returning<Update<M>, Out> {
    type Row = Out;
    fn model_name(&self) -> &'static str {
        M::TABLE.model
    }
}

impl<M: Table, Out> Query for Returning<Delete<M>, Out> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.query.render(dialect)
    }
}

impl<M: Table, Out: FromRow + Send + 'static> FetchQuery for Returning<Delete<M>, Out> {
    type Row = Out;
    fn model_name(&self) -> &'static str {
        M::TABLE.model
    }
}

impl<M: Table> Insert<M> {
    /// Renders the statement, moving the row values into the parameters (no copy).
    pub fn into_statement_for(self, dialect: &dyn Dialect) -> Result<Statement> {
        render::insert_owned(self.into_statement(), dialect)
    }

    /// Renders as `INSERT ... SELECT * FROM UNNEST($1::T[], ...)`: one array parameter per
    /// column whatever the number of rows, so one prepared statement serves every batch
    /// size (PostgreSQL). An [`Error::Query`] where the dialect has no arrays or a column's
    /// type cannot travel in one (booleans, integers, floats and text can).
    /// [`Manager::bulk_insert`](../../orm_manager/struct.Manager.html#method.bulk_insert)
    /// uses it where it can.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String, uses: i32 }
    /// let tags = [Tag::new("rust", 1), Tag::new("sql", 2)];
    /// let stmt = Tag::insert_many(&tags).into_unnest_statement_for(&PostgresqlDialect)?;
    /// assert_eq!(
    ///     stmt.sql,
    ///     r#"INSERT INTO "tag" ("name", "uses") SELECT * FROM UNNEST($1::TEXT[], $2::INTEGER[])"#
    /// );
    /// assert_eq!(stmt.params.len(), 2);
    /// assert!(Tag::insert_many(&tags).into_unnest_statement_for(&MySQLDialect).is_err());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn into_unnest_statement_for(self, dialect: &dyn Dialect) -> Result<Statement> {
        render::insert_unnest(self.into_statement(), M::TABLE, dialect)
    }

    /// Renders as PostgreSQL's `COPY t (a, b) FROM STDIN (FORMAT binary)`: the rows travel
    /// in COPY's binary format, not as bind parameters, so any number fits one statement
    /// and the server parses no SQL per row. The driver encodes each value for its
    /// column's type as the server reports it. An [`Error::Query`] where the dialect has
    /// no COPY, and for an INSERT with a conflict clause or `RETURNING` (COPY has
    /// neither). [`Manager::bulk_insert`](../../orm_manager/struct.Manager.html#method.bulk_insert)
    /// uses it on PostgreSQL.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String, uses: i32 }
    /// let tags = [Tag::new("rust", 1), Tag::new("sql", 2)];
    /// let stmt = Tag::insert_many(&tags).into_copy_statement_for(&PostgresqlDialect)?;
    /// assert_eq!(stmt.sql, r#"COPY "tag" ("name", "uses") FROM STDIN (FORMAT binary)"#);
    /// assert_eq!(stmt.params.len(), 4);
    /// assert!(Tag::insert_many(&tags).into_copy_statement_for(&MySQLDialect).is_err());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn into_copy_statement_for(self, dialect: &dyn Dialect) -> Result<Statement> {
        render::insert_copy(self.into_statement(), dialect)
    }

    /// Runs the INSERT; returns the number of rows inserted. (Takes the query by value so
    /// the values are moved into the parameters, not copied.)
    pub fn execute<'e, E: Executor + ?Sized>(
        self,
        db: &'e E,
    ) -> impl Future<Output = Result<u64>> + Send + 'e {
        let stmt = self.into_statement_for(db.dialect());
        async move { Ok(db.execute(stmt?).await?.rows_affected) }
    }

    /// [`Insert::execute`], blocking.
    pub fn execute_sync<E: SyncExecutor + ?Sized>(self, db: &E) -> Result<u64> {
        Ok(db
            .execute_sync(self.into_statement_for(db.dialect())?)?
            .rows_affected)
    }

    /// Runs the INSERT and returns the keys of the rows it inserted, in order: `RETURNING`
    /// where the dialect has it; elsewhere (MySQL / MariaDB) what the server reports,
    /// never a guess. Explicit keys come back as given; a row skipped by
    /// [`on_conflict_ignore`](Insert::on_conflict_ignore) has no key (an insert whose
    /// every row was skipped returns an empty list). An error if the model has no
    /// auto-increment column.
    ///
    /// MySQL reports one generated key per statement, so where keys are generated or rows
    /// may be skipped, several rows are sent one statement each (see
    /// [`Insert::sends_one_statement_per_row`]); run it in a transaction to keep it all
    /// or nothing (the Manager does), or use `execute` when only the count matters.
    pub fn execute_returning_keys<'e, E: Executor + ?Sized>(
        self,
        db: &'e E,
    ) -> impl Future<Output = Result<Vec<i64>>> + Send + 'e {
        let plan = self.key_plan(db.dialect());
        async move {
            match plan? {
                KeyPlan::Returning(stmt) => db.fetch_all::<i64>(stmt).await,
                KeyPlan::Reported(statements) => {
                    let mut keys = Vec::new();
                    for (stmt, given) in statements {
                        keys.extend(reported_keys(db.execute(stmt).await?, given)?);
                    }
                    Ok(keys)
                }
            }
        }
    }

    /// [`Insert::execute_returning_keys`], blocking.
    pub fn execute_returning_keys_sync<E: SyncExecutor + ?Sized>(self, db: &E) -> Result<Vec<i64>> {
        match self.key_plan(db.dialect())? {
            KeyPlan::Returning(stmt) => db.fetch_all_sync::<i64>(stmt),
            KeyPlan::Reported(statements) => {
                let mut keys = Vec::new();
                for (stmt, given) in statements {
                    keys.extend(reported_keys(db.execute_sync(stmt)?, given)?);
                }
                Ok(keys)
            }
        }
    }

    /// True when [`execute_returning_keys`](Insert::execute_returning_keys) sends this
    /// INSERT as one statement per row on `dialect`: no `RETURNING`, several rows, and
    /// keys the database generates or rows it may skip.
    ///
    /// ```
    /// # use orm_core::*;
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
    /// let tags = [Tag::new("a"), Tag::new("b")];
    /// assert!(Tag::insert_many(&tags).sends_one_statement_per_row(&MySQLDialect));
    /// assert!(!Tag::insert_many(&tags).sends_one_statement_per_row(&PostgresqlDialect));
    /// let given = [Tag { id: 7, name: "a".into() }, Tag { id: 8, name: "b".into() }];
    /// assert!(!Tag::insert_many(&given).sends_one_statement_per_row(&MySQLDialect));
    /// ```
    pub fn sends_one_statement_per_row(&self, dialect: &dyn Dialect) -> bool {
        !dialect.supports_returning()
            && self.row_count() > 1
            && (self.given_keys().is_none() || self.ignores_conflicts())
    }

    /// The INSERT with `RETURNING` every column, so the stored row (server defaults
    /// included) comes back. Only for dialects with RETURNING; see
    /// [`Dialect::supports_returning`].
    pub fn returning_model(self) -> Returning<Insert<M>, M> {
        Returning::new(self.returning_all())
    }

    fn key_plan(self, dialect: &dyn Dialect) -> Result<KeyPlan> {
        if M::TABLE.auto_column().is_none() {
            return Err(Error::Query(format!(
                "{} has no auto-increment primary key to return",
                M::TABLE.model
            )));
        }
        if dialect.supports_returning() {
            return Ok(KeyPlan::Returning(
                self.returning_key().into_statement_for(dialect)?,
            ));
        }
        let inserts = if self.sends_one_statement_per_row(dialect) {
            // Refused as a whole what the whole could not send (the parameter limit):
            // an insert_many is one statement's worth of rows, however it is sent.
            render::insert(self.statement(), dialect)?;
            self.split_rows()
        } else {
            vec![self]
        };
        let statements = inserts
            .into_iter()
            .map(|insert| {
                let given = insert.given_keys();
                Ok((insert.into_statement_for(dialect)?, given))
            })
            .collect::<Result<_>>()?;
        Ok(KeyPlan::Reported(statements))
    }
}

enum KeyPlan {
    Returning(Statement),
    /// Statements whose keys the server reports: each with its rows' explicit keys, or
    /// `None` for one row whose key the database generates.
    Reported(Vec<(Statement, Option<Vec<i64>>)>),
}

/// The keys one statement inserted: none if it inserted nothing (its rows were skipped),
/// the explicit keys as given, or the one key the server generated.
fn reported_keys(result: ExecResult, given: Option<Vec<i64>>) -> Result<Vec<i64>> {
    if result.rows_affected == 0 {
        return Ok(Vec::new());
    }
    if let Some(given) = given {
        return Ok(given);
    }
    let key = result
        .last_insert_id
        .ok_or_else(|| Error::Query("the database reported no generated key".into()))?;
    let key = i64::try_from(key)
        .map_err(|_| Error::Query(format!("generated key {key} does not fit in i64")))?;
    Ok(vec![key])
}

impl<M: Table> Query for Returning<Insert<M>, M> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::insert(self.query.statement(), dialect)
    }
}

impl<M: Table> FetchQuery for Returning<Insert<M>, M> {
    type Row = M;
    fn model_name(&self) -> &'static str {
        M::TABLE.model
    }
}

/// `SELECT COUNT(*) FROM (query)`, built by [`Select::count_query`].
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct Count {
    inner: SelectStatement,
}

impl Count {
    pub(crate) fn new(inner: SelectStatement) -> Self {
        Count { inner }
    }
}

impl Query for Count {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        render::count(&self.inner, dialect)
    }
}

impl FetchQuery for Count {
    type Row = i64;
    fn model_name(&self) -> &'static str {
        "count"
    }
}

/// Raw SQL whose rows decode as `T`: a model, a tuple, a single value or a
/// [`RowMap`](crate::RowMap). Each `?` in the text is the next parameter; `??` is a
/// literal `?`.
///
/// A model is filled **by column name** ([`ColumnMatch::ByName`](crate::ColumnMatch)):
/// the query may select some of its columns, in any order; an `Option` field whose
/// column is missing is `None`, and a missing column for any other field is a decode
/// error naming the model and the field. Where a name appears twice (a join), the first
/// column wins. Tuples and single values are read in order.
///
/// ```
/// use orm_core::{raw_query, FetchQuery, PostgresqlDialect, Query, Value};
/// let q = raw_query::<(i64, String)>("SELECT id, name FROM users WHERE id > ?", vec![Value::I64(5)]);
/// assert_eq!(q.render(&PostgresqlDialect).unwrap().sql, "SELECT id, name FROM users WHERE id > $1");
/// ```
#[must_use = "a query does nothing until it is run (execute, fetch_all, ...)"]
pub struct RawQuery<T> {
    sql: String,
    params: Vec<Value>,
    _row: PhantomData<fn() -> T>,
}

/// Builds a [`RawQuery`].
///
/// ```
/// # use orm_core::*;
/// let q = raw_query::<(i64, String)>("SELECT id, name FROM tag WHERE name LIKE ?", vec!["r%".into()]);
/// assert_eq!(q.render(&SqliteDialect)?.sql, "SELECT id, name FROM tag WHERE name LIKE ?1");
/// # Ok::<(), Error>(())
/// ```
pub fn raw_query<T>(sql: impl Into<String>, params: Vec<Value>) -> RawQuery<T> {
    RawQuery {
        sql: sql.into(),
        params,
        _row: PhantomData,
    }
}

impl<T> Query for RawQuery<T> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let mut stmt = render::raw(&self.sql, &self.params, dialect)?;
        stmt.columns = crate::statement::ColumnMatch::ByName;
        Ok(stmt)
    }
}

impl<T: FromRow + Send + 'static> FetchQuery for RawQuery<T> {
    type Row = T;
    fn model_name(&self) -> &'static str {
        "raw query"
    }
}

impl<T> std::fmt::Debug for RawQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawQuery")
            .field("sql", &self.sql)
            .field("params", &self.params.len())
            .finish()
    }
}

//! The Manager: the single point of the async API.

use std::sync::{Arc, Weak};

use orm_core::{
    ColumnList, Condition, Database, Dialect, Error, ExecResult, Executor, FetchQuery, FromRow,
    Model, Result, RowStream, Select, Statement, SyncPolicy,
};

use crate::lowlevel::{self, CountLimit, ExecuteQuery, IntoSelect, OnNullable};
#[allow(unused_imports)]
use crate::prefetch::Prefetched;
use crate::scope;
use crate::tx::TxShared;

/// The async models manager: every async operation and transaction of one database.
///
/// Cheap to clone and to share between tasks. There is no need to connect first: the
/// first call connects, and a call after [`close`](Manager::close) connects again, as in
/// peewee-async.
///
/// Calls made inside a transaction scope's future ([`atomic`](Manager::atomic),
/// [`transaction`](Manager::transaction), [`savepoint`](Manager::savepoint)) run in that
/// transaction, whichever clone of the Manager makes them; a task spawned from inside
/// runs outside it.
///
/// ```no_run
/// use orm_manager::prelude::*;
///
/// #[derive(Model, Debug)]
/// struct PageBlock {
///     #[orm(primary_key, auto)]
///     id: i64,
///     #[orm(unique, max_length = 40)]
///     key: String,
///     text: String,
/// }
///
/// # async fn demo() -> Result<(), Error> {
/// let objects = Manager::new(PostgresqlDatabase::connect_lazy("postgres://postgres@127.0.0.1/test")?);
/// let (title, created) = objects
///     .get_or_create(PageBlock::KEY.eq("title"), PageBlock::new("title", "Peewee is AWESOME with async!"))
///     .await?;
/// let mut title: PageBlock = objects.get(PageBlock::KEY.eq("title")).await?;
/// title.text = "Peewee is SUPER awesome with async!".into();
/// objects.update(&mut title).await?;
/// objects
///     .atomic(|tx| async move {
///         tx.create(PageBlock::new("intro", "There are more things in heaven and earth...")).await?;
///         tx.create(PageBlock::new("signature", "William Shakespeare")).await?;
///         Ok::<_, Error>(())
///     })
///     .await?;
/// # Ok(()) }
/// ```
pub struct Manager<D: Database> {
    db: D,
    /// The transaction this Manager was made for (by a scope or guard). Weak: the guard
    /// owns the transaction, and once it is dropped the connection closes even while
    /// clones of this Manager live on; their calls then fail.
    tx: Option<Weak<TxShared<D::Connection>>>,
}

impl<D: Database> Clone for Manager<D> {
    fn clone(&self) -> Self {
        Manager {
            db: self.db.clone(),
            tx: self.tx.clone(),
        }
    }
}

/// Where a Manager call runs: on the database, in the open transaction, or nowhere (the
/// Manager's transaction has ended).
pub(crate) enum Target<D: Database> {
    Db(D),
    Tx(Arc<TxShared<D::Connection>>),
    Ended(D),
}

fn ended() -> Error {
    Error::Transaction("the transaction this Manager was made for has ended".into())
}

impl<D: Database> Executor for Target<D> {
    fn dialect(&self) -> &'static dyn Dialect {
        match self {
            Target::Db(db) | Target::Ended(db) => Executor::dialect(db),
            Target::Tx(tx) => tx.dialect(),
        }
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        match self {
            Target::Db(db) => db.execute(stmt).await,
            Target::Tx(tx) => tx.execute(stmt).await,
            Target::Ended(_) => Err(ended()),
        }
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        match self {
            Target::Db(db) => db.fetch_all(stmt).await,
            Target::Tx(tx) => tx.fetch_all(stmt).await,
            Target::Ended(_) => Err(ended()),
        }
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        match self {
            Target::Db(db) => db.fetch_stream(stmt),
            Target::Tx(tx) => tx.fetch_stream(stmt),
            Target::Ended(_) => Box::pin(orm_core::ErrorStream::new(ended())),
        }
    }
}

/// The Manager runs any statement where its calls run: in the task's (or its own)
/// transaction if there is one, else on the database. So every query, DDL included, runs
/// inside a transaction scope too: `query.execute(&tx)`, `Model::create_table_async(&tx)`.
///
/// ```
/// # use orm_manager::prelude::*;
/// # #[derive(Model, Debug)]
/// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
/// Tag::create_table_async(&objects, false).await?;
/// objects
///     .atomic(|tx| async move {
///         Tag::new("inside").insert().execute(&tx).await?;
///         let names: Vec<String> = Tag::select().columns(Tag::NAME).fetch_all(&tx).await?;
///         assert_eq!(names, ["inside"]);
///         Ok::<_, Error>(())
///     })
///     .await?;
/// # Ok::<(), Error>(()) }).unwrap();
/// ```
impl<D: Database> Executor for Manager<D> {
    fn dialect(&self) -> &'static dyn Dialect {
        Executor::dialect(&self.db)
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.target().execute(stmt).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        self.target().fetch_all(stmt).await
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        match self.target() {
            Target::Db(_) => self.db.fetch_stream(stmt),
            Target::Tx(tx) => tx.stream_owned(stmt),
            Target::Ended(_) => Box::pin(orm_core::ErrorStream::new(ended())),
        }
    }
}

impl<D: Database> Manager<D> {
    /// A manager for `database`.
    pub fn new(database: D) -> Self {
        Manager {
            db: database,
            tx: None,
        }
    }

    pub(crate) fn in_transaction(database: D, tx: &Arc<TxShared<D::Connection>>) -> Self {
        Manager {
            db: database,
            tx: Some(Arc::downgrade(tx)),
        }
    }

    /// The database.
    pub fn database(&self) -> &D {
        &self.db
    }

    /// True when calls on this manager run inside a transaction.
    pub fn in_transaction_now(&self) -> bool {
        self.current_tx().is_some()
    }

    pub(crate) fn current_tx(&self) -> Option<Arc<TxShared<D::Connection>>> {
        match &self.tx {
            Some(tx) => tx.upgrade(),
            None => scope::current(self.db.id()),
        }
    }

    pub(crate) fn target(&self) -> Target<D> {
        match self.current_tx() {
            Some(tx) => Target::Tx(tx),
            None if self.tx.is_some() => Target::Ended(self.db.clone()),
            None => Target::Db(self.db.clone()),
        }
    }

    /// Runs a write of an object of `M` where this Manager's calls run; a model with
    /// lifecycle hooks runs it, hooks included, in a transaction (a savepoint inside one),
    /// so that a hook's error, or a cut, undoes all of it.
    async fn object_write<M: Model, T>(
        &self,
        write: impl AsyncFnOnce(&Target<D>) -> Result<T>,
    ) -> Result<T> {
        if M::TABLE.hooks {
            return self.atomic(async |tx| write(&tx.target()).await).await;
        }
        write(&self.target()).await
    }

    /// The one object matching a condition or a base query: [`Error::DoesNotExist`]
    /// (naming the model) for none, [`Error::MultipleRows`] for more than one.
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`](orm_core::Error::DoesNotExist) when no row matches,
    /// [`Error::MultipleRows`](orm_core::Error::MultipleRows) when several do,
    /// [`Error::Decode`](orm_core::Error::Decode) when a column cannot be read as its
    /// field; [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn get<M: Model, Q: IntoSelect<M>>(&self, query: Q) -> Result<M> {
        lowlevel::get_object(&self.target(), query).await
    }

    /// The one object matching, or `None`.
    ///
    /// # Errors
    ///
    /// [`Error::MultipleRows`](orm_core::Error::MultipleRows) when several rows match,
    /// [`Error::Decode`](orm_core::Error::Decode);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn get_or_none<M: Model, Q: IntoSelect<M>>(&self, query: Q) -> Result<Option<M>> {
        lowlevel::get_object_or_none(&self.target(), query).await
    }

    /// Saves a new object; returns it with its generated key. Sets the ORM's timestamps;
    /// a model with hooks runs them with the insert in one transaction (a savepoint
    /// inside one).
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity) when a unique key, foreign key, NOT
    /// NULL or CHECK refuses the row,
    /// [`Error::InvalidValue`](orm_core::Error::InvalidValue) for a value refused before
    /// sending (text over `max_length`), a hook's error;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent). Nothing is stored.
    pub async fn create<M: Model>(&self, obj: M) -> Result<M> {
        self.object_write::<M, _>(async |target| lowlevel::create_object(target, obj).await)
            .await
    }

    /// Inserts a row named column by column ([`Model::values`]): the columns left out take
    /// their database defaults, the ORM fills in its timestamps and version; returns the
    /// stored object. Hooks do not run (there is no object before the insert).
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// #[derive(Model, Debug)]
    /// struct Post {
    ///     #[orm(primary_key, auto)]
    ///     id: i64,
    ///     title: String,
    ///     #[orm(default = "'draft'", max_length = 20)]
    ///     status: String,
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// # Post::create_table_async(&objects, false).await?;
    /// let post = objects.create_from(Post::values().set(Post::TITLE, "Hello")).await?;
    /// assert_eq!((post.title.as_str(), post.status.as_str()), ("Hello", "draft"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity) when the row breaks a rule (a NOT
    /// NULL column left out without a default),
    /// [`Error::InvalidValue`](orm_core::Error::InvalidValue);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn create_from<M: Model>(&self, values: orm_core::Values<M>) -> Result<M> {
        lowlevel::create_from_values(&self.target(), values).await
    }

    /// Inserts many objects, all or none: on PostgreSQL by binary `COPY ... FROM STDIN`,
    /// one per 50,000 rows; elsewhere as few INSERT statements as the database's
    /// bind-parameter limit allows (one for up to 65,535 values on MySQL, 32,766 on
    /// SQLite); in one transaction (a savepoint inside one) when there is more than one
    /// statement. Returns the number of rows inserted; generated keys are not read back
    /// (execute `insert_many(..)` through the Manager for those). The objects are
    /// written as they are: no hooks run, and the ORM's timestamps and version are not
    /// set (it borrows them).
    ///
    /// ```no_run
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model)] struct Reading { #[orm(primary_key, auto)] id: i64, value: f64 }
    /// # async fn demo(objects: Manager<SqliteDatabase>) -> Result<(), Error> {
    /// let readings: Vec<Reading> = (0..100_000).map(|i| Reading::new(i as f64)).collect();
    /// assert_eq!(objects.bulk_insert(&readings).await?, 100_000);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity) when a row breaks a rule (then no
    /// row is stored), [`Error::InvalidValue`](orm_core::Error::InvalidValue);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn bulk_insert<M: Model>(&self, objects: &[M]) -> Result<u64> {
        let target = self.target();
        if objects.len() <= lowlevel::bulk_chunk_rows::<M>(target.dialect()) {
            return lowlevel::bulk_insert(&target, objects).await;
        }
        self.atomic(|tx| async move { lowlevel::bulk_insert(&tx.target(), objects).await })
            .await
    }

    /// Saves an object: a new one (its generated key still 0) is inserted, any other
    /// updated by its primary key (inserted when no row has its key and the key is its
    /// own, not generated; [`Error::DoesNotExist`] for a generated key no row has).
    /// Returns the object with its key.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model, Debug)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, text: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let db = SqliteDatabase::new(SqliteConfig::memory())?;
    /// # Note::create_table(&db, false)?;
    /// let objects = Manager::new(db);
    /// let mut note = objects.save(Note::new("draft")).await?; // INSERT
    /// note.text = "final".into();
    /// let note = objects.save(note).await?; // UPDATE, by its key
    /// assert_eq!(objects.get::<Note, _>(Note::ID.eq(note.id)).await?.text, "final");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`](orm_core::Error::DoesNotExist) for a generated key no row
    /// has, [`Error::StaleObject`](orm_core::Error::StaleObject) for a versioned object
    /// another writer changed, [`Error::Integrity`](orm_core::Error::Integrity), a hook's
    /// error; [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn save<M: Model>(&self, obj: M) -> Result<M> {
        self.object_write::<M, _>(async |target| lowlevel::save_object(target, obj).await)
            .await
    }

    /// Whether `query` (a condition on the model, or a base query) matches any row.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model, Debug)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, text: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let db = SqliteDatabase::new(SqliteConfig::memory())?;
    /// # Note::create_table(&db, false)?;
    /// let objects = Manager::new(db);
    /// assert!(!objects.exists::<Note, _>(Note::TEXT.eq("x")).await?);
    /// objects.create(Note::new("x")).await?;
    /// assert!(objects.exists::<Note, _>(Note::TEXT.eq("x")).await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn exists<M: Model, Q: IntoSelect<M>>(&self, query: Q) -> Result<bool> {
        lowlevel::exists(&self.target(), query).await
    }

    /// The first object of `query` in its order, or `None`; unlike
    /// [`get_or_none`](Self::get_or_none), more matching rows are no error.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model, Debug)]
    /// # struct Note { #[orm(primary_key, auto)] id: i64, text: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let db = SqliteDatabase::new(SqliteConfig::memory())?;
    /// # Note::create_table(&db, false)?;
    /// let objects = Manager::new(db);
    /// for text in ["b", "a", "c"] {
    ///     objects.create(Note::new(text)).await?;
    /// }
    /// let first = objects.first(Note::select().order_by(Note::TEXT.asc())).await?;
    /// assert_eq!(first.map(|n| n.text).as_deref(), Some("a"));
    /// let two = objects.peek(Note::select().order_by(Note::TEXT.desc()), 2).await?;
    /// assert_eq!(two.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), ["c", "b"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](orm_core::Error::Decode);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn first<M: Model, Q: IntoSelect<M>>(&self, query: Q) -> Result<Option<M>> {
        Ok(lowlevel::peek(&self.target(), query, 1).await?.pop())
    }

    /// The first `n` objects of `query`, in its order (peewee's `peek`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](orm_core::Error::Decode);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn peek<M: Model, Q: IntoSelect<M>>(&self, query: Q, n: u64) -> Result<Vec<M>> {
        lowlevel::peek(&self.target(), query, n).await
    }

    /// Saves every column of an existing object, by its primary key; returns the number
    /// of rows changed. Sets its `updated_at`. A model with a `#[orm(version)]` column is
    /// updated only at the object's version, which goes up by one (in `obj` too);
    /// [`Error::StaleObject`] when another writer changed or deleted the row since `obj`
    /// was read. A model with hooks runs them with the update in one transaction.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model, Debug, Clone)]
    /// # struct Doc { #[orm(primary_key, auto)] id: i64, body: String, #[orm(version)] version: i32 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// # Doc::create_table_async(&objects, false).await?;
    /// let mut mine = objects.create(Doc::new("draft")).await?;
    /// let mut theirs = mine.clone();
    /// mine.body = "mine".into();
    /// objects.update(&mut mine).await?;
    /// assert_eq!(mine.version, 1);
    /// theirs.body = "theirs".into();
    /// let lost = objects.update(&mut theirs).await;
    /// assert!(matches!(lost, Err(Error::StaleObject { version: 0, .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::StaleObject`](orm_core::Error::StaleObject) (versioned models: nothing
    /// written), [`Error::Integrity`](orm_core::Error::Integrity),
    /// [`Error::InvalidValue`](orm_core::Error::InvalidValue), a hook's error;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent). Without a version, an object no row has is `Ok(0)`.
    pub async fn update<M: Model>(&self, obj: &mut M) -> Result<u64> {
        self.object_write::<M, _>(async |target| lowlevel::update_object(target, obj, None).await)
            .await
    }

    /// Saves only the given columns of an existing object (and the ones the ORM
    /// maintains: `updated_at`, the version), as [`update`](Self::update) does.
    ///
    /// # Errors
    ///
    /// As [`update`](Self::update).
    pub async fn update_only<M: Model, L: ColumnList<M>>(
        &self,
        obj: &mut M,
        columns: L,
    ) -> Result<u64> {
        let names = columns.names();
        self.object_write::<M, _>(async |target| {
            lowlevel::update_object(target, obj, Some(&names)).await
        })
        .await
    }

    /// Deletes an object by its primary key; a model with hooks runs them with the
    /// delete in one transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity) when a foreign key still references
    /// the row (see [`delete_recursive`](Self::delete_recursive)), a hook's error;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn delete<M: Model>(&self, obj: &M) -> Result<u64> {
        self.object_write::<M, _>(async |target| lowlevel::delete_object(target, obj).await)
            .await
    }

    /// Deletes an object and the rows that depend on it through foreign keys, in one
    /// transaction (a savepoint when already inside one); rows whose reference is
    /// nullable get NULL ([`OnNullable::SetNull`]) or are deleted too
    /// ([`OnNullable::Delete`]). See [`lowlevel::delete_object_recursive`].
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity),
    /// [`Error::Query`](orm_core::Error::Query) when foreign keys nest more than 32 levels;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent). On any error nothing is deleted (one transaction).
    pub async fn delete_recursive<M: Model>(&self, obj: &M, nullable: OnNullable) -> Result<u64> {
        self.atomic(|tx| async move {
            lowlevel::delete_object_recursive(&tx.target(), obj, nullable).await
        })
        .await
    }

    /// Runs `query`, then each of `subqueries` once per relation, and attaches the related
    /// rows: reach them with [`Prefetched::related`], without more queries.
    ///
    /// # Errors
    ///
    /// [`Error::Query`](orm_core::Error::Query) when a subquery's model has no foreign key
    /// to the rows before it, [`Error::Decode`](orm_core::Error::Decode);
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn prefetch<M: Model, S: crate::prefetch::Subqueries, J>(
        &self,
        query: Select<M, M, J>,
        subqueries: S,
    ) -> Result<crate::prefetch::Prefetched<M>> {
        crate::prefetch::prefetch(&self.target(), query, subqueries).await
    }

    /// Gets the object matching `lookup` or creates `defaults`; see
    /// [`lowlevel::get_or_create`] for the concurrency guarantees.
    ///
    /// Inside a transaction on PostgreSQL and MySQL, a missing row is created on the
    /// database's [`autonomous`](Database::autonomous) side (on a cluster, the
    /// transaction's own node's) and committed at once, then read inside the
    /// transaction: transactions that create the same keys in different
    /// orders (a request tagging a post with tags other requests create too) never wait
    /// for each other, so they cannot deadlock. The created row stays if the transaction
    /// later rolls back. On SQLite (one writer at a time) it is created inside the
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`](orm_core::Error::Integrity) for a rule other than the unique
    /// key the lookup covers, [`Error::MultipleRows`](orm_core::Error::MultipleRows) when
    /// the lookup matches several rows; [`Error::Database`](orm_core::Error::Database) for
    /// what the server refuses, [`Error::ConnectionLost`](orm_core::Error::ConnectionLost)
    /// or [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn get_or_create<M: Model, S: orm_core::scope::Names<M>>(
        &self,
        lookup: Condition<S>,
        defaults: M,
    ) -> Result<(M, bool)> {
        match self.target() {
            Target::Tx(tx) => match self.db.autonomous_for(tx.connection()) {
                Some(side) => {
                    let target = Target::<D>::Tx(tx);
                    lowlevel::get_or_create_with(&target, &side, lookup, defaults).await
                }
                None => lowlevel::get_or_create(&Target::<D>::Tx(tx), lookup, defaults).await,
            },
            target => lowlevel::get_or_create(&target, lookup, defaults).await,
        }
    }

    /// Creates `obj`, or returns the stored row it conflicts with on a unique key; inside
    /// a transaction the row is created as [`get_or_create`](Manager::get_or_create) does.
    ///
    /// # Errors
    ///
    /// As [`get_or_create`](Self::get_or_create); [`Error::Query`](orm_core::Error::Query)
    /// for a model without unique columns to look the row up by.
    pub async fn create_or_get<M: Model>(&self, obj: M) -> Result<(M, bool)> {
        match self.target() {
            Target::Tx(tx) => match self.db.autonomous_for(tx.connection()) {
                Some(side) => lowlevel::create_or_get_on(&side, obj).await,
                None => lowlevel::create_or_get(&Target::<D>::Tx(tx), obj).await,
            },
            target => lowlevel::create_or_get(&target, obj).await,
        }
    }

    /// Runs any query: rows for SELECT, the affected count for UPDATE / DELETE, the keys
    /// of the inserted rows for INSERT (see
    /// [`Insert::execute_returning_keys`](orm_core::Insert::execute_returning_keys): never
    /// guessed; on MySQL several rows with generated keys are sent one statement each,
    /// inside a transaction, so the insert stays all or nothing).
    ///
    /// # Errors
    ///
    /// Those of the query: [`Error::Integrity`](orm_core::Error::Integrity) for writes,
    /// [`Error::Decode`](orm_core::Error::Decode) for rows;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn execute<Q: ExecuteQuery>(&self, query: Q) -> Result<Q::Output> {
        if query.needs_transaction(Executor::dialect(&self.db)) {
            return self
                .atomic(|tx| async move { lowlevel::execute(&tx.target(), query).await })
                .await;
        }
        lowlevel::execute(&self.target(), query).await
    }

    /// Runs raw SQL that returns no rows, in this task's transaction if it has one;
    /// returns the number of rows changed. Each `?` is a bound parameter.
    ///
    /// ```no_run
    /// # use orm_manager::prelude::*;
    /// # async fn demo(objects: Manager<SqliteDatabase>) -> Result<(), Error> {
    /// let changed = objects
    ///     .execute_raw("UPDATE page_block SET text = ? WHERE id = ?", vec!["hi".into(), 1.into()])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Query`](orm_core::Error::Query) when the placeholders and parameters
    /// disagree (nothing is sent); [`Error::Database`](orm_core::Error::Database) for what
    /// the server refuses, [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn execute_raw(&self, sql: &str, params: Vec<orm_core::Value>) -> Result<u64> {
        lowlevel::execute_raw(&self.target(), sql, params).await
    }

    /// `COUNT(*)` of the rows a query returns, its LIMIT / OFFSET included;
    /// [`count_ignoring_limit`](Self::count_ignoring_limit) counts every matching row.
    ///
    /// # Errors
    ///
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn count<M: Model, Out, J>(&self, query: Select<M, Out, J>) -> Result<i64> {
        lowlevel::count_rows(&self.target(), query, CountLimit::Keep).await
    }

    /// `COUNT(*)` of every row a query matches, as if it had no LIMIT or OFFSET (the total
    /// behind a page).
    ///
    /// # Errors
    ///
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn count_ignoring_limit<M: Model, Out, J>(
        &self,
        query: Select<M, Out, J>,
    ) -> Result<i64> {
        lowlevel::count_rows(&self.target(), query, CountLimit::Ignore).await
    }

    /// The first row of a query (a value or a tuple), for aggregates.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](orm_core::Error::Decode) when the row does not read as `Out`;
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn scalar<M: Model, Out: FromRow + Send + 'static, J>(
        &self,
        query: Select<M, Out, J>,
    ) -> Result<Option<Out>> {
        lowlevel::scalar(&self.target(), query).await
    }

    /// The first row of a query of several [`named`](orm_core::ExprExt::named)
    /// expressions, as a map from name to value (peewee's `scalar(as_dict=True)`).
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model)]
    /// # struct Post { #[orm(primary_key, auto)] id: i64, views: i64 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// # let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// # Post::create_table_async(&objects, false).await?;
    /// objects.create(Post::new(10)).await?;
    /// objects.create(Post::new(32)).await?;
    /// let totals = objects
    ///     .scalar_map(Post::select().columns((
    ///         count_all().named("posts"),
    ///         max(Post::VIEWS).named("most"),
    ///     )))
    ///     .await?
    ///     .expect("an aggregate returns a row");
    /// assert_eq!(totals.get("posts"), Some(&Value::I64(2)));
    /// assert_eq!(totals.get("most"), Some(&Value::I64(32)));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`](orm_core::Error::Database) for what the server refuses,
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::PoolTimeout`](orm_core::Error::PoolTimeout) when no connection answers,
    /// [`Error::Query`](orm_core::Error::Query) for a query the dialect cannot express
    /// (nothing is sent).
    pub async fn scalar_map<M: Model, Out, J>(
        &self,
        query: Select<M, Out, J>,
    ) -> Result<Option<orm_core::RowMap>> {
        lowlevel::scalar_map(&self.target(), query).await
    }

    /// Streams the rows of a query one at a time, for results too large for memory, in
    /// the Manager's transaction if it has one (the stream holds it open while it runs).
    /// On MySQL, rows inside a transaction are read in full first (mysql_async lends the
    /// connection to one result at a time).
    pub fn stream<'a, Q: FetchQuery>(&'a self, query: &Q) -> RowStream<'a, Q::Row> {
        let stmt = match query.render(Executor::dialect(&self.db)) {
            Ok(stmt) => stmt,
            Err(e) => return Box::pin(orm_core::ErrorStream::new(e)),
        };
        Executor::fetch_stream(self, stmt)
    }

    /// Opens the database's async side now (the first call would do it anyway).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionLost`](orm_core::Error::ConnectionLost) or
    /// [`Error::ConnectTimeout`](orm_core::Error::ConnectTimeout) when the server cannot be
    /// reached, [`Error::Tls`](orm_core::Error::Tls) when TLS fails,
    /// [`Error::Database`](orm_core::Error::Database) when it refuses the login.
    pub async fn connect(&self) -> Result<()> {
        self.db.connect().await
    }

    /// Closes the database's async side. A later call opens it again.
    pub async fn close(&self) {
        self.db.close().await
    }

    /// True while the database's async side holds an open connection: after
    /// [`connect`](Self::connect) or a first query, until [`close`](Self::close).
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// assert!(!objects.is_connected());
    /// objects.connect().await?;
    /// assert!(objects.is_connected());
    /// objects.close().await;
    /// assert!(!objects.is_connected());
    /// # Ok(()) }
    /// ```
    pub fn is_connected(&self) -> bool {
        self.db.is_connected()
    }

    /// Allows blocking calls on the database until the guard is dropped; then the
    /// previous policy comes back and the sync connection this opened is closed.
    ///
    /// ```no_run
    /// # use orm_manager::prelude::*;
    /// # #[derive(Model)] struct PageBlock { #[orm(primary_key, auto)] id: i64 }
    /// # fn demo(objects: Manager<PostgresqlDatabase>) -> Result<(), Error> {
    /// let _sync = objects.allow_sync();
    /// PageBlock::drop_table(objects.database(), true)?;
    /// # Ok(()) }
    /// ```
    pub fn allow_sync(&self) -> AllowSync<D> {
        let previous = self.db.sync_gate().set(SyncPolicy::Allow);
        AllowSync {
            db: self.db.clone(),
            previous,
        }
    }
}

/// Restores the previous sync policy and closes the sync connection when dropped; see
/// [`Manager::allow_sync`].
///
/// ```
/// # use orm_manager::prelude::*;
/// let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
/// objects.database().set_allow_sync(SyncPolicy::Deny);
/// {
///     let _sync = objects.allow_sync();
///     assert_eq!(objects.database().sync_policy(), SyncPolicy::Allow);
/// }
/// assert_eq!(objects.database().sync_policy(), SyncPolicy::Deny);
/// # Ok::<(), Error>(())
/// ```
#[must_use = "dropped at once, the previous sync policy is back"]
pub struct AllowSync<D: Database> {
    db: D,
    previous: SyncPolicy,
}

impl<D: Database> Drop for AllowSync<D> {
    fn drop(&mut self) {
        self.db.close_sync();
        self.db.sync_gate().set(self.previous);
    }
}

impl<D: Database> std::fmt::Debug for Manager<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("database", &self.db.id())
            .field("in_transaction", &self.in_transaction_now())
            .finish()
    }
}

impl<D: Database> std::fmt::Debug for AllowSync<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllowSync")
            .field("previous", &self.previous)
            .finish_non_exhaustive()
    }
}

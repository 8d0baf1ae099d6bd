//! A database whose backend is chosen at run time, from a URL.
//!
//! A service that reads `DATABASE_URL` should not have to make every handler generic over
//! the database type: [`AnyDatabase`] is one type for all of them, each call dispatched to
//! the backend the URL named (one `match`, no boxing).

use std::sync::Arc;

use orm_core::{
    Connection, Database, Dialect, Error, ExecResult, Executor, FromRow, Result, RowStream,
    Statement, SyncExecutor, SyncGate, TxOptions,
};

#[cfg(feature = "mysql")]
use orm_mysql::{MySQLConnection, MySQLDatabase, PooledMySQLDatabase};
#[cfg(feature = "postgres")]
use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConnection, PostgresqlDatabase};
#[cfg(feature = "sqlite")]
use orm_sqlite::{PooledSqliteDatabase, SqliteConnection, SqliteDatabase};

/// Any database of the enabled backends, single or pooled.
///
/// ```
/// use orm_manager::prelude::*;
/// use orm_manager::AnyDatabase;
///
/// # #[derive(Model, Debug)]
/// # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
/// # let url = "sqlite::memory:";
/// // url = std::env::var("DATABASE_URL"): sqlite:..., postgres://..., mysql://...
/// let database = AnyDatabase::pooled(url)?;
/// Tag::create_table(&database, false)?;
/// let objects = Manager::new(database);
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// objects.create(Tag::new("any")).await?;
/// assert_eq!(objects.count_ignoring_limit(Tag::select()).await?, 1);
/// # Ok::<(), Error>(()) })?;
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyDatabase {
    /// One PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgresql(PostgresqlDatabase),
    /// A pool of PostgreSQL connections.
    #[cfg(feature = "postgres")]
    PooledPostgresql(PooledPostgresqlDatabase),
    /// One MySQL / MariaDB connection.
    #[cfg(feature = "mysql")]
    MySQL(MySQLDatabase),
    /// A pool of MySQL / MariaDB connections.
    #[cfg(feature = "mysql")]
    PooledMySQL(PooledMySQLDatabase),
    /// One SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteDatabase),
    /// A pool of SQLite connections.
    #[cfg(feature = "sqlite")]
    PooledSqlite(PooledSqliteDatabase),
}

/// Runs `$body` with `$db` bound to whichever database `$any` holds.
macro_rules! each {
    ($any:expr, $db:ident => $body:expr) => {
        match $any {
            #[cfg(feature = "postgres")]
            AnyDatabase::Postgresql($db) => $body,
            #[cfg(feature = "postgres")]
            AnyDatabase::PooledPostgresql($db) => $body,
            #[cfg(feature = "mysql")]
            AnyDatabase::MySQL($db) => $body,
            #[cfg(feature = "mysql")]
            AnyDatabase::PooledMySQL($db) => $body,
            #[cfg(feature = "sqlite")]
            AnyDatabase::Sqlite($db) => $body,
            #[cfg(feature = "sqlite")]
            AnyDatabase::PooledSqlite($db) => $body,
        }
    };
}

/// The backend a URL names, by its scheme.
enum Scheme {
    Postgresql,
    MySQL,
    Sqlite,
}

fn scheme(url: &str) -> Result<Scheme> {
    let name = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match name.as_str() {
        "postgres" | "postgresql" => Ok(Scheme::Postgresql),
        "mysql" | "mariadb" => Ok(Scheme::MySQL),
        "sqlite" | "file" => Ok(Scheme::Sqlite),
        _ => Err(Error::Config(format!(
            "cannot tell the database from the URL scheme `{name}:` \
             (postgres://, mysql://, mariadb:// or sqlite:)"
        ))),
    }
}

fn not_enabled(backend: &str) -> Error {
    Error::Config(format!(
        "the URL names {backend}, but orm-manager was built without its feature"
    ))
}

impl AnyDatabase {
    /// A single-connection database for `url`; nothing is opened yet.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        match scheme(url)? {
            #[cfg(feature = "postgres")]
            Scheme::Postgresql => PostgresqlDatabase::connect_lazy(url).map(Self::Postgresql),
            #[cfg(feature = "mysql")]
            Scheme::MySQL => MySQLDatabase::connect_lazy(url).map(Self::MySQL),
            #[cfg(feature = "sqlite")]
            Scheme::Sqlite => SqliteDatabase::connect_lazy(url).map(Self::Sqlite),
            #[allow(unreachable_patterns)]
            other => Err(not_enabled(name(&other))),
        }
    }

    /// A pooled database for `url` (the backend's default pool options); connections
    /// open on demand.
    pub fn pooled(url: &str) -> Result<Self> {
        match scheme(url)? {
            #[cfg(feature = "postgres")]
            Scheme::Postgresql => {
                PooledPostgresqlDatabase::connect_lazy(url).map(Self::PooledPostgresql)
            }
            #[cfg(feature = "mysql")]
            Scheme::MySQL => PooledMySQLDatabase::connect_lazy(url).map(Self::PooledMySQL),
            #[cfg(feature = "sqlite")]
            Scheme::Sqlite => PooledSqliteDatabase::connect_lazy(url).map(Self::PooledSqlite),
            #[allow(unreachable_patterns)]
            other => Err(not_enabled(name(&other))),
        }
    }
}

fn name(scheme: &Scheme) -> &'static str {
    match scheme {
        Scheme::Postgresql => "PostgreSQL",
        Scheme::MySQL => "MySQL",
        Scheme::Sqlite => "SQLite",
    }
}

impl std::fmt::Debug for AnyDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        each!(self, db => f.debug_tuple("AnyDatabase").field(db).finish())
    }
}

macro_rules! from {
    ($feature:literal, $ty:ty, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl From<$ty> for AnyDatabase {
            fn from(db: $ty) -> Self {
                AnyDatabase::$variant(db)
            }
        }
    };
}
from!("postgres", PostgresqlDatabase, Postgresql);
from!("postgres", PooledPostgresqlDatabase, PooledPostgresql);
from!("mysql", MySQLDatabase, MySQL);
from!("mysql", PooledMySQLDatabase, PooledMySQL);
from!("sqlite", SqliteDatabase, Sqlite);
from!("sqlite", PooledSqliteDatabase, PooledSqlite);

impl Executor for AnyDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        each!(self, db => Executor::dialect(db))
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        each!(self, db => db.execute(stmt).await)
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        each!(self, db => db.fetch_all(stmt).await)
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        each!(self, db => db.fetch_stream(stmt))
    }
}

impl SyncExecutor for AnyDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        each!(self, db => SyncExecutor::dialect(db))
    }

    fn execute_sync(&self, stmt: Statement) -> Result<ExecResult> {
        each!(self, db => db.execute_sync(stmt))
    }

    fn fetch_all_sync<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        each!(self, db => db.fetch_all_sync(stmt))
    }
}

impl Database for AnyDatabase {
    type Connection = AnyConnection;

    async fn acquire(&self) -> Result<AnyConnection> {
        Ok(match self {
            #[cfg(feature = "postgres")]
            AnyDatabase::Postgresql(db) => AnyConnection::Postgresql(Arc::new(db.acquire().await?)),
            #[cfg(feature = "postgres")]
            AnyDatabase::PooledPostgresql(db) => {
                AnyConnection::Postgresql(Arc::new(db.acquire().await?))
            }
            #[cfg(feature = "mysql")]
            AnyDatabase::MySQL(db) => AnyConnection::MySQL(Arc::new(db.acquire().await?)),
            #[cfg(feature = "mysql")]
            AnyDatabase::PooledMySQL(db) => AnyConnection::MySQL(Arc::new(db.acquire().await?)),
            #[cfg(feature = "sqlite")]
            AnyDatabase::Sqlite(db) => AnyConnection::Sqlite(Arc::new(db.acquire().await?)),
            #[cfg(feature = "sqlite")]
            AnyDatabase::PooledSqlite(db) => AnyConnection::Sqlite(Arc::new(db.acquire().await?)),
        })
    }

    async fn connect(&self) -> Result<()> {
        each!(self, db => db.connect().await)
    }

    async fn close(&self) {
        each!(self, db => db.close().await)
    }

    fn is_connected(&self) -> bool {
        each!(self, db => db.is_connected())
    }

    fn close_sync(&self) {
        each!(self, db => db.close_sync())
    }

    fn sync_gate(&self) -> &SyncGate {
        each!(self, db => db.sync_gate())
    }

    fn id(&self) -> usize {
        each!(self, db => db.id())
    }

    fn autonomous(&self) -> Option<Self> {
        each!(self, db => db.autonomous().map(AnyDatabase::from))
    }
}

/// A connection of an [`AnyDatabase`], held for a transaction.
#[non_exhaustive]
pub enum AnyConnection {
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgresql(Arc<PostgresqlConnection>),
    /// A MySQL / MariaDB connection.
    #[cfg(feature = "mysql")]
    MySQL(Arc<MySQLConnection>),
    /// An SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<SqliteConnection>),
}

/// Runs `$body` with `$conn` bound to whichever connection `$any` holds.
macro_rules! each_conn {
    ($any:expr, $conn:ident => $body:expr) => {
        match $any {
            #[cfg(feature = "postgres")]
            AnyConnection::Postgresql($conn) => $body,
            #[cfg(feature = "mysql")]
            AnyConnection::MySQL($conn) => $body,
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite($conn) => $body,
        }
    };
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        each_conn!(self, conn => f.debug_tuple("AnyConnection").field(conn).finish())
    }
}

impl Executor for AnyConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        each_conn!(self, conn => conn.dialect())
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        each_conn!(self, conn => conn.execute(stmt).await)
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&self, stmt: Statement) -> Result<Vec<T>> {
        each_conn!(self, conn => conn.fetch_all(stmt).await)
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        each_conn!(self, conn => conn.fetch_stream(stmt))
    }
}

impl Connection for AnyConnection {
    async fn begin(&self, options: &TxOptions) -> Result<()> {
        each_conn!(self, conn => conn.begin(options).await)
    }

    async fn commit(&self) -> Result<()> {
        each_conn!(self, conn => conn.commit().await)
    }

    async fn rollback(&self) -> Result<()> {
        each_conn!(self, conn => conn.rollback().await)
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        each_conn!(self, conn => conn.savepoint(name).await)
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        each_conn!(self, conn => conn.release_savepoint(name).await)
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        each_conn!(self, conn => conn.rollback_to_savepoint(name).await)
    }

    fn in_transaction(&self) -> bool {
        each_conn!(self, conn => conn.in_transaction())
    }

    fn retire(&self) {
        each_conn!(self, conn => conn.retire())
    }

    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        each_conn!(&*self, conn => conn.clone().fetch_stream_owned(stmt))
    }
}

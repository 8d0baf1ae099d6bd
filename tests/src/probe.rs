//! What the server sees of a test's database: sessions left inside a transaction, or
//! still running a statement whose future was dropped.
//!
//! A cut scope must leave no session holding a transaction open, and a cut statement's
//! effects are known only once it has stopped. A discarded connection closes
//! asynchronously and a cancelled statement stops asynchronously, so each check gives the
//! server a moment (up to ten seconds: a leaked session never goes, a closed one goes in milliseconds, or
//! seconds on a loaded machine) before it reports what is still busy.

use std::future::Future;
use std::time::Duration;

use orm_core::{raw_query, Database, FetchQuery, Query};
use orm_mysql::{MySQLConfig, MySQLDatabase, PooledMySQLDatabase};
use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase};
use orm_sqlite::{PooledSqliteDatabase, SqliteConfig, SqliteDatabase};

use crate::harness::{mysql_url, pg_url};

/// A database whose open transactions a test can count from outside.
pub trait Inspect: Database {
    /// Sessions of this database inside a transaction or running a statement, after
    /// giving closed connections and cancelled statements up to ten seconds to go.
    fn busy_sessions(&self) -> impl Future<Output = i64> + Send;
}

async fn settle<F, Fut>(mut count: F) -> i64
where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = i64> + Send,
{
    for _ in 0..500 {
        let open = count().await;
        if open == 0 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    count().await
}

async fn pg_open(config: &PostgresqlConfig) -> i64 {
    let admin = PostgresqlDatabase::connect_lazy(&pg_url()).expect("PG_URL");
    pg_open_on(admin, config).await
}

/// As `pg_open`, asking the server `admin` is connected to.
async fn pg_open_on(admin: PostgresqlDatabase, config: &PostgresqlConfig) -> i64 {
    let app = config
        .get_application_name()
        .expect("the harness names every test's sessions")
        .to_owned();
    let open = settle(|| {
        let (admin, app) = (admin.clone(), app.clone());
        async move {
            raw_query::<i64>(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = ? AND pid <> pg_backend_pid() \
                 AND (state LIKE 'idle in transaction%' OR state = 'active')",
                vec![app.into()],
            )
            .fetch_one(&admin)
            .await
            .expect("pg_stat_activity")
        }
    })
    .await;
    admin.close().await;
    open
}

async fn mysql_open(config: &MySQLConfig) -> i64 {
    let admin = MySQLDatabase::connect_lazy(&mysql_url()).expect("MYSQL_URL");
    mysql_open_on(admin, config).await
}

/// As `mysql_open`, asking the server `admin` is connected to.
async fn mysql_open_on(admin: MySQLDatabase, config: &MySQLConfig) -> i64 {
    let database = config.database().expect("the harness names a database");
    let open = settle(|| {
        let (admin, database) = (admin.clone(), database.clone());
        async move { mysql_busy(&admin, &database).await }
    })
    .await;
    if open != 0 {
        // What the sessions are, for the failure message.
        let sessions: Vec<orm_core::RowMap> = raw_query(
            "SELECT p.ID, p.COMMAND, p.TIME, p.STATE, p.INFO, t.trx_state, t.trx_started, \
             t.trx_query FROM information_schema.PROCESSLIST p LEFT JOIN \
             information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID WHERE p.DB = ?",
            vec![database.into()],
        )
        .fetch_all(&admin)
        .await
        .unwrap_or_default();
        eprintln!("busy MySQL sessions: {sessions:?}");
    }
    admin.close().await;
    open
}

/// Sessions of `database` running a statement, plus one if a transaction holds any of its
/// tables. An open transaction holds a metadata lock on every table it touched until it
/// ends, so the probe's `LOCK TABLES .. WRITE` (not waiting) fails. (Counting idle
/// sessions that own an `INNODB_TRX` row instead was wrong on MariaDB: now and then a
/// session keeps such a row after an autocommit `CREATE TABLE` although it is in no
/// transaction, and no idle-transaction timeout ends it.)
async fn mysql_busy(admin: &MySQLDatabase, database: &str) -> i64 {
    let running = mysql_running(admin, database).await;
    let tables: Vec<String> = raw_query(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
        vec![database.into()],
    )
    .fetch_all(admin)
    .await
    .expect("TABLES");
    if tables.is_empty() {
        return running;
    }
    let quote = |name: &str| format!("`{}`", name.replace('`', "``"));
    let list: Vec<String> = tables
        .iter()
        .map(|t| format!("{}.{} WRITE", quote(database), quote(t)))
        .collect();
    raw_query::<()>("SET SESSION lock_wait_timeout = 0", vec![])
        .execute(admin)
        .await
        .expect("lock_wait_timeout");
    let locked = raw_query::<()>(&format!("LOCK TABLES {}", list.join(", ")), vec![])
        .execute(admin)
        .await;
    raw_query::<()>("UNLOCK TABLES", vec![])
        .execute(admin)
        .await
        .expect("UNLOCK TABLES");
    running + i64::from(locked.is_err())
}

/// Sessions of `database` running a statement, other than `admin`'s own.
async fn mysql_running(admin: &MySQLDatabase, database: &str) -> i64 {
    raw_query::<i64>(
        "SELECT count(*) FROM information_schema.PROCESSLIST \
         WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
        vec![database.into()],
    )
    .fetch_one(admin)
    .await
    .expect("PROCESSLIST")
}

/// SQLite has no sessions to list: a connection holds a write transaction (or runs a
/// write) when another cannot take the write lock. (Statements abandoned on the blocking
/// pool are waited for by the database itself: see orm-sqlite's gate.)
async fn sqlite_open(config: &SqliteConfig) -> i64 {
    let path = config.path().expect("the harness uses files").to_owned();
    let probe =
        SqliteDatabase::new(SqliteConfig::file(path).busy_timeout(Duration::from_millis(0)))
            .expect("sqlite opens");
    let open = settle(|| {
        let probe = probe.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let begin = raw_query::<()>("BEGIN IMMEDIATE", vec![]).execute_sync(&probe);
                let _ = raw_query::<()>("ROLLBACK", vec![]).execute_sync(&probe);
                i64::from(begin.is_err())
            })
            .await
            .expect("probe")
        }
    })
    .await;
    probe.close_sync();
    open
}

impl Inspect for PostgresqlDatabase {
    async fn busy_sessions(&self) -> i64 {
        pg_open(self.config()).await
    }
}

impl Inspect for PooledPostgresqlDatabase {
    async fn busy_sessions(&self) -> i64 {
        pg_open(self.config()).await
    }
}

impl Inspect for MySQLDatabase {
    async fn busy_sessions(&self) -> i64 {
        mysql_open(self.config()).await
    }
}

impl Inspect for PooledMySQLDatabase {
    async fn busy_sessions(&self) -> i64 {
        mysql_open(self.config()).await
    }
}

impl Inspect for SqliteDatabase {
    async fn busy_sessions(&self) -> i64 {
        sqlite_open(self.config()).await
    }
}

impl Inspect for PooledSqliteDatabase {
    async fn busy_sessions(&self) -> i64 {
        sqlite_open(self.config()).await
    }
}

/// Every node of a cluster, each asked about itself.
impl Inspect for orm_runtime::ClusterDatabase<PooledMySQLDatabase> {
    async fn busy_sessions(&self) -> i64 {
        let mut busy = 0;
        for node in self.nodes() {
            let admin = MySQLDatabase::new(node.config().clone()).expect("node");
            busy += mysql_open_on(admin, node.config()).await;
        }
        busy
    }
}

/// The primary and every replica, each asked about itself.
impl Inspect for orm_runtime::ReplicatedDatabase<PooledPostgresqlDatabase> {
    async fn busy_sessions(&self) -> i64 {
        let mut busy = 0;
        for member in std::iter::once(self.primary()).chain(self.replicas()) {
            let admin = PostgresqlDatabase::new(member.config().clone()).expect("member");
            busy += pg_open_on(admin, member.config()).await;
        }
        busy
    }
}

/// The MariaDB primary, asked as the shared server is; a replica, which never holds a
/// transaction (only plain reads go there), for statements still running.
impl Inspect for orm_runtime::ReplicatedDatabase<PooledMySQLDatabase> {
    async fn busy_sessions(&self) -> i64 {
        let primary = self.primary();
        let admin = MySQLDatabase::new(primary.config().clone()).expect("primary");
        let mut busy = mysql_open_on(admin, primary.config()).await;
        for replica in self.replicas() {
            let admin = MySQLDatabase::new(replica.config().clone()).expect("replica");
            let database = replica.config().database().expect("named");
            busy += settle(|| {
                let (admin, database) = (admin.clone(), database.clone());
                async move { mysql_running(&admin, &database).await }
            })
            .await;
        }
        busy
    }
}

impl Inspect for orm_manager::AnyDatabase {
    async fn busy_sessions(&self) -> i64 {
        use orm_manager::AnyDatabase as Any;
        match self {
            Any::Postgresql(db) => db.busy_sessions().await,
            Any::PooledPostgresql(db) => db.busy_sessions().await,
            Any::MySQL(db) => db.busy_sessions().await,
            Any::PooledMySQL(db) => db.busy_sessions().await,
            Any::Sqlite(db) => db.busy_sessions().await,
            Any::PooledSqlite(db) => db.busy_sessions().await,
            _ => unreachable!("every backend is enabled in the tests"),
        }
    }
}

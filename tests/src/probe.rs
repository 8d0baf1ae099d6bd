//! What the server sees of a test's database: sessions left inside a transaction.
//!
//! A transaction scope that is cut must leave no session holding a transaction open.
//! A discarded connection closes asynchronously, so each check gives the server a moment
//! (up to two seconds) to see it go before it reports what is still open.

use std::future::Future;
use std::time::Duration;

use orm_core::{raw_query, Database, FetchQuery, Query};
use orm_mysql::{MySQLDatabase, MySqlConfig, PooledMySQLDatabase};
use orm_postgres::{PgConfig, PooledPostgresqlDatabase, PostgresqlDatabase};
use orm_sqlite::{PooledSqliteDatabase, SqliteConfig, SqliteDatabase};

use crate::harness::{mysql_url, pg_url};

/// A database whose open transactions a test can count from outside.
pub trait Inspect: Database {
    /// Sessions of this database that are inside a transaction and waiting for the
    /// client, after giving closed connections up to two seconds to go.
    fn open_transactions(&self) -> impl Future<Output = i64> + Send;
}

async fn settle<F, Fut>(mut count: F) -> i64
where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = i64> + Send,
{
    for _ in 0..100 {
        let open = count().await;
        if open == 0 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    count().await
}

async fn pg_open(config: &PgConfig) -> i64 {
    let app = config
        .get_application_name()
        .expect("the harness names every test's sessions")
        .to_owned();
    let admin = PostgresqlDatabase::connect_lazy(&pg_url()).expect("PG_URL");
    let open = settle(|| {
        let (admin, app) = (admin.clone(), app.clone());
        async move {
            raw_query::<i64>(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = ? AND state LIKE 'idle in transaction%'",
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

async fn mysql_open(config: &MySqlConfig) -> i64 {
    let database = config.database().expect("the harness names a database");
    let admin = MySQLDatabase::connect_lazy(&mysql_url()).expect("MYSQL_URL");
    let open = settle(|| {
        let (admin, database) = (admin.clone(), database.clone());
        async move {
            // Sessions of this database holding an InnoDB transaction while idle.
            raw_query::<i64>(
                "SELECT count(*) FROM information_schema.INNODB_TRX t \
                 JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
                 WHERE p.DB = ? AND p.COMMAND = 'Sleep'",
                vec![database.into()],
            )
            .fetch_one(&admin)
            .await
            .expect("INNODB_TRX")
        }
    })
    .await;
    admin.close().await;
    open
}

/// SQLite has no sessions to list: a connection holds a write transaction when another
/// cannot take the write lock.
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
    async fn open_transactions(&self) -> i64 {
        pg_open(self.config()).await
    }
}

impl Inspect for PooledPostgresqlDatabase {
    async fn open_transactions(&self) -> i64 {
        pg_open(self.config()).await
    }
}

impl Inspect for MySQLDatabase {
    async fn open_transactions(&self) -> i64 {
        mysql_open(self.config()).await
    }
}

impl Inspect for PooledMySQLDatabase {
    async fn open_transactions(&self) -> i64 {
        mysql_open(self.config()).await
    }
}

impl Inspect for SqliteDatabase {
    async fn open_transactions(&self) -> i64 {
        sqlite_open(self.config()).await
    }
}

impl Inspect for PooledSqliteDatabase {
    async fn open_transactions(&self) -> i64 {
        sqlite_open(self.config()).await
    }
}

//! Real servers, one isolated namespace per test: a PostgreSQL schema (through the
//! connection's `search_path`) or a MySQL database, so tests run in parallel without
//! touching each other.

use orm_core::{Database, Query, SyncExecutor};
use orm_mysql::{MySQLConfig, MySQLDatabase, PooledMySQLDatabase};
use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase};
use orm_runtime::PoolSettings;
use orm_sqlite::{PooledSqliteDatabase, SqliteConfig, SqliteDatabase};

/// The PostgreSQL URL: `PG_URL`, or the local default.
pub fn pg_url() -> String {
    std::env::var("PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

const PG_HELP: &str =
    "cannot reach PostgreSQL at PG_URL (default postgres://postgres@127.0.0.1:5432/test); \
start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

fn admin() -> PostgresqlDatabase {
    let config =
        PostgresqlConfig::from_url(&pg_url()).expect("PG_URL is not a valid PostgreSQL URL");
    PostgresqlDatabase::new(config).expect("database")
}

/// Installs what the suites need in the test database, once per process: the hstore
/// extension (the database may be brand new). Tests in other processes may race for it,
/// so a failed attempt is retried while the extension is still missing.
fn pg_extensions(db: &PostgresqlDatabase) {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let mut last = None;
        for _ in 0..5 {
            let created = orm_core::raw_query::<()>(
                "CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public",
                vec![],
            )
            .execute_sync(db);
            match created {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{PG_HELP}\n(CREATE EXTENSION hstore: {last:?})");
    });
}

/// Creates an empty schema `t_<name>` and returns a config whose connections use it.
pub fn pg_config(name: &str) -> PostgresqlConfig {
    let schema = format!("t_{name}");
    let db = admin();
    let run = |sql: String| {
        orm_core::raw_query::<()>(sql, vec![])
            .execute_sync(&db)
            .unwrap_or_else(|e| panic!("{PG_HELP}\n({e})"))
    };
    pg_extensions(&db);
    run(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    run(format!("CREATE SCHEMA \"{schema}\""));
    db.close_sync();
    PostgresqlConfig::from_url(&pg_url())
        .expect("valid URL")
        // `public` last: extension types such as hstore live there.
        .options(&format!("-c search_path={schema},public"))
        // Names this test's sessions in pg_stat_activity (see `probe`).
        .application_name(&schema)
}

/// A single-connection database in a fresh schema.
pub fn pg_single(name: &str) -> PostgresqlDatabase {
    PostgresqlDatabase::new(pg_config(&format!("{name}_single"))).expect("database")
}

/// A pooled database in a fresh schema.
pub fn pg_pooled(name: &str) -> PooledPostgresqlDatabase {
    pg_pooled_sized(name, 4)
}

/// A pooled database of `size` connections in a fresh schema.
pub fn pg_pooled_sized(name: &str, size: usize) -> PooledPostgresqlDatabase {
    PooledPostgresqlDatabase::new(pg_config(&format!("{name}_pooled{size}")).max_connections(size))
        .expect("pool builds")
}

/// Runs a statement with no parameters, blocking; for test set-up.
pub fn exec_sync<D: SyncExecutor>(db: &D, sql: &str) {
    orm_core::raw_query::<()>(sql, vec![])
        .execute_sync(db)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The MySQL URL: `MYSQL_URL`, or the local default.
pub fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

const MYSQL_HELP: &str =
    "cannot reach MariaDB/MySQL at MYSQL_URL (default mysql://root@127.0.0.1:3306/test); \
start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";

/// Creates an empty database `t_<name>` and returns a config that uses it.
pub fn mysql_config(name: &str) -> MySQLConfig {
    let database = format!("t_{name}");
    let admin = MySQLDatabase::new(
        MySQLConfig::from_url(&mysql_url()).expect("MYSQL_URL is not a valid MySQL URL"),
    )
    .expect("database");
    let run = |sql: String| {
        orm_core::raw_query::<()>(sql, vec![])
            .execute_sync(&admin)
            .unwrap_or_else(|e| panic!("{MYSQL_HELP}\n({e})"))
    };
    run(format!("DROP DATABASE IF EXISTS `{database}`"));
    run(format!(
        "CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ));
    admin.close_sync();
    let url = mysql_url();
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&url);
    MySQLConfig::from_url(&format!("{base}/{database}")).expect("valid URL")
}

/// A single-connection MySQL database in a fresh database.
pub fn mysql_single(name: &str) -> MySQLDatabase {
    MySQLDatabase::new(mysql_config(&format!("{name}_single"))).expect("database")
}

/// A pooled MySQL database in a fresh database.
pub fn mysql_pooled(name: &str) -> PooledMySQLDatabase {
    mysql_pooled_sized(name, 4)
}

/// A pooled MySQL database of `size` connections in a fresh database.
pub fn mysql_pooled_sized(name: &str, size: usize) -> PooledMySQLDatabase {
    PooledMySQLDatabase::new(mysql_config(&format!("{name}_pooled{size}")).max_connections(size))
        .expect("pool builds")
}

/// A fresh SQLite file for test `name`, in the system's temporary directory.
pub fn sqlite_config(name: &str) -> SqliteConfig {
    let dir = std::env::temp_dir().join(format!("orm-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    SqliteConfig::file(path)
}

/// A single-connection SQLite database in a fresh file.
pub fn sqlite_single(name: &str) -> SqliteDatabase {
    SqliteDatabase::new(sqlite_config(&format!("{name}_single"))).expect("sqlite opens")
}

/// A single-connection SQLite database in a fresh file whose statements run on the
/// calling task, always ([`RunOn::Inline`](orm_sqlite::RunOn::Inline)).
pub fn sqlite_inline(name: &str) -> SqliteDatabase {
    let config = sqlite_config(&format!("{name}_inline")).run_on(orm_sqlite::RunOn::Inline);
    SqliteDatabase::new(config).expect("sqlite opens")
}

/// A single-connection SQLite database in a fresh file whose statements run on tokio's
/// blocking pool, always ([`RunOn::BlockingPool`](orm_sqlite::RunOn::BlockingPool)).
pub fn sqlite_blocking(name: &str) -> SqliteDatabase {
    let config = sqlite_config(&format!("{name}_blocking")).run_on(orm_sqlite::RunOn::BlockingPool);
    SqliteDatabase::new(config).expect("sqlite opens")
}

/// A pooled SQLite database in a fresh file.
pub fn sqlite_pooled(name: &str) -> PooledSqliteDatabase {
    sqlite_pooled_sized(name, 4)
}

/// A pooled SQLite database of `size` connections in a fresh file.
pub fn sqlite_pooled_sized(name: &str, size: usize) -> PooledSqliteDatabase {
    PooledSqliteDatabase::new(sqlite_config(&format!("{name}_pooled{size}")).max_connections(size))
        .expect("sqlite opens")
}

/// The pooled PostgreSQL database of [`pg_pooled`], as an `AnyDatabase`.
pub fn any_pg(name: &str) -> orm_manager::AnyDatabase {
    pg_pooled(&format!("any_{name}")).into()
}

/// The pooled MySQL database of [`mysql_pooled`], as an `AnyDatabase`.
pub fn any_mysql(name: &str) -> orm_manager::AnyDatabase {
    mysql_pooled(&format!("any_{name}")).into()
}

/// The single SQLite database of [`sqlite_single`], as an `AnyDatabase`.
pub fn any_sqlite(name: &str) -> orm_manager::AnyDatabase {
    sqlite_single(&format!("any_{name}")).into()
}

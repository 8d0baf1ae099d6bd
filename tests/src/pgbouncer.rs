//! A PgBouncer 1.18 in transaction mode in front of the test PostgreSQL server (the one
//! `PG_URL` names), installed and started on first use by this test process and stopped
//! when it ends. Each test gets a database of its own (a pooler passes no startup
//! `options`, so a per-connection `search_path` cannot isolate tests).

use std::sync::OnceLock;

use orm_core::Database;

use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase};
use orm_runtime::PoolSettings;

use crate::harness::pg_url;
use crate::services::{as_postgres, install, run_until_exit, wait_for_port, work_dir};

/// The port PgBouncer listens on, started on first call.
fn port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(start)
}

fn start() -> u16 {
    install("pgbouncer", "pgbouncer");
    let upstream = PostgresqlConfig::from_url(&pg_url()).expect("PG_URL");
    let host = upstream.get_host().unwrap_or_else(|| "127.0.0.1".into());
    let upstream_port = upstream.get_port().unwrap_or(5432);
    let user = upstream.get_user().unwrap_or("postgres");
    let dir = work_dir("pgbouncer");
    let port = crate::services::free_port();
    let ini = dir.join("pgbouncer.ini");
    let users = dir.join("userlist.txt");
    let log = dir.join("pgbouncer.log");
    std::fs::write(&users, format!("\"{user}\" \"\"\n")).expect("userlist");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n* = host={host} port={upstream_port}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
             max_client_conn = 2000\ndefault_pool_size = 10\nlogfile = {log}\n\
             server_idle_timeout = 1\n",
            users = users.display(),
            log = log.display(),
        ),
    )
    .expect("pgbouncer.ini");
    run_until_exit(
        &as_postgres(&format!("pgbouncer {}", ini.display())),
        &format!("rm -rf {}", dir.display()),
        &dir.join("watcher.log"),
    );
    wait_for_port(port, "PgBouncer", &log);
    port
}

/// A config for database `t_pgb_<name>` (created empty, with hstore) through PgBouncer in
/// transaction mode, in [pooler mode](PostgresqlConfig::pooler).
pub fn config(name: &str) -> PostgresqlConfig {
    let database = format!("t_pgb_{name}");
    let admin = PostgresqlDatabase::new(PostgresqlConfig::from_url(&pg_url()).expect("PG_URL"))
        .expect("admin");
    crate::harness::exec_sync(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"),
    );
    crate::harness::exec_sync(&admin, &format!("CREATE DATABASE \"{database}\""));
    admin.close_sync();
    let direct = PostgresqlConfig::from_url(&pg_url())
        .expect("PG_URL")
        .dbname(&database);
    let db = PostgresqlDatabase::new(direct).expect("database");
    crate::harness::exec_sync(&db, "CREATE EXTENSION IF NOT EXISTS hstore");
    db.close_sync();
    let upstream = PostgresqlConfig::from_url(&pg_url()).expect("PG_URL");
    let user = upstream.get_user().unwrap_or("postgres");
    PostgresqlConfig::from_url(&format!(
        "postgres://{user}@127.0.0.1:{}/{database}?pooler=true",
        port()
    ))
    .expect("pooler URL")
    // Names this test's server sessions in pg_stat_activity (see `probe`).
    .application_name(&database)
}

/// A pool of four connections through PgBouncer.
pub fn pooled(name: &str) -> PooledPostgresqlDatabase {
    PooledPostgresqlDatabase::new(config(&format!("{name}_pooled")).max_connections(4))
        .expect("pool builds")
}

/// One connection through PgBouncer.
pub fn single(name: &str) -> PostgresqlDatabase {
    PostgresqlDatabase::new(config(&format!("{name}_single"))).expect("database")
}

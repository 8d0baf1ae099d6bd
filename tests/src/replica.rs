//! A PostgreSQL primary with a streaming hot standby, of the tests' own: `initdb` for the
//! primary on a free port, `pg_basebackup -R` for the standby on another, both in a
//! temporary directory, started on first use by this test process and stopped and
//! deleted when it ends. The shared server is not touched.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::services::{as_postgres, free_port, run_until_exit, sh, wait_for_port, work_dir};

/// The two servers.
#[derive(Debug)]
pub struct Pair {
    /// The primary's port.
    pub primary: u16,
    /// The standby's port.
    pub standby: u16,
    /// The standby's data directory (to stop it: `pg_ctl stop -D`).
    pub standby_data: PathBuf,
}

fn pg_bin(name: &str) -> String {
    let dir = sh("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1");
    format!("{}/{name}", dir.trim())
}

/// Starts `postgres` on `data` and `port`, stopped when the process ends.
fn serve(
    data: &std::path::Path,
    dir: &std::path::Path,
    port: u16,
    hba: &std::path::Path,
    name: &str,
) {
    let log = dir.join(format!("{name}.log"));
    let start = as_postgres(&format!(
        "{postgres} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
         -c hba_file={hba} -c fsync=off -c wal_level=replica -c max_wal_senders=5 \
         -c hot_standby=on -c max_connections=60 -c wal_receiver_status_interval=1s",
        postgres = pg_bin("postgres"),
        data = data.display(),
        dir = dir.display(),
        hba = hba.display(),
    ));
    run_until_exit(&start, "true", &log);
    wait_for_port(port, name, &log);
    sh(&format!(
        "for i in $(seq 1 200); do pg_isready -q -h 127.0.0.1 -p {port} && exit 0; sleep 0.1; done; \
         cat {log}; exit 1",
        log = log.display()
    ));
}

/// The primary and its standby, made once per test process.
pub fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = work_dir("replica");
        let hba = dir.join("pg_hba.conf");
        std::fs::write(
            &hba,
            "host replication all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 trust\n\
             local all all trust\n",
        )
        .expect("pg_hba.conf");
        let primary_data = dir.join("primary");
        sh(&as_postgres(&format!(
            "{} -D {} -A trust -U postgres --no-sync >/dev/null",
            pg_bin("initdb"),
            primary_data.display()
        )));
        let primary = free_port();
        serve(&primary_data, &dir, primary, &hba, "primary");
        let standby_data = dir.join("standby");
        sh(&as_postgres(&format!(
            "{} -h 127.0.0.1 -p {primary} -U postgres -D {} -R -X stream --no-sync",
            pg_bin("pg_basebackup"),
            standby_data.display()
        )));
        let standby = free_port();
        serve(&standby_data, &dir, standby, &hba, "standby");
        // Deleted once both servers have stopped with the process.
        run_until_exit(
            "sleep infinity",
            &format!("sleep 2; rm -rf {}", dir.display()),
            &std::env::temp_dir().join("orm-tests-replica.log"),
        );
        Pair {
            primary,
            standby,
            standby_data,
        }
    })
}

/// Stops the standby now (fast shutdown), as an outage would.
pub fn stop_standby() {
    let pair = pair();
    sh(&as_postgres(&format!(
        "{} stop -D {} -m fast -w >/dev/null",
        pg_bin("pg_ctl"),
        pair.standby_data.display()
    )));
}

/// Waits until the standby has replayed everything the primary has written so far.
pub fn wait_for_replay(timeout: Duration) {
    let pair = pair();
    let lsn = sh(&format!(
        "psql -h 127.0.0.1 -p {} -U postgres -Atc 'SELECT pg_current_wal_lsn()'",
        pair.primary
    ));
    let tries = (timeout.as_millis() / 50).max(1);
    sh(&format!(
        "for i in $(seq 1 {tries}); do \
           r=$(psql -h 127.0.0.1 -p {port} -U postgres -Atc \"SELECT pg_last_wal_replay_lsn() >= '{lsn}'\"); \
           [ \"$r\" = t ] && exit 0; sleep 0.05; done; exit 1",
        port = pair.standby,
        lsn = lsn.trim()
    ));
}

/// Runs `sql` on the standby directly (e.g. `SELECT pg_wal_replay_pause()`).
pub fn on_standby(sql: &str) {
    sh(&format!(
        "psql -h 127.0.0.1 -p {} -U postgres -qAtc \"{sql}\" >/dev/null",
        pair().standby
    ));
}

/// A MariaDB primary and a replica of it (GTID replication, the replica `read_only`), of
/// the tests' own, on free ports. User `orm` (no password) may do anything in database
/// `app`, and only there, so the replica's `read_only` refuses its writes; it may also
/// ask the replica's status (`SLAVE MONITOR`).
#[derive(Debug)]
pub struct MariaDbPair {
    /// The primary's port.
    pub primary: u16,
    /// The replica's port.
    pub replica: u16,
    /// The replica's socket, for root (to stop and start its replication).
    pub replica_socket: PathBuf,
    /// The primary's socket, for root.
    pub primary_socket: PathBuf,
}

/// The MariaDB pair, made once per test process.
pub fn mariadb_pair() -> &'static MariaDbPair {
    use crate::services::{mariadb_root, start_mariadb};
    static PAIR: OnceLock<MariaDbPair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let (primary, primary_socket) = start_mariadb(
            &work_dir("mariadb-primary"),
            "mariadb-primary",
            "--server-id=1 --log-bin=binlog --binlog-format=ROW",
        );
        let (replica, replica_socket) = start_mariadb(
            &work_dir("mariadb-replica"),
            "mariadb-replica",
            "--server-id=2 --read-only=1 --skip-log-bin",
        );
        mariadb_root(
            &primary_socket,
            "CREATE USER 'repl'@'%'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';",
        );
        mariadb_root(
            &replica_socket,
            &format!(
                "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary}, \
                 MASTER_USER='repl', MASTER_USE_GTID=slave_pos; START SLAVE;"
            ),
        );
        // Made on the primary after replication started: the replica gets them too.
        mariadb_root(
            &primary_socket,
            "CREATE DATABASE app; CREATE USER 'orm'@'%'; GRANT ALL ON app.* TO 'orm'@'%'; \
             GRANT SLAVE MONITOR ON *.* TO 'orm'@'%';",
        );
        let pair = MariaDbPair {
            primary,
            replica,
            replica_socket,
            primary_socket: primary_socket.clone(),
        };
        wait_for_mariadb_replica(&pair, &primary_socket, Duration::from_secs(20));
        pair
    })
}

/// Waits until the replica has applied everything the primary has written so far.
fn wait_for_mariadb_replica(pair: &MariaDbPair, primary_socket: &std::path::Path, limit: Duration) {
    let gtid = crate::services::mariadb_root(primary_socket, "SELECT @@gtid_binlog_pos");
    let waited = crate::services::mariadb_root(
        &pair.replica_socket,
        &format!(
            "SELECT MASTER_GTID_WAIT('{}', {})",
            gtid.trim(),
            limit.as_secs()
        ),
    );
    assert_eq!(waited.trim(), "0", "the replica did not catch up: {waited}");
}

/// Waits until the MariaDB replica has applied everything the primary has written so far.
pub fn wait_for_mariadb_replay(limit: Duration) {
    let pair = mariadb_pair();
    wait_for_mariadb_replica(pair, &pair.primary_socket, limit);
}

/// Shuts the MariaDB replica down now, as an outage would.
pub fn stop_mariadb_replica() {
    crate::services::sh(&format!(
        "mariadb-admin --no-defaults -uroot --socket={} shutdown",
        mariadb_pair().replica_socket.display()
    ));
}

/// Runs `sql` as root on the MariaDB replica (e.g. `STOP SLAVE SQL_THREAD`).
pub fn on_mariadb_replica(sql: &str) {
    crate::services::mariadb_root(&mariadb_pair().replica_socket, sql);
}

/// A fresh schema `t_rep_<name>` made on the primary (the standby gets it by replication)
/// and a replicated database over pools on both whose sessions use it, with
/// read-your-writes: the behaviour and Manager suites run through it.
pub fn suite_replicated(
    name: &str,
) -> orm_runtime::ReplicatedDatabase<orm_postgres::PooledPostgresqlDatabase> {
    use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig};
    use orm_runtime::PoolSettings;
    let pair = pair();
    let schema = format!("t_rep_{name}");
    static HSTORE: OnceLock<()> = OnceLock::new();
    let psql = |sql: &str| {
        sh(&format!(
            "psql -h 127.0.0.1 -p {} -U postgres -qAtc '{sql}' >/dev/null",
            pair.primary
        ))
    };
    HSTORE.get_or_init(|| {
        psql("CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public");
    });
    psql(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    psql(&format!("CREATE SCHEMA \"{schema}\""));
    let pool = |port: u16| {
        let config = PostgresqlConfig::new("postgres")
            .host("127.0.0.1")
            .port(port)
            .options(&format!("-c search_path={schema},public"))
            .application_name(&schema)
            .max_connections(4);
        PooledPostgresqlDatabase::new(config).expect("pool")
    };
    orm_runtime::ReplicatedDatabase::new(pool(pair.primary), vec![pool(pair.standby)])
        .read_your_writes(Duration::from_secs(10))
        .expect("a new database")
}

/// A fresh database `t_rep_<name>` made on the MariaDB primary (the replica gets it by
/// replication) and a replicated database over pools on both, as user `orm`, with
/// read-your-writes: the behaviour and Manager suites run through it.
pub fn suite_replicated_mysql(
    name: &str,
) -> orm_runtime::ReplicatedDatabase<orm_mysql::PooledMySQLDatabase> {
    use orm_mysql::{MySQLConfig, PooledMySQLDatabase};
    use orm_runtime::PoolSettings;
    let pair = mariadb_pair();
    let database = format!("t_rep_{name}");
    crate::services::mariadb_root(
        &pair.primary_socket,
        &format!(
            "DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database} \
             CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; \
             GRANT ALL ON {database}.* TO 'orm'@'%';"
        ),
    );
    // The replica's pool opens on the database: wait until it is there.
    wait_for_mariadb_replica(pair, &pair.primary_socket, Duration::from_secs(20));
    let pool = |port: u16| {
        let config = MySQLConfig::new(&database)
            .host("127.0.0.1")
            .port(port)
            .user("orm")
            .max_connections(4);
        PooledMySQLDatabase::new(config).expect("pool")
    };
    orm_runtime::ReplicatedDatabase::new(pool(pair.primary), vec![pool(pair.replica)])
        .read_your_writes(Duration::from_secs(10))
        .expect("a new database")
}

/// Runs a suite test through `db`, then, once `replayed` has waited for the replica,
/// checks that the writer's read goes there and answers as the primary does.
pub async fn answers_once_replayed<P, R>(
    db: &orm_runtime::ReplicatedDatabase<P, R>,
    replayed: impl FnOnce(),
) where
    P: orm_core::Database,
    R: orm_core::Database,
{
    use orm_core::{raw_query, FetchQuery};
    crate::suite::joins(db).await;
    let during = db.reads();
    eprintln!("during the suite test: {during:?}");
    assert!(
        during.by_replicas + during.by_primary > 0,
        "reads are counted"
    );
    replayed();
    let sql = "SELECT name FROM users ORDER BY name";
    let from_primary: Vec<String> = raw_query(sql, vec![])
        .fetch_all(db.primary())
        .await
        .expect("read");
    let through: Vec<String> = raw_query(sql, vec![]).fetch_all(db).await.expect("read");
    assert_eq!(through, from_primary);
    assert!(!through.is_empty());
    assert_eq!(
        db.reads().by_replicas,
        during.by_replicas + 1,
        "replayed: the replica answers the writer"
    );
}

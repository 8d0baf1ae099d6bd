//! A MariaDB primary and a GTID replica behind `ReplicatedDatabase` (servers of the tests'
//! own, see `orm_tests::replica`): where each statement runs, as the server says
//! (`@@server_id`: 1 on the primary, 2 on the replica, which is `read_only`), replication
//! seen through it, read-your-writes, and reads going on when the replica is down.

use std::time::{Duration, Instant};

use orm_core::{raw_query, Error, FetchQuery, Query};
use orm_manager::Manager;
use orm_mysql::{MySQLConfig, PooledMySQLDatabase};
use orm_runtime::{PoolSettings, ReplicatedDatabase};
use orm_tests::replica::{mariadb_pair, on_mariadb_replica, stop_mariadb_replica};

fn pooled(port: u16) -> PooledMySQLDatabase {
    let config = MySQLConfig::new("app")
        .host("127.0.0.1")
        .port(port)
        .user("orm")
        .connect_timeout(Duration::from_secs(2))
        .max_connections(2);
    PooledMySQLDatabase::new(config).expect("pool")
}

fn server() -> orm_core::RawQuery<i64> {
    raw_query("SELECT CAST(@@server_id AS SIGNED)", vec![])
}

/// Polls `read` through the replicated database until it gives `want`.
async fn eventually(db: &ReplicatedDatabase<PooledMySQLDatabase>, sql: &str, want: Vec<i64>) {
    let started = Instant::now();
    loop {
        let got: Vec<i64> = raw_query(sql, vec![]).fetch_all(db).await.expect("read");
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{sql}: still {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_and_the_rest_to_the_primary() {
    let pair = mariadb_pair();
    let db = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.replica)]);
    let objects = Manager::new(db.clone());
    assert_eq!(
        server().fetch_one(&db).await.expect("read"),
        2,
        "a read: the replica"
    );
    assert_eq!(server().fetch_one(db.primary()).await.expect("pinned"), 1);

    // The replica is read_only for `orm`: these would fail there.
    objects
        .execute_raw("CREATE TABLE routed (id INT PRIMARY KEY, n INT)", vec![])
        .await
        .expect("DDL on the primary");
    objects
        .execute_raw("INSERT INTO routed VALUES (1, 0)", vec![])
        .await
        .expect("a write on the primary");
    let locked: Vec<(i64, i64)> = raw_query(
        "SELECT id, CAST(@@server_id AS SIGNED) FROM routed FOR UPDATE",
        vec![],
    )
    .fetch_all(&db)
    .await
    .expect("FOR UPDATE on the primary");
    assert_eq!(locked, [(1, 1)]);
    let in_transaction = objects
        .atomic(|tx| async move { server().fetch_one(&tx).await })
        .await
        .expect("a transaction");
    assert_eq!(
        in_transaction, 1,
        "a transaction's reads stay on the primary"
    );
    eventually(&db, "SELECT id FROM routed", vec![1]).await;

    // Read-your-writes, by GTID position. While the replica does not apply, a task that
    // wrote reads from the primary (so it sees its rows), and a task that did not still
    // reads from the replica. Once the replica has applied the writes, the writer reads
    // from it again, long before the window ends.
    let fresh = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.replica)])
        .read_your_writes(Duration::from_secs(60))
        .expect("not shared yet");
    on_mariadb_replica("STOP SLAVE SQL_THREAD");
    for id in 2..8 {
        raw_query::<()>("INSERT INTO routed VALUES (?, 0)", vec![id.into()])
            .execute(&fresh)
            .await
            .expect("write");
        let seen: Vec<(i64, i64)> = raw_query(
            "SELECT id, CAST(@@server_id AS SIGNED) FROM routed WHERE id = ?",
            vec![id.into()],
        )
        .fetch_all(&fresh)
        .await
        .expect("read");
        assert_eq!(seen, [(id, 1)], "row {id} is read right after its write");
    }
    let bystander = fresh.clone();
    let elsewhere = tokio::spawn(async move { server().fetch_one(&bystander).await })
        .await
        .expect("task")
        .expect("read");
    assert_eq!(
        elsewhere, 2,
        "a task that did not write reads from the replica"
    );
    on_mariadb_replica("START SLAVE SQL_THREAD");
    eventually(&db, "SELECT count(*) FROM routed", vec![7]).await;
    let seen: Vec<(i64, i64)> = raw_query(
        "SELECT id, CAST(@@server_id AS SIGNED) FROM routed WHERE id = 7",
        vec![],
    )
    .fetch_all(&fresh)
    .await
    .expect("read");
    assert_eq!(
        seen,
        [(7, 2)],
        "applied: the replica answers the writer again"
    );

    // A bound on lag: while the replica does not apply (its SQL thread stopped: no
    // `Seconds_Behind_Master`), reads go to the primary; once it applies again, to it.
    let bounded = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.replica)])
        .max_lag(Duration::from_secs(5))
        .expect("MariaDB replicas report their lag");
    assert_eq!(server().fetch_one(&bounded).await.expect("read"), 2);
    on_mariadb_replica("STOP SLAVE SQL_THREAD");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        server().fetch_one(&bounded).await.expect("read"),
        1,
        "the replica does not apply: the primary answers"
    );
    on_mariadb_replica("START SLAVE SQL_THREAD");
    eventually(&db, "SELECT count(*) FROM routed", vec![7]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        server().fetch_one(&bounded).await.expect("read"),
        2,
        "applying again: the replica answers"
    );
    // SQLite has no replicas to ask: the bound is refused.
    let sqlite = orm_sqlite::SqliteDatabase::new(orm_sqlite::SqliteConfig::memory()).expect("db");
    let refused =
        ReplicatedDatabase::new(sqlite.clone(), vec![sqlite]).max_lag(Duration::from_secs(1));
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");

    // The replica goes down: reads go on, from the primary.
    stop_mariadb_replica();
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(server().fetch_one(&db).await.expect("read"), 1);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    raw_query::<()>("UPDATE routed SET n = n + 1", vec![])
        .execute(&db)
        .await
        .expect("a write");
}

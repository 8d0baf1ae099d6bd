//! A primary with a streaming hot standby behind `ReplicatedDatabase` (servers of the
//! tests' own, see `orm_tests::replica`): where each statement runs, as the server says
//! (`pg_is_in_recovery()` is true on the standby only), replication seen through it,
//! read-your-writes, a bound on lag, and reads going on when the replica is unreachable
//! or stopped.

use std::time::{Duration, Instant};

use orm_core::{raw_query, Error, FetchQuery, Query};
use orm_manager::Manager;
use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig};
use orm_runtime::{PoolSettings, ReplicatedDatabase};
use orm_tests::replica::{pair, stop_standby, wait_for_replay};

fn pooled(port: u16) -> PooledPostgresqlDatabase {
    let config = PostgresqlConfig::new("postgres")
        .host("127.0.0.1")
        .port(port)
        .application_name("orm_replicas")
        .connect_timeout(Duration::from_secs(2))
        .max_connections(2);
    PooledPostgresqlDatabase::new(config).expect("pool")
}

fn on_standby() -> orm_core::RawQuery<bool> {
    raw_query("SELECT pg_is_in_recovery()", vec![])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_standby_and_the_rest_to_the_primary() {
    let pair = pair();
    let db = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.standby)]);
    let objects = Manager::new(db.clone());
    assert!(
        on_standby().fetch_one(&db).await.expect("read"),
        "a read goes to the standby"
    );
    let blocking = db.clone();
    let sync = tokio::task::spawn_blocking(move || on_standby().fetch_one_sync(&blocking))
        .await
        .expect("blocking");
    assert!(sync.expect("sync read"), "a blocking read too");
    assert!(
        !on_standby().fetch_one(db.primary()).await.expect("pinned"),
        "a read pinned to the primary"
    );

    // Writes and DDL: the standby would refuse them ("read-only transaction").
    objects
        .execute_raw("CREATE TABLE routed (id INT PRIMARY KEY, n INT)", vec![])
        .await
        .expect("DDL on the primary");
    objects
        .execute_raw("INSERT INTO routed VALUES (1, 0)", vec![])
        .await
        .expect("a write on the primary");
    let locked: Vec<(i32, bool)> = raw_query(
        "SELECT id, pg_is_in_recovery() FROM routed FOR UPDATE",
        vec![],
    )
    .fetch_all(&db)
    .await
    .expect("FOR UPDATE on the primary");
    assert_eq!(locked, [(1, false)]);
    let in_transaction = objects
        .atomic(|tx| async move { on_standby().fetch_one(&tx).await })
        .await
        .expect("a transaction");
    assert!(!in_transaction, "a transaction's reads stay on the primary");

    // What the primary wrote is read from the standby once it has replayed it.
    wait_for_replay(Duration::from_secs(10));
    let seen: Vec<(i32, bool)> = raw_query("SELECT id, pg_is_in_recovery() FROM routed", vec![])
        .fetch_all(&db)
        .await
        .expect("read");
    assert_eq!(seen, [(1, true)]);

    // Read-your-writes, by WAL position. While the standby's replay is paused, a task that
    // wrote reads from the primary (so it sees its rows), and a task that did not still
    // reads from the standby. Once the standby has replayed the writes, the writer reads
    // from it again, long before the window ends.
    let fresh = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.standby)])
        .read_your_writes(Duration::from_secs(60))
        .expect("not shared yet");
    let objects = Manager::new(fresh.clone());
    orm_tests::replica::on_standby("SELECT pg_wal_replay_pause()");
    for id in 2..12 {
        objects
            .execute_raw("INSERT INTO routed VALUES (?, 0)", vec![id.into()])
            .await
            .expect("write");
        let seen: Vec<(i32, bool)> = raw_query(
            "SELECT id, pg_is_in_recovery() FROM routed WHERE id = ?",
            vec![id.into()],
        )
        .fetch_all(&fresh)
        .await
        .expect("read");
        assert_eq!(
            seen,
            [(id, false)],
            "row {id} is read right after its write"
        );
    }
    let bystander = fresh.clone();
    let elsewhere = tokio::spawn(async move { on_standby().fetch_one(&bystander).await })
        .await
        .expect("task")
        .expect("read");
    assert!(
        elsewhere,
        "a task that did not write reads from the standby"
    );
    objects
        .atomic(|tx| async move {
            tx.execute_raw("INSERT INTO routed VALUES (20, 0)", vec![])
                .await
        })
        .await
        .expect("a transaction");
    let seen: Vec<i32> = raw_query("SELECT id FROM routed WHERE id = 20", vec![])
        .fetch_all(&fresh)
        .await
        .expect("read");
    assert_eq!(seen, [20], "a committed transaction is read right after");
    orm_tests::replica::on_standby("SELECT pg_wal_replay_resume()");
    wait_for_replay(Duration::from_secs(10));
    let seen: Vec<(i32, bool)> = raw_query(
        "SELECT id, pg_is_in_recovery() FROM routed WHERE id = 20",
        vec![],
    )
    .fetch_all(&fresh)
    .await
    .expect("read");
    assert_eq!(
        seen,
        [(20, true)],
        "replayed: the standby answers the writer again"
    );

    // A bound on lag: while the standby's replay is paused behind the primary, reads go
    // to the primary; once it has caught up, to the standby again.
    let bounded = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(pair.standby)])
        .max_lag(Duration::from_millis(500))
        .expect("PostgreSQL replicas report their lag");
    assert!(
        on_standby().fetch_one(&bounded).await.expect("read"),
        "caught up"
    );
    orm_tests::replica::on_standby("SELECT pg_wal_replay_pause()");
    raw_query::<()>("INSERT INTO routed VALUES (30, 0)", vec![])
        .execute(bounded.primary())
        .await
        .expect("a write the standby will not replay yet");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        !on_standby().fetch_one(&bounded).await.expect("read"),
        "the standby is behind: the primary answers"
    );
    orm_tests::replica::on_standby("SELECT pg_wal_replay_resume()");
    wait_for_replay(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        on_standby().fetch_one(&bounded).await.expect("read"),
        "caught up again: the standby answers"
    );

    // The standby stops: reads go on, from the primary, and so do writes.
    stop_standby();
    let started = Instant::now();
    for _ in 0..3 {
        assert!(
            !on_standby()
                .fetch_one(&db)
                .await
                .expect("read without the standby"),
            "answered by the primary"
        );
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

/// A replica nobody answers at is left out: reads answer from the primary, and only the
/// first pays for finding out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_replica_is_left_out() {
    let pair = pair();
    let nowhere = orm_tests::services::free_port();
    let db = ReplicatedDatabase::new(pooled(pair.primary), vec![pooled(nowhere)]);
    assert!(!on_standby().fetch_one(&db).await.expect("read"));
    let started = Instant::now();
    for _ in 0..20 {
        assert!(!on_standby().fetch_one(&db).await.expect("read"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the replica is not tried again at once: {:?}",
        started.elapsed()
    );
    // A statement the primary refuses is the caller's error, not a reason to go elsewhere.
    let wrong = raw_query::<i32>("SELECT no_such_column FROM pg_class", vec![])
        .fetch_all(&db)
        .await;
    assert!(matches!(wrong, Err(Error::Database { .. })), "{wrong:?}");
}

/// With `least_busy`, a read goes to the replica answering the fewest reads now: while one
/// replica runs a long read, the others take every read; in turn, they alternate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_least_busy_replica_answers() {
    let pair = pair();
    let named = |name: &str| {
        let config = PostgresqlConfig::new("postgres")
            .host("127.0.0.1")
            .port(pair.standby)
            .application_name(name)
            .max_connections(2);
        PooledPostgresqlDatabase::new(config).expect("pool")
    };
    let which = || raw_query::<String>("SELECT current_setting('application_name')", vec![]);
    let replicas = || vec![named("replica_a"), named("replica_b")];

    let in_turn = ReplicatedDatabase::new(pooled(pair.primary), replicas());
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(which().fetch_one(&in_turn).await.expect("read"));
    }
    assert_eq!(seen, ["replica_a", "replica_b", "replica_a", "replica_b"]);

    let db = ReplicatedDatabase::new(pooled(pair.primary), replicas())
        .least_busy()
        .expect("not shared yet");
    let slow = db.clone();
    let long = tokio::spawn(async move {
        raw_query::<String>(
            "SELECT current_setting('application_name') FROM pg_sleep(1.5)",
            vec![],
        )
        .fetch_one(&slow)
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(which().fetch_one(&db).await.expect("read"));
    }
    let busy = long.await.expect("task").expect("long read");
    let other = if busy == "replica_a" {
        "replica_b"
    } else {
        "replica_a"
    };
    assert_eq!(seen, [other; 4], "the busy one ({busy}) is passed over");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..4 {
        seen.insert(which().fetch_one(&db).await.expect("read"));
    }
    assert_eq!(seen.len(), 2, "equals take turns: {seen:?}");
}

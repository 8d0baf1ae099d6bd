//! The pool options every driver gets from the runtime, checked on each backend's pooled
//! database: `min_idle`, `idle_timeout`, `max_lifetime`. `tests/pool_options.rs` runs it
//! for PostgreSQL, MariaDB and SQLite.

use std::time::{Duration, Instant};

use orm_core::{raw_query, Database, FetchQuery, Query};
use orm_runtime::{Driver, PoolSettings, PooledDatabase};

/// Waits up to five seconds for `done` to hold of the pool's (max, open, idle).
async fn until<D: Driver>(
    db: &PooledDatabase<D>,
    what: &str,
    done: impl Fn((usize, usize, usize)) -> bool,
) {
    let started = Instant::now();
    while !done(db.pool_status()) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: pool status {:?}",
            db.pool_status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `min_idle` connections open after the first use and stay open.
pub async fn min_idle_connections_open<D: Driver>(config: D::Config) {
    let db = PooledDatabase::<D>::new(config.max_connections(4).min_idle(2)).expect("pool");
    db.connect().await.expect("first use");
    until(&db, "two idle connections", |(_, open, idle)| {
        open >= 2 && idle >= 2
    })
    .await;
    db.close().await;
    until(
        &db,
        "idle connections open again after close",
        |(_, _, idle)| idle >= 2,
    )
    .await;
}

/// Connections idle longer than `idle_timeout` close.
pub async fn idle_connections_close<D: Driver>(config: D::Config) {
    let config = config
        .max_connections(3)
        .idle_timeout(Some(Duration::from_millis(200)));
    let db = PooledDatabase::<D>::new(config).expect("pool");
    let conns = futures_util::future::join_all((0..3).map(|_| db.acquire())).await;
    drop(conns);
    assert_eq!(db.pool_status().1, 3, "three connections were opened");
    until(&db, "idle connections closed", |(_, open, _)| open == 0).await;
    raw_query::<i64>("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect("a new connection after the idle ones closed");
}

/// A connection older than `max_lifetime` is replaced: the server sees a new session.
/// `session_sql` returns the session's id (`None` where there is none to see: SQLite).
pub async fn old_connections_are_replaced<D: Driver>(config: D::Config, session_sql: Option<&str>) {
    let config = config
        .max_connections(1)
        .max_lifetime(Some(Duration::from_millis(300)));
    let db = PooledDatabase::<D>::new(config).expect("pool");
    let sql = session_sql.unwrap_or("SELECT 1");
    let first: i64 = raw_query(sql, vec![]).fetch_one(&db).await.expect("first");
    let again: i64 = raw_query(sql, vec![]).fetch_one(&db).await.expect("again");
    if session_sql.is_some() {
        assert_eq!(first, again, "a young connection is reused");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later: i64 = raw_query(sql, vec![]).fetch_one(&db).await.expect("later");
    if session_sql.is_some() {
        assert_ne!(first, later, "an old connection is replaced");
    } else {
        assert_eq!(db.pool_status().1, 1);
    }
}

/// An isolation level asked for is the one the server runs: read committed sees a row
/// another connection commits mid-transaction, repeatable read does not (servers with
/// levels: PostgreSQL, MySQL).
pub async fn isolation_levels_apply<D: Driver>(config: D::Config) {
    use orm_core::{Error, IsolationLevel, TxOptions};
    let db = PooledDatabase::<D>::new(config.max_connections(2)).expect("pool");
    let objects = orm_manager::Manager::new(db.clone());
    objects
        .execute_raw("CREATE TABLE seen (id INT)", vec![])
        .await
        .expect("create");
    for (level, sees_the_commit) in [
        (IsolationLevel::ReadCommitted, true),
        (IsolationLevel::RepeatableRead, false),
    ] {
        let db = db.clone();
        let count = "SELECT CAST(COUNT(*) AS SIGNED) FROM seen";
        let count = if D::BACKEND == "postgres" {
            "SELECT COUNT(*) FROM seen"
        } else {
            count
        };
        let (before, after) = objects
            .transaction_with(TxOptions::new().isolation(level), |tx| async move {
                let before: i64 = raw_query(count, vec![]).fetch_one(&tx).await?;
                // Committed on the pool's other connection while the transaction runs.
                raw_query::<()>("INSERT INTO seen VALUES (1)", vec![])
                    .execute(&db)
                    .await?;
                let after: i64 = raw_query(count, vec![]).fetch_one(&tx).await?;
                Ok::<_, Error>((before, after))
            })
            .await
            .expect("transaction");
        assert_eq!(
            after - before,
            i64::from(sees_the_commit),
            "{level:?}: sees the other connection's commit = {sees_the_commit}"
        );
    }
}

/// Concurrent read-then-write increments in SERIALIZABLE transactions conflict for real
/// (PostgreSQL: serialization failures; MariaDB: deadlocks; SQLite: waits for the write
/// lock); run with retries, every one of them lands exactly once.
pub async fn retried_increments_all_land<D: Driver>(config: D::Config) {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use orm_core::{Error, IsolationLevel, TxOptions};
    use orm_manager::{Manager, RetryPolicy};

    const TASKS: u32 = 6;
    const EACH: u32 = 4;
    let db = PooledDatabase::<D>::new(config.max_connections(TASKS as usize)).expect("pool");
    let objects = Manager::new(db);
    objects
        .execute_raw(
            "CREATE TABLE counter (name VARCHAR(20) PRIMARY KEY, hits BIGINT NOT NULL)",
            vec![],
        )
        .await
        .expect("create");
    objects
        .execute_raw("INSERT INTO counter VALUES ('home', 0)", vec![])
        .await
        .expect("seed");
    let attempts = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(100)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20));
    let serializable = TxOptions::new().isolation(IsolationLevel::Serializable);
    let tasks = (0..TASKS).map(|_| {
        let (objects, attempts, policy) = (objects.clone(), attempts.clone(), policy.clone());
        tokio::spawn(async move {
            for _ in 0..EACH {
                let attempts = attempts.clone();
                objects
                    .transaction_with_retry(serializable, &policy, move |tx| {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        async move {
                            let hits: i64 =
                                raw_query("SELECT hits FROM counter WHERE name = 'home'", vec![])
                                    .fetch_one(&tx)
                                    .await?;
                            // Long enough for the others to read the same value.
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            tx.execute_raw(
                                "UPDATE counter SET hits = ? WHERE name = 'home'",
                                vec![(hits + 1).into()],
                            )
                            .await?;
                            Ok::<_, Error>(())
                        }
                    })
                    .await
                    .expect("an increment lands within its attempts");
            }
        })
    });
    for task in futures_util::future::join_all(tasks).await {
        task.expect("task");
    }
    let hits: i64 = raw_query("SELECT hits FROM counter WHERE name = 'home'", vec![])
        .fetch_one(&objects)
        .await
        .expect("read");
    assert_eq!(hits, i64::from(TASKS * EACH), "every increment landed once");
    let ran = attempts.load(Ordering::Relaxed);
    if D::BACKEND != "sqlite" {
        assert!(
            ran > TASKS * EACH,
            "the transactions conflicted and were retried ({ran} runs for {} increments)",
            TASKS * EACH
        );
    }
}

/// The pool's metrics count checkouts, waits, connections held by transactions and waits
/// that ran out; a timeout says why.
pub async fn metrics_and_timeouts_tell_why<D: Driver>(config: D::Config) {
    use orm_core::Error;
    let config = config
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200));
    let db = PooledDatabase::<D>::new(config).expect("pool");
    let objects = orm_manager::Manager::new(db.clone());
    let one: i64 = raw_query("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect("first");
    assert_eq!(one, 1);
    let before = db.pool_metrics();
    assert_eq!((before.max_size, before.open, before.idle), (1, 1, 1));
    assert_eq!(before.acquired, 1);
    let tx = objects.begin_transaction().await.expect("begin");
    let held = db.pool_metrics();
    assert_eq!((held.in_use, held.in_transactions), (1, 1), "{held:?}");
    let waiting = tokio::spawn({
        let db = db.clone();
        async move { raw_query::<i64>("SELECT 1", vec![]).fetch_one(&db).await }
    });
    let timed_out = waiting
        .await
        .expect("task")
        .expect_err("the only connection is held");
    match &timed_out {
        Error::PoolTimeout { reason, .. } => assert!(
            reason.contains("1 of the checked-out connections were held by transactions"),
            "{reason}"
        ),
        other => panic!("expected PoolTimeout, got {other:?}"),
    }
    tx.rollback().await.expect("rollback");
    let after = db.pool_metrics();
    assert_eq!(after.in_transactions, 0, "{after:?}");
    assert_eq!(after.timeouts, 1, "{after:?}");
    assert!(after.acquired >= 2, "{after:?}");
    assert!(
        after.longest_acquire_wait <= after.acquire_wait,
        "{after:?}"
    );
}

/// SQLite refuses per-transaction timeouts (its bounds are the database's): checks that
/// it does. True when there is nothing more to test on this backend.
async fn sqlite_refuses<D: Driver>(
    objects: &orm_manager::Manager<PooledDatabase<D>>,
    options: orm_core::TxOptions,
) -> bool {
    if D::BACKEND != "sqlite" {
        return false;
    }
    let refused = objects.begin_transaction_with(options).await;
    assert!(
        matches!(refused, Err(orm_core::Error::Config(_))),
        "{refused:?}"
    );
    true
}

/// The `slot` table, with row `(1, 0)`.
async fn slot<D: Driver>(objects: &orm_manager::Manager<PooledDatabase<D>>) {
    objects
        .execute_raw("CREATE TABLE slot (id INT PRIMARY KEY, n INT)", vec![])
        .await
        .expect("create");
    objects
        .execute_raw("INSERT INTO slot VALUES (1, 0)", vec![])
        .await
        .expect("seed");
}

/// A statement with a time limit of its own, on a connection held outside a transaction
/// and cut at every poll: what the connection runs next is not swallowed by a
/// transaction the cut statement left open (on PostgreSQL it runs in one of its own), and
/// the cut statement landed once or not at all.
pub async fn cut_limited_statement_on_a_held_connection<D: Driver>(config: D::Config) {
    use orm_core::{Connection, Database, Query};
    use orm_manager::Manager;

    let db = PooledDatabase::<D>::new(config.max_connections(2)).expect("pool");
    let objects = Manager::new(db.clone());
    objects
        .execute_raw("CREATE TABLE cut_rows (id INT PRIMARY KEY)", vec![])
        .await
        .expect("create");
    let insert = |id: i32| raw_query::<()>("INSERT INTO cut_rows VALUES (?)", vec![id.into()]);
    let stored = |id: i32| {
        let objects = objects.clone();
        async move {
            raw_query::<i64>(
                "SELECT count(*) FROM cut_rows WHERE id = ?",
                vec![id.into()],
            )
            .fetch_one(&objects)
            .await
        }
    };
    for polls in 1.. {
        assert!(polls < 1_000, "never completed");
        let (cut, next) = (polls * 2, polls * 2 + 1);
        let conn = db.acquire().await.expect("a connection");
        let limited = insert(cut).timeout(Duration::from_secs(30));
        let limited = limited.execute(&conn);
        let finished = crate::cut::cut_after(polls as usize, limited).await;
        // MySQL retires a connection whose statement was cut before its result was read:
        // the next statement is refused unsent, and the connection is to be dropped.
        let went = match insert(next).execute(&conn).await {
            Ok(_) => true,
            Err(orm_core::Error::ConnectionLost { .. }) if D::BACKEND == "mysql" => false,
            Err(e) => panic!("cut after {polls} polls: the next statement: {e:?}"),
        };
        if went {
            assert!(
                !conn.in_transaction(),
                "cut after {polls} polls: left in a transaction"
            );
        }
        drop(conn);
        assert_eq!(
            stored(next).await.expect("read"),
            i64::from(went),
            "cut after {polls} polls: the next statement lost, or run unreported"
        );
        let landed = stored(cut).await.expect("read");
        match finished {
            Some(result) => {
                result.expect("the limited insert");
                assert_eq!(landed, 1);
                eprintln!("{}: completed after {polls} polls", D::BACKEND);
                break;
            }
            None => assert!(landed <= 1),
        }
    }
}

/// Timeouts for one transaction: a statement that would run on, and a lock wait that
/// would go on, end within the bound; the session's own settings hold again afterwards.
/// SQLite refuses them (its bounds are the database's).
pub async fn transaction_timeouts<D: Driver>(config: D::Config) {
    use std::time::Instant;

    use orm_core::TxOptions;
    use orm_manager::Manager;

    let db = PooledDatabase::<D>::new(config.max_connections(2)).expect("pool");
    let objects = Manager::new(db.clone());
    let bounded = TxOptions::new()
        .statement_timeout(Duration::from_millis(300))
        .lock_timeout(Duration::from_millis(300));
    if sqlite_refuses(&objects, bounded).await {
        return;
    }
    slot(&objects).await;
    let sleep = if D::BACKEND == "postgres" {
        "SELECT pg_sleep(3)::text"
    } else {
        "SELECT CAST(SLEEP(3) AS CHAR)"
    };
    // A statement that would run 3 s stops at the transaction's bound.
    let started = Instant::now();
    let stopped = objects
        .transaction_with(bounded, |tx| async move {
            raw_query::<String>(sleep, vec![]).fetch_all(&tx).await
        })
        .await;
    assert!(stopped.is_err(), "the sleep was stopped: {stopped:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // A lock wait that would go on until the holder ends stops at the bound.
    let holder = objects.begin_transaction().await.expect("holder");
    holder
        .execute_raw("UPDATE slot SET n = 1 WHERE id = 1", vec![])
        .await
        .expect("lock the row");
    let started = Instant::now();
    let lock_bound = TxOptions::new().lock_timeout(Duration::from_millis(300));
    let waited = tokio::spawn({
        let objects = objects.clone();
        async move {
            objects
                .transaction_with(lock_bound, |tx| async move {
                    tx.execute_raw("UPDATE slot SET n = 2 WHERE id = 1", vec![])
                        .await
                })
                .await
        }
    })
    .await
    .expect("task");
    let error = waited.expect_err("the lock wait ran out");
    assert!(
        error.is_retryable(),
        "a lock timeout is retryable: {error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    holder.rollback().await.expect("release");
    // Afterwards the sessions' own settings hold: a sleep past the bound runs to its end.
    let short = if D::BACKEND == "postgres" {
        "SELECT pg_sleep(0.5)::text"
    } else {
        "SELECT CAST(SLEEP(0.5) AS CHAR)"
    };
    // Both connections at once, so each of them is checked.
    let both = (0..2).map(|_| {
        let objects = objects.clone();
        tokio::spawn(async move {
            objects
                .transaction(
                    |tx| async move { raw_query::<String>(short, vec![]).fetch_all(&tx).await },
                )
                .await
        })
    });
    for sleeper in futures_util::future::join_all(both).await {
        sleeper.expect("task").expect("no bound left behind");
    }
}

/// A statement's own lock limit (`Query::lock_timeout`): while another transaction holds
/// the row (on SQLite, the database's write lock), a write limited to 300 ms fails with a
/// retryable error within a few seconds, outside a transaction and inside one; inside one,
/// the transaction goes on with its own setting. Once the holder is gone the write lands.
pub async fn statement_lock_timeout<D: Driver>(config: D::Config) {
    use std::time::Instant;

    use orm_core::{Error, Query};
    use orm_manager::Manager;

    let db = PooledDatabase::<D>::new(config.max_connections(3)).expect("pool");
    let objects = Manager::new(db.clone());
    slot(&objects).await;
    let holder = objects.begin_transaction().await.expect("holder");
    holder
        .execute_raw("UPDATE slot SET n = 1 WHERE id = 1", vec![])
        .await
        .expect("lock the row");
    let limit = Duration::from_millis(300);
    let write = || raw_query::<()>("UPDATE slot SET n = 2 WHERE id = 1", vec![]);
    let waited_out = |outcome: std::result::Result<u64, Error>, started: Instant, what: &str| {
        let error = outcome.expect_err(what);
        assert!(
            error.is_retryable(),
            "{what}: a lock timeout is retryable: {error:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: gave up after {:?}",
            started.elapsed()
        );
    };
    let started = Instant::now();
    let outside = tokio::spawn({
        let objects = objects.clone();
        async move { write().lock_timeout(limit).execute(&objects).await }
    })
    .await
    .expect("task");
    waited_out(outside, started, "outside a transaction");
    if D::BACKEND != "sqlite" {
        // SQLite's transaction waits for the lock at BEGIN, before any statement of it.
        let started = Instant::now();
        let inside = tokio::spawn({
            let objects = objects.clone();
            async move {
                objects
                    .transaction(|tx| async move {
                        let limited = write().lock_timeout(limit).execute(&tx).await;
                        Ok::<_, Error>(limited)
                    })
                    .await
            }
        })
        .await
        .expect("task")
        .expect("the scope");
        waited_out(inside, started, "in a transaction");
    }
    holder.rollback().await.expect("release");
    write()
        .lock_timeout(limit)
        .execute(&objects)
        .await
        .expect("no holder, the write lands");
}

/// An idle-in-transaction bound for one transaction (`TxOptions::idle_timeout`): left
/// idle past it, the transaction is ended by the server and its work rolled back; a busy
/// one commits, and the session's own setting holds again afterwards. SQLite refuses it.
pub async fn transaction_idle_timeout<D: Driver>(config: D::Config) {
    use orm_core::TxOptions;
    use orm_manager::Manager;

    let db = PooledDatabase::<D>::new(config.max_connections(1)).expect("pool");
    let objects = Manager::new(db.clone());
    let watched = TxOptions::new().idle_timeout(Duration::from_secs(1));
    if sqlite_refuses(&objects, watched).await {
        return;
    }
    slot(&objects).await;
    let setting = if D::BACKEND == "postgres" {
        "SELECT current_setting('idle_in_transaction_session_timeout')"
    } else {
        "SELECT CAST(@@SESSION.idle_transaction_timeout AS CHAR)"
    };
    let before: Vec<String> = objects
        .execute(raw_query(setting, vec![]))
        .await
        .expect("setting");
    let inside: Vec<String> = objects
        .transaction_with(watched, |tx| async move {
            tx.execute_raw("INSERT INTO slot VALUES (2, 0)", vec![])
                .await?;
            tx.execute(raw_query(setting, vec![])).await
        })
        .await
        .expect("a busy transaction commits");
    assert!(matches!(inside[0].as_str(), "1s" | "1"), "{inside:?}");
    let after: Vec<String> = objects
        .execute(raw_query(setting, vec![]))
        .await
        .expect("setting");
    assert_eq!(before, after, "the session's own setting is back");

    let guard = objects
        .begin_transaction_with(watched)
        .await
        .expect("begin");
    guard
        .execute_raw("INSERT INTO slot VALUES (3, 0)", vec![])
        .await
        .expect("insert");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = guard
        .execute_raw("INSERT INTO slot VALUES (4, 0)", vec![])
        .await;
    assert!(
        late.is_err(),
        "the server ended the idle transaction: {late:?}"
    );
    drop(guard);
    let ids: Vec<i32> = objects
        .execute(raw_query("SELECT id FROM slot ORDER BY id", vec![]))
        .await
        .expect("the pool goes on with a new connection");
    assert_eq!(ids, [1, 2], "the idle transaction's insert was rolled back");
}

/// A retried transaction whose connection is lost under its body (the session killed)
/// runs again on a new connection: the server rolled the first attempt back and no COMMIT
/// was sent. Only the second attempt's row is there. (SQLite has no session to lose.)
pub async fn retried_after_a_lost_connection<D: Driver>(config: D::Config) {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use orm_core::{Error, TxOptions};
    use orm_manager::{Manager, RetryPolicy};

    if D::BACKEND == "sqlite" {
        return;
    }
    let db = PooledDatabase::<D>::new(config.max_connections(2)).expect("pool");
    let objects = Manager::new(db.clone());
    slot(&objects).await;
    let sabotage = if D::BACKEND == "postgres" {
        "SELECT pg_terminate_backend(pg_backend_pid())"
    } else {
        "KILL CONNECTION_ID()"
    };
    let attempts = AtomicUsize::new(0);
    objects
        .transaction_with_retry(TxOptions::new(), &RetryPolicy::new(3), |tx| {
            let attempt = attempts.fetch_add(1, Ordering::Relaxed) as i64;
            async move {
                tx.execute_raw(
                    "INSERT INTO slot VALUES (?, 0)",
                    vec![(10 + attempt).into()],
                )
                .await?;
                if attempt == 0 {
                    let _ = tx.execute_raw(sabotage, vec![]).await;
                }
                tx.execute_raw("UPDATE slot SET n = n + 1 WHERE id = 1", vec![])
                    .await?;
                Ok::<_, Error>(())
            }
        })
        .await
        .expect("the second attempt commits");
    assert_eq!(attempts.load(Ordering::Relaxed), 2);
    let rows: Vec<(i32, i32)> = objects
        .execute(raw_query("SELECT id, n FROM slot ORDER BY id", vec![]))
        .await
        .expect("rows");
    assert_eq!(rows, [(1, 1), (11, 0)], "only the second attempt's work");
}

/// Instantiates the pool suite for one backend: `$config` makes a fresh configuration for
/// a test name; `$session` is the SQL returning the session id.
#[macro_export]
macro_rules! pool_suite {
    ($driver:ty, $config:path, $session:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn min_idle_connections_open() {
            $crate::pool_suite::min_idle_connections_open::<$driver>($config("min_idle")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn idle_connections_close() {
            $crate::pool_suite::idle_connections_close::<$driver>($config("idle_timeout")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn retried_increments_all_land() {
            $crate::pool_suite::retried_increments_all_land::<$driver>($config("retried")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn metrics_and_timeouts_tell_why() {
            $crate::pool_suite::metrics_and_timeouts_tell_why::<$driver>($config("metrics")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn transaction_timeouts() {
            $crate::pool_suite::transaction_timeouts::<$driver>($config("tx_timeouts")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn retried_after_a_lost_connection() {
            $crate::pool_suite::retried_after_a_lost_connection::<$driver>($config("retry_lost"))
                .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn transaction_idle_timeout() {
            $crate::pool_suite::transaction_idle_timeout::<$driver>($config("tx_idle")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn cut_limited_statement_on_a_held_connection() {
            $crate::pool_suite::cut_limited_statement_on_a_held_connection::<$driver>($config(
                "cut_limited",
            ))
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn statement_lock_timeout() {
            $crate::pool_suite::statement_lock_timeout::<$driver>($config("stmt_lock")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn old_connections_are_replaced() {
            $crate::pool_suite::old_connections_are_replaced::<$driver>(
                $config("max_lifetime"),
                $session,
            )
            .await;
        }
    };
    ($driver:ty, $config:path, $session:expr, with isolation levels) => {
        $crate::pool_suite!($driver, $config, $session);

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn isolation_levels_apply() {
            $crate::pool_suite::isolation_levels_apply::<$driver>($config("levels")).await;
        }
    };
}

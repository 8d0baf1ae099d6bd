//! SQLite-specific behaviour: type round trips, concurrent writers through a pool, the
//! shared in-memory database, values SQLite would lose, blocking calls.

use orm_runtime::PoolSettings;
use std::time::Duration;

use orm_core::*;
use orm_manager::Manager;
use orm_sqlite::{PooledSqliteDatabase, SqliteConfig, SqliteDatabase};
use orm_tests::harness::sqlite_config;
use orm_tests::models::{AllTypes, PageBlock, User};

fn edge_row(text: String) -> AllTypes {
    AllTypes::edge(text, f32::INFINITY, f64::NEG_INFINITY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_with_edge_values() {
    let db = SqliteDatabase::new(sqlite_config("types")).expect("open");
    AllTypes::create_table_async(&db, false)
        .await
        .expect("create");
    let rows = [
        edge_row("Grüße, 日本語, emoji 🎉".into()),
        edge_row(String::new()),
        edge_row("x".repeat(10 * 1024 * 1024)),
    ];
    let keys = AllTypes::insert_many(&rows)
        .execute_returning_keys(&db)
        .await
        .expect("insert");
    let back = AllTypes::select()
        .order_by(AllTypes::ID)
        .fetch_all(&db)
        .await
        .expect("select");
    for ((mut sent, got), key) in rows.into_iter().zip(&back).zip(keys) {
        sent.id = key;
        assert_eq!(&sent, got);
    }
    assert_eq!(
        AllTypes::select()
            .order_by(AllTypes::ID)
            .fetch_all_sync(&db)
            .expect("sync"),
        back
    );
    // Timestamps stored as text sort in time order.
    let later = {
        let mut r = edge_row("later".into());
        r.stamp += chrono::Duration::microseconds(1);
        r
    };
    later.insert().execute(&db).await.expect("insert");
    let newest = AllTypes::select()
        .columns(AllTypes::TEXT)
        .order_by(AllTypes::STAMP.desc())
        .order_by(AllTypes::ID)
        .limit(1);
    assert_eq!(newest.fetch_one(&db).await.expect("newest"), "later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nan_is_refused_instead_of_stored_as_null() {
    let db = SqliteDatabase::new(sqlite_config("nan")).expect("open");
    AllTypes::create_table_async(&db, false)
        .await
        .expect("create");
    let mut row = edge_row("nan".into());
    row.double = f64::NAN;
    let err = row.insert().execute(&db).await.expect_err("NaN");
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    assert_eq!(
        AllTypes::select()
            .count_query(true)
            .fetch_one(&db)
            .await
            .expect("count"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_writers_through_a_pool_of_four() {
    let db = PooledSqliteDatabase::new(sqlite_config("writers").max_connections(4)).expect("open");
    User::create_table_async(&db, false).await.expect("create");
    let objects = Manager::new(db.clone());
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let objects = objects.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    objects
                        .create(User::new(format!("t{t}-{i}"), i, None))
                        .await?;
                }
                objects
                    .atomic(|tx| async move {
                        tx.create(User::new(format!("t{t}-tx"), 0, None)).await?;
                        tx.execute(
                            User::update()
                                .set(User::AGE, User::AGE + 1)
                                .where_(User::NAME.startswith(&format!("t{t}-"))),
                        )
                        .await
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(
            t.await
                .expect("task")
                .expect("no busy error reaches the caller"),
            11
        );
    }
    assert_eq!(
        User::select()
            .count_query(true)
            .fetch_one(&db)
            .await
            .expect("count"),
        32 * 11
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_database_is_shared_by_every_connection_of_one_value() {
    let db = PooledSqliteDatabase::connect_lazy("sqlite::memory:").expect("open");
    User::create_table(&db, false).expect("create through the sync connection");
    User::new("a", 1, None)
        .insert()
        .execute(&db)
        .await
        .expect("insert through the pool");
    let counts = (0..4).map(|_| {
        let db = db.clone();
        async move { User::select().count_query(true).fetch_one(&db).await }
    });
    let seen = futures_util::future::join_all(counts).await;
    assert!(seen.into_iter().all(|n| n.expect("count") == 1));
    let other = SqliteDatabase::new(SqliteConfig::memory()).expect("another memory database");
    assert!(
        User::select().fetch_all(&other).await.is_err(),
        "a second value is a separate database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraint_failures_name_the_column() {
    let db = SqliteDatabase::new(sqlite_config("constraints")).expect("open");
    let objects = Manager::new(db.clone());
    PageBlock::create_table_async(&db, false)
        .await
        .expect("create");
    objects
        .create(PageBlock::new("k", ""))
        .await
        .expect("create");
    let err = PageBlock::new("k", "")
        .insert()
        .execute(&db)
        .await
        .expect_err("duplicate");
    match err {
        Error::Integrity {
            kind: IntegrityKind::Unique,
            constraint: Some(c),
            ..
        } => assert_eq!(c, "page_block.key"),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(
        objects
            .count_ignoring_limit(PageBlock::select())
            .await
            .expect("still works"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_makes_other_writers_wait_not_fail() {
    let config = sqlite_config("busy").busy_timeout(Duration::from_secs(5));
    let db = PooledSqliteDatabase::new(config.max_connections(2)).expect("open");
    User::create_table_async(&db, false).await.expect("create");
    let objects = Manager::new(db.clone());
    let holder = objects.begin_transaction().await.expect("BEGIN IMMEDIATE");
    holder
        .create(User::new("holder", 1, None))
        .await
        .expect("insert");
    let writer = {
        let objects = objects.clone();
        tokio::spawn(async move { objects.create(User::new("waiter", 2, None)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !writer.is_finished(),
        "the second writer waits for the lock"
    );
    holder.commit().await.expect("commit");
    writer.await.expect("task").expect("then it writes");
    assert_eq!(
        objects
            .count_ignoring_limit(User::select())
            .await
            .expect("count"),
        2
    );
}

#[test]
fn blocking_calls_from_a_plain_thread_and_inside_a_runtime() {
    let db = SqliteDatabase::new(sqlite_config("sync")).expect("open");
    User::create_table(&db, false).expect("create without a runtime");
    User::new("a", 1, None)
        .insert()
        .execute_sync(&db)
        .expect("insert");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let count = rt.block_on(async {
        let sync = User::select()
            .count_query(true)
            .fetch_one_sync(&db)
            .expect("sync inside a runtime");
        let async_ = User::select()
            .count_query(true)
            .fetch_one(&db)
            .await
            .expect("async");
        (sync, async_)
    });
    assert_eq!(count, (1, 1));
    db.set_allow_sync(SyncPolicy::Deny);
    assert!(matches!(
        User::drop_table(&db, true),
        Err(Error::SyncNotAllowed(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_sync_guard_reallows_restores_and_closes_the_sync_connection() {
    let db = orm_sqlite::SqliteDatabase::new(sqlite_config("guard_closes")).expect("open");
    let objects = orm_manager::Manager::new(db.clone());
    db.set_allow_sync(SyncPolicy::Deny);
    {
        let _sync = objects.allow_sync();
        User::create_table(&db, false).expect("allowed under the guard");
        assert!(db.is_sync_open());
    }
    assert!(
        !db.is_sync_open(),
        "the guard closed the sync connection it opened"
    );
    assert_eq!(db.sync_policy(), SyncPolicy::Deny);
    // The guard restores the policy when the scope panics, too.
    let objects2 = objects.clone();
    let panicked = std::thread::spawn(move || {
        let _sync = objects2.allow_sync();
        panic!("inside the guard");
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(db.sync_policy(), SyncPolicy::Deny);
}

/// NUL in a LIKE pattern is refused (SQLite's LIKE would stop at it and match "a" for
/// "a\0b"); an unknown column is the database's answer, `Error::Database`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn like_with_nul_and_unknown_columns_are_clear_errors() {
    let db = SqliteDatabase::new(sqlite_config("nul_like")).expect("open");
    PageBlock::create_table_async(&db, false)
        .await
        .expect("create");
    for key in ["a", "A", "a\0b"] {
        PageBlock::new(key, "")
            .insert()
            .execute(&db)
            .await
            .expect("insert");
    }
    let err = PageBlock::select()
        .where_(PageBlock::KEY.contains("a\0b"))
        .fetch_all(&db)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Query(_)), "{err:?}");
    let exact = PageBlock::select()
        .where_(PageBlock::KEY.eq("a\0b"))
        .fetch_all(&db)
        .await
        .expect("equality compares NUL");
    assert_eq!(exact.len(), 1);
    let err = raw_query::<i64>("SELECT no_such_column FROM page_block", vec![])
        .fetch_all(&db)
        .await
        .expect_err("no such column");
    assert!(
        matches!(&err, Error::Database { message, .. } if message.contains("no such column")),
        "{err:?}"
    );
}

/// `statement_timeout` interrupts a statement that would run for long, and the connection
/// serves the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_interrupts_a_long_statement() {
    let db = PooledSqliteDatabase::new(
        sqlite_config("statement_timeout").statement_timeout(Some(Duration::from_millis(200))),
    )
    .expect("open");
    let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
                   SELECT count(*) FROM n";
    let started = std::time::Instant::now();
    let err = raw_query::<i64>(endless, vec![])
        .fetch_all(&db)
        .await
        .expect_err("interrupted");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, Error::Database { message, .. } if message.contains("statement_timeout")),
        "{err:?}"
    );
    let one = raw_query::<i64>("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect("the next statement");
    assert_eq!(one, 1);
}

/// A stored document the ORM cannot read fails with a decode error that keeps serde's
/// reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_errors_keep_the_real_cause() {
    use orm_tests::models::Doc;
    let db = SqliteDatabase::new(sqlite_config("decode_cause")).expect("open");
    Doc::create_table_async(&db, false).await.expect("create");
    raw_query::<()>(
        "INSERT INTO doc (data) VALUES (?)",
        vec!["{not json".into()],
    )
    .execute(&db)
    .await
    .expect("stored by raw SQL");
    let err = Doc::select()
        .fetch_all(&db)
        .await
        .expect_err("cannot decode");
    assert!(
        matches!(&err, Error::Decode { actual, .. } if actual.contains("key must be a string")),
        "{err:?}"
    );
}

/// The pooled SQLite database reports its pool like the server backends do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_reports_its_status() {
    let db =
        PooledSqliteDatabase::new(sqlite_config("pool_status").max_connections(3)).expect("open");
    assert_eq!(db.pool_status(), (3, 0, 0));
    raw_query::<i64>("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect("one");
    let (max, open, idle) = db.pool_status();
    assert_eq!(
        (max, open, idle),
        (3, 1, 1),
        "one connection opened, back in the pool"
    );
}

/// Connections a pool opens at the same moment on a brand-new file all open: switching
/// the file to WAL takes a lock the others would fail on ("database is locked"), so
/// connections of one database open one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_opens_many_connections_at_once_on_a_new_file() {
    for round in 0..30 {
        let config = sqlite_config(&format!("opens_at_once_{round}")).max_connections(8);
        let db = PooledSqliteDatabase::new(config).expect("pool");
        let opened = futures_util::future::join_all((0..8).map(|_| db.acquire())).await;
        for conn in opened {
            conn.unwrap_or_else(|e| panic!("round {round}: a connection failed to open: {e}"));
        }
    }
}

/// Ticks of a task that wakes every millisecond, counted while `work` runs as a task of
/// its own (on a worker, as a service's requests do; the test's own future runs on the
/// test thread).
async fn ticks_during<F>(work: F) -> (F::Output, usize, Duration)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let ticks = std::sync::Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // The ticker runs before the work starts.
    while ticks.load(Ordering::Relaxed) < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let before = ticks.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    let out = tokio::spawn(work).await.expect("work");
    let took = started.elapsed();
    let during = ticks.load(Ordering::Relaxed) - before;
    ticker.abort();
    (out, during, took)
}

/// Counts to `n` inside SQLite: a statement that runs long with one row to show.
fn long_count(n: i64) -> RawQuery<i64> {
    raw_query::<i64>(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) \
         SELECT count(*) FROM c",
        vec![n.into()],
    )
}

/// By default, a statement starts on the calling task and lets go of the worker once it
/// runs long: on a runtime with one worker, another task goes on ticking while it runs.
/// Always inline, the same statement holds the one worker and the ticker stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_long_statement_lets_go_of_the_worker() {
    let db = SqliteDatabase::new(sqlite_config("long_default")).expect("open");
    let long_read = |db: SqliteDatabase| async move { long_count(2_000_000).fetch_one(&db).await };
    let (n, ticks, took) = ticks_during(long_read(db.clone())).await;
    assert_eq!(n.expect("count"), 2_000_000);
    assert!(
        took > Duration::from_millis(100),
        "long enough to tell: {took:?}"
    );
    let expected = took.as_millis() as usize / 10;
    assert!(
        ticks >= expected,
        "{ticks} ticks in {took:?}: the worker was held"
    );

    // The next statement starts on the task again, and short ones answer as before.
    let short = raw_query::<i64>("SELECT 1", vec![]).fetch_one(&db).await;
    assert_eq!(short.expect("short"), 1);

    let inline =
        SqliteDatabase::new(sqlite_config("long_inline").run_on(orm_sqlite::RunOn::Inline))
            .expect("open");
    let (n, ticks, took) = ticks_during(long_read(inline)).await;
    assert_eq!(n.expect("count"), 2_000_000);
    assert!(
        ticks <= 2,
        "{ticks} ticks in {took:?}: inline holds the worker"
    );
}

/// A statement that waits for another connection's write lock lets go of the worker at
/// once, and still gets the lock when the other writer commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_lock_wait_lets_go_of_the_worker() {
    let config = sqlite_config("lock_wait");
    let db = SqliteDatabase::new(config.clone()).expect("open");
    PageBlock::create_table_async(&db, false)
        .await
        .expect("create");
    let path = config.path().expect("a file").to_owned();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let other = rusqlite::Connection::open(path).expect("open");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        locked.send(()).expect("signal");
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").expect("commit");
    });
    is_locked.recv().expect("the other writer holds the lock");
    let write = async move { PageBlock::new("k", "v").insert().execute(&db).await };
    let (written, ticks, took) = ticks_during(write).await;
    written.expect("written once the lock is free");
    assert!(took > Duration::from_millis(100), "it waited: {took:?}");
    let expected = took.as_millis() as usize / 10;
    assert!(
        ticks >= expected,
        "{ticks} ticks in {took:?}: the worker was held"
    );
    holder.join().expect("holder");
}

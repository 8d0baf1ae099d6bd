//! PostgreSQL-specific behaviour: type round trips with edge values, pooling limits,
//! recovery after the server kills connections, and blocking calls from every context.

use orm_runtime::PoolSettings;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orm_core::*;
use orm_postgres::{PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase};
use orm_tests::harness::{pg_config, pg_url};
use orm_tests::models::{AllTypes, User};

fn edge_row(text: String) -> AllTypes {
    AllTypes::edge(text, f32::INFINITY, f64::NEG_INFINITY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_with_edge_values() {
    let db = PostgresqlDatabase::new(pg_config("types")).expect("database");
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
    assert_eq!(back.len(), 3);
    for ((mut sent, got), key) in rows.into_iter().zip(&back).zip(keys) {
        sent.id = key;
        assert_eq!(&sent, got);
    }
    // NaN is not equal to itself: check it on its own, async and sync.
    let mut nan = edge_row("nan".into());
    nan.double = f64::NAN;
    nan.real = f32::NAN;
    let key = nan
        .insert()
        .execute_returning_keys_sync(&db)
        .expect("insert NaN")[0];
    let got = AllTypes::select()
        .where_(AllTypes::ID.eq(key))
        .fetch_one_sync(&db)
        .expect("NaN back");
    assert!(got.double.is_nan() && got.real.is_nan());
    let extremes = AllTypes::select()
        .columns((AllTypes::BIG, AllTypes::OPT_INT))
        .where_(AllTypes::ID.eq(key));
    assert_eq!(
        extremes.fetch_one(&db).await.expect("extremes"),
        (i64::MIN, Some(i64::MAX))
    );
    // Every nullable column reads back NULL as None.
    let nulls = AllTypes::update()
        .set(AllTypes::OPT_INT, None::<i64>)
        .set(AllTypes::OPT_TEXT, None::<String>)
        .set(AllTypes::OPT_BYTES, None::<Vec<u8>>)
        .set(AllTypes::OPT_DECIMAL, None::<rust_decimal::Decimal>)
        .where_(AllTypes::ID.eq(key));
    nulls.execute(&db).await.expect("set nulls");
    let got = AllTypes::select()
        .where_(AllTypes::ID.eq(key))
        .fetch_one(&db)
        .await
        .expect("nulls back");
    assert_eq!(
        (
            got.opt_int,
            got.opt_text,
            got.opt_bytes,
            got.opt_stamp,
            got.opt_uuid,
            got.opt_decimal
        ),
        (None, None, None, None, None, None)
    );
}

/// A bulk insert sends its text as arrays: a NUL byte inside one is refused before
/// anything is sent, and nothing of the batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_in_a_bulk_insert_is_refused() {
    use orm_tests::models::PageBlock;
    let db = PostgresqlDatabase::new(pg_config("nul_bulk")).expect("database");
    PageBlock::create_table_async(&db, false)
        .await
        .expect("create");
    let mut blocks: Vec<PageBlock> = (0..1000)
        .map(|i| PageBlock::new(format!("k{i}"), "text"))
        .collect();
    blocks.push(PageBlock::new("bad", "a\0b"));
    let objects = orm_manager::Manager::new(db.clone());
    match objects.bulk_insert(&blocks).await {
        Err(Error::InvalidValue { message, .. }) => assert!(message.contains("NUL"), "{message}"),
        other => panic!("a NUL byte is refused: {other:?}"),
    }
    let stored = objects.count(PageBlock::select()).await.expect("count");
    assert_eq!(stored, 0);
    blocks.pop();
    assert_eq!(objects.bulk_insert(&blocks).await.expect("bulk"), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_with_a_nul_byte_is_refused_and_changes_nothing() {
    let db = PooledPostgresqlDatabase::new(pg_config("nul")).expect("pool");
    User::create_table_async(&db, false).await.expect("create");
    let err = User::new("a\0b", 1, None)
        .insert()
        .execute(&db)
        .await
        .expect_err("NUL");
    assert!(
        matches!(err, Error::InvalidValue { index: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("NUL"), "{err}");
    let err = User::new("ok", 1, Some("\0".into()))
        .insert()
        .execute_sync(&db)
        .expect_err("NUL sync");
    assert!(
        matches!(err, Error::InvalidValue { index: 3, .. }),
        "{err:?}"
    );
    assert_eq!(
        User::select()
            .count_query(true)
            .fetch_one(&db)
            .await
            .expect("count"),
        0
    );
}

fn admin() -> PostgresqlDatabase {
    PostgresqlDatabase::new(PostgresqlConfig::from_url(&pg_url()).expect("url")).expect("database")
}

async fn connections_named(admin: &PostgresqlDatabase, app: &str) -> i64 {
    raw_query::<i64>(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
        vec![app.into()],
    )
    .fetch_one(admin)
    .await
    .expect("pg_stat_activity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_through_eight_connections() {
    let app = "orm_pool_limit";
    let db = PooledPostgresqlDatabase::new(
        pg_config("pool_limit")
            .application_name(app)
            .max_connections(8),
    )
    .expect("pool");
    let admin = admin();
    let peak = Arc::new(AtomicI64::new(0));
    let watcher = {
        let (peak, admin) = (peak.clone(), admin.clone());
        tokio::spawn(async move {
            loop {
                let n = connections_named(&admin, app).await;
                peak.fetch_max(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                raw_query::<i32>("SELECT ?::int FROM pg_sleep(0.02)", vec![Value::I32(i)])
                    .fetch_one(&db)
                    .await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.expect("task").expect("query"), i as i32);
    }
    watcher.abort();
    let peak = peak.load(Ordering::Relaxed);
    assert!(peak <= 8, "{peak} server connections for a pool of 8");
    assert!(peak >= 2, "the watcher saw the pool at work ({peak})");
    assert!(connections_named(&admin, app).await <= 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_gives_the_pool_timeout_error() {
    let config = pg_config("pool_timeout")
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200));
    let db = PooledPostgresqlDatabase::new(config).expect("pool");
    let holder = {
        let db = db.clone();
        tokio::spawn(async move {
            raw_query::<()>("SELECT pg_sleep(1.5)", vec![])
                .execute(&db)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let err = raw_query::<i32>("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect_err("pool is exhausted");
    let waited = started.elapsed();
    match &err {
        Error::PoolTimeout {
            in_use: 1,
            max: 1,
            waited,
            ..
        } => assert!(*waited >= Duration::from_millis(150)),
        other => panic!("expected a pool timeout, got {other:?}"),
    }
    assert!(waited < Duration::from_secs(1), "gave up after {waited:?}");
    assert!(err.to_string().contains("1 of 1 in use"), "{err}");
    holder.await.expect("holder").expect("long query");
    assert_eq!(
        raw_query::<i32>("SELECT 1", vec![])
            .fetch_one(&db)
            .await
            .expect("free again"),
        1
    );
}

async fn terminate(admin: &PostgresqlDatabase, app: &str) {
    raw_query::<bool>(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
        vec![app.into()],
    )
    .fetch_all(admin)
    .await
    .expect("terminate");
    for _ in 0..100 {
        if connections_named(admin, app).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("backends of {app} did not exit");
}

async fn one<D: Executor + SyncExecutor>(db: &D) -> i32 {
    raw_query::<i32>("SELECT 1", vec![])
        .fetch_one(db)
        .await
        .expect("async query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_the_server_terminates_every_connection() {
    let admin = admin();
    let single =
        PostgresqlDatabase::new(pg_config("recover_single").application_name("orm_recover_single"))
            .expect("database");
    let pooled = PooledPostgresqlDatabase::new(
        pg_config("recover_pooled").application_name("orm_recover_pooled"),
    )
    .expect("pool");
    for round in 0..3 {
        assert_eq!(one(&single).await, 1);
        assert_eq!(
            raw_query::<i32>("SELECT 1", vec![])
                .fetch_one_sync(&single)
                .expect("sync"),
            1
        );
        assert_eq!(one(&pooled).await, 1);
        assert_eq!(
            raw_query::<i32>("SELECT 1", vec![])
                .fetch_one_sync(&pooled)
                .expect("sync"),
            1
        );
        terminate(&admin, "orm_recover_single").await;
        terminate(&admin, "orm_recover_pooled").await;
        // The next calls are served without any user action.
        assert_eq!(one(&single).await, 1, "single async, round {round}");
        assert_eq!(
            raw_query::<i32>("SELECT 2", vec![])
                .fetch_one_sync(&single)
                .expect("single sync"),
            2
        );
        assert_eq!(one(&pooled).await, 1, "pooled async, round {round}");
        assert_eq!(
            raw_query::<i32>("SELECT 2", vec![])
                .fetch_one_sync(&pooled)
                .expect("pooled sync"),
            2
        );
    }
}

fn sync_count(db: &PostgresqlDatabase) -> Result<i64> {
    raw_query::<i64>("SELECT count(*) FROM users", vec![]).fetch_one_sync(db)
}

#[test]
fn blocking_calls_work_from_a_plain_thread_without_runtime() {
    let db = PostgresqlDatabase::new(pg_config("sync_plain")).expect("database");
    User::create_table(&db, false).expect("create");
    User::new("a", 1, None)
        .insert()
        .execute_sync(&db)
        .expect("insert");
    let from_thread = std::thread::spawn({
        let db = db.clone();
        move || sync_count(&db)
    });
    assert_eq!(from_thread.join().expect("thread").expect("count"), 1);
    db.close_sync();
    assert!(!db.is_sync_open());
    assert_eq!(sync_count(&db).expect("reopens"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_inside_a_multi_thread_runtime_and_spawn_blocking() {
    let db = PostgresqlDatabase::new(pg_config("sync_mt")).expect("database");
    User::create_table(&db, false).expect("create on a worker thread");
    assert_eq!(sync_count(&db).expect("on a worker"), 0);
    let in_blocking = tokio::task::spawn_blocking({
        let db = db.clone();
        move || sync_count(&db)
    });
    assert_eq!(in_blocking.await.expect("join").expect("spawn_blocking"), 0);
    db.set_allow_sync(SyncPolicy::Deny);
    let err = sync_count(&db).expect_err("denied");
    assert!(matches!(err, Error::SyncNotAllowed(_)), "{err:?}");
    assert_eq!(
        raw_query::<i64>("SELECT count(*) FROM users", vec![])
            .fetch_one(&db)
            .await
            .expect("async still works"),
        0
    );
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_calls_inside_a_current_thread_runtime() {
    let db = PooledPostgresqlDatabase::new(pg_config("sync_ct")).expect("pool");
    User::create_table(&db, false).expect("create, blocking on the only runtime thread");
    User::new("a", 1, None)
        .insert()
        .execute_sync(&db)
        .expect("insert");
    let n = raw_query::<i64>("SELECT count(*) FROM users", vec![])
        .fetch_one(&db)
        .await
        .expect("async after sync");
    assert_eq!(n, 1);
    for policy in [SyncPolicy::Warn, SyncPolicy::LogError] {
        db.set_allow_sync(policy);
        assert_eq!(
            raw_query::<i64>("SELECT count(*) FROM users", vec![])
                .fetch_one_sync(&db)
                .expect("logged, served"),
            1
        );
    }
    db.set_allow_sync(SyncPolicy::Deny);
    assert!(matches!(
        User::drop_table(&db, true),
        Err(Error::SyncNotAllowed(_))
    ));
    // Dropping the database (and its sync runtime) inside async code does not panic.
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_prepared_once_per_connection() {
    let app = "orm_stmt_cache";
    let db =
        PostgresqlDatabase::new(pg_config("stmt_cache").application_name(app)).expect("database");
    User::create_table_async(&db, false).await.expect("create");
    for i in 0..5 {
        User::select()
            .where_(User::AGE.eq(i))
            .fetch_all(&db)
            .await
            .expect("select");
    }
    let prepared = raw_query::<i64>(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT \"users\".\"id\"%'",
        vec![],
    )
    .fetch_one(&db)
    .await
    .expect("pg_prepared_statements");
    assert_eq!(
        prepared, 1,
        "one prepared statement for five executions of the same SQL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_cache_is_bounded() {
    let config = pg_config("stmt_cache_bound").statement_cache_capacity(4);
    let db = PostgresqlDatabase::new(config).expect("database");
    User::create_table_async(&db, false).await.expect("create");
    User::insert_many(&[User::new("ann", 1, None), User::new("bob", 2, None)])
        .execute(&db)
        .await
        .expect("insert");
    // Ten IN lists of different lengths: ten different statements.
    let by_ages = |n: i32| User::select().where_(User::AGE.is_in((1..=n).collect::<Vec<_>>()));
    for n in 1..=10 {
        let found = by_ages(n).fetch_all(&db).await.expect("select");
        assert_eq!(found.len(), n.min(2) as usize);
    }
    let prepared = raw_query::<i64>("SELECT count(*) FROM pg_prepared_statements", vec![])
        .fetch_one(&db)
        .await
        .expect("pg_prepared_statements");
    assert!(
        (1..=4).contains(&prepared),
        "at most 4 statements stay prepared, found {prepared}"
    );
    // An evicted statement is prepared again when it comes back.
    assert_eq!(by_ages(1).fetch_all(&db).await.expect("again").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_url_is_a_configuration_error() {
    assert!(matches!(
        PostgresqlDatabase::connect_lazy("postgres://host:notaport/db"),
        Err(Error::Config(_))
    ));
    let db = PostgresqlDatabase::new(
        PostgresqlConfig::new("test")
            .port(1)
            .connect_timeout(Duration::from_secs(2)),
    )
    .expect("database");
    let err = db.connect().await.expect_err("nothing listens on port 1");
    assert!(
        matches!(err, Error::ConnectionLost { .. } | Error::Driver(_)),
        "{err:?}"
    );
}

async fn idle_in_transaction(admin: &PostgresqlDatabase, app: &str) -> i64 {
    raw_query::<i64>(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state LIKE 'idle in transaction%'",
        vec![app.into()],
    )
    .fetch_one(admin)
    .await
    .expect("pg_stat_activity")
}

async fn settle(admin: &PostgresqlDatabase, app: &str) -> i64 {
    // A discarded connection closes asynchronously; give the server a moment to see it.
    for _ in 0..50 {
        if idle_in_transaction(admin, app).await == 0 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    idle_in_transaction(admin, app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_transactions_leave_no_session_idle_in_transaction() {
    let admin = admin();
    for (app, size) in [("orm_cancel_pool1", 1), ("orm_cancel_pool8", 8)] {
        let db = PooledPostgresqlDatabase::new(
            pg_config(app).application_name(app).max_connections(size),
        )
        .expect("pool");
        orm_tests::manager_suite::cancellation(&db).await;
        assert_eq!(
            settle(&admin, app).await,
            0,
            "{app}: a session is idle in transaction"
        );
    }
    let app = "orm_cancel_single";
    let db = PostgresqlDatabase::new(pg_config(app).application_name(app)).expect("database");
    orm_tests::manager_suite::cancellation(&db).await;
    assert_eq!(
        settle(&admin, app).await,
        0,
        "{app}: a session is idle in transaction"
    );
}

#[test]
fn a_runtime_shut_down_mid_transaction_leaks_nothing() {
    let app = "orm_runtime_shutdown";
    let db = PooledPostgresqlDatabase::new(pg_config(app).application_name(app)).expect("pool");
    User::create_table(&db, false).expect("create");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (inserted, wait) = std::sync::mpsc::channel();
    rt.spawn({
        let objects = orm_manager::Manager::new(db.clone());
        async move {
            objects
                .atomic(|tx| async move {
                    tx.create(User::new("never", 1, None)).await?;
                    let _ = inserted.send(());
                    std::future::pending::<()>().await;
                    Ok::<_, Error>(())
                })
                .await
        }
    });
    wait.recv_timeout(Duration::from_secs(5))
        .expect("the row was inserted");
    // The runtime ends while the transaction's task is parked inside the scope.
    rt.shutdown_timeout(Duration::from_secs(1));
    let check = tokio::runtime::Runtime::new().expect("runtime");
    check.block_on(async {
        let admin = admin();
        assert_eq!(
            settle(&admin, app).await,
            0,
            "no session left idle in transaction"
        );
        let rows = raw_query::<i64>(&format!("SELECT count(*) FROM t_{app}.users"), vec![])
            .fetch_one(&admin)
            .await;
        assert_eq!(rows.expect("count"), 0, "the uncommitted row is gone");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_sessions_have_an_idle_in_transaction_backstop() {
    let db = PooledPostgresqlDatabase::new(pg_config("backstop")).expect("pool");
    let setting = raw_query::<String>("SHOW idle_in_transaction_session_timeout", vec![])
        .fetch_one(&db)
        .await
        .expect("show");
    assert_eq!(setting, "1min");
    let off =
        PooledPostgresqlDatabase::new(pg_config("backstop_off").idle_in_transaction_timeout(None))
            .expect("pool");
    let setting = raw_query::<String>("SHOW idle_in_transaction_session_timeout", vec![])
        .fetch_one(&off)
        .await
        .expect("show");
    assert_eq!(setting, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_are_retryable() {
    let db = orm_tests::harness::pg_pooled_sized("deadlock", 2);
    orm_tests::manager_suite::deadlock_is_retryable(&db).await;
}

/// Behind PgBouncer in transaction mode: no named statements, same results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unnamed_statements_give_the_same_results() {
    let unnamed = |name: &str| {
        PostgresqlDatabase::new(pg_config(&format!("unnamed_{name}")).statement_cache(false))
            .expect("database")
    };
    let db = unnamed("comparisons");
    orm_tests::suite::comparisons(&db).await;
    orm_tests::suite::aggregates(&unnamed("aggregates")).await;
    orm_tests::suite::joins(&unnamed("joins")).await;
    orm_tests::suite::update_delete(&unnamed("update_delete")).await;
    orm_tests::suite::json_operators(&unnamed("json")).await;
    orm_tests::suite::typed_json(&unnamed("typed_json")).await;
    orm_tests::suite::extended_types(&unnamed("extended")).await;
    // prefetch binds its keys as one array: typed from the value when unnamed.
    orm_tests::manager_suite::prefetch(&unnamed("prefetch")).await;
    let named = raw_query::<i64>("SELECT count(*) FROM pg_prepared_statements", vec![])
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(named, 0, "nothing was prepared on the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hstore_can_be_turned_off() {
    use std::collections::HashMap;
    let db =
        PostgresqlDatabase::new(pg_config("no_hstore").register_hstore(false)).expect("database");
    orm_tests::models::Extras::create_table_async(&db, false)
        .await
        .expect("create");
    let row = orm_tests::models::Extras::new(
        vec![],
        vec![],
        HashMap::new(),
        orm_core::Json(Default::default()),
    );
    let err = row.insert().execute(&db).await.expect_err("hstore is off");
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    assert!(err.to_string().contains("register_hstore"), "{err}");
}

/// A COMMIT that fails (a deferred constraint checked at commit) returns its error; the
/// connection is not left checked out, and the pool serves new work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_commit_surfaces_and_releases_its_connection() {
    let db = orm_tests::harness::pg_pooled_sized("commit_fails", 1);
    let objects = orm_manager::Manager::new(db.clone());
    for sql in [
        "CREATE TABLE parent (id BIGINT PRIMARY KEY)",
        "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
    ] {
        raw_query::<()>(sql, vec![]).execute(&db).await.expect("schema");
    }
    let result = objects
        .atomic(|tx| async move {
            // Accepted now, checked at COMMIT.
            tx.execute(raw_query::<RowMap>(
                "INSERT INTO child VALUES (1, 42)",
                vec![],
            ))
            .await?;
            Ok::<_, Error>(())
        })
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Integrity {
                kind: IntegrityKind::ForeignKey,
                ..
            })
        ),
        "{result:?}"
    );
    // With a pool of one, this would time out if the connection were still checked out.
    let rows = raw_query::<i64>("SELECT count(*) FROM child", vec![])
        .fetch_one(&db)
        .await
        .expect("pool serves");
    assert_eq!(rows, 0);
    let (_, open, idle) = db.pool_status();
    assert_eq!(open, idle, "no connection stays checked out");
}

/// A brand-new database without the hstore extension: creating a model with an hstore
/// column fails with an error that names the extension and the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_hstore_says_how_to_install_it() {
    let admin = admin();
    let name = format!("orm_no_hstore_{}", std::process::id());
    let run = |sql: String| {
        let admin = admin.clone();
        async move { raw_query::<()>(sql, vec![]).execute(&admin).await }
    };
    run(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop");
    run(format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let url = pg_url();
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&url);
    let db = PostgresqlDatabase::connect_lazy(&format!("{base}/{name}")).expect("url");
    let err = orm_tests::models::Extras::create_table_async(&db, false)
        .await
        .expect_err("no hstore type in a new database");
    db.close().await;
    run(format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop");
    assert!(
        matches!(&err, Error::Database { code: DbCode::SqlState(code), .. } if code == "42704"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("hstore extension") && text.contains("CREATE EXTENSION hstore"),
        "{text}"
    );
}

/// A connection the server terminates mid-query reports the server's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_connection_says_why() {
    let app = "orm_terminated_says_why";
    let db = PostgresqlDatabase::new(pg_config(app).application_name(app)).expect("database");
    let slow = {
        let db = db.clone();
        tokio::spawn(async move {
            // Not a read: a read would be sent again on a new connection.
            raw_query::<()>("DO $$ BEGIN PERFORM pg_sleep(10); END $$", vec![])
                .execute(&db)
                .await
        })
    };
    let admin = admin();
    for _ in 0..100 {
        if connections_named(&admin, app).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    terminate(&admin, app).await;
    let err = slow.await.expect("task").expect_err("terminated");
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert!(
        err.to_string().contains("terminating connection"),
        "the server's reason: {err}"
    );
}

/// An integer bound where the server expects a double is sent only if the double holds it
/// exactly; otherwise `Error::InvalidValue`, nothing sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integers_too_wide_for_a_double_are_refused() {
    let db = PostgresqlDatabase::new(pg_config("wide_ints")).expect("database");
    let exact = 1i64 << 53;
    let back = raw_query::<f64>("SELECT ?::float8", vec![Value::I64(exact)])
        .fetch_one(&db)
        .await
        .expect("2^53 fits");
    assert_eq!(back, exact as f64);
    for wide in [exact + 1, i64::MAX, i64::MIN] {
        let err = raw_query::<f64>("SELECT ?::float8", vec![Value::I64(wide)])
            .fetch_one(&db)
            .await
            .expect_err("does not fit a double");
        assert!(
            matches!(err, Error::InvalidValue { index: 1, .. }),
            "{err:?}"
        );
    }
}

/// `statement_timeout` and `lock_timeout` hold on pooled connections outside any
/// transaction: a statement that would run or wait for seconds fails within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_and_lock_timeouts_bound_the_wait() {
    let bounded = PooledPostgresqlDatabase::new(
        pg_config("timeouts").statement_timeout(Some(Duration::from_millis(200))),
    )
    .expect("pool");
    let started = Instant::now();
    let err = raw_query::<()>("SELECT pg_sleep(5)", vec![])
        .execute(&bounded)
        .await
        .expect_err("statement timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.db_code(),
        Some(&DbCode::SqlState("57014".into())),
        "{err:?}"
    );

    // Lock waits alone bounded here: the statement timeout would cut them first.
    let bounded = PooledPostgresqlDatabase::new(
        pg_config("lock_timeout").lock_timeout(Some(Duration::from_millis(200))),
    )
    .expect("pool");
    User::create_table_async(&bounded, false)
        .await
        .expect("create");
    // Another connection on the same schema holds the row lock.
    let holder =
        PostgresqlDatabase::new(bounded.config().clone().lock_timeout(None)).expect("database");
    let user = orm_manager::Manager::new(bounded.clone())
        .create(User::new("locked", 1, None))
        .await
        .expect("user");
    let objects = orm_manager::Manager::new(holder.clone());
    let tx = objects.begin_atomic().await.expect("begin");
    tx.execute(User::select().where_(User::ID.eq(user.id)).for_update())
        .await
        .expect("lock the row");
    let started = Instant::now();
    let err = User::update()
        .set(User::AGE, 2)
        .where_(User::ID.eq(user.id))
        .execute(&bounded)
        .await
        .expect_err("lock timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.db_code(),
        Some(&DbCode::SqlState("55P03".into())),
        "{err:?}"
    );
    assert!(err.is_retryable());
    tx.rollback().await.expect("rollback");
}

/// A query whose future is dropped (a client-side timeout) does not hold up the next user
/// of its connection: the next `SELECT 1` answers at once, pooled and single, and the
/// abandoned query is cancelled on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_query_does_not_block_the_next_user() {
    let pooled = orm_tests::harness::pg_pooled_sized("abandoned", 1);
    let single = PostgresqlDatabase::new(pg_config("abandoned_single")).expect("database");
    async fn check<D: Executor>(db: &D, what: &str) {
        let slow = raw_query::<()>("SELECT pg_sleep(5)", vec![]);
        let cut = tokio::time::timeout(Duration::from_millis(300), slow.execute(db)).await;
        assert!(cut.is_err(), "{what}: the slow query was cut");
        let started = Instant::now();
        let one = raw_query::<i32>("SELECT 1", vec![])
            .fetch_one(db)
            .await
            .expect("the next query");
        assert_eq!(one, 1);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what}: the next query waited {:?} behind the abandoned one",
            started.elapsed()
        );
    }
    check(&pooled, "pooled").await;
    check(&single, "single").await;
    // Nothing of ours is still sleeping on the server.
    let admin = admin();
    for _ in 0..100 {
        let sleeping = raw_query::<i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' \
             AND state = 'active' AND application_name LIKE 't_abandoned%'",
            vec![],
        )
        .fetch_one(&admin)
        .await
        .expect("pg_stat_activity");
        if sleeping == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the abandoned queries still run on the server");
}

/// After a column's type changes (ALTER TABLE), the cached statements of every connection
/// are prepared anew: no read fails with 0A000 "cached plan must not change result type".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_statements_survive_a_column_type_change() {
    let pooled = orm_tests::harness::pg_pooled_sized("stale_plans", 4);
    let single = PostgresqlDatabase::new(pg_config("stale_plans_single")).expect("database");
    async fn check<D: Executor + Clone + 'static>(db: &D, what: &str) {
        User::create_table_async(db, false).await.expect("create");
        User::new("ann", 30, None)
            .insert()
            .execute(db)
            .await
            .expect("insert");
        // Warm every connection's cache with the same read.
        let reads = (0..8).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { User::select().fetch_all(&db).await })
        });
        for read in reads {
            read.await.expect("task").expect("warm read");
        }
        raw_query::<()>(
            "ALTER TABLE users ALTER COLUMN name TYPE varchar(500)",
            vec![],
        )
        .execute(db)
        .await
        .expect("alter");
        let reads = (0..40).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { User::select().fetch_all(&db).await })
        });
        for read in reads {
            let rows = read
                .await
                .expect("task")
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(rows.len(), 1);
        }
    }
    check(&pooled, "pooled").await;
    check(&single, "single").await;
}

/// A stored document the ORM cannot read (written by someone else, nested past serde's
/// limit) fails with a decode error that keeps serde's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_errors_keep_the_real_cause() {
    use orm_tests::models::Doc;
    let db = PostgresqlDatabase::new(pg_config("decode_cause")).expect("database");
    Doc::create_table_async(&db, false).await.expect("create");
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    raw_query::<()>(
        "INSERT INTO doc (data) VALUES (CAST(? AS jsonb))",
        vec![deep.into()],
    )
    .execute(&db)
    .await
    .expect("stored by raw SQL");
    let err = Doc::select()
        .fetch_all(&db)
        .await
        .expect_err("cannot decode");
    assert!(
        matches!(&err, Error::Decode { actual, .. } if actual.contains("recursion limit")),
        "{err:?}"
    );
}

/// A serialization failure (40001: a repeatable-read transaction updating a row another
/// transaction changed since its snapshot) is retryable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serialization_failures_are_retryable() {
    let db = orm_tests::harness::pg_pooled_sized("serialization", 2);
    User::create_table_async(&db, false).await.expect("create");
    let objects = orm_manager::Manager::new(db.clone());
    let user = objects
        .create(User::new("contended", 1, None))
        .await
        .expect("user");
    let tx = objects.begin_atomic().await.expect("begin");
    tx.execute_raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", vec![])
        .await
        .expect("isolation");
    tx.get::<User, _>(User::ID.eq(user.id))
        .await
        .expect("snapshot");
    // Another task (this one's calls join the guard's transaction) changes the row.
    let other = objects.clone();
    tokio::spawn(async move {
        other
            .execute(
                User::update()
                    .set(User::AGE, 2)
                    .where_(User::ID.eq(user.id)),
            )
            .await
    })
    .await
    .expect("task")
    .expect("another transaction changes the row");
    let err = tx
        .execute(
            User::update()
                .set(User::AGE, 3)
                .where_(User::ID.eq(user.id)),
        )
        .await
        .expect_err("serialization failure");
    assert_eq!(
        err.db_code(),
        Some(&DbCode::SqlState("40001".into())),
        "{err:?}"
    );
    assert!(err.is_retryable(), "{err:?}");
    tx.rollback().await.expect("rollback");
}

/// Terminates backend `pid` half a second from now, while a statement runs on it.
fn terminate_soon(pid: i32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        raw_query::<bool>("SELECT pg_terminate_backend(?)", vec![pid.into()])
            .fetch_one(&admin())
            .await
            .expect("terminate");
    })
}

/// A read whose connection is lost under it (a restart, a terminated backend) is sent
/// once more on a new connection and answers; the caller sees nothing of it. On the
/// single and the pooled database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_cut_by_a_lost_connection_is_sent_again() {
    async fn check<D: Executor>(db: &D) {
        let pid: i32 = raw_query("SELECT pg_backend_pid()", vec![])
            .fetch_one(db)
            .await
            .expect("pid");
        let killer = terminate_soon(pid);
        let answer: i32 = raw_query("SELECT 42 FROM pg_sleep(1.5)", vec![])
            .fetch_one(db)
            .await
            .expect("the read is answered on a new connection");
        assert_eq!(answer, 42);
        killer.await.expect("killer");
        let now: i32 = raw_query("SELECT pg_backend_pid()", vec![])
            .fetch_one(db)
            .await
            .expect("pid");
        assert_ne!(now, pid, "a new connection");
    }
    check(&PostgresqlDatabase::new(pg_config("lost_read_single")).expect("db")).await;
    check(
        &PooledPostgresqlDatabase::new(pg_config("lost_read_pooled").max_connections(1))
            .expect("pool"),
    )
    .await;
}

/// A write whose connection is lost mid-statement fails and is never sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_by_a_lost_connection_is_not_sent_again() {
    let db = PostgresqlDatabase::new(pg_config("lost_write")).expect("db");
    User::create_table_async(&db, false).await.expect("create");
    let pid: i32 = raw_query("SELECT pg_backend_pid()", vec![])
        .fetch_one(&db)
        .await
        .expect("pid");
    let killer = terminate_soon(pid);
    let err = raw_query::<()>(
        "INSERT INTO users (name, age) SELECT 'once', 1 FROM pg_sleep(1.5)",
        vec![],
    )
    .execute(&db)
    .await
    .expect_err("the write fails");
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    killer.await.expect("killer");
    let rows: i64 = raw_query("SELECT count(*) FROM users WHERE name = 'once'", vec![])
        .fetch_one(&db)
        .await
        .expect("count on a new connection");
    assert_eq!(rows, 0, "the cut INSERT was not run again");
}

/// `bulk_insert` sends its rows by binary COPY: every value type, edge values and the
/// extended types (arrays, hstore, typed JSON) are stored exactly as a plain INSERT
/// stores them, through a single database and a pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_insert_copies_every_type_exactly() {
    use orm_tests::models::{Extras, Prefs};
    use std::collections::HashMap;
    let single = PostgresqlDatabase::new(pg_config("copy_types")).expect("database");
    AllTypes::create_table_async(&single, false)
        .await
        .expect("create");
    Extras::create_table_async(&single, false)
        .await
        .expect("create");
    let mut quiet = edge_row(String::new());
    quiet.opt_int = None;
    quiet.opt_text = None;
    quiet.opt_bytes = None;
    quiet.opt_decimal = None;
    quiet.opt_stamp = Some(quiet.stamp);
    quiet.opt_uuid = Some(quiet.uuid);
    let rows = vec![
        edge_row("Grüße, 日本語, emoji 🎉".into()),
        quiet,
        edge_row("x".repeat(100_000)),
    ];
    let extras = vec![
        Extras::new(
            vec!["rust".into(), String::new()],
            vec![i64::MIN, 0, i64::MAX],
            HashMap::from([("a".to_string(), Some("1".to_string())), ("b".into(), None)]),
            orm_core::Json(Prefs {
                theme: "dark".into(),
                size: 12,
            }),
        ),
        Extras::new(
            vec![],
            vec![],
            HashMap::new(),
            orm_core::Json(Prefs::default()),
        ),
    ];
    copy_and_compare(orm_manager::Manager::new(single), &rows, &extras).await;
    // The pool's connections see the same tables (the same schema).
    let pool = PooledPostgresqlDatabase::new(pg_config("copy_types")).expect("pool");
    AllTypes::create_table_async(&pool, false)
        .await
        .expect("create");
    Extras::create_table_async(&pool, false)
        .await
        .expect("create");
    copy_and_compare(orm_manager::Manager::new(pool), &rows, &extras).await;
}

async fn copy_and_compare<D: Database>(
    objects: orm_manager::Manager<D>,
    rows: &[AllTypes],
    extras: &[orm_tests::models::Extras],
) {
    use orm_tests::models::Extras;
    let back = copy_and_read(&objects, rows, AllTypes::select().order_by(AllTypes::ID)).await;
    for (sent, got) in rows.iter().zip(back) {
        assert_eq!(
            AllTypes {
                id: got.id,
                ..sent.clone()
            },
            got
        );
    }
    let back = copy_and_read(&objects, extras, Extras::select().order_by(Extras::ID)).await;
    for (sent, got) in extras.iter().zip(back) {
        assert_eq!(
            Extras {
                id: got.id,
                ..sent.clone()
            },
            got
        );
    }
}

/// Bulk-inserts `rows`, then reads every row of their table back.
async fn copy_and_read<D: Database, M: orm_core::Model + Send + Sync + 'static>(
    objects: &orm_manager::Manager<D>,
    rows: &[M],
    all: Select<M, M>,
) -> Vec<M> {
    let stored = objects.bulk_insert(rows).await.expect("bulk");
    assert_eq!(stored, rows.len() as u64);
    let back = objects.execute(all).await.expect("select");
    assert_eq!(back.len(), rows.len());
    back
}

/// A value the column cannot hold, found while the rows are being copied (an `i64` past
/// an INTEGER column's range, row 1,001): the copy is aborted, no row of it stays, and
/// the same connection serves the next copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_refused_half_way_through_a_copy_stores_nothing() {
    #[derive(orm_derive::Model, Debug, Clone, PartialEq)]
    #[orm(table = "narrow")]
    struct Narrow {
        #[orm(primary_key, auto)]
        id: i64,
        n: i64,
    }
    let db = PostgresqlDatabase::new(pg_config("copy_refused")).expect("database");
    raw_query::<()>(
        "CREATE TABLE narrow (id BIGSERIAL PRIMARY KEY, n INTEGER NOT NULL)",
        vec![],
    )
    .execute(&db)
    .await
    .expect("schema");
    let objects = orm_manager::Manager::new(db.clone());
    let mut rows: Vec<Narrow> = (0..1000).map(Narrow::new).collect();
    rows.push(Narrow::new(i64::from(i32::MAX) + 1));
    let err = objects.bulk_insert(&rows).await.expect_err("out of range");
    assert!(
        matches!(&err, Error::InvalidValue { index: 1, message } if message.starts_with("row 1001:")),
        "{err:?}"
    );
    assert_eq!(objects.count(Narrow::select()).await.expect("count"), 0);
    rows.pop();
    assert_eq!(objects.bulk_insert(&rows).await.expect("bulk"), 1000);
    let stored: Vec<Narrow> = objects
        .execute(Narrow::select().order_by(Narrow::ID))
        .await
        .expect("rows");
    let values: Vec<i64> = stored.iter().map(|r| r.n).collect();
    assert_eq!(values, (0..1000).collect::<Vec<i64>>());
}

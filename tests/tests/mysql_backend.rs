//! MySQL / MariaDB-specific behaviour: type round trips with edge values, strict mode,
//! pooling limits, recovery after KILL, cancelled statements, blocking calls in every
//! context.

use orm_runtime::PoolSettings;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orm_core::*;
use orm_mysql::{MySQLConfig, MySQLDatabase, PooledMySQLDatabase};
use orm_tests::harness::{mysql_config, mysql_url};
use orm_tests::models::{AllTypes, User};

fn edge_row(text: String) -> AllTypes {
    AllTypes::edge(text, -1.5e-3, f64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_with_edge_values() {
    let db = MySQLDatabase::new(mysql_config("types")).expect("database");
    AllTypes::create_table_async(&db, false)
        .await
        .expect("create");
    let rows = [
        edge_row("Grüße, 日本語, emoji 🎉🦀".into()),
        edge_row(String::new()),
        edge_row("x".repeat(10 * 1024 * 1024)),
    ];
    let keys = AllTypes::insert_many(&rows)
        .execute_returning_keys(&db)
        .await
        .expect("insert");
    assert!(
        keys.windows(2).all(|w| w[1] == w[0] + 1),
        "one key per row: {keys:?}"
    );
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
    let sync_back = AllTypes::select()
        .order_by(AllTypes::ID)
        .limit(1)
        .fetch_all_sync(&db)
        .expect("sync");
    assert_eq!(sync_back[0], back[0]);
    let nulls = AllTypes::update()
        .set(AllTypes::OPT_INT, None::<i64>)
        .set(AllTypes::OPT_TEXT, None::<String>)
        .set(AllTypes::OPT_BYTES, None::<Vec<u8>>)
        .set(AllTypes::OPT_DECIMAL, None::<rust_decimal::Decimal>);
    nulls.execute(&db).await.expect("set nulls");
    let got = AllTypes::select()
        .limit(1)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_mysql_would_mangle_are_refused() {
    let db = PooledMySQLDatabase::new(mysql_config("strict")).expect("pool");
    User::create_table_async(&db, false).await.expect("create");
    // name is VARCHAR(40): the ORM refuses a longer string before sending (as on every
    // backend), and strict mode refuses one sent as raw SQL instead of truncating it.
    let err = User::new("x".repeat(41), 1, None)
        .insert()
        .execute(&db)
        .await
        .expect_err("too long");
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    let err = raw_query::<()>(
        "INSERT INTO users (name, age) VALUES (?, 1)",
        vec!["x".repeat(41).into()],
    )
    .execute(&db)
    .await
    .expect_err("too long");
    assert!(
        matches!(
            err,
            Error::Database {
                code: DbCode::MySQL(1406),
                ..
            }
        ),
        "{err:?}"
    );
    let mut row = edge_row("nan".into());
    row.double = f64::NAN;
    let err = row.insert().execute(&db).await.expect_err("NaN");
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    assert_eq!(
        User::select()
            .count_query(true)
            .fetch_one(&db)
            .await
            .expect("count"),
        0
    );
}

fn admin() -> MySQLDatabase {
    MySQLDatabase::new(MySQLConfig::from_url(&mysql_url()).expect("url")).expect("database")
}

async fn connections_to(admin: &MySQLDatabase, database: &str) -> i64 {
    raw_query::<i64>(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?",
        vec![database.into()],
    )
    .fetch_one(admin)
    .await
    .expect("PROCESSLIST")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_through_eight_connections() {
    let db = PooledMySQLDatabase::new(mysql_config("pool_limit").max_connections(8)).expect("pool");
    let admin = admin();
    let peak = Arc::new(AtomicI64::new(0));
    let watcher = {
        let (peak, admin) = (peak.clone(), admin.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(
                    connections_to(&admin, "t_pool_limit").await,
                    Ordering::Relaxed,
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                raw_query::<i64>("SELECT ? + SLEEP(0.02) * 0", vec![Value::I64(i)])
                    .fetch_one(&db)
                    .await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.expect("task").expect("query"), i as i64);
    }
    watcher.abort();
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        (2..=8).contains(&peak),
        "{peak} server connections for a pool of 8"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_gives_the_pool_timeout_error() {
    let config = mysql_config("pool_timeout")
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200));
    let db = PooledMySQLDatabase::new(config).expect("pool");
    let holder = {
        let db = db.clone();
        tokio::spawn(async move { raw_query::<()>("DO SLEEP(1.5)", vec![]).execute(&db).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let err = raw_query::<i64>("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect_err("exhausted");
    assert!(
        matches!(
            err,
            Error::PoolTimeout {
                in_use: 1,
                max: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    holder.await.expect("holder").expect("long statement");
    assert_eq!(
        raw_query::<i64>("SELECT 1", vec![])
            .fetch_one(&db)
            .await
            .expect("free again"),
        1
    );
}

async fn kill_all(admin: &MySQLDatabase, database: &str) {
    let ids = raw_query::<i64>(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?",
        vec![database.into()],
    )
    .fetch_all(admin)
    .await
    .expect("ids");
    for id in ids {
        // The connection may already be gone.
        let _ = raw_query::<()>(format!("KILL {id}"), vec![])
            .execute(admin)
            .await;
    }
    for _ in 0..100 {
        if connections_to(admin, database).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("connections to {database} were not killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_every_connection_is_killed() {
    let admin = admin();
    let single = MySQLDatabase::new(mysql_config("kill_single")).expect("database");
    let pooled = PooledMySQLDatabase::new(mysql_config("kill_pooled")).expect("pool");
    User::create_table_async(&single, false)
        .await
        .expect("create");
    User::create_table_async(&pooled, false)
        .await
        .expect("create");
    for round in 0..2 {
        assert_eq!(
            User::select()
                .fetch_all(&single)
                .await
                .expect("single")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all_sync(&single)
                .expect("single sync")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all(&pooled)
                .await
                .expect("pooled")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all_sync(&pooled)
                .expect("pooled sync")
                .len(),
            round
        );
        kill_all(&admin, "t_kill_single").await;
        kill_all(&admin, "t_kill_pooled").await;
        // Reads after the kill are served on new connections, async and sync.
        assert_eq!(
            User::select()
                .fetch_all(&single)
                .await
                .expect("single after kill")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all_sync(&single)
                .expect("single sync after kill")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all(&pooled)
                .await
                .expect("pooled after kill")
                .len(),
            round
        );
        assert_eq!(
            User::select()
                .fetch_all_sync(&pooled)
                .expect("pooled sync after kill")
                .len(),
            round
        );
        // So are writes.
        let name = format!("u{round}");
        User::new(name.clone(), 1, None)
            .insert()
            .execute(&single)
            .await
            .expect("single write");
        User::new(name, 1, None)
            .insert()
            .execute_sync(&pooled)
            .expect("pooled sync write");
    }
    // A connection killed while idle for a while is noticed before a write is sent.
    kill_all(&admin, "t_kill_single").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    User::new("after idle", 1, None)
        .insert()
        .execute(&single)
        .await
        .expect("write after idle kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_statement_never_leaves_a_dirty_connection() {
    for pooled in [false, true] {
        let config = mysql_config(if pooled {
            "cancel_pooled"
        } else {
            "cancel_single"
        })
        .max_connections(1);
        let single = MySQLDatabase::new(config.clone()).expect("database");
        let pool = PooledMySQLDatabase::new(config).expect("pool");
        for i in 0..20u64 {
            let slow = raw_query::<i64>("SELECT SLEEP(0.05) + ?", vec![Value::I64(i as i64)]);
            let wait = Duration::from_millis(i * 3);
            let cut = if pooled {
                tokio::time::timeout(wait, slow.fetch_all(&pool))
                    .await
                    .is_err()
            } else {
                tokio::time::timeout(wait, slow.fetch_all(&single))
                    .await
                    .is_err()
            };
            let next = raw_query::<i64>("SELECT ?", vec![Value::I64(1000 + i as i64)]);
            let got = if pooled {
                next.fetch_one(&pool).await
            } else {
                next.fetch_one(&single).await
            };
            assert_eq!(
                got.expect("next statement"),
                1000 + i as i64,
                "after cut={cut} at {wait:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrity_errors_name_the_key_and_the_connection_keeps_working() {
    let db = MySQLDatabase::new(mysql_config("integrity")).expect("database");
    User::create_table_async(&db, false).await.expect("create");
    User::new("ann", 1, None)
        .insert()
        .execute(&db)
        .await
        .expect("insert");
    let err = User::new("ann", 2, None)
        .insert()
        .execute(&db)
        .await
        .expect_err("duplicate");
    match &err {
        Error::Integrity {
            kind: IntegrityKind::Unique,
            constraint: Some(key),
            code: DbCode::MySQL(1062),
            ..
        } => {
            assert!(key.contains("name"), "{key}")
        }
        other => panic!("expected a duplicate key error, got {other:?}"),
    }
    assert_eq!(
        User::select()
            .fetch_all(&db)
            .await
            .expect("still works")
            .len(),
        1
    );
}

fn sync_count(db: &MySQLDatabase) -> Result<i64> {
    raw_query::<i64>("SELECT COUNT(*) FROM users", vec![]).fetch_one_sync(db)
}

#[test]
fn blocking_calls_work_from_a_plain_thread_without_runtime() {
    let db = MySQLDatabase::new(mysql_config("sync_plain")).expect("database");
    User::create_table(&db, false).expect("create");
    User::new("a", 1, None)
        .insert()
        .execute_sync(&db)
        .expect("insert");
    let other = std::thread::spawn({
        let db = db.clone();
        move || sync_count(&db)
    });
    assert_eq!(other.join().expect("thread").expect("count"), 1);
    db.close_sync();
    assert!(!db.is_sync_open());
    assert_eq!(sync_count(&db).expect("reopens"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_inside_a_multi_thread_runtime_and_spawn_blocking() {
    let db = MySQLDatabase::new(mysql_config("sync_mt")).expect("database");
    User::create_table(&db, false).expect("create on a worker thread");
    let in_blocking = tokio::task::spawn_blocking({
        let db = db.clone();
        move || sync_count(&db)
    });
    assert_eq!(in_blocking.await.expect("join").expect("spawn_blocking"), 0);
    db.set_allow_sync(SyncPolicy::Deny);
    assert!(matches!(sync_count(&db), Err(Error::SyncNotAllowed(_))));
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_calls_inside_a_current_thread_runtime() {
    let db = PooledMySQLDatabase::new(mysql_config("sync_ct")).expect("pool");
    User::create_table(&db, false).expect("create, blocking on the only runtime thread");
    User::new("a", 1, None)
        .insert()
        .execute_sync(&db)
        .expect("insert");
    let n = raw_query::<i64>("SELECT COUNT(*) FROM users", vec![])
        .fetch_one(&db)
        .await
        .expect("async after sync");
    assert_eq!(n, 1);
    db.set_allow_sync(SyncPolicy::Deny);
    assert!(matches!(
        User::drop_table(&db, true),
        Err(Error::SyncNotAllowed(_))
    ));
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_state_is_reset_before_a_pooled_connection_is_reused() {
    let db = PooledMySQLDatabase::new(mysql_config("reset").max_connections(1)).expect("pool");
    raw_query::<()>("SET @leak = 42", vec![])
        .execute(&db)
        .await
        .expect("set a session variable");
    let leaked = raw_query::<Option<i64>>("SELECT @leak", vec![])
        .fetch_one(&db)
        .await
        .expect("read it back");
    assert_eq!(
        leaked, None,
        "the next user of the connection does not see @leak"
    );
    let mode = raw_query::<String>("SELECT @@SESSION.sql_mode", vec![])
        .fetch_one(&db)
        .await
        .expect("sql_mode");
    assert!(
        mode.contains("STRICT_ALL_TABLES"),
        "strict mode survives the reset: {mode}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_are_retryable() {
    let db = orm_tests::harness::mysql_pooled_sized("deadlock", 2);
    orm_tests::manager_suite::deadlock_is_retryable(&db).await;
}

/// Insert keys are what the server reports, never counted up from LAST_INSERT_ID():
/// explicit keys come back as given, skipped rows have none, and keys stay right with
/// `auto_increment_increment` / `auto_increment_offset` (as every Galera node sets them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_keys_are_reported_not_guessed() {
    use orm_tests::models::PageBlock;
    let db = orm_tests::harness::mysql_single("insert_keys");
    PageBlock::create_table_async(&db, false)
        .await
        .expect("create");
    let objects = orm_manager::Manager::new(db.clone());
    let block = |id: i64, key: &str| PageBlock {
        id,
        key: key.into(),
        text: String::new(),
    };
    let keys = objects
        .execute(PageBlock::insert_many(&[block(1, "one"), block(2, "two")]))
        .await
        .expect("explicit keys");
    assert_eq!(keys, vec![1, 2], "explicit keys come back as given");

    let ignored = objects
        .execute(PageBlock::insert_many(&[block(0, "one"), block(0, "two")]).on_conflict_ignore())
        .await
        .expect("every row exists: a success with no rows");
    assert_eq!(ignored, Vec::<i64>::new());

    let some = objects
        .execute(
            PageBlock::insert_many(&[block(0, "one"), block(0, "three"), block(0, "two")])
                .on_conflict_ignore(),
        )
        .await
        .expect("one new row");
    let three: PageBlock = objects
        .get(PageBlock::KEY.eq("three"))
        .await
        .expect("three");
    assert_eq!(some, vec![three.id], "only the inserted row's key");

    objects
        .execute_raw("SET SESSION auto_increment_increment = 3", vec![])
        .await
        .expect("increment");
    objects
        .execute_raw("SET SESSION auto_increment_offset = 2", vec![])
        .await
        .expect("offset");
    let stepped = objects
        .execute(PageBlock::insert_many(&[
            block(0, "s1"),
            block(0, "s2"),
            block(0, "s3"),
        ]))
        .await
        .expect("stepped keys");
    let stored: Vec<i64> = objects
        .execute(
            PageBlock::select()
                .columns(PageBlock::ID)
                .where_(PageBlock::KEY.startswith("s"))
                .order_by(PageBlock::KEY),
        )
        .await
        .expect("stored");
    assert_eq!(stepped, stored, "the keys of the rows as stored");
    assert!(stepped.windows(2).all(|w| w[1] - w[0] == 3), "{stepped:?}");
}

/// Years MySQL cannot store are refused, not wrapped into another year.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn years_outside_mysql_range_are_refused() {
    let db = orm_tests::harness::mysql_single("years");
    let date = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 2).expect("date");
    let back = raw_query::<chrono::NaiveDate>("SELECT ?", vec![Value::Date(date(9999))])
        .fetch_one(&db)
        .await
        .expect("9999 fits");
    assert_eq!(back, date(9999));
    for year in [10_000, 65_537, -1] {
        let err = raw_query::<chrono::NaiveDate>("SELECT ?", vec![Value::Date(date(year))])
            .fetch_one(&db)
            .await
            .expect_err("out of range");
        assert!(
            matches!(err, Error::InvalidValue { index: 1, .. }),
            "{year}: {err:?}"
        );
    }
}

/// `statement_timeout` and `lock_timeout` hold on pooled connections outside any
/// transaction: a statement that would run or wait for seconds fails within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_and_lock_timeouts_bound_the_wait() {
    let bounded = PooledMySQLDatabase::new(
        mysql_config("timeouts").statement_timeout(Some(Duration::from_millis(300))),
    )
    .expect("pool");
    let started = Instant::now();
    let err = raw_query::<i64>("SELECT SLEEP(5)", vec![])
        .fetch_all(&bounded)
        .await
        .expect_err("statement timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.db_code(), Some(&DbCode::MySQL(1969)), "{err:?}");

    // Lock waits alone bounded here: the statement timeout would cut them first.
    let bounded = PooledMySQLDatabase::new(
        mysql_config("lock_timeout").lock_timeout(Some(Duration::from_secs(1))),
    )
    .expect("pool");
    User::create_table_async(&bounded, false)
        .await
        .expect("create");
    let user = orm_manager::Manager::new(bounded.clone())
        .create(User::new("locked", 1, None))
        .await
        .expect("user");
    let url = mysql_url();
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&url);
    let holder = MySQLDatabase::connect_lazy(&format!("{base}/t_lock_timeout")).expect("url");
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
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.db_code(), Some(&DbCode::MySQL(1205)), "{err:?}");
    assert!(err.is_retryable());
    tx.rollback().await.expect("rollback");
}

/// A write whose connection is lost mid-statement fails and is never sent again: after
/// the server kills the connection during an INSERT, the row is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_by_a_lost_connection_is_not_sent_again() {
    let db = orm_tests::harness::mysql_single("lost_write");
    User::create_table_async(&db, false).await.expect("create");
    let id: i64 = raw_query::<i64>("SELECT CONNECTION_ID()", vec![])
        .fetch_one(&db)
        .await
        .expect("connection id");
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            raw_query::<()>(
                "INSERT INTO users (name, age) SELECT 'once', SLEEP(3)",
                vec![],
            )
            .execute(&db)
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let admin = MySQLDatabase::connect_lazy(&mysql_url()).expect("url");
    raw_query::<()>(&format!("KILL {id}"), vec![])
        .execute(&admin)
        .await
        .expect("kill");
    let err = writer.await.expect("task").expect_err("the write fails");
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = raw_query::<i64>("SELECT count(*) FROM users WHERE name = 'once'", vec![])
        .fetch_one(&db)
        .await
        .expect("count on a new connection");
    assert_eq!(rows, 0, "the killed INSERT was not run again");
}

/// With `check_on_checkout`, a pooled connection the server killed while it sat idle is
/// replaced before a write is sent on it; without, the write fails (a write is never sent
/// twice, and a connection used under a second ago is not pinged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_checkout_replaces_a_killed_connection() {
    for check in [false, true] {
        let config = mysql_config(&format!("checkout_{check}"))
            .max_connections(1)
            .check_on_checkout(check);
        let db = PooledMySQLDatabase::new(config).expect("pool");
        raw_query::<()>("CREATE TABLE t (id INT)", vec![])
            .execute(&db)
            .await
            .expect("create");
        let id: i64 = raw_query("SELECT CAST(CONNECTION_ID() AS SIGNED)", vec![])
            .fetch_one(&db)
            .await
            .expect("session id");
        let admin = MySQLDatabase::connect_lazy(&mysql_url()).expect("admin");
        raw_query::<()>(format!("KILL {id}"), vec![])
            .execute(&admin)
            .await
            .expect("kill");
        let write = raw_query::<()>("INSERT INTO t VALUES (1)", vec![])
            .execute(&db)
            .await;
        if check {
            write.expect("the killed connection was replaced before the write");
        } else {
            assert!(
                matches!(write, Err(Error::ConnectionLost { .. })),
                "unchecked, the write meets the killed connection: {write:?}"
            );
        }
    }
}

/// MariaDB ends a session left idle inside a transaction (`idle_transaction_timeout`):
/// its work is rolled back, the transaction's next statement fails, and the pool goes on
/// with a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_idle_is_ended_by_the_server() {
    let config = mysql_config("idle_tx")
        .max_connections(1)
        .idle_in_transaction_timeout(Some(Duration::from_secs(1)));
    let db = PooledMySQLDatabase::new(config).expect("pool");
    let set: i64 = raw_query(
        "SELECT CAST(@@SESSION.idle_transaction_timeout AS SIGNED)",
        vec![],
    )
    .fetch_one(&db)
    .await
    .expect("setting");
    assert_eq!(set, 1);
    raw_query::<()>("CREATE TABLE t (id INT)", vec![])
        .execute(&db)
        .await
        .expect("create");
    let objects = orm_manager::Manager::new(db.clone());
    let tx = objects.begin_transaction().await.expect("begin");
    tx.execute_raw("INSERT INTO t VALUES (1)", vec![])
        .await
        .expect("insert");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = tx.execute_raw("INSERT INTO t VALUES (2)", vec![]).await;
    assert!(
        late.is_err(),
        "the server ended the idle transaction: {late:?}"
    );
    drop(tx);
    let rows: i64 = raw_query("SELECT COUNT(*) FROM t", vec![])
        .fetch_one(&db)
        .await
        .expect("a new connection answers");
    assert_eq!(rows, 0, "the idle transaction's work was rolled back");
}

/// Inside a transaction the driver owns each statement and moves its values to
/// mysql_async; a value it refuses there (NaN) is refused before anything is sent, and the
/// transaction's connection goes on: the next statement and the commit succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_refused_inside_a_transaction_leaves_it_usable() {
    let db = MySQLDatabase::new(mysql_config("owned_refused")).expect("database");
    AllTypes::create_table_async(&db, false)
        .await
        .expect("create");
    let objects = orm_manager::Manager::new(db.clone());
    objects
        .atomic(|tx| async move {
            let mut nan = edge_row("nan".into());
            nan.double = f64::NAN;
            let err = tx.create(nan).await.expect_err("NaN");
            assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
            tx.create(edge_row("kept".into())).await.map(drop)
        })
        .await
        .expect("the transaction goes on and commits");
    let texts: Vec<String> = objects
        .execute(AllTypes::select().columns(AllTypes::TEXT))
        .await
        .expect("rows");
    assert_eq!(texts, ["kept"]);
}

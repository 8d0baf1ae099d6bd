//! Every statement gets a `tracing` span with its SQL, parameter count, rows and duration;
//! parameter values appear only when the database is configured to log them. The sync
//! guard's policies log what they say.

// Clippy's layout query for the Manager's transaction future, driven from a plain
// function here, goes deeper than the default limit.
#![recursion_limit = "256"]

use orm_core::*;
use orm_tests::capture::Capture;
use orm_tests::harness::sqlite_config;
use orm_tests::models::User;
use tracing::Level;

fn query_spans(capture: &Capture) -> Vec<String> {
    capture
        .lines()
        .into_iter()
        .filter(|l| l.name == "orm.query")
        .map(|l| l.fields)
        .collect()
}

/// tracing caches per call site whether anyone listens; a test on another thread could
/// race with the capture's registration, so this binary holds this one test, and the
/// checks run one after the other.
#[test]
fn tracing_checks() {
    statements_are_traced_without_their_values();
    server_spans_name_the_server_and_database();
    values_are_traced_when_the_user_opts_in();
    values_moved_to_the_driver_are_traced_first();
    sync_policies_log_at_their_levels_and_deny_refuses();
    sync_warns_by_default_only_on_a_runtime_thread();
}

fn statements_are_traced_without_their_values() {
    let db = orm_sqlite::SqliteDatabase::new(sqlite_config("trace_plain")).expect("open");
    let capture = Capture::default();
    capture.run(|| {
        User::create_table(&db, false).expect("create");
        User::new("secret-name", 42, None)
            .insert()
            .execute_sync(&db)
            .expect("insert");
        User::select()
            .where_(User::NAME.eq("secret-name"))
            .fetch_all_sync(&db)
            .expect("select");
    });
    let spans = query_spans(&capture);
    let insert = spans
        .iter()
        .find(|s| s.contains("INSERT INTO"))
        .expect("an INSERT span");
    assert!(insert.contains("params=3"), "{insert}");
    assert!(insert.contains("rows=1"), "{insert}");
    assert!(insert.contains("elapsed_us="), "{insert}");
    let select = spans
        .iter()
        .find(|s| s.contains("SELECT"))
        .expect("a SELECT span");
    // The OpenTelemetry database conventions.
    for field in [
        "db.system.name=sqlite",
        "db.operation.name=SELECT",
        "db.collection.name=users",
        "db.query.text=SELECT",
    ] {
        assert!(select.contains(field), "{field} in {select}");
    }
    assert!(
        select.contains("db.namespace=") && select.contains("trace_plain"),
        "{select}"
    );
    assert!(insert.contains("db.operation.name=INSERT"), "{insert}");
    for span in &spans {
        assert!(
            !span.contains("secret-name"),
            "a value leaked into a trace: {span}"
        );
    }
}

fn server_spans_name_the_server_and_database() {
    let pg = orm_tests::harness::pg_single("trace_server");
    let mysql = orm_tests::harness::mysql_single("trace_server");
    let capture = Capture::default();
    capture.run(|| {
        raw_query::<i64>("SELECT 1", vec![])
            .fetch_all_sync(&pg)
            .expect("pg");
        raw_query::<i64>("SELECT 1", vec![])
            .fetch_all_sync(&mysql)
            .expect("mysql");
    });
    let spans = query_spans(&capture);
    let on = |system: &str| {
        spans
            .iter()
            .find(|s| s.contains(&format!("db.system.name={system}")))
            .unwrap_or_else(|| panic!("a {system} span in {spans:?}"))
            .clone()
    };
    let (pg_span, mysql_span) = (on("postgresql"), on("mysql"));
    for span in [&pg_span, &mysql_span] {
        assert!(span.contains("server.address="), "{span}");
        assert!(span.contains("server.port="), "{span}");
        assert!(span.contains("db.namespace="), "{span}");
    }
    let database = mysql.config().database().expect("a database");
    assert!(
        mysql_span.contains(&format!("db.namespace={database}")),
        "{mysql_span}"
    );
    pg.close_sync();
    mysql.close_sync();
}

fn values_are_traced_when_the_user_opts_in() {
    let db = orm_sqlite::SqliteDatabase::new(sqlite_config("trace_values").log_values(true))
        .expect("open");
    let capture = Capture::default();
    capture.run(|| {
        User::create_table(&db, false).expect("create");
        User::new("visible-name", 42, None)
            .insert()
            .execute_sync(&db)
            .expect("insert");
    });
    assert!(query_spans(&capture)
        .iter()
        .any(|s| s.contains("visible-name")));
}

/// In a transaction the MySQL driver owns its statement and moves the values to
/// mysql_async instead of copying them: the span has recorded them before.
fn values_moved_to_the_driver_are_traced_first() {
    let config = orm_tests::harness::mysql_config("trace_moved").log_values(true);
    let db = orm_mysql::MySQLDatabase::new(config).expect("database");
    User::create_table(&db, false).expect("create");
    let capture = Capture::default();
    capture.run(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let objects = orm_manager::Manager::new(db.clone());
            objects
                .atomic(
                    |tx| async move { tx.create(User::new("moved-name", 7, None)).await.map(drop) },
                )
                .await
                .expect("insert in a transaction");
        });
    });
    let spans = query_spans(&capture);
    let insert = spans
        .iter()
        .find(|s| s.contains("INSERT INTO"))
        .unwrap_or_else(|| panic!("an INSERT span in {spans:?}"));
    assert!(insert.contains("params=3"), "{insert}");
    assert!(insert.contains("moved-name"), "{insert}");
    assert!(insert.contains("rows=1"), "{insert}");
    db.close_sync();
}

fn sync_policies_log_at_their_levels_and_deny_refuses() {
    let db = orm_sqlite::SqliteDatabase::new(sqlite_config("trace_policy")).expect("open");
    User::create_table(&db, false).expect("create");
    let capture = Capture::default();
    capture.run(|| {
        db.set_allow_sync(SyncPolicy::Warn);
        User::select().fetch_all_sync(&db).expect("warned, served");
        db.set_allow_sync(SyncPolicy::LogError);
        User::select()
            .fetch_all_sync(&db)
            .expect("logged as error, served");
        db.set_allow_sync(SyncPolicy::Deny);
        assert!(matches!(
            User::select().fetch_all_sync(&db),
            Err(Error::SyncNotAllowed(_))
        ));
        db.set_allow_sync(SyncPolicy::Allow);
        User::select().fetch_all_sync(&db).expect("allowed");
    });
    let lines = capture.lines();
    let warned = lines
        .iter()
        .filter(|l| l.level == Level::WARN && l.fields.contains("sync query"))
        .count();
    let errored = lines
        .iter()
        .filter(|l| l.level == Level::ERROR && l.fields.contains("sync query"))
        .count();
    assert_eq!((warned, errored), (1, 1), "{lines:#?}");
}

/// The default policy: a blocking call outside a runtime is silent, one made on a thread
/// that drives a tokio runtime logs a WARN line (and runs).
fn sync_warns_by_default_only_on_a_runtime_thread() {
    let db = orm_sqlite::SqliteDatabase::new(sqlite_config("trace_default")).expect("open");
    assert_eq!(db.sync_policy(), SyncPolicy::WarnInRuntime);
    User::create_table(&db, false).expect("create");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let capture = Capture::default();
    let warned = || {
        capture
            .lines()
            .iter()
            .filter(|l| l.level == Level::WARN && l.fields.contains("sync query"))
            .count()
    };
    capture.run(|| {
        User::select()
            .fetch_all_sync(&db)
            .expect("outside a runtime");
    });
    assert_eq!(warned(), 0, "sync stays silent outside a runtime");
    capture.run(|| {
        runtime.block_on(async {
            User::select().fetch_all_sync(&db).expect("served");
        });
    });
    assert_eq!(warned(), 1, "{:#?}", capture.lines());
}

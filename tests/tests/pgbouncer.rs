//! The behaviour and Manager suites through a real PgBouncer 1.18 in transaction mode
//! (installed and started by the tests themselves, see `orm_tests::pgbouncer`), with the
//! PostgreSQL backend in pooler mode: nothing sent at startup that PgBouncer refuses, no
//! named statements, no session state that outlives a transaction.

mod pooled {
    orm_tests::behaviour_suite!(orm_tests::pgbouncer::pooled);
}

mod manager {
    orm_tests::manager_suite!(orm_tests::pgbouncer::pooled);
}

mod single {
    orm_tests::manager_suite!(orm_tests::pgbouncer::single);
}

use std::time::Duration;

use orm_core::{raw_query, Error, Result};
use orm_manager::Manager;
use orm_postgres::PooledPostgresqlDatabase;
use orm_runtime::PoolSettings;
use orm_tests::pgbouncer;

async fn show(objects: &Manager<PooledPostgresqlDatabase>, setting: &str) -> Result<String> {
    let rows: Vec<String> = objects
        .execute(raw_query(format!("SHOW {setting}"), vec![]))
        .await?;
    Ok(rows.concat())
}

/// The defect pooler mode fixes: without it the backend sends its timeouts as startup
/// `options`, which PgBouncer refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pooler_mode_pgbouncer_refuses_the_connection() {
    let config = pgbouncer::config("refuses").pooler(false);
    let db = PooledPostgresqlDatabase::new(config).expect("pool");
    match Manager::new(db).execute_raw("SELECT 1", vec![]).await {
        Err(Error::Database { message, .. }) => {
            assert!(
                message.contains("unsupported startup parameter"),
                "{message}"
            )
        }
        other => panic!("PgBouncer accepts startup options? {other:?}"),
    }
}

/// In pooler mode the database's timeouts hold inside every transaction (`SET LOCAL`),
/// and nothing is left on the server session the pooler hands to the next client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooler_mode_sets_its_timeouts_in_each_transaction() {
    let config = pgbouncer::config("timeouts")
        .statement_timeout(Some(Duration::from_millis(300)))
        .lock_timeout(Some(Duration::from_millis(200)))
        .idle_in_transaction_timeout(Some(Duration::from_secs(7)))
        .max_connections(2);
    let objects = Manager::new(PooledPostgresqlDatabase::new(config).expect("pool"));
    let inside: (String, String, String) = objects
        .atomic(|tx| async move {
            Ok::<_, Error>((
                show(&tx, "statement_timeout").await?,
                show(&tx, "lock_timeout").await?,
                show(&tx, "idle_in_transaction_session_timeout").await?,
            ))
        })
        .await
        .expect("a transaction");
    assert_eq!(inside, ("300ms".into(), "200ms".into(), "7s".into()));
    let slow = objects
        .atomic(|tx| async move { tx.execute_raw("SELECT pg_sleep(3)", vec![]).await })
        .await;
    assert!(
        matches!(&slow, Err(Error::Database { code: orm_core::DbCode::SqlState(code), .. }) if code == "57014"),
        "the statement timeout cancels a slow statement in a transaction: {slow:?}"
    );
    // Outside a transaction the server's own settings apply: nothing leaked into the
    // sessions the pooler shares.
    for _ in 0..4 {
        assert_eq!(
            show(&objects, "statement_timeout").await.expect("show"),
            "0"
        );
    }
    // A transaction's own timeout wins over the database's.
    let own = orm_core::TxOptions::new().statement_timeout(Duration::from_secs(9));
    let seen = objects
        .transaction_with(
            own,
            |tx| async move { show(&tx, "statement_timeout").await },
        )
        .await
        .expect("a transaction");
    assert_eq!(seen, "9s");
}

//! The probe the suites end with must see what it is there to see: a transaction left
//! open on the server counts as busy, and the same session, once it has committed, does
//! not. (A probe that always answers 0 would pass every "nothing left open" check.)

use orm_core::Model;
use orm_manager::Manager;
use orm_tests::harness::{mysql_pooled, pg_pooled, sqlite_pooled};
use orm_tests::models::PageBlock;
use orm_tests::probe::Inspect;

async fn sees_an_open_transaction<D: Inspect + Clone>(db: D) {
    PageBlock::create_table_async(&db, true)
        .await
        .expect("create page_block");
    let objects = Manager::new(db.clone());
    let guard = objects.begin_transaction().await.expect("begin");
    guard
        .create(PageBlock::new("held", ""))
        .await
        .expect("write inside");
    assert_eq!(db.busy_sessions().await, 1, "the open transaction is seen");
    guard.commit().await.expect("commit");
    assert_eq!(db.busy_sessions().await, 0, "and is gone once committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql() {
    sees_an_open_transaction(pg_pooled("probe_sees")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    sees_an_open_transaction(mysql_pooled("probe_sees")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    sees_an_open_transaction(sqlite_pooled("probe_sees")).await;
}

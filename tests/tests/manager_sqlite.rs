//! The Manager on SQLite: single connection (statements where `RunOn` says: by default,
//! always inline, always on the blocking pool), a pool of 2, and a pool of 1.

mod single {
    orm_tests::manager_suite!(orm_tests::harness::sqlite_single);
}

mod inline {
    orm_tests::manager_suite!(orm_tests::harness::sqlite_inline);
}

mod blocking {
    orm_tests::manager_suite!(orm_tests::harness::sqlite_blocking);
}

mod pooled {
    fn pool_of_two(name: &str) -> orm_sqlite::PooledSqliteDatabase {
        orm_tests::harness::sqlite_pooled_sized(name, 2)
    }
    orm_tests::manager_suite!(pool_of_two);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nested_acquire_with_one_connection() {
        let db = orm_tests::harness::sqlite_pooled_sized("nested_acquire", 1);
        orm_tests::manager_suite::nested_acquire_with_one_connection(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_belong_to_their_database() {
    let a = orm_tests::harness::sqlite_single("scope_db_a");
    let b = orm_tests::harness::sqlite_single("scope_db_b");
    orm_tests::manager_suite::scopes_belong_to_their_database(&a, &b).await;
    let a = orm_tests::harness::sqlite_pooled("scope_db_a");
    let b = orm_tests::harness::sqlite_pooled("scope_db_b");
    orm_tests::manager_suite::scopes_belong_to_their_database(&a, &b).await;
}

/// The tagging workload on a pool of 8: eight transactions at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_on_a_pool_of_eight() {
    let db = orm_tests::harness::sqlite_pooled_sized("tagging", 8);
    orm_tests::manager_suite::tagging_in_concurrent_transactions(&db).await;
}

//! The Manager on SQLite: single connection (on the blocking pool and inline), a pool of
//! 2, and a pool of 1.

mod single {
    orm_tests::manager_suite!(orm_tests::harness::sqlite_single);
}

mod inline {
    // Every check but `cancellation`: an inline statement runs to its end inside one poll,
    // so a transaction on an uncontended connection has no point where a timeout or an
    // abort could cut it, and the check's "some were cut" premise cannot hold. Dropping a
    // transaction between statements is the same code as on the blocking pool.
    orm_tests::manager_suite!(@tests orm_tests::harness::sqlite_inline;
        crud get_or_create_basics get_or_create_race atomic_commits_and_rolls_back nested_scopes
        guards scope_follows_the_task isolation allow_sync_guard delete_recursive prefetch
        conflicts_close_and_low_level bulk_insert raw_writes);
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

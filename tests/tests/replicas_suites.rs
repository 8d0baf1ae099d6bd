//! The behaviour and Manager suites through `ReplicatedDatabase` on a PostgreSQL primary and
//! its streaming hot standby (servers of the tests' own, see `orm_tests::replica`), with
//! read-your-writes: plain reads go to the standby unless the task has written and the
//! standby has not replayed it yet.

orm_tests::behaviour_suite!(orm_tests::replica::suite_replicated);

mod manager {
    orm_tests::manager_suite!(orm_tests::replica::suite_replicated);
}

/// The suites would pass too if every read went to the primary: here the standby answers
/// most of a suite test's reads, and the writer's reads right after its writes (which the
/// standby may not have replayed yet) are the primary's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_answers_the_suites_reads() {
    let db = orm_tests::replica::suite_replicated("standby_answers");
    orm_tests::suite::joins(&db).await;
    let other = orm_tests::replica::suite_replicated("standby_answers_too");
    orm_tests::suite::aggregates(&other).await;
    let (one, two) = (db.reads(), other.reads());
    let (by_replicas, by_primary) = (
        one.by_replicas + two.by_replicas,
        one.by_primary + two.by_primary,
    );
    eprintln!("reads: {by_replicas} by the standby, {by_primary} by the primary");
    assert!(
        by_replicas > by_primary,
        "the standby answers most reads: {one:?} {two:?}"
    );
}

/// The same through a MariaDB primary and its GTID replica.
mod mariadb {
    orm_tests::behaviour_suite!(orm_tests::replica::suite_replicated_mysql);

    /// As `the_standby_answers_the_suites_reads`, on MariaDB.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_replica_answers_the_suites_reads() {
        let db = orm_tests::replica::suite_replicated_mysql("replica_answers");
        orm_tests::suite::joins(&db).await;
        let reads = db.reads();
        eprintln!("{reads:?}");
        assert!(
            reads.by_replicas > reads.by_primary,
            "the replica answers most reads: {reads:?}"
        );
    }

    mod manager {
        orm_tests::manager_suite!(orm_tests::replica::suite_replicated_mysql);
    }
}

//! The behaviour and Manager suites through `ReplicatedDatabase` on a PostgreSQL primary and
//! its streaming hot standby (servers of the tests' own, see `orm_tests::replica`), with
//! read-your-writes: plain reads go to the standby unless the task has written and the
//! standby has not replayed it yet.

orm_tests::behaviour_suite!(orm_tests::replica::suite_replicated);

mod manager {
    orm_tests::manager_suite!(orm_tests::replica::suite_replicated);
}

/// The suites count their reads, and once the standby has replayed a suite test's writes,
/// the writer's reads go there and answer as the primary does. (How many of a suite
/// test's own reads the standby answers depends on how far behind it is: under load, few.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_answers_once_it_has_replayed() {
    let db = orm_tests::replica::suite_replicated("standby_answers");
    orm_tests::replica::answers_once_replayed(&db, || {
        orm_tests::replica::wait_for_replay(std::time::Duration::from_secs(30))
    })
    .await;
}

/// The same through a MariaDB primary and its GTID replica.
mod mariadb {
    orm_tests::behaviour_suite!(orm_tests::replica::suite_replicated_mysql);

    /// As `the_standby_answers_once_it_has_replayed`, on MariaDB.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_replica_answers_once_it_has_replayed() {
        let db = orm_tests::replica::suite_replicated_mysql("replica_answers");
        orm_tests::replica::answers_once_replayed(&db, || {
            orm_tests::replica::wait_for_mariadb_replay(std::time::Duration::from_secs(30))
        })
        .await;
    }

    mod manager {
        orm_tests::manager_suite!(orm_tests::replica::suite_replicated_mysql);
    }
}

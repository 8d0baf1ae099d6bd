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
    use orm_core::{raw_query, FetchQuery};
    let db = orm_tests::replica::suite_replicated("standby_answers");
    orm_tests::suite::joins(&db).await;
    let during = db.reads();
    eprintln!("during the suite test: {during:?}");
    assert!(
        during.by_replicas + during.by_primary > 0,
        "reads are counted"
    );
    orm_tests::replica::wait_for_replay(std::time::Duration::from_secs(30));
    let sql = "SELECT name FROM users ORDER BY name";
    let from_primary: Vec<String> = raw_query(sql, vec![])
        .fetch_all(db.primary())
        .await
        .expect("read");
    let through: Vec<String> = raw_query(sql, vec![]).fetch_all(&db).await.expect("read");
    assert_eq!(through, from_primary);
    assert!(!through.is_empty());
    assert_eq!(
        db.reads().by_replicas,
        during.by_replicas + 1,
        "replayed: the standby answers the writer"
    );
}

/// The same through a MariaDB primary and its GTID replica.
mod mariadb {
    orm_tests::behaviour_suite!(orm_tests::replica::suite_replicated_mysql);

    /// As `the_standby_answers_once_it_has_replayed`, on MariaDB.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_replica_answers_once_it_has_replayed() {
        use orm_core::{raw_query, FetchQuery};
        let db = orm_tests::replica::suite_replicated_mysql("replica_answers");
        orm_tests::suite::joins(&db).await;
        let during = db.reads();
        eprintln!("during the suite test: {during:?}");
        assert!(
            during.by_replicas + during.by_primary > 0,
            "reads are counted"
        );
        orm_tests::replica::wait_for_mariadb_replay(std::time::Duration::from_secs(30));
        let sql = "SELECT name FROM users ORDER BY name";
        let from_primary: Vec<String> = raw_query(sql, vec![])
            .fetch_all(db.primary())
            .await
            .expect("read");
        let through: Vec<String> = raw_query(sql, vec![]).fetch_all(&db).await.expect("read");
        assert_eq!(through, from_primary);
        assert!(!through.is_empty());
        assert_eq!(
            db.reads().by_replicas,
            during.by_replicas + 1,
            "applied: the replica answers the writer"
        );
    }

    mod manager {
        orm_tests::manager_suite!(orm_tests::replica::suite_replicated_mysql);
    }
}

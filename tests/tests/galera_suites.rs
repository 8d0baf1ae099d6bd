//! The behaviour and Manager suites on a 3-node Galera cluster through `ClusterDatabase`, which
//! spreads the statements over the nodes.

orm_tests::behaviour_suite!(orm_tests::galera::suite_cluster);

mod manager {
    orm_tests::manager_suite!(orm_tests::galera::suite_cluster);
}

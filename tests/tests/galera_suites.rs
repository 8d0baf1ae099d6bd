//! The behaviour suite on a 3-node Galera cluster through `ClusterDatabase`, which
//! spreads the statements over the nodes.

orm_tests::behaviour_suite!(orm_tests::galera::suite_cluster);

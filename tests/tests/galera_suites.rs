//! The behaviour and Manager suites on a 3-node Galera cluster through `ClusterDatabase`, which
//! spreads the statements over the nodes.

orm_tests::behaviour_suite!(orm_tests::galera::suite_cluster);

/// Every Manager test but `tagging_in_concurrent_transactions`, which fails now and then
/// on the cluster (about one run in five here): a tag that `get_or_create` made on the
/// autonomous side, through one node, is not yet seen by the foreign-key check of the
/// transaction's insert on another node, even with `wsrep_sync_wait = 7`. Open in issue 16.
mod manager {
    orm_tests::manager_suite!(@tests orm_tests::galera::suite_cluster;
        crud get_or_create_basics get_or_create_race atomic_commits_and_rolls_back nested_scopes
        guards scope_follows_the_task isolation cancellation allow_sync_guard delete_recursive
        prefetch conflicts_close_and_low_level bulk_insert raw_writes cut_at_every_poll
        dropped_guard_leaves_nothing_open get_respects_the_users_limit
        get_or_create_inside_transactions close_returns_while_a_transaction_is_open
        every_query_runs_in_the_scope guard_transactions_join_the_task transaction_options
        failed_rollback_is_reported statement_timeouts);
}

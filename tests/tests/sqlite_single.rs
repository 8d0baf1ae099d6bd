//! The behaviour suite on SQLite through the single-connection database, with statements
//! on tokio's blocking pool (the default) and on the calling task (`run_inline`).
orm_tests::behaviour_suite!(orm_tests::harness::sqlite_single);

mod inline {
    orm_tests::behaviour_suite!(orm_tests::harness::sqlite_inline);
}

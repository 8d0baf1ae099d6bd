//! The behaviour suite on SQLite through the single-connection database, with statements
//! where `RunOn` says: by default (on the calling task, letting go of the worker when
//! long), always on the calling task, always on tokio's blocking pool.
orm_tests::behaviour_suite!(orm_tests::harness::sqlite_single);

mod inline {
    orm_tests::behaviour_suite!(orm_tests::harness::sqlite_inline);
}

mod blocking {
    orm_tests::behaviour_suite!(orm_tests::harness::sqlite_blocking);
}

//! The behaviour suite on SQLite through the single-connection database.
orm_tests::behaviour_suite!(orm_tests::harness::sqlite_single);

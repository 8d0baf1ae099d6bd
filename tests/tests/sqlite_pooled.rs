//! The behaviour suite on SQLite through the pooled database.
orm_tests::behaviour_suite!(orm_tests::harness::sqlite_pooled);

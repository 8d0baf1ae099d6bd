//! The behaviour suite on PostgreSQL through the single-connection database.
orm_tests::behaviour_suite!(orm_tests::harness::pg_single);

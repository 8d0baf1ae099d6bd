//! The behaviour suite on PostgreSQL through the pooled database.
orm_tests::behaviour_suite!(orm_tests::harness::pg_pooled);

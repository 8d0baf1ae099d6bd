//! The behaviour suite on MariaDB / MySQL through the pooled database.
orm_tests::behaviour_suite!(orm_tests::harness::mysql_pooled);

//! The behaviour suite on MariaDB / MySQL through the single-connection database.
orm_tests::behaviour_suite!(orm_tests::harness::mysql_single);

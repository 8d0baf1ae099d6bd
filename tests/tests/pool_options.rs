//! Pool options (min idle, idle timeout, max lifetime) on every backend's pooled database.

mod postgres {
    orm_tests::pool_suite!(
        orm_postgres::PostgresqlDriver,
        orm_tests::harness::pg_config,
        Some("SELECT pg_backend_pid()::int8"),
        with isolation levels
    );
}

mod mysql {
    orm_tests::pool_suite!(
        orm_mysql::MySQLDriver,
        orm_tests::harness::mysql_config,
        Some("SELECT CAST(CONNECTION_ID() AS SIGNED)"),
        with isolation levels
    );
}

mod sqlite {
    orm_tests::pool_suite!(
        orm_sqlite::SqliteDriver,
        orm_tests::harness::sqlite_config,
        None
    );
}

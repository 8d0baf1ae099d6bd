//! Schema tools and introspection (orm-migrate) on every backend.

mod postgres {
    orm_tests::schema_suite!(orm_tests::harness::pg_pooled);
}

mod mysql {
    orm_tests::schema_suite!(orm_tests::harness::mysql_pooled);
}

mod sqlite {
    orm_tests::schema_suite!(orm_tests::harness::sqlite_pooled);
}

//! The Manager on `AnyDatabase`: the whole suite through the run-time dispatch, on a
//! PostgreSQL pool, a MySQL pool and a single SQLite connection; and a database chosen
//! from a URL.

mod postgres {
    orm_tests::manager_suite!(orm_tests::harness::any_pg);
}

mod mysql {
    orm_tests::manager_suite!(orm_tests::harness::any_mysql);
}

mod sqlite {
    orm_tests::manager_suite!(orm_tests::harness::any_sqlite);
}

/// The URL's scheme picks the backend; an unknown one is a configuration error.
#[test]
fn the_url_picks_the_backend() {
    use orm_core::Executor;
    use orm_manager::AnyDatabase;
    let dialect = |db: AnyDatabase| Executor::dialect(&db).name();
    let pg = orm_tests::harness::pg_url();
    let my = orm_tests::harness::mysql_url();
    assert_eq!(
        dialect(AnyDatabase::connect_lazy(&pg).expect("pg")),
        "postgres"
    );
    assert_eq!(dialect(AnyDatabase::pooled(&my).expect("mysql")), "mysql");
    assert_eq!(
        dialect(AnyDatabase::pooled("sqlite::memory:").expect("sqlite")),
        "sqlite"
    );
    assert!(matches!(
        AnyDatabase::connect_lazy("oracle://db"),
        Err(orm_core::Error::Config(_))
    ));
}

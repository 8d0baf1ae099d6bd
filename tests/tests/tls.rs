//! TLS against servers of the tests' own (see `orm_tests::tls_servers`): a private
//! PostgreSQL cluster with a certificate from a test CA, and PgBouncer as a server that
//! offers no TLS.

use orm_core::{raw_query, Database, Error, FetchQuery, Query};
use orm_postgres::{
    PooledPostgresqlDatabase, PostgresqlConfig, PostgresqlDatabase, SslMode, TlsSettings,
};
use orm_tests::tls_servers::{certs, postgres_port};

/// The TLS cluster as `user`, reached by `host` name.
fn pg(host: &str, user: &str, mode: SslMode) -> PostgresqlConfig {
    PostgresqlConfig::new("postgres")
        .host(host)
        .port(postgres_port())
        .user(user)
        .ssl_mode(mode)
        .idle_in_transaction_timeout(None)
}

/// Whether the session runs over TLS, as the server sees it.
async fn encrypted(config: PostgresqlConfig) -> Result<bool, Error> {
    let db = PostgresqlDatabase::new(config)?;
    let ssl = raw_query::<bool>(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        vec![],
    )
    .fetch_one(&db)
    .await;
    db.close().await;
    ssl
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_with_the_right_ca_and_host() {
    let config = pg("localhost", "postgres", SslMode::VerifyFull).ssl_root_cert(&certs().ca);
    assert!(encrypted(config).await.expect("verify-full connects"));
    // The same from a URL.
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        postgres_port(),
        certs().ca.display()
    );
    let config = PostgresqlConfig::from_url(&url).expect("url");
    assert!(encrypted(config).await.expect("verify-full from a URL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_refuses_an_unknown_ca() {
    for mode in [SslMode::VerifyFull, SslMode::VerifyCa] {
        let config = pg("localhost", "postgres", mode).ssl_root_cert(&certs().other_ca);
        match encrypted(config).await {
            Err(Error::Tls(message)) => assert!(
                message.contains("UnknownIssuer") || message.contains("certificate"),
                "{message}"
            ),
            other => panic!("{mode:?} with the wrong CA: {other:?}"),
        }
    }
    // Without a root given, the public roots do not vouch for a private CA either.
    let config = pg("localhost", "postgres", SslMode::VerifyFull);
    assert!(matches!(encrypted(config).await, Err(Error::Tls(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_refuses_a_wrong_host_name_and_verify_ca_does_not_check_it() {
    // The certificate names `localhost`, not `127.0.0.1`.
    let config = pg("127.0.0.1", "postgres", SslMode::VerifyFull).ssl_root_cert(&certs().ca);
    match encrypted(config).await {
        Err(Error::Tls(message)) => assert!(message.contains("not valid for name"), "{message}"),
        other => panic!("verify-full with the wrong host name: {other:?}"),
    }
    let config = pg("127.0.0.1", "postgres", SslMode::VerifyCa).ssl_root_cert(&certs().ca);
    assert!(encrypted(config).await.expect("verify-ca ignores the name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_modes_that_do_not_verify() {
    for (mode, tls) in [
        (SslMode::Require, true),
        (SslMode::Prefer, true),
        (SslMode::Disable, false),
    ] {
        let config = pg("127.0.0.1", "postgres", mode);
        assert_eq!(encrypted(config).await.expect("connects"), tls, "{mode:?}");
    }
}

/// `require` refuses a server that offers no TLS (PgBouncer here); `prefer` goes on in
/// plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_require_refuses_a_server_without_tls() {
    let plain = orm_tests::pgbouncer::config("tls_require");
    let db = PostgresqlDatabase::new(plain.clone().ssl_mode(SslMode::Require)).expect("db");
    match raw_query::<i32>("SELECT 1", vec![]).fetch_one(&db).await {
        Err(Error::Tls(message)) => assert!(message.contains("does not support TLS"), "{message}"),
        other => panic!("require without TLS on the server: {other:?}"),
    }
    let db = PostgresqlDatabase::new(plain.ssl_mode(SslMode::Prefer)).expect("db");
    let one: i32 = raw_query("SELECT 1", vec![])
        .fetch_one(&db)
        .await
        .expect("prefer falls back");
    assert_eq!(one, 1);
}

/// A user the server authenticates by client certificate connects with it, and not
/// without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_client_certificate() {
    let certs = certs();
    let with = pg("localhost", "certuser", SslMode::VerifyFull)
        .ssl_root_cert(&certs.ca)
        .ssl_client_cert(&certs.client_cert, &certs.client_key);
    assert!(encrypted(with)
        .await
        .expect("the certificate authenticates"));
    let without = pg("localhost", "certuser", SslMode::VerifyFull).ssl_root_cert(&certs.ca);
    match encrypted(without).await {
        Err(Error::Database { message, .. }) => {
            assert!(message.contains("certificate"), "{message}")
        }
        other => panic!("certuser without a certificate: {other:?}"),
    }
    // A key without its certificate is a configuration error, found at once.
    let url = format!(
        "postgres://certuser@localhost:{}/postgres?sslmode=require&sslkey={}",
        postgres_port(),
        certs.client_key.display()
    );
    let half = PostgresqlConfig::from_url(&url).expect("url");
    assert!(matches!(
        PostgresqlDatabase::new(half),
        Err(Error::Config(_))
    ));
}

/// A pool over verified TLS serves queries, and a statement cut by its caller is
/// cancelled over TLS (the cancel request goes the same way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_over_tls_and_cancel() {
    use orm_runtime::PoolSettings;
    let config = pg("localhost", "postgres", SslMode::VerifyFull)
        .ssl_root_cert(&certs().ca)
        .application_name("orm_tls_cancel")
        .max_connections(2);
    let db = PooledPostgresqlDatabase::new(config).expect("pool");
    let started = std::time::Instant::now();
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        raw_query::<()>("SELECT pg_sleep(30)", vec![]).execute(&db),
    )
    .await;
    assert!(cut.is_err(), "the sleep was cut");
    let direct = pg("localhost", "postgres", SslMode::VerifyFull).ssl_root_cert(&certs().ca);
    let admin = PostgresqlDatabase::new(direct).expect("admin");
    let mut running = 1;
    for _ in 0..100 {
        running = raw_query::<i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orm_tls_cancel' \
             AND state = 'active'",
            vec![],
        )
        .fetch_one(&admin)
        .await
        .expect("activity");
        if running == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(running, 0, "the cut statement was cancelled on the server");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let n: i64 = raw_query("SELECT count(*) FROM generate_series(1, 1000)", vec![])
        .fetch_one(&db)
        .await
        .expect("the pool goes on");
    assert_eq!(n, 1000);
}

mod mysql {
    use orm_core::{raw_query, Database, Error, FetchQuery};
    use orm_mysql::{MySQLConfig, MySQLDatabase, PooledMySQLDatabase, SslMode, TlsSettings};
    use orm_tests::tls_servers::{certs, mariadb_port};

    fn my(host: &str, user: &str, mode: SslMode) -> MySQLConfig {
        MySQLConfig::new("mysql")
            .host(host)
            .port(mariadb_port())
            .user(user)
            .ssl_mode(mode)
    }

    /// Whether the session is encrypted, as the server sees it.
    async fn encrypted(config: MySQLConfig) -> Result<bool, Error> {
        let db = MySQLDatabase::new(config)?;
        let cipher = raw_query::<(String, String)>("SHOW SESSION STATUS LIKE 'Ssl_cipher'", vec![])
            .fetch_one(&db)
            .await;
        db.close().await;
        cipher.map(|(_, cipher)| !cipher.is_empty())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verify_identity_with_the_right_ca_and_host() {
        let config = my("localhost", "orm", SslMode::VerifyFull).ssl_root_cert(&certs().ca);
        assert!(encrypted(config).await.expect("VERIFY_IDENTITY connects"));
        let url = format!(
            "mysql://orm@localhost:{}/mysql?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
            mariadb_port(),
            certs().ca.display()
        );
        let config = MySQLConfig::from_url(&url).expect("url");
        assert!(encrypted(config).await.expect("from a URL"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_ca_and_a_wrong_host_name_are_refused() {
        let config = my("localhost", "orm", SslMode::VerifyFull).ssl_root_cert(&certs().other_ca);
        let result = encrypted(config).await;
        assert!(
            matches!(result, Err(Error::Tls(_))),
            "the wrong CA: {result:?}"
        );
        let config = my("127.0.0.1", "orm", SslMode::VerifyFull).ssl_root_cert(&certs().ca);
        match encrypted(config).await {
            Err(Error::Tls(message)) => {
                assert!(message.contains("not valid for name"), "{message}")
            }
            other => panic!("VERIFY_IDENTITY with the wrong host name: {other:?}"),
        }
        // VERIFY_CA is refused when the database is made, with the reason (see orm-mysql's
        // tls.rs: the driver cannot yet check the chain without the name).
        let config = my("127.0.0.1", "orm", SslMode::VerifyCa).ssl_root_cert(&certs().ca);
        match MySQLDatabase::new(config) {
            Err(Error::Config(message)) => assert!(message.contains("VERIFY_CA"), "{message}"),
            other => panic!("VERIFY_CA: {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn modes_that_do_not_verify() {
        for (mode, tls) in [
            (SslMode::Require, true),
            (SslMode::Prefer, true),
            (SslMode::Disable, false),
        ] {
            let config = my("127.0.0.1", "orm", mode);
            assert_eq!(encrypted(config).await.expect("connects"), tls, "{mode:?}");
        }
    }

    /// `REQUIRED` refuses the shared MariaDB, which has no TLS; `PREFERRED` goes on in plain
    /// text, on every connection of a pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn required_refuses_a_server_without_tls() {
        let url = orm_tests::harness::mysql_url();
        let plain = MySQLConfig::from_url(&url).expect("MYSQL_URL");
        let db = MySQLDatabase::new(plain.clone().ssl_mode(SslMode::Require)).expect("db");
        match raw_query::<i64>("SELECT 1", vec![]).fetch_one(&db).await {
            Err(Error::Tls(message)) => {
                assert!(message.contains("does not support TLS"), "{message}")
            }
            other => panic!("REQUIRED without TLS on the server: {other:?}"),
        }
        use orm_runtime::PoolSettings;
        let pool = PooledMySQLDatabase::new(plain.ssl_mode(SslMode::Prefer).max_connections(3))
            .expect("pool");
        let answers = futures_util::future::join_all((0..6).map(|_| {
            let pool = pool.clone();
            async move {
                raw_query::<(i64, i64)>("SELECT 1, SLEEP(0.1)", vec![])
                    .fetch_one(&pool)
                    .await
            }
        }))
        .await;
        assert!(
            answers.iter().all(|a| a.as_ref().is_ok_and(|r| r.0 == 1)),
            "{answers:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn client_certificate() {
        let certs = certs();
        let with = my("localhost", "certuser", SslMode::VerifyFull)
            .ssl_root_cert(&certs.ca)
            .ssl_client_cert(&certs.client_cert, &certs.client_key);
        assert!(encrypted(with)
            .await
            .expect("the certificate authenticates"));
        let without = my("localhost", "certuser", SslMode::VerifyFull).ssl_root_cert(&certs.ca);
        match encrypted(without).await {
            Err(Error::Database { message, .. }) => {
                assert!(message.contains("Access denied"), "{message}")
            }
            other => panic!("certuser without a certificate: {other:?}"),
        }
    }
}

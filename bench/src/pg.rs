//! PostgreSQL: the schema and data, then every implementation through the same runner.

use std::sync::Arc;

use orm_manager::prelude::*;
use tokio_postgres::Client;

use crate::harness::{insert_after, iterations, median_sync, Row};
use crate::models::User;
use crate::orm::Orm;
use crate::raw_pg::{RawPg, RawPgPool};
use crate::runner::{Concurrent, Runner, Sequential};

const B: &str = "PostgreSQL";

pub async fn setup(url: &str) -> Client {
    let client = crate::raw_pg::client(url).await;
    client
        .batch_execute(
            "DROP TABLE IF EXISTS bench_comments, bench_posts, bench_users, bench_new_users, bench_stream CASCADE",
        )
        .await
        .expect("drop");
    let db = PostgresqlDatabase::connect_lazy(url).expect("db");
    crate::models::create_tables(&db).await;
    client
        .batch_execute(
            "INSERT INTO bench_users (name, hair_color) SELECT 'User ' || i, CASE WHEN i % 2 = 0 THEN 'black' END FROM generate_series(1, 10000) i;
             INSERT INTO bench_posts (user_id, title, body) SELECT u, 'Post ' || p || ' by ' || u, NULL FROM generate_series(1, 10000) u, generate_series(1, 2) p WHERE u % 2 = 0;
             INSERT INTO bench_comments (post_id, text) SELECT p, 'Comment ' || c FROM generate_series(1, 10000) p, generate_series(1, 3) c;
             CREATE TABLE bench_stream AS SELECT i::bigint AS id, 'User ' || i AS name, NULL::text AS hair_color FROM generate_series(1, 1000000) i;
             ANALYZE",
        )
        .await
        .expect("data");
    client
}

pub async fn run(url: &str, rows: &mut Vec<Row>) {
    let admin = setup(url).await;
    let truncate = || {
        let admin = &admin;
        async move {
            let stored: i64 = admin
                .query_one("SELECT count(*) FROM bench_new_users", &[])
                .await
                .expect("count")
                .get(0);
            admin
                .batch_execute("TRUNCATE bench_new_users")
                .await
                .expect("truncate");
            stored as usize
        }
    };
    let mut runner = Runner::new(B, rows, truncate);
    let raw = RawPg::connect(url).await;
    let db = PostgresqlDatabase::connect_lazy(url).expect("db");
    let orm = Orm::new(db.clone());
    #[allow(unused_mut)] // the peers join it when built with them
    let mut sequential: Vec<&dyn Sequential> = vec![&raw, &orm];
    #[cfg(feature = "peers")]
    let peers = crate::peers::postgres(url).await;
    #[cfg(feature = "peers")]
    sequential.extend(peers.sequential());
    runner.sequential(&sequential).await;

    // The blocking API, from a plain thread (where sync calls belong).
    for n in [1usize, 100, 10_000] {
        let (w, it) = iterations(n);
        let db = db.clone();
        let t = std::thread::spawn(move || {
            median_sync(w, it, || {
                let got = User::select()
                    .limit(n as u64)
                    .fetch_all_sync(&db)
                    .expect("q");
                assert_eq!(got.len(), n);
            })
        })
        .join()
        .expect("sync");
        let workload = format!("trivial query, {n} rows");
        insert_after(runner.rows, Row::new(B, workload, "this ORM (sync)", t));
    }

    let config = PostgresqlConfig::from_url(url)
        .expect("url")
        .max_connections(8);
    let pool = PooledPostgresqlDatabase::new(config).expect("pool");
    #[allow(unused_mut)] // the peers join it when built with them
    let mut pools: Vec<Arc<dyn Concurrent>> =
        vec![Arc::new(RawPgPool::new(url, 8)), Arc::new(Orm::new(pool))];
    #[cfg(feature = "peers")]
    pools.extend(crate::peers::postgres_pools(url, 8).await);
    runner.lookups(&pools).await;
}

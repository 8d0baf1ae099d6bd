//! MariaDB: the schema and data, then every implementation through the same runner.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use orm_manager::prelude::*;

use crate::harness::Row;
use crate::orm::Orm;
use crate::raw_mysql::{pool, RawMy};
use crate::runner::{Concurrent, Runner, Sequential};

const B: &str = "MariaDB";

pub async fn setup(url: &str, admin: &mut mysql_async::Conn) {
    admin
        .query_drop(
            "DROP TABLE IF EXISTS bench_comments, bench_posts, bench_users, bench_new_users, bench_stream",
        )
        .await
        .expect("drop");
    let db = MySQLDatabase::connect_lazy(url).expect("db");
    crate::models::create_tables(&db).await;
    // MariaDB's sequence engine (seq_1_to_N) generates the same data as PostgreSQL's
    // generate_series.
    admin
        .query_drop(
            "INSERT INTO bench_users (name, hair_color) SELECT CONCAT('User ', seq), CASE WHEN seq % 2 = 0 THEN 'black' END FROM seq_1_to_10000;
             INSERT INTO bench_posts (user_id, title, body) SELECT u.seq, CONCAT('Post ', p.seq, ' by ', u.seq), NULL FROM seq_1_to_10000 u, seq_1_to_2 p WHERE u.seq % 2 = 0;
             INSERT INTO bench_comments (post_id, text) SELECT p.seq, CONCAT('Comment ', c.seq) FROM seq_1_to_10000 p, seq_1_to_3 c;
             CREATE TABLE bench_stream (id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
             INSERT INTO bench_stream SELECT seq, CONCAT('User ', seq), NULL FROM seq_1_to_1000000;
             ANALYZE TABLE bench_users, bench_posts, bench_comments",
        )
        .await
        .expect("data");
}

pub async fn run(url: &str, rows: &mut Vec<Row>) {
    let admin_pool = pool(url, 1);
    let mut admin = admin_pool.get_conn().await.expect("admin");
    setup(url, &mut admin).await;
    let admin = tokio::sync::Mutex::new(admin);
    let truncate = || {
        let admin = &admin;
        async move {
            let mut admin = admin.lock().await;
            let stored: Option<i64> = admin
                .query_first("SELECT count(*) FROM bench_new_users")
                .await
                .expect("count");
            admin
                .query_drop("TRUNCATE bench_new_users")
                .await
                .expect("truncate");
            stored.unwrap_or_default() as usize
        }
    };
    let mut runner = Runner::new(B, rows, truncate);
    let raw = RawMy(pool(url, 1));
    let orm = Orm::new(MySQLDatabase::connect_lazy(url).expect("db"));
    #[allow(unused_mut)] // the peers join it when built with them
    let mut sequential: Vec<&dyn Sequential> = vec![&raw, &orm];
    #[cfg(feature = "peers")]
    let peers = crate::peers::mysql(url).await;
    #[cfg(feature = "peers")]
    sequential.extend(peers.sequential());
    runner.sequential(&sequential).await;

    let config = MySQLConfig::from_url(url).expect("url").max_connections(8);
    let orm_pool = PooledMySQLDatabase::new(config).expect("pool");
    #[allow(unused_mut)] // the peers join it when built with them
    let mut pools: Vec<Arc<dyn Concurrent>> =
        vec![Arc::new(RawMy(pool(url, 8))), Arc::new(Orm::new(orm_pool))];
    #[cfg(feature = "peers")]
    pools.extend(crate::peers::mysql_pools(url, 8).await);
    runner.lookups(&pools).await;
}

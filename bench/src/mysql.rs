//! MySQL / MariaDB: this ORM against raw mysql_async (prepared statements, its own pool).

use std::time::Instant;

use mysql_async::prelude::Queryable;
use orm_manager::prelude::*;

use crate::harness::{iterations, median, Row};
use crate::models::{self, NewUser, Post, User};
use crate::pg::{run_tasks, throughput};

const B: &str = "MariaDB";

fn raw_user(row: mysql_async::Row) -> User {
    let (id, name, hair_color) = mysql_async::from_row(row);
    User {
        id,
        name,
        hair_color,
    }
}

pub async fn run(url: &str, rows: &mut Vec<Row>) {
    // mysql_async's pool resets each connection it takes back (a round trip); this ORM
    // resets only when session state may have changed. Compare like with like.
    let pool = mysql_async::Pool::new(
        mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(url).expect("url"))
            .pool_opts(mysql_async::PoolOpts::default().with_reset_connection(false)),
    );
    let mut raw = pool.get_conn().await.expect("raw connect");
    raw.query_drop(
        "DROP TABLE IF EXISTS bench_comments, bench_posts, bench_users, bench_new_users",
    )
    .await
    .expect("drop");
    let db = MySQLDatabase::connect_lazy(url).expect("db");
    User::create_table_async(&db, false).await.expect("users");
    Post::create_table_async(&db, false).await.expect("posts");
    NewUser::create_table_async(&db, false)
        .await
        .expect("new users");
    for chunk in models::users(10_000).chunks(2000) {
        let users: Vec<User> = chunk
            .iter()
            .map(|u| User::new(u.name.clone(), u.hair_color.clone()))
            .collect();
        User::insert_many(&users).execute(&db).await.expect("seed");
    }

    for n in [1usize, 100, 10_000] {
        let (w, it) = iterations(n);
        let name = format!("trivial query, {n} rows");
        let t = median(w, it, || {
            let pool = pool.clone();
            async move {
                let mut conn = pool.get_conn().await.expect("conn");
                let got: Vec<User> = conn
                    .exec_map(
                        "SELECT id, name, hair_color FROM bench_users LIMIT ?",
                        (n as i64,),
                        |r| raw_user(r),
                    )
                    .await
                    .expect("q");
                assert_eq!(got.len(), n);
            }
        })
        .await;
        rows.push(Row::new(B, &name, "mysql_async (raw)", t));
        let t = median(w, it, || async {
            assert_eq!(
                User::select()
                    .limit(n as u64)
                    .fetch_all(&db)
                    .await
                    .expect("q")
                    .len(),
                n
            );
        })
        .await;
        rows.push(Row::new(B, &name, "this ORM (async)", t));
    }

    for n in [1usize, 100, 1000] {
        let (w, it) = iterations(n);
        let name = format!("insert {n} users");
        let data = models::users(n);
        let sql = format!(
            "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
            vec!["(?, ?)"; n].join(", ")
        );
        let t = median(w, it, || {
            let (pool, sql) = (pool.clone(), sql.clone());
            let params: Vec<mysql_async::Value> = data
                .iter()
                .flat_map(|u| [u.name.clone().into(), u.hair_color.clone().into()])
                .collect();
            async move {
                let mut conn = pool.get_conn().await.expect("conn");
                conn.exec_drop(sql, params).await.expect("insert");
            }
        })
        .await;
        rows.push(Row::new(B, &name, "mysql_async (raw)", t));
        let t = median(w, it, || async {
            assert_eq!(
                NewUser::insert_many(&data)
                    .execute(&db)
                    .await
                    .expect("insert"),
                n as u64
            );
        })
        .await;
        rows.push(Row::new(B, &name, "this ORM (async)", t));
    }

    let lookups = 64 * 200;
    let raw_pool = mysql_async::Pool::new(
        mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(url).expect("url"))
            .pool_opts(
                mysql_async::PoolOpts::default()
                    .with_reset_connection(false)
                    .with_constraints(
                        mysql_async::PoolConstraints::new(1, 8).expect("constraints"),
                    ),
            ),
    );
    let start = Instant::now();
    run_tasks(64, |t| {
        let pool = raw_pool.clone();
        async move {
            for i in 0..200i64 {
                let id = (t as i64 * 200 + i) % 10_000 + 1;
                let mut conn = pool.get_conn().await.expect("conn");
                let row: Option<mysql_async::Row> = conn
                    .exec_first(
                        "SELECT id, name, hair_color FROM bench_users WHERE id = ?",
                        (id,),
                    )
                    .await
                    .expect("lookup");
                assert_eq!(row.map(raw_user).map(|u| u.id), Some(id));
            }
        }
    })
    .await;
    rows.push(throughput(
        B,
        "mysql_async pool (raw)",
        lookups,
        start.elapsed(),
    ));
    let orm_pool =
        PooledMySQLDatabase::new(MySqlConfig::from_url(url).expect("url").max_connections(8))
            .expect("pool");
    let start = Instant::now();
    run_tasks(64, |t| {
        let pool = orm_pool.clone();
        async move {
            for i in 0..200i64 {
                let id = (t as i64 * 200 + i) % 10_000 + 1;
                assert_eq!(
                    User::select()
                        .where_(User::ID.eq(id))
                        .fetch_one(&pool)
                        .await
                        .expect("lookup")
                        .id,
                    id
                );
            }
        }
    })
    .await;
    rows.push(throughput(B, "this ORM (pooled)", lookups, start.elapsed()));
    drop(raw);
}

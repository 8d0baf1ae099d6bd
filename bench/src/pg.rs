//! PostgreSQL: this ORM (async and sync) against raw tokio-postgres with prepared
//! statements, the floor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use orm_manager::prelude::*;
use tokio_postgres::{Client, NoTls};

use crate::harness::{iterations, median, median_sync, Row};
use crate::models::{self, Comment, NewUser, Post, User};

const B: &str = "PostgreSQL";

async fn raw_client(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("raw connect");
    tokio::spawn(conn);
    client
}

async fn setup(url: &str) -> Client {
    let client = raw_client(url).await;
    client
        .batch_execute(
            "DROP TABLE IF EXISTS bench_comments, bench_posts, bench_users, bench_new_users, bench_stream CASCADE",
        )
        .await
        .expect("drop");
    let db = PostgresqlDatabase::connect_lazy(url).expect("db");
    User::create_table_async(&db, false).await.expect("users");
    Post::create_table_async(&db, false).await.expect("posts");
    Comment::create_table_async(&db, false)
        .await
        .expect("comments");
    NewUser::create_table_async(&db, false)
        .await
        .expect("new users");
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

fn raw_user(row: &tokio_postgres::Row) -> User {
    User {
        id: row.get(0),
        name: row.get(1),
        hair_color: row.get(2),
    }
}

pub async fn run(url: &str, rows: &mut Vec<Row>) {
    let raw = setup(url).await;
    let db = PostgresqlDatabase::connect_lazy(url).expect("db");

    // Trivial query: every column of users into structs.
    let trivial = raw
        .prepare("SELECT id, name, hair_color FROM bench_users LIMIT $1")
        .await
        .expect("prepare");
    for n in [1usize, 100, 10_000] {
        let (w, it) = iterations(n);
        let name = format!("trivial query, {n} rows");
        let t = median(w, it, || async {
            let got: Vec<User> = raw
                .query(&trivial, &[&(n as i64)])
                .await
                .expect("q")
                .iter()
                .map(raw_user)
                .collect();
            assert_eq!(got.len(), n);
        })
        .await;
        rows.push(Row::new(B, &name, "tokio-postgres (raw)", t));
        let t = median(w, it, || async {
            let got = User::select()
                .limit(n as u64)
                .fetch_all(&db)
                .await
                .expect("q");
            assert_eq!(got.len(), n);
        })
        .await;
        rows.push(Row::new(B, &name, "this ORM (async)", t));
        let sync_db = db.clone();
        // Sync calls belong on plain threads, not on the runtime's.
        let t = std::thread::spawn(move || {
            median_sync(w, it, || {
                let got = User::select()
                    .limit(n as u64)
                    .fetch_all_sync(&sync_db)
                    .expect("q");
                assert_eq!(got.len(), n);
            })
        })
        .join()
        .expect("sync");
        rows.push(Row::new(B, &name, "this ORM (sync)", t));
    }

    // Medium complex query: users LEFT JOIN posts with a filter.
    let medium = raw
        .prepare(
            "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM bench_users u \
             LEFT OUTER JOIN bench_posts p ON p.user_id = u.id WHERE u.id <= $1",
        )
        .await
        .expect("prepare");
    for n in [1usize, 100, 1000] {
        let (w, it) = iterations(n);
        let name = format!("users LEFT JOIN posts, {n} users");
        let t = median(w, it, || async {
            let got: Vec<(User, Option<Post>)> = raw
                .query(&medium, &[&(n as i64)])
                .await
                .expect("q")
                .iter()
                .map(|r| {
                    let post = r.get::<_, Option<i64>>(3).map(|id| Post {
                        id,
                        user_id: r.get(4),
                        title: r.get(5),
                        body: r.get(6),
                    });
                    (raw_user(r), post)
                })
                .collect();
            assert!(got.len() >= n);
        })
        .await;
        rows.push(Row::new(B, &name, "tokio-postgres (raw)", t));
        let t = median(w, it, || async {
            let got = User::select()
                .left_join::<Post>()
                .where_(User::ID.le(n as i64))
                .fetch_all(&db)
                .await
                .expect("q");
            assert!(got.len() >= n);
        })
        .await;
        rows.push(Row::new(B, &name, "this ORM (async)", t));
    }

    // Loading associations: 100 users, their posts, the posts' comments.
    let (w, it) = iterations(100);
    let name = "100 users + posts + comments".to_string();
    let q_users = raw
        .prepare("SELECT id, name, hair_color FROM bench_users WHERE id <= $1")
        .await
        .expect("p");
    let q_posts = raw
        .prepare("SELECT id, user_id, title, body FROM bench_posts WHERE user_id = ANY($1)")
        .await
        .expect("p");
    let q_comments = raw
        .prepare("SELECT id, post_id, text FROM bench_comments WHERE post_id = ANY($1)")
        .await
        .expect("p");
    let t = median(w, it, || async {
        let users: Vec<User> = raw
            .query(&q_users, &[&100i64])
            .await
            .expect("u")
            .iter()
            .map(raw_user)
            .collect();
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let posts: Vec<Post> = raw
            .query(&q_posts, &[&ids])
            .await
            .expect("p")
            .iter()
            .map(|r| Post {
                id: r.get(0),
                user_id: r.get(1),
                title: r.get(2),
                body: r.get(3),
            })
            .collect();
        let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let comments: Vec<Comment> = raw
            .query(&q_comments, &[&post_ids])
            .await
            .expect("c")
            .iter()
            .map(|r| Comment {
                id: r.get(0),
                post_id: r.get(1),
                text: r.get(2),
            })
            .collect();
        let mut by_post: HashMap<i64, Vec<&Comment>> = HashMap::new();
        for c in &comments {
            by_post.entry(c.post_id).or_default().push(c);
        }
        let mut by_user: HashMap<i64, Vec<&Post>> = HashMap::new();
        for p in &posts {
            by_user.entry(p.user_id).or_default().push(p);
        }
        assert_eq!(users.len(), 100);
    })
    .await;
    rows.push(Row::new(B, &name, "tokio-postgres (raw)", t));
    let objects = Manager::new(db.clone());
    let t = median(w, it, || async {
        let users = objects
            .prefetch(
                User::select().where_(User::ID.le(100)),
                (Post::select(), Comment::select()),
            )
            .await
            .expect("prefetch");
        assert_eq!(users.rows().len(), 100);
    })
    .await;
    rows.push(Row::new(B, &name, "this ORM (async)", t));

    // Inserts: N users in one statement.
    for n in [1usize, 100, 1000] {
        let (w, it) = iterations(n);
        let name = format!("insert {n} users");
        let data = models::users(n);
        let placeholders: Vec<String> = (0..n)
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
            placeholders.join(", ")
        );
        let stmt = raw.prepare(&sql).await.expect("prepare");
        let t = median(w, it, || async {
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                Vec::with_capacity(2 * n);
            for u in &data {
                params.push(&u.name);
                params.push(&u.hair_color);
            }
            assert_eq!(raw.execute(&stmt, &params).await.expect("insert"), n as u64);
        })
        .await;
        rows.push(Row::new(B, &name, "tokio-postgres (raw)", t));
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

    // Concurrent point lookups: 64 tasks x 200 lookups through a pool of 8.
    let pool =
        PooledPostgresqlDatabase::new(PgConfig::from_url(url).expect("url").max_connections(8))
            .expect("pool");
    let raw_pool = raw_pool(url, 8);
    let lookups = 64 * 200;
    let start = Instant::now();
    run_tasks(64, |t| {
        let pool = raw_pool.clone();
        async move {
            // A connection per lookup, as a request handler takes one; the statement is
            // prepared once per connection.
            for i in 0..200i64 {
                let id = (t as i64 * 200 + i) % 10_000 + 1;
                let conn = pool.get().await.expect("raw pool");
                let row = conn.0.query_one(&conn.1, &[&id]).await.expect("lookup");
                assert_eq!(raw_user(&row).id, id);
            }
        }
    })
    .await;
    rows.push(throughput(
        B,
        "tokio-postgres + deadpool (raw)",
        lookups,
        start.elapsed(),
    ));
    let start = Instant::now();
    run_tasks(64, |t| {
        let pool = pool.clone();
        async move {
            for i in 0..200i64 {
                let id = (t as i64 * 200 + i) % 10_000 + 1;
                let user = User::select()
                    .where_(User::ID.eq(id))
                    .fetch_one(&pool)
                    .await
                    .expect("lookup");
                assert_eq!(user.id, id);
            }
        }
    })
    .await;
    rows.push(throughput(B, "this ORM (pooled)", lookups, start.elapsed()));
}

pub(crate) fn throughput(
    backend: &'static str,
    implementation: &'static str,
    ops: usize,
    elapsed: Duration,
) -> Row {
    let mut row = Row::new(
        backend,
        "concurrent point lookups (64 tasks x 200, pool 8)",
        implementation,
        elapsed / ops as u32,
    );
    row.note = format!("{:.0} queries/s", ops as f64 / elapsed.as_secs_f64());
    row
}

pub(crate) async fn run_tasks<F, Fut>(tasks: usize, make: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks).map(|t| tokio::spawn(make(t))).collect();
    for h in handles {
        h.await.expect("task");
    }
}

struct RawManager(String);

impl deadpool::managed::Manager for RawManager {
    type Type = (Client, tokio_postgres::Statement);
    type Error = tokio_postgres::Error;
    async fn create(&self) -> Result<Self::Type, tokio_postgres::Error> {
        let (client, conn) = tokio_postgres::connect(&self.0, NoTls).await?;
        tokio::spawn(conn);
        let stmt = client
            .prepare("SELECT id, name, hair_color FROM bench_users WHERE id = $1")
            .await?;
        Ok((client, stmt))
    }
    async fn recycle(
        &self,
        c: &mut Self::Type,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<tokio_postgres::Error> {
        if c.0.is_closed() {
            Err(deadpool::managed::RecycleError::message("closed"))
        } else {
            Ok(())
        }
    }
}

fn raw_pool(url: &str, size: usize) -> Arc<deadpool::managed::Pool<RawManager>> {
    Arc::new(
        deadpool::managed::Pool::builder(RawManager(url.to_owned()))
            .max_size(size)
            .build()
            .expect("pool"),
    )
}

/// Streams 1,000,000 rows; run in a child process so its peak memory is its own.
pub async fn stream_child(url: &str, implementation: &str) -> (Duration, usize) {
    let start = Instant::now();
    let count = if implementation == "raw" {
        let client = raw_client(url).await;
        let stmt = client
            .prepare("SELECT id, name, hair_color FROM bench_stream")
            .await
            .expect("p");
        let rows = client
            .query_raw(&stmt, std::iter::empty::<i64>())
            .await
            .expect("stream");
        let mut rows = std::pin::pin!(rows);
        let mut n = 0;
        while let Some(row) = rows.try_next().await.expect("row") {
            let u = raw_user(&row);
            n += usize::from(u.id > 0);
        }
        n
    } else {
        let db = PostgresqlDatabase::connect_lazy(url).expect("db");
        let q = raw_query::<User>("SELECT id, name, hair_color FROM bench_stream", vec![]);
        let mut rows = q.stream(&db);
        let mut n = 0;
        while let Some(u) = rows.try_next().await.expect("row") {
            n += usize::from(u.id > 0);
        }
        n
    };
    assert_eq!(count, 1_000_000);
    (start.elapsed(), crate::peak_rss_kib())
}

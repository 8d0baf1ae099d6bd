//! Raw tokio-postgres, the floor: prepared statements, rows decoded by hand, COPY for the
//! bulk load, deadpool for the pooled lookups.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Statement};

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::{Comment, NewUser, Post, User};

pub async fn client(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("raw connect");
    tokio::spawn(conn);
    client
}

fn user(row: &tokio_postgres::Row) -> User {
    User {
        id: row.get(0),
        name: row.get(1),
        hair_color: row.get(2),
    }
}

/// One connection; each statement prepared once, on first use.
pub struct RawPg {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

impl RawPg {
    pub async fn connect(url: &str) -> Self {
        RawPg {
            client: client(url).await,
            statements: Mutex::default(),
        }
    }

    async fn prepared(&self, sql: &str) -> Statement {
        let cached = self.statements.lock().expect("cache").get(sql).cloned();
        if let Some(stmt) = cached {
            return stmt;
        }
        let stmt = self.client.prepare(sql).await.expect("prepare");
        self.statements
            .lock()
            .expect("cache")
            .insert(sql.to_owned(), stmt.clone());
        stmt
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Vec<tokio_postgres::Row> {
        let stmt = self.prepared(sql).await;
        self.client.query(&stmt, params).await.expect("query")
    }
}

impl Workloads for RawPg {
    const NAME: &'static str = "tokio-postgres (raw)";

    async fn trivial(&self, limit: i64) -> usize {
        let rows = self
            .query(
                "SELECT id, name, hair_color FROM bench_users LIMIT $1",
                &[&limit],
            )
            .await;
        rows.iter().map(user).collect::<Vec<User>>().len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let rows = self
            .query(
                "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
                 FROM bench_users u LEFT OUTER JOIN bench_posts p ON p.user_id = u.id \
                 WHERE u.id <= $1",
                &[&max_id],
            )
            .await;
        let pairs: Vec<(User, Option<Post>)> = rows
            .iter()
            .map(|r| {
                let post = r.get::<_, Option<i64>>(3).map(|id| Post {
                    id,
                    user_id: r.get(4),
                    title: r.get(5),
                    body: r.get(6),
                });
                (user(r), post)
            })
            .collect();
        pairs.len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let users: Vec<User> = self
            .query(
                "SELECT id, name, hair_color FROM bench_users WHERE id <= $1",
                &[&max_id],
            )
            .await
            .iter()
            .map(user)
            .collect();
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let posts: Vec<Post> = self
            .query(
                "SELECT id, user_id, title, body FROM bench_posts WHERE user_id = ANY($1)",
                &[&ids],
            )
            .await
            .iter()
            .map(|r| Post {
                id: r.get(0),
                user_id: r.get(1),
                title: r.get(2),
                body: r.get(3),
            })
            .collect();
        let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let comments: Vec<Comment> = self
            .query(
                "SELECT id, post_id, text FROM bench_comments WHERE post_id = ANY($1)",
                &[&post_ids],
            )
            .await
            .iter()
            .map(|r| Comment {
                id: r.get(0),
                post_id: r.get(1),
                text: r.get(2),
            })
            .collect();
        crate::contender::group(users.len(), &posts, |p| p.user_id, &comments, |c| c.post_id)
    }

    async fn insert(&self, users: &[NewUser]) {
        let mut sql = String::from("INSERT INTO bench_new_users (name, hair_color) VALUES ");
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(2 * users.len());
        for (i, u) in users.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
            params.push(&u.name);
            params.push(&u.hair_color);
        }
        let stmt = self.prepared(&sql).await;
        let n = self.client.execute(&stmt, &params).await.expect("insert");
        assert_eq!(n, users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        let sink = self
            .client
            .copy_in("COPY bench_new_users (name, hair_color) FROM STDIN BINARY")
            .await
            .expect("copy");
        let writer = BinaryCopyInWriter::new(sink, &[Type::VARCHAR, Type::TEXT]);
        let mut writer = std::pin::pin!(writer);
        for u in users {
            writer
                .as_mut()
                .write(&[&u.name, &u.hair_color])
                .await
                .expect("copy row");
        }
        assert_eq!(writer.finish().await.expect("copy"), users.len() as u64);
    }

    async fn stream(&self) -> usize {
        let stmt = self
            .prepared("SELECT id, name, hair_color FROM bench_stream")
            .await;
        let rows = self
            .client
            .query_raw(&stmt, std::iter::empty::<i64>())
            .await
            .expect("stream");
        let mut rows = std::pin::pin!(rows);
        let mut n = 0;
        while let Some(row) = rows.try_next().await.expect("row") {
            n += usize::from(user(&row).id > 0);
        }
        n
    }
}

/// deadpool over tokio-postgres; the lookup statement prepared once per connection.
#[derive(Clone)]
pub struct RawPgPool(Arc<deadpool::managed::Pool<PoolManager>>);

impl RawPgPool {
    pub fn new(url: &str, size: usize) -> Self {
        let pool = deadpool::managed::Pool::builder(PoolManager(url.to_owned()))
            .max_size(size)
            .build()
            .expect("pool");
        RawPgPool(Arc::new(pool))
    }
}

impl Lookups for RawPgPool {
    const NAME: &'static str = "tokio-postgres + deadpool (raw)";

    async fn lookup(&self, id: i64) -> i64 {
        let conn = self.0.get().await.expect("raw pool");
        let row = conn.0.query_one(&conn.1, &[&id]).await.expect("lookup");
        user(&row).id
    }
}

pub struct PoolManager(String);

impl deadpool::managed::Manager for PoolManager {
    type Type = (Client, Statement);
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

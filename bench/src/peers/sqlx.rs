//! sqlx, written as its documentation suggests: `query_as` into `FromRow` structs, a
//! `QueryBuilder` for multi-row inserts, `UNNEST` arrays for PostgreSQL bulk loads, `fetch`
//! for streams, and its pool for the concurrent lookups.

use futures_util::TryStreamExt;
use sqlx::{
    Connection, MySql, MySqlConnection, MySqlPool, PgConnection, PgPool, Postgres, QueryBuilder,
};
use tokio::sync::Mutex;

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::NewUser;

#[derive(sqlx::FromRow)]
struct User {
    id: i64,
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    hair_color: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Post {
    id: i64,
    user_id: i64,
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    body: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Comment {
    #[allow(dead_code)]
    id: i64,
    post_id: i64,
    #[allow(dead_code)]
    text: String,
}

type JoinRow = (
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn split(row: JoinRow) -> (User, Option<Post>) {
    let (id, name, hair_color, post_id, user_id, title, body) = row;
    let post = match (post_id, user_id, title) {
        (Some(id), Some(user_id), Some(title)) => Some(Post {
            id,
            user_id,
            title,
            body,
        }),
        _ => None,
    };
    (
        User {
            id,
            name,
            hair_color,
        },
        post,
    )
}

const STREAM: &str = "SELECT id, name, hair_color FROM bench_stream";
const JOIN: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
     FROM bench_users u LEFT OUTER JOIN bench_posts p ON p.user_id = u.id WHERE u.id <= ";

/// The workloads that read the same on both databases but for the placeholder (`$1` or
/// `?`); each type adds its own `load_tree` and `bulk`, where the idioms differ.
macro_rules! sqlx_contender {
    ($name:ident, $conn:ty, $db:ty, $placeholder:literal) => {
        /// One connection.
        pub struct $name(Mutex<$conn>);

        impl $name {
            pub async fn connect(url: &str) -> Self {
                $name(Mutex::new(
                    <$conn>::connect(url).await.expect("sqlx connect"),
                ))
            }
        }

        impl Workloads for $name {
            const NAME: &'static str = "sqlx";

            async fn trivial(&self, limit: i64) -> usize {
                let mut conn = self.0.lock().await;
                let sql = concat!(
                    "SELECT id, name, hair_color FROM bench_users LIMIT ",
                    $placeholder
                );
                let users: Vec<User> = sqlx::query_as(sql)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await
                    .expect("trivial");
                users.len()
            }

            async fn left_join(&self, max_id: i64) -> usize {
                let mut conn = self.0.lock().await;
                let sql = sqlx::AssertSqlSafe(format!("{JOIN}{}", $placeholder));
                let rows: Vec<JoinRow> = sqlx::query_as(sql)
                    .bind(max_id)
                    .fetch_all(&mut *conn)
                    .await
                    .expect("left join");
                rows.into_iter().map(split).collect::<Vec<_>>().len()
            }

            async fn associations(&self, max_id: i64) -> Tree {
                let mut conn = self.0.lock().await;
                let sql = concat!(
                    "SELECT id, name, hair_color FROM bench_users WHERE id <= ",
                    $placeholder
                );
                let users: Vec<User> = sqlx::query_as(sql)
                    .bind(max_id)
                    .fetch_all(&mut *conn)
                    .await
                    .expect("users");
                let (posts, comments) = Self::load_tree(&mut conn, &users).await;
                crate::contender::group(
                    users.len(),
                    &posts,
                    |p| p.user_id,
                    &comments,
                    |c| c.post_id,
                )
            }

            async fn insert(&self, users: &[NewUser]) {
                let mut conn = self.0.lock().await;
                let done = insert_values::<$db>(users)
                    .build()
                    .execute(&mut *conn)
                    .await
                    .expect("insert");
                assert_eq!(done.rows_affected(), users.len() as u64);
            }

            async fn bulk_insert(&self, users: &[NewUser]) {
                let mut conn = self.0.lock().await;
                Self::bulk(&mut conn, users).await;
            }

            async fn stream(&self) -> usize {
                let mut conn = self.0.lock().await;
                let mut rows = sqlx::query_as::<_, User>(STREAM).fetch(&mut *conn);
                let mut n = 0;
                while let Some(u) = rows.try_next().await.expect("row") {
                    n += usize::from(u.id > 0);
                }
                n
            }
        }
    };
}

sqlx_contender!(SqlxPg, PgConnection, Postgres, "$1");
sqlx_contender!(SqlxMy, MySqlConnection, MySql, "?");

/// `INSERT ... VALUES (?, ?), ...` for `users`, built the sqlx way.
fn insert_values<DB>(users: &[NewUser]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    for<'q> &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new("INSERT INTO bench_new_users (name, hair_color) ");
    q.push_values(users, |mut row, u| {
        row.push_bind(&u.name).push_bind(&u.hair_color);
    });
    q
}

impl SqlxPg {
    async fn load_tree(conn: &mut PgConnection, users: &[User]) -> (Vec<Post>, Vec<Comment>) {
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let posts: Vec<Post> = sqlx::query_as(
            "SELECT id, user_id, title, body FROM bench_posts WHERE user_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .expect("posts");
        let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let comments: Vec<Comment> =
            sqlx::query_as("SELECT id, post_id, text FROM bench_comments WHERE post_id = ANY($1)")
                .bind(&post_ids)
                .fetch_all(&mut *conn)
                .await
                .expect("comments");
        (posts, comments)
    }

    /// sqlx's advice for PostgreSQL bulk inserts: bind whole columns as arrays.
    async fn bulk(conn: &mut PgConnection, users: &[NewUser]) {
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        let colors: Vec<Option<&str>> = users.iter().map(|u| u.hair_color.as_deref()).collect();
        sqlx::query(
            "INSERT INTO bench_new_users (name, hair_color) \
             SELECT * FROM UNNEST($1::varchar[], $2::text[])",
        )
        .bind(&names)
        .bind(&colors)
        .execute(&mut *conn)
        .await
        .expect("bulk insert");
    }
}

/// `(?, ?, ...)`, one bound key per value.
fn in_list(q: &mut QueryBuilder<MySql>, values: impl IntoIterator<Item = i64>) {
    q.push("(");
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    q.push(")");
}

impl SqlxMy {
    async fn load_tree(conn: &mut MySqlConnection, users: &[User]) -> (Vec<Post>, Vec<Comment>) {
        let mut q =
            QueryBuilder::new("SELECT id, user_id, title, body FROM bench_posts WHERE user_id IN ");
        in_list(&mut q, users.iter().map(|u| u.id));
        let posts: Vec<Post> = q
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .expect("posts");
        let mut q =
            QueryBuilder::new("SELECT id, post_id, text FROM bench_comments WHERE post_id IN ");
        in_list(&mut q, posts.iter().map(|p| p.id));
        let comments: Vec<Comment> = q
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .expect("comments");
        (posts, comments)
    }

    /// Multi-row inserts of 10,000 rows in one transaction.
    async fn bulk(conn: &mut MySqlConnection, users: &[NewUser]) {
        let mut tx = conn.begin().await.expect("begin");
        for chunk in users.chunks(10_000) {
            let mut q = insert_values::<MySql>(chunk);
            q.build().execute(&mut *tx).await.expect("bulk insert");
        }
        tx.commit().await.expect("commit");
    }
}

/// sqlx's PostgreSQL pool.
#[derive(Clone)]
pub struct SqlxPgPool(PgPool);

impl SqlxPgPool {
    pub async fn connect(url: &str, size: u32) -> Self {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(size)
            .connect(url)
            .await
            .expect("sqlx pool");
        SqlxPgPool(pool)
    }
}

impl Lookups for SqlxPgPool {
    const NAME: &'static str = "sqlx (pool)";

    async fn lookup(&self, id: i64) -> i64 {
        let user: User =
            sqlx::query_as("SELECT id, name, hair_color FROM bench_users WHERE id = $1")
                .bind(id)
                .fetch_one(&self.0)
                .await
                .expect("lookup");
        user.id
    }
}

/// sqlx's MySQL pool.
#[derive(Clone)]
pub struct SqlxMyPool(MySqlPool);

impl SqlxMyPool {
    pub async fn connect(url: &str, size: u32) -> Self {
        let pool = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(size)
            .connect(url)
            .await
            .expect("sqlx pool");
        SqlxMyPool(pool)
    }
}

impl Lookups for SqlxMyPool {
    const NAME: &'static str = "sqlx (pool)";

    async fn lookup(&self, id: i64) -> i64 {
        let user: User =
            sqlx::query_as("SELECT id, name, hair_color FROM bench_users WHERE id = ?")
                .bind(id)
                .fetch_one(&self.0)
                .await
                .expect("lookup");
        user.id
    }
}

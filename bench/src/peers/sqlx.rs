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

const TRIVIAL_PG: &str = "SELECT id, name, hair_color FROM bench_users LIMIT $1";
const TRIVIAL_MY: &str = "SELECT id, name, hair_color FROM bench_users LIMIT ?";
const JOIN: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
     FROM bench_users u LEFT OUTER JOIN bench_posts p ON p.user_id = u.id WHERE u.id <= ";
const STREAM: &str = "SELECT id, name, hair_color FROM bench_stream";

/// One PostgreSQL connection.
pub struct SqlxPg(Mutex<PgConnection>);

impl SqlxPg {
    pub async fn connect(url: &str) -> Self {
        SqlxPg(Mutex::new(
            PgConnection::connect(url).await.expect("sqlx connect"),
        ))
    }
}

impl Workloads for SqlxPg {
    const NAME: &'static str = "sqlx";

    async fn trivial(&self, limit: i64) -> usize {
        let mut conn = self.0.lock().await;
        let users: Vec<User> = sqlx::query_as(TRIVIAL_PG)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
            .expect("trivial");
        users.len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let mut conn = self.0.lock().await;
        let rows: Vec<JoinRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{JOIN}$1")))
            .bind(max_id)
            .fetch_all(&mut *conn)
            .await
            .expect("left join");
        rows.into_iter().map(split).collect::<Vec<_>>().len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let mut conn = self.0.lock().await;
        let users: Vec<User> =
            sqlx::query_as("SELECT id, name, hair_color FROM bench_users WHERE id <= $1")
                .bind(max_id)
                .fetch_all(&mut *conn)
                .await
                .expect("users");
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
        crate::contender::group(users.len(), &posts, |p| p.user_id, &comments, |c| c.post_id)
    }

    async fn insert(&self, users: &[NewUser]) {
        let mut conn = self.0.lock().await;
        let mut q =
            QueryBuilder::<Postgres>::new("INSERT INTO bench_new_users (name, hair_color) ");
        q.push_values(users, |mut row, u| {
            row.push_bind(&u.name).push_bind(&u.hair_color);
        });
        let done = q.build().execute(&mut *conn).await.expect("insert");
        assert_eq!(done.rows_affected(), users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        // sqlx's advice for PostgreSQL bulk inserts: bind whole columns as arrays.
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        let colors: Vec<Option<&str>> = users.iter().map(|u| u.hair_color.as_deref()).collect();
        let mut conn = self.0.lock().await;
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

/// One MySQL connection.
pub struct SqlxMy(Mutex<MySqlConnection>);

impl SqlxMy {
    pub async fn connect(url: &str) -> Self {
        SqlxMy(Mutex::new(
            MySqlConnection::connect(url).await.expect("sqlx connect"),
        ))
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

impl Workloads for SqlxMy {
    const NAME: &'static str = "sqlx";

    async fn trivial(&self, limit: i64) -> usize {
        let mut conn = self.0.lock().await;
        let users: Vec<User> = sqlx::query_as(TRIVIAL_MY)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
            .expect("trivial");
        users.len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let mut conn = self.0.lock().await;
        let rows: Vec<JoinRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{JOIN}?")))
            .bind(max_id)
            .fetch_all(&mut *conn)
            .await
            .expect("left join");
        rows.into_iter().map(split).collect::<Vec<_>>().len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let mut conn = self.0.lock().await;
        let users: Vec<User> =
            sqlx::query_as("SELECT id, name, hair_color FROM bench_users WHERE id <= ?")
                .bind(max_id)
                .fetch_all(&mut *conn)
                .await
                .expect("users");
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
        crate::contender::group(users.len(), &posts, |p| p.user_id, &comments, |c| c.post_id)
    }

    async fn insert(&self, users: &[NewUser]) {
        let mut conn = self.0.lock().await;
        let mut q = QueryBuilder::<MySql>::new("INSERT INTO bench_new_users (name, hair_color) ");
        q.push_values(users, |mut row, u| {
            row.push_bind(&u.name).push_bind(&u.hair_color);
        });
        let done = q.build().execute(&mut *conn).await.expect("insert");
        assert_eq!(done.rows_affected(), users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        let mut conn = self.0.lock().await;
        let mut tx = conn.begin().await.expect("begin");
        for chunk in users.chunks(10_000) {
            let mut q =
                QueryBuilder::<MySql>::new("INSERT INTO bench_new_users (name, hair_color) ");
            q.push_values(chunk, |mut row, u| {
                row.push_bind(&u.name).push_bind(&u.hair_color);
            });
            q.build().execute(&mut *tx).await.expect("bulk insert");
        }
        tx.commit().await.expect("commit");
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

//! Raw mysql_async, the floor: its pool (reset on return off, as this ORM resets only when
//! session state may have changed), statements cached by the driver, rows decoded by hand.

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::{Comment, NewUser, Post, User};

fn user(row: mysql_async::Row) -> User {
    let (id, name, hair_color) = mysql_async::from_row(row);
    User {
        id,
        name,
        hair_color,
    }
}

pub fn pool(url: &str, max: usize) -> Pool {
    let opts = mysql_async::Opts::from_url(url).expect("url");
    let constraints = mysql_async::PoolConstraints::new(1, max).expect("constraints");
    Pool::new(
        mysql_async::OptsBuilder::from_opts(opts).pool_opts(
            mysql_async::PoolOpts::default()
                .with_reset_connection(false)
                .with_constraints(constraints),
        ),
    )
}

/// `(?, ?, ...)` with `n` placeholders.
fn list(n: usize) -> String {
    format!("({})", vec!["?"; n].join(", "))
}

#[derive(Clone)]
pub struct RawMy(pub Pool);

impl RawMy {
    async fn insert_values<Q: Queryable + Send>(conn: &mut Q, users: &[NewUser]) {
        let sql = format!(
            "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
            vec!["(?, ?)"; users.len()].join(", ")
        );
        let params: Vec<Value> = users
            .iter()
            .flat_map(|u| [u.name.as_str().into(), u.hair_color.as_deref().into()])
            .collect();
        conn.exec_drop(sql, params).await.expect("insert");
    }
}

impl Workloads for RawMy {
    const NAME: &'static str = "mysql_async (raw)";

    async fn trivial(&self, limit: i64) -> usize {
        let mut conn = self.0.get_conn().await.expect("conn");
        let users: Vec<User> = conn
            .exec_map(
                "SELECT id, name, hair_color FROM bench_users LIMIT ?",
                (limit,),
                user,
            )
            .await
            .expect("trivial");
        users.len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let mut conn = self.0.get_conn().await.expect("conn");
        type Flat = (
            i64,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let pairs: Vec<(User, Option<Post>)> = conn
            .exec_map(
                "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
                 FROM bench_users u LEFT OUTER JOIN bench_posts p ON p.user_id = u.id \
                 WHERE u.id <= ?",
                (max_id,),
                |(id, name, hair_color, pid, user_id, title, body): Flat| {
                    let post = pid.map(|pid| Post {
                        id: pid,
                        user_id: user_id.unwrap_or_default(),
                        title: title.unwrap_or_default(),
                        body,
                    });
                    (
                        User {
                            id,
                            name,
                            hair_color,
                        },
                        post,
                    )
                },
            )
            .await
            .expect("left join");
        pairs.len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let mut conn = self.0.get_conn().await.expect("conn");
        let users: Vec<User> = conn
            .exec_map(
                "SELECT id, name, hair_color FROM bench_users WHERE id <= ?",
                (max_id,),
                user,
            )
            .await
            .expect("users");
        let ids: Vec<Value> = users.iter().map(|u| u.id.into()).collect();
        let posts: Vec<Post> = conn
            .exec_map(
                format!(
                    "SELECT id, user_id, title, body FROM bench_posts WHERE user_id IN {}",
                    list(ids.len())
                ),
                ids,
                |(id, user_id, title, body)| Post {
                    id,
                    user_id,
                    title,
                    body,
                },
            )
            .await
            .expect("posts");
        let post_ids: Vec<Value> = posts.iter().map(|p| p.id.into()).collect();
        let comments: Vec<Comment> = conn
            .exec_map(
                format!(
                    "SELECT id, post_id, text FROM bench_comments WHERE post_id IN {}",
                    list(post_ids.len())
                ),
                post_ids,
                |(id, post_id, text)| Comment { id, post_id, text },
            )
            .await
            .expect("comments");
        crate::contender::group(users.len(), &posts, |p| p.user_id, &comments, |c| c.post_id)
    }

    async fn insert(&self, users: &[NewUser]) {
        let mut conn = self.0.get_conn().await.expect("conn");
        Self::insert_values(&mut conn, users).await;
        assert_eq!(conn.affected_rows(), users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        let mut conn = self.0.get_conn().await.expect("conn");
        let mut tx = conn
            .start_transaction(mysql_async::TxOpts::default())
            .await
            .expect("begin");
        for chunk in users.chunks(10_000) {
            Self::insert_values(&mut tx, chunk).await;
        }
        tx.commit().await.expect("commit");
    }

    async fn stream(&self) -> usize {
        let mut conn = self.0.get_conn().await.expect("conn");
        let mut rows = conn
            .exec_iter("SELECT id, name, hair_color FROM bench_stream", ())
            .await
            .expect("stream");
        let mut n = 0;
        while let Some(row) = rows.next().await.expect("row") {
            n += usize::from(user(row).id > 0);
        }
        n
    }
}

impl Lookups for RawMy {
    const NAME: &'static str = "mysql_async pool (raw)";

    async fn lookup(&self, id: i64) -> i64 {
        let mut conn = self.0.get_conn().await.expect("conn");
        let row: Option<mysql_async::Row> = conn
            .exec_first(
                "SELECT id, name, hair_color FROM bench_users WHERE id = ?",
                (id,),
            )
            .await
            .expect("lookup");
        row.map(user).map_or(0, |u| u.id)
    }
}

//! diesel-async, written as diesel's guides suggest: a `table!` schema, `Selectable`
//! structs, `belonging_to` + `grouped_by` for associations, `insert_into(..).values(&vec)`
//! and `load_stream`; its deadpool integration for the concurrent lookups. One macro body
//! serves PostgreSQL and MySQL, as the same diesel code would in a user's program.

use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::TryStreamExt;
use tokio::sync::Mutex;

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::NewUser as Data;

mod schema {
    diesel::table! {
        bench_users (id) {
            id -> BigInt,
            name -> Varchar,
            hair_color -> Nullable<Text>,
        }
    }
    diesel::table! {
        bench_posts (id) {
            id -> BigInt,
            user_id -> BigInt,
            title -> Text,
            body -> Nullable<Text>,
        }
    }
    diesel::table! {
        bench_comments (id) {
            id -> BigInt,
            post_id -> BigInt,
            text -> Text,
        }
    }
    diesel::table! {
        bench_new_users (id) {
            id -> BigInt,
            name -> Varchar,
            hair_color -> Nullable<Text>,
        }
    }
    diesel::table! {
        bench_stream (id) {
            id -> BigInt,
            name -> Text,
            hair_color -> Nullable<Text>,
        }
    }
    diesel::joinable!(bench_posts -> bench_users (user_id));
    diesel::joinable!(bench_comments -> bench_posts (post_id));
    diesel::allow_tables_to_appear_in_same_query!(bench_users, bench_posts, bench_comments);
}

use schema::{bench_comments, bench_new_users, bench_posts, bench_stream, bench_users};

#[derive(Queryable, Selectable, Identifiable, Debug)]
#[diesel(table_name = bench_users)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
#[diesel(belongs_to(User), table_name = bench_posts)]
pub struct Post {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
#[diesel(belongs_to(Post), table_name = bench_comments)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub text: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bench_stream)]
#[allow(dead_code)] // decoded like every other implementation's rows, never read
pub struct StreamUser {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = bench_new_users)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub hair_color: Option<&'a str>,
}

fn new_users(users: &[Data]) -> Vec<NewUser<'_>> {
    users
        .iter()
        .map(|u| NewUser {
            name: &u.name,
            hair_color: u.hair_color.as_deref(),
        })
        .collect()
}

macro_rules! diesel_contender {
    ($single:ident, $pooled:ident, $conn:ty) => {
        /// One connection.
        pub struct $single(Mutex<$conn>);

        impl $single {
            pub async fn connect(url: &str) -> Self {
                $single(Mutex::new(
                    <$conn>::establish(url).await.expect("diesel connect"),
                ))
            }
        }

        impl Workloads for $single {
            const NAME: &'static str = "diesel-async";

            async fn trivial(&self, limit: i64) -> usize {
                let mut conn = self.0.lock().await;
                let users: Vec<User> = bench_users::table
                    .limit(limit)
                    .select(User::as_select())
                    .load(&mut *conn)
                    .await
                    .expect("trivial");
                users.len()
            }

            async fn left_join(&self, max_id: i64) -> usize {
                let mut conn = self.0.lock().await;
                let pairs: Vec<(User, Option<Post>)> = bench_users::table
                    .left_join(bench_posts::table)
                    .filter(bench_users::id.le(max_id))
                    .select((User::as_select(), Option::<Post>::as_select()))
                    .load(&mut *conn)
                    .await
                    .expect("left join");
                pairs.len()
            }

            async fn associations(&self, max_id: i64) -> Tree {
                let mut conn = self.0.lock().await;
                let users: Vec<User> = bench_users::table
                    .filter(bench_users::id.le(max_id))
                    .select(User::as_select())
                    .load(&mut *conn)
                    .await
                    .expect("users");
                let posts: Vec<Post> = Post::belonging_to(&users)
                    .select(Post::as_select())
                    .load(&mut *conn)
                    .await
                    .expect("posts");
                let comments: Vec<Comment> = Comment::belonging_to(&posts)
                    .select(Comment::as_select())
                    .load(&mut *conn)
                    .await
                    .expect("comments");
                let comments_per_post = comments.grouped_by(&posts);
                let posts_per_user = posts.grouped_by(&users);
                (
                    users.len(),
                    posts_per_user.iter().map(Vec::len).sum(),
                    comments_per_post.iter().map(Vec::len).sum(),
                )
            }

            async fn insert(&self, users: &[Data]) {
                let mut conn = self.0.lock().await;
                let n = diesel::insert_into(bench_new_users::table)
                    .values(&new_users(users))
                    .execute(&mut *conn)
                    .await
                    .expect("insert");
                assert_eq!(n, users.len());
            }

            async fn bulk_insert(&self, users: &[Data]) {
                let mut conn = self.0.lock().await;
                conn.transaction(async |conn| {
                    for chunk in users.chunks(10_000) {
                        diesel::insert_into(bench_new_users::table)
                            .values(&new_users(chunk))
                            .execute(conn)
                            .await?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
                .await
                .expect("bulk insert");
            }

            async fn stream(&self) -> usize {
                let mut conn = self.0.lock().await;
                let mut rows = bench_stream::table
                    .select(StreamUser::as_select())
                    .load_stream::<StreamUser>(&mut *conn)
                    .await
                    .expect("stream");
                let mut n = 0;
                while let Some(u) = rows.try_next().await.expect("row") {
                    n += usize::from(u.id > 0);
                }
                n
            }
        }

        /// diesel-async's deadpool pool.
        #[derive(Clone)]
        pub struct $pooled(Pool<$conn>);

        impl $pooled {
            pub fn new(url: &str, size: usize) -> Self {
                let manager = AsyncDieselConnectionManager::<$conn>::new(url);
                $pooled(
                    Pool::builder(manager)
                        .max_size(size)
                        .build()
                        .expect("diesel pool"),
                )
            }
        }

        impl Lookups for $pooled {
            const NAME: &'static str = "diesel-async (deadpool)";

            async fn lookup(&self, id: i64) -> i64 {
                let mut conn = self.0.get().await.expect("diesel pool");
                let user: User = bench_users::table
                    .find(id)
                    .select(User::as_select())
                    .first(&mut conn)
                    .await
                    .expect("lookup");
                user.id
            }
        }
    };
}

diesel_contender!(DieselPg, DieselPgPool, AsyncPgConnection);
diesel_contender!(DieselMy, DieselMyPool, AsyncMysqlConnection);

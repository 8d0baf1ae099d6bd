//! The benchmark schema, after diesel_bench: users, their posts, the posts' comments.

use orm_manager::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_users")]
pub struct User {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(max_length = 100)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_posts")]
pub struct Post {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = User, index)]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_comments")]
pub struct Comment {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = Post, index)]
    pub post_id: i64,
    pub text: String,
}

/// Users inserted by the insert workloads (a table of their own).
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_new_users")]
pub struct NewUser {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(max_length = 100)]
    pub name: String,
    pub hair_color: Option<String>,
}

pub fn users(n: usize) -> Vec<NewUser> {
    (0..n)
        .map(|i| {
            NewUser::new(
                format!("User {i}"),
                (i % 2 == 0).then(|| "black".to_string()),
            )
        })
        .collect()
}

/// The benchmark's tables, through this ORM's DDL (the same on every backend).
pub async fn create_tables<D: Database>(db: &D) {
    User::create_table_async(db, false).await.expect("users");
    Post::create_table_async(db, false).await.expect("posts");
    Comment::create_table_async(db, false)
        .await
        .expect("comments");
    NewUser::create_table_async(db, false)
        .await
        .expect("new users");
}

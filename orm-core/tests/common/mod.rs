//! Models and helpers shared by the rendering tests.
#![allow(dead_code)]

use orm_core::*;
use orm_derive::Model;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub name: String,
    pub age: i32,
    pub bio: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = User, on_delete = "cascade", index)]
    pub author_id: i64,
    pub title: String,
    pub score: f64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(schema = "app", index(post_id, created), unique(post_id, position))]
pub struct Comment {
    #[orm(primary_key, auto)]
    pub id: i32,
    #[orm(references = Post, on_delete = "set_null", on_update = "cascade")]
    pub post_id: Option<i64>,
    pub position: i16,
    #[orm(column = "body_text", default = "''")]
    pub body: String,
    pub created: i64,
    #[orm(skip)]
    pub cached: Vec<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(primary_key(user_id, tag))]
pub struct UserTag {
    #[orm(references = User)]
    pub user_id: i64,
    pub tag: String,
    #[orm(sql_type = "SMALLINT")]
    pub weight: i16,
}

pub fn render<Q: Query>(q: &Q, d: &dyn Dialect) -> (String, Vec<Value>) {
    let s = q.render(d).unwrap_or_else(|e| panic!("render failed: {e}"));
    (s.sql, s.params)
}

pub fn pg<Q: Query>(q: &Q) -> (String, Vec<Value>) {
    render(q, &PostgresqlDialect)
}

pub fn my<Q: Query>(q: &Q) -> (String, Vec<Value>) {
    render(q, &MySQLDialect)
}

pub fn lite<Q: Query>(q: &Q) -> (String, Vec<Value>) {
    render(q, &SqliteDialect)
}

/// PostgreSQL-quoted text → MySQL-quoted text with `?` placeholders, for asserting that
/// both dialects render the same structure.
pub fn to_mysql(pg_sql: &str) -> String {
    let mut out = String::new();
    let mut chars = pg_sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push('`'),
            '$' => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
                out.push('?');
            }
            c => out.push(c),
        }
    }
    out
}

pub fn t(s: &str) -> Value {
    Value::Text(s.into())
}

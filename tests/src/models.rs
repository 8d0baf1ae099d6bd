//! Models used by the behaviour suite.

use orm_derive::Model;

/// A user.
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

/// A post by a user.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = User, on_delete = "cascade", index)]
    pub author_id: i64,
    pub title: String,
    pub score: f64,
}

/// A tag row with a composite key, for upserts and INSERT ... SELECT.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(primary_key(user_id, tag))]
pub struct UserTag {
    #[orm(references = User, on_delete = "cascade")]
    pub user_id: i64,
    #[orm(max_length = 40)]
    pub tag: String,
    pub weight: i32,
}

/// Every core value type, nullable and not, for round trips.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AllTypes {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub b: bool,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub real: f32,
    pub double: f64,
    pub text: String,
    pub bytes: Vec<u8>,
    pub date: chrono::NaiveDate,
    pub time: chrono::NaiveTime,
    pub stamp: chrono::NaiveDateTime,
    pub stamp_tz: chrono::DateTime<chrono::Utc>,
    pub uuid: uuid::Uuid,
    pub decimal: rust_decimal::Decimal,
    pub json: serde_json::Value,
    pub opt_int: Option<i64>,
    pub opt_text: Option<String>,
    pub opt_bytes: Option<Vec<u8>>,
    pub opt_stamp: Option<chrono::NaiveDateTime>,
    pub opt_uuid: Option<uuid::Uuid>,
    pub opt_decimal: Option<rust_decimal::Decimal>,
}

/// The seed's PageBlock.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "page_block")]
pub struct PageBlock {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub key: String,
    #[orm(default = "''")]
    pub text: String,
}

/// A comment on a post (a second level of one-to-many).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Comment {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = Post)]
    pub post_id: i64,
    pub body: String,
}

/// A note that may belong to a user (a nullable reference).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Note {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = User)]
    pub user_id: Option<i64>,
    pub text: String,
}

/// A JSON document per row.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Doc {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub data: serde_json::Value,
}

/// Preferences stored as a typed JSON document.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Prefs {
    /// A theme name.
    pub theme: String,
    /// Font size.
    pub size: u8,
}

/// PostgreSQL's extended types: arrays, hstore, typed JSON.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Extras {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub tags: Vec<String>,
    pub scores: Vec<i64>,
    pub attrs: std::collections::HashMap<String, Option<String>>,
    pub prefs: orm_core::Json<Prefs>,
}

/// A typed JSON document, on every backend.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Settings {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub prefs: orm_core::Json<Prefs>,
    pub extra: Option<orm_core::Json<Vec<String>>>,
}

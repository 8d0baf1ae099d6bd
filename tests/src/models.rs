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
    /// Part of the key, and indexed on its own: finding the users of a tag.
    #[orm(max_length = 40, index)]
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

/// A tag, looked up or created by name while tagging a page block.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Tag {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub name: String,
}

/// Links a page block to a tag.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "block_tag")]
pub struct BlockTag {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = PageBlock)]
    pub block_id: i64,
    #[orm(references = Tag)]
    pub tag_id: i64,
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

impl AllTypes {
    /// A row of edge values: integer limits, zero bytes in binary, microsecond times, a
    /// long decimal, nested JSON, NULL and empty in the optional columns. `real` and
    /// `double` are chosen by the caller, since not every server stores infinities.
    pub fn edge(text: String, real: f32, double: f64) -> AllTypes {
        use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
        let date = NaiveDate::from_ymd_opt(1999, 12, 31).expect("date");
        let time = NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).expect("time");
        AllTypes::new(
            true,
            i16::MIN,
            i32::MAX,
            i64::MIN,
            real,
            double,
            text,
            vec![0, 1, 0, 255, 0],
            date,
            time,
            date.and_time(time),
            Utc.with_ymd_and_hms(2038, 1, 19, 3, 14, 7)
                .single()
                .expect("utc"),
            uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            "12345678901234567890.123456789"
                .parse::<rust_decimal::Decimal>()
                .expect("decimal"),
            serde_json::json!({"a": [1, 2.5, null, "é"], "b": {"c": true}}),
            Some(i64::MAX),
            Some(String::new()),
            Some(Vec::new()),
            None,
            None,
            Some(rust_decimal::Decimal::ZERO),
        )
    }
}

/// A model keyed by a UUID the application chooses.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Token {
    #[orm(primary_key)]
    pub id: uuid::Uuid,
    #[orm(references = User, on_delete = "cascade")]
    pub user_id: i64,
}

/// A document the ORM keeps a version and timestamps for.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Revision {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub body: String,
    #[orm(version)]
    pub version: i32,
    #[orm(created_at)]
    pub created_at: chrono::NaiveDateTime,
    #[orm(updated_at)]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A model with lifecycle hooks that write to [`AuditEntry`] through the executor they
/// are given. A name decides what they do: "refuse" fails `before_save`, "fail-after"
/// fails `after_save` (after its entry was written), "keep" fails `before_delete`.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(hooks)]
pub struct Audited {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

/// What the hooks of [`Audited`] saw, in order.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AuditEntry {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub event: String,
}

async fn audit<E: orm_core::Executor + ?Sized>(exec: &E, event: String) -> orm_core::Result<()> {
    use orm_core::Model;
    AuditEntry::new(event)
        .insert()
        .execute(exec)
        .await
        .map(drop)
}

impl orm_core::Model for Audited {
    async fn before_save<E: orm_core::Executor + ?Sized>(
        &mut self,
        exec: &E,
        created: bool,
    ) -> orm_core::Result<()> {
        if self.name == "refuse" {
            return Err(orm_core::Error::Query("refused by before_save".into()));
        }
        self.name = self.name.trim().to_owned();
        let what = if created { "insert" } else { "update" };
        audit(exec, format!("before {what} {}", self.name)).await
    }

    async fn after_save<E: orm_core::Executor + ?Sized>(
        &self,
        exec: &E,
        created: bool,
    ) -> orm_core::Result<()> {
        let what = if created { "insert" } else { "update" };
        audit(exec, format!("after {what} {} #{}", self.name, self.id)).await?;
        if self.name == "fail-after" {
            return Err(orm_core::Error::Query("refused by after_save".into()));
        }
        Ok(())
    }

    async fn before_delete<E: orm_core::Executor + ?Sized>(
        &self,
        exec: &E,
    ) -> orm_core::Result<()> {
        if self.name == "keep" {
            return Err(orm_core::Error::Query("refused by before_delete".into()));
        }
        audit(exec, format!("before delete {}", self.name)).await
    }

    async fn after_delete<E: orm_core::Executor + ?Sized>(&self, exec: &E) -> orm_core::Result<()> {
        audit(exec, format!("after delete {}", self.name)).await
    }
}

/// A topic that deletes softly.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Topic {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub title: String,
    #[orm(soft_delete)]
    pub deleted_at: Option<chrono::NaiveDateTime>,
}

/// An answer to a [`Topic`], deleted softly too (with a time zone).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Answer {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = Topic)]
    pub topic_id: i64,
    pub body: String,
    #[orm(soft_delete)]
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A vote on a [`Topic`], deleted for good.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Vote {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = Topic)]
    pub topic_id: i64,
}

/// A post whose columns have database defaults, for rows built column by column.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Draft {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub title: String,
    #[orm(default = "'draft'", max_length = 20)]
    pub status: String,
    #[orm(default = "3")]
    pub priority: i32,
    pub note: Option<String>,
}

/// The seed's PageBlock with a hook: saving block `…a` also stores block `…b` through the
/// transaction the hook is given. For the cut-at-every-poll check: both or neither.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "page_block", hooks)]
pub struct HookedBlock {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub key: String,
    #[orm(default = "''")]
    pub text: String,
}

impl orm_core::Model for HookedBlock {
    async fn after_save<E: orm_core::Executor + ?Sized>(
        &self,
        exec: &E,
        _created: bool,
    ) -> orm_core::Result<()> {
        let twin = self.key.strip_suffix('a').unwrap_or(&self.key);
        PageBlock::new(format!("{twin}b"), "")
            .insert()
            .execute(exec)
            .await
            .map(drop)
    }
}

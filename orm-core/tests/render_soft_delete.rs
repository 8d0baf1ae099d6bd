//! Soft delete, optimistic locking and timestamps in the rendered SQL, for each dialect:
//! live rows only unless asked, DELETE as an UPDATE unless hard, the version checked.
#![cfg(feature = "chrono")]

mod common;

use common::*;
use orm_core::*;
use orm_derive::Model;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Thread {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub title: String,
    #[orm(soft_delete)]
    pub deleted_at: Option<chrono::NaiveDateTime>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Reply {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(references = Thread)]
    pub thread_id: i64,
    #[orm(version)]
    pub version: i64,
    #[orm(updated_at)]
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[orm(soft_delete)]
    pub removed_at: Option<chrono::DateTime<chrono::Utc>>,
}

const THREAD: &str =
    r#"SELECT "thread"."id", "thread"."title", "thread"."deleted_at" FROM "thread""#;

/// The same statement on PostgreSQL, MySQL and SQLite.
fn assert_all<Q: Query>(q: &Q, pg_sql: &str, params: Vec<Value>) {
    assert_eq!(pg(q), (pg_sql.to_owned(), params.clone()));
    assert_eq!(my(q), (to_mysql(pg_sql), params.clone()));
    let mut sqlite = pg_sql.to_owned();
    for i in (1..=params.len()).rev() {
        sqlite = sqlite.replace(&format!("${i}"), &format!("?{i}"));
    }
    assert_eq!(lite(q), (sqlite, params));
}

#[test]
fn selects_show_live_rows_unless_asked() {
    assert_all(
        &Thread::select(),
        &format!(r#"{THREAD} WHERE ("thread"."deleted_at" IS NULL)"#),
        vec![],
    );
    assert_all(
        &Thread::select().where_(Thread::TITLE.eq("a") | Thread::TITLE.eq("b")),
        &format!(
            r#"{THREAD} WHERE ((("thread"."title" = $1) OR ("thread"."title" = $2))) AND ("thread"."deleted_at" IS NULL)"#
        ),
        vec![t("a"), t("b")],
    );
    assert_all(
        &Thread::select().where_(raw("1 = 1 OR 2 = 2", vec![])),
        &format!(r#"{THREAD} WHERE (1 = 1 OR 2 = 2) AND ("thread"."deleted_at" IS NULL)"#),
        vec![],
    );
    assert_all(&Thread::select().with_deleted(), THREAD, vec![]);
    assert_all(
        &Thread::select().count_query(false),
        &format!(
            r#"SELECT COUNT(*) FROM ({THREAD} WHERE ("thread"."deleted_at" IS NULL)) AS "_count""#
        ),
        vec![],
    );
}

#[test]
fn joined_soft_models_are_filtered_in_their_join() {
    let q = Reply::select()
        .left_join::<Thread>()
        .columns((Reply::ID, Thread::TITLE))
        .where_(Reply::VERSION.gt(1_i64));
    assert_all(
        &q,
        r#"SELECT "reply"."id", "thread"."title" FROM "reply" LEFT OUTER JOIN "thread" ON (("reply"."thread_id" = "thread"."id")) AND ("thread"."deleted_at" IS NULL) WHERE (("reply"."version" > $1)) AND ("reply"."removed_at" IS NULL)"#,
        vec![Value::I64(1)],
    );
    let op = Thread::alias("op");
    let q = Reply::select()
        .join_alias(&op, op.col(Thread::ID).eq(Reply::THREAD_ID))
        .columns(Reply::ID)
        .with_deleted();
    assert_all(
        &q,
        r#"SELECT "reply"."id" FROM "reply" INNER JOIN "thread" AS "op" ON ("op"."id" = "reply"."thread_id")"#,
        vec![],
    );
    let q = Reply::select().join_alias(&op, op.col(Thread::ID).eq(Reply::THREAD_ID));
    assert!(
        pg(&q).0.contains(r#"AND ("op"."deleted_at" IS NULL)"#),
        "{}",
        pg(&q).0
    );
}

#[test]
fn deletes_are_updates_unless_hard() {
    let soft = Thread::delete().where_(Thread::ID.eq(4_i64));
    let (sql, params) = pg(&soft);
    assert_eq!(
        sql,
        r#"UPDATE "thread" SET "deleted_at" = $1 WHERE (("thread"."id" = $2)) AND ("thread"."deleted_at" IS NULL)"#
    );
    assert!(matches!(params[0], Value::Timestamp(_)), "{params:?}");
    assert_eq!(params[1], Value::I64(4));
    let (my_sql, _) = my(&soft);
    assert_eq!(my_sql, to_mysql(&sql));
    // A DateTime<Utc> column gets a time with its zone.
    let (_, params) = lite(&Reply::delete());
    assert!(matches!(params[0], Value::TimestampTz(_)), "{params:?}");
    assert_all(
        &Thread::delete().where_(Thread::ID.eq(4_i64)).hard(),
        r#"DELETE FROM "thread" WHERE ("thread"."id" = $1)"#,
        vec![Value::I64(4)],
    );
    let returning = Thread::delete().returning(Thread::ID);
    assert!(pg(&returning)
        .0
        .ends_with(r#"WHERE ("thread"."deleted_at" IS NULL) RETURNING "thread"."id""#));
}

#[test]
fn updates_touch_live_rows_and_check_the_version() {
    assert_all(
        &Thread::update().set(Thread::TITLE, "x"),
        r#"UPDATE "thread" SET "title" = $1 WHERE ("thread"."deleted_at" IS NULL)"#,
        vec![t("x")],
    );
    assert_all(
        &Thread::update()
            .set(Thread::DELETED_AT, None)
            .with_deleted(),
        r#"UPDATE "thread" SET "deleted_at" = $1"#,
        vec![Value::Null],
    );
    let reply = Reply {
        id: 9,
        thread_id: 1,
        version: 5,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        removed_at: None,
    };
    let (sql, params) = pg(&Update::for_object(&reply, Some(&[])).expect("update"));
    assert_eq!(
        sql,
        r#"UPDATE "reply" SET "version" = ("reply"."version" + 1), "updated_at" = $1 WHERE ((("reply"."id" = $2) AND ("reply"."version" = $3))) AND ("reply"."removed_at" IS NULL)"#
    );
    assert_eq!(params[1..], [Value::I64(9), Value::I64(5)]);
    let err = Update::for_object(
        &UserTag {
            user_id: 1,
            tag: "a".into(),
            weight: 1,
        },
        None,
    );
    assert!(err.is_ok(), "a composite key is a key");
}

#[test]
fn rows_get_the_maintained_columns() {
    let (sql, params) = pg(&Reply::values().set(Reply::THREAD_ID, 2_i64).insert());
    assert_eq!(
        sql,
        r#"INSERT INTO "reply" ("thread_id", "version", "updated_at") VALUES ($1, $2, $3)"#
    );
    assert_eq!(params[..2], [Value::I64(2), Value::I64(0)]);
    assert!(matches!(params[2], Value::TimestampTz(_)), "{params:?}");
    let (my_sql, _) = my(&Reply::values()
        .set(Reply::THREAD_ID, 2_i64)
        .set(Reply::VERSION, 9_i64)
        .insert());
    assert_eq!(
        my_sql,
        "INSERT INTO `reply` (`thread_id`, `version`, `updated_at`) VALUES (?, ?, ?)"
    );
}

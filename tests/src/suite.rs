//! The behaviour suite: every query construct of the core, run on a real server through
//! any backend, async and sync. `tests/<backend>.rs` instantiate it with
//! [`behaviour_suite!`](crate::behaviour_suite!).
//!
//! Where dialects truly differ, the difference is decided here and only here, in
//! [`Differences`].

use futures_util::TryStreamExt;
use orm_core::*;

use crate::models::{Doc, Extras, Post, Prefs, Settings, Token, User, UserTag};

/// A backend under test: async and blocking.
pub trait Db: Executor + SyncExecutor + Send + Sync + 'static {}
impl<T: Executor + SyncExecutor + Send + Sync + 'static> Db for T {}

/// The one place where the suite's expectations depend on the dialect.
pub struct Differences {
    /// `UPDATE/DELETE ... RETURNING` exists (PostgreSQL, SQLite); MySQL has none.
    pub returning: bool,
    /// `SELECT ... FOR UPDATE` exists (PostgreSQL, MySQL); SQLite locks the whole
    /// database instead and has none.
    pub for_update: bool,
    /// JSON containment (`@>`, `JSON_CONTAINS`) exists (PostgreSQL, MySQL); SQLite has
    /// none.
    pub json_containment: bool,
    /// Array and hstore columns exist (PostgreSQL only).
    pub arrays_and_hstore: bool,
}

impl Differences {
    /// The differences of `db`'s dialect.
    pub fn of<D: Executor>(db: &D) -> Self {
        Differences {
            returning: Executor::dialect(db).supports_returning(),
            for_update: Executor::dialect(db).supports_for_update(),
            json_containment: Executor::dialect(db)
                .json_syntax(JsonOp::Contains)
                .is_some(),
            arrays_and_hstore: Executor::dialect(db).supports_type(SqlType::HStore),
        }
    }
}

/// Creates the suite's tables and rows: four users, four posts.
pub async fn seed<D: Db>(db: &D) -> Vec<User> {
    User::create_table_async(db, true)
        .await
        .expect("create users");
    Post::create_table_async(db, true)
        .await
        .expect("create post");
    UserTag::create_table_async(db, true)
        .await
        .expect("create user_tag");
    let mut users = vec![
        User::new("ann", 30, Some("likes 50% off".to_string())),
        User::new("Bob", 40, None),
        User::new("cid", 25, Some("CID bio".to_string())),
        User::new("dee", 60, None),
    ];
    let keys = User::insert_many(&users)
        .execute_returning_keys(db)
        .await
        .expect("insert users");
    assert_eq!(keys.len(), 4);
    for (u, k) in users.iter_mut().zip(&keys) {
        u.set_auto_key(*k).expect("key fits");
    }
    let posts = [
        Post::new(keys[0], "hello", 1.5),
        Post::new(keys[0], "again", 4.0),
        Post::new(keys[1], "bob's", 2.5),
        Post::new(keys[2], "cid's", 10.0),
    ];
    Post::insert_many(&posts)
        .execute(db)
        .await
        .expect("insert posts");
    users
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

async fn names_where<D: Db, S: orm_core::scope::Names<User>>(
    db: &D,
    cond: Condition<S>,
) -> Vec<String> {
    let cond = cond.unchecked();
    User::select()
        .where_(cond)
        .order_by(User::ID)
        .fetch_all(db)
        .await
        .expect("select")
        .into_iter()
        .map(|u| u.name)
        .collect()
}

/// CREATE/DROP TABLE, sync and async, safe and not.
pub async fn ddl<D: Db>(db: &D) {
    User::create_table(db, true).expect("create sync");
    User::create_table(db, true).expect("safe create of an existing table");
    assert!(
        User::create_table(db, false).is_err(),
        "unsafe create of an existing table fails"
    );
    Post::create_table_async(db, true)
        .await
        .expect("create with index and foreign key");
    Post::drop_table_async(db, false).await.expect("drop async");
    // The index asked for on a column of a composite primary key exists.
    UserTag::create_table_async(db, false)
        .await
        .expect("composite key");
    let index_sql = match Executor::dialect(db).name() {
        "postgres" => {
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = ?"
        }
        "mysql" => {
            "SELECT count(DISTINCT index_name) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND index_name = ?"
        }
        _ => "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
    };
    let indexes = raw_query::<i64>(index_sql, vec!["user_tag_tag_idx".into()])
        .fetch_one(db)
        .await
        .expect("introspection");
    assert_eq!(indexes, 1, "the index on user_tag.tag exists");
    UserTag::drop_table_async(db, false).await.expect("drop");
    User::drop_table(db, false).expect("drop sync");
    User::drop_table(db, true).expect("safe drop of a missing table");
    assert!(
        User::drop_table(db, false).is_err(),
        "unsafe drop of a missing table fails"
    );
}

/// `max_length` holds the same on every backend: 40 characters (multibyte ones counted as
/// one) are stored, 41 are refused with `Error::InvalidValue` before anything is sent, on
/// insert, bulk insert and update alike, and nothing changes.
pub async fn max_length_is_the_same_everywhere<D: Db>(db: &D) {
    User::create_table_async(db, true).await.expect("create");
    let fits = "ü".repeat(40);
    let too_long = "ü".repeat(41);
    let stored = User::new(fits.clone(), 1, None)
        .insert()
        .execute_returning_keys(db)
        .await
        .expect("40 characters fit");
    let refused = User::new(too_long.clone(), 2, None)
        .insert()
        .execute(db)
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidValue { .. })),
        "{refused:?}"
    );
    let many = [
        User::new("ok", 3, None),
        User::new(too_long.clone(), 4, None),
    ];
    let refused = User::insert_many(&many).execute(db).await;
    assert!(
        matches!(refused, Err(Error::InvalidValue { .. })),
        "{refused:?}"
    );
    let refused = User::update()
        .set(User::NAME, too_long.clone())
        .where_(User::ID.eq(stored[0]))
        .execute(db)
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidValue { .. })),
        "{refused:?}"
    );
    let names: Vec<String> = User::select()
        .columns(User::NAME)
        .fetch_all(db)
        .await
        .expect("names");
    assert_eq!(names, vec![fits], "nothing else was stored or changed");
    User::drop_table_async(db, false).await.expect("drop");
}

/// A JSON document is stored only if it can be read back: nested deeper than serde's
/// limit (or MariaDB's) it is refused before sending, the same way everywhere; `f64::MAX`
/// and other extreme numbers round-trip.
pub async fn json_that_cannot_be_read_is_refused<D: Db>(db: &D) {
    use serde_json::json;
    Doc::create_table_async(db, true).await.expect("create");
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let refused = Doc::new(deep).insert().execute(db).await;
    assert!(
        matches!(&refused, Err(Error::InvalidValue { message, .. }) if message.contains("deep")),
        "{refused:?}"
    );
    // 30 levels: within every server's limit (MariaDB's is 32).
    let mut fits = json!(1);
    for _ in 0..30 {
        fits = json!([fits]);
    }
    for data in [
        fits,
        json!({"max": f64::MAX, "min": f64::MIN, "tiny": f64::MIN_POSITIVE}),
    ] {
        let keys = Doc::new(data.clone())
            .insert()
            .execute_returning_keys(db)
            .await
            .expect("stored");
        let back = Doc::select()
            .where_(Doc::ID.eq(keys[0]))
            .fetch_one(db)
            .await
            .expect("read back");
        assert_eq!(back.data, data);
    }
    Doc::drop_table_async(db, false).await.expect("drop");
}

/// INSERT one and many, with generated keys; fetch_one's errors.
pub async fn insert_and_fetch<D: Db>(db: &D) {
    let users = seed(db).await;
    assert!(
        users.windows(2).all(|w| w[1].id == w[0].id + 1),
        "keys are consecutive"
    );
    let all = User::select()
        .order_by(User::ID)
        .fetch_all(db)
        .await
        .expect("select");
    assert_eq!(all, users);

    let keys = User::new("eve", 1, None)
        .insert()
        .execute_returning_keys(db)
        .await
        .expect("insert");
    let eve = User::select()
        .where_(User::ID.eq(keys[0]))
        .fetch_one(db)
        .await
        .expect("get eve");
    assert_eq!((eve.name.as_str(), eve.age, eve.bio), ("eve", 1, None));

    let missing = User::select().where_(User::ID.eq(-1)).fetch_one(db).await;
    assert!(
        matches!(missing, Err(Error::DoesNotExist { model: "User" })),
        "{missing:?}"
    );
    let many = User::select().fetch_one(db).await;
    assert!(
        matches!(many, Err(Error::MultipleRows { model: "User" })),
        "{many:?}"
    );
    let none = User::select()
        .where_(User::ID.eq(-1))
        .fetch_optional(db)
        .await
        .expect("optional");
    assert_eq!(none, None);
}

/// Comparison operators.
pub async fn comparisons<D: Db>(db: &D) {
    let u = seed(db).await;
    assert_eq!(names_where(db, User::NAME.eq("ann")).await, ["ann"]);
    assert_eq!(
        names_where(db, User::NAME.ne("ann")).await,
        ["Bob", "cid", "dee"]
    );
    assert_eq!(names_where(db, User::AGE.lt(30)).await, ["cid"]);
    assert_eq!(names_where(db, User::AGE.le(30)).await, ["ann", "cid"]);
    assert_eq!(names_where(db, User::AGE.gt(40)).await, ["dee"]);
    assert_eq!(names_where(db, User::AGE.ge(40)).await, ["Bob", "dee"]);
    assert_eq!(
        names_where(db, User::AGE.between(26, 40)).await,
        ["ann", "Bob"]
    );
    assert_eq!(
        names_where(db, User::ID.is_in([u[1].id, u[3].id])).await,
        ["Bob", "dee"]
    );
    assert_eq!(
        names_where(db, User::ID.not_in([u[1].id, u[3].id])).await,
        ["ann", "cid"]
    );
    assert!(names_where(db, User::ID.is_in(Vec::<i64>::new()))
        .await
        .is_empty());
    assert_eq!(
        names_where(db, User::ID.not_in(Vec::<i64>::new()))
            .await
            .len(),
        4
    );
    assert_eq!(names_where(db, User::BIO.is_null()).await, ["Bob", "dee"]);
    assert_eq!(
        names_where(db, User::BIO.is_not_null()).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names_where(db, User::BIO.eq(None::<String>)).await,
        ["Bob", "dee"]
    );
    assert_eq!(
        names_where(db, (User::AGE + 30).gt(User::AGE * 2)).await,
        ["cid"]
    );
}

/// LIKE and friends; `%` and `_` in contains/startswith/endswith match themselves.
pub async fn text_matching<D: Db>(db: &D) {
    seed(db).await;
    assert_eq!(
        names_where(db, User::NAME.like("b%")).await,
        Vec::<String>::new(),
        "LIKE is case-sensitive"
    );
    assert_eq!(names_where(db, User::NAME.like("B%")).await, ["Bob"]);
    assert_eq!(names_where(db, User::NAME.ilike("b%")).await, ["Bob"]);
    assert_eq!(names_where(db, User::BIO.contains("50%")).await, ["ann"]);
    assert_eq!(
        names_where(db, User::BIO.contains("5_%")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        names_where(db, User::BIO.contains("cid")).await,
        ["cid"],
        "contains ignores case"
    );
    assert_eq!(names_where(db, User::NAME.startswith("C")).await, ["cid"]);
    assert_eq!(names_where(db, User::NAME.endswith("EE")).await, ["dee"]);
}

/// AND, OR, NOT.
pub async fn boolean_logic<D: Db>(db: &D) {
    seed(db).await;
    assert_eq!(
        names_where(db, User::AGE.gt(26) & User::BIO.is_null()).await,
        ["Bob", "dee"]
    );
    assert_eq!(
        names_where(db, User::NAME.eq("ann") | User::NAME.eq("dee")).await,
        ["ann", "dee"]
    );
    assert_eq!(names_where(db, !User::AGE.gt(30)).await, ["ann", "cid"]);
    let q = User::select()
        .where_(User::AGE.gt(26))
        .where_(User::AGE.lt(60));
    assert_eq!(
        names(&q.fetch_all(db).await.expect("select")),
        ["ann", "Bob"]
    );
}

/// ORDER BY (with NULLS FIRST/LAST), LIMIT, OFFSET, paginate, DISTINCT.
pub async fn ordering_and_paging<D: Db>(db: &D) {
    seed(db).await;
    let q = User::select().order_by(User::AGE.desc());
    assert_eq!(
        names(&q.fetch_all(db).await.expect("q")),
        ["dee", "Bob", "ann", "cid"]
    );
    let q = User::select()
        .order_by(User::BIO.asc().nulls_first())
        .order_by(User::ID);
    assert_eq!(
        names(&q.fetch_all(db).await.expect("q")),
        ["Bob", "dee", "cid", "ann"]
    );
    let q = User::select()
        .order_by(User::BIO.desc().nulls_last())
        .order_by(User::ID);
    assert_eq!(
        names(&q.fetch_all(db).await.expect("q")),
        ["ann", "cid", "Bob", "dee"]
    );
    let q = User::select().order_by(User::ID).limit(2).offset(1);
    assert_eq!(names(&q.fetch_all(db).await.expect("q")), ["Bob", "cid"]);
    let q = User::select().order_by(User::ID).offset(3);
    assert_eq!(names(&q.fetch_all(db).await.expect("q")), ["dee"]);
    let q = User::select().order_by(User::ID).paginate(2, 3);
    assert_eq!(names(&q.fetch_all(db).await.expect("q")), ["dee"]);
    let q = Post::select()
        .columns(Post::AUTHOR_ID)
        .distinct()
        .order_by(Post::AUTHOR_ID);
    assert_eq!(q.fetch_all(db).await.expect("q").len(), 3);
}

/// Aggregates, GROUP BY, HAVING, functions, selected expressions into tuples.
pub async fn aggregates<D: Db>(db: &D) {
    let u = seed(db).await;
    let q = User::select().columns((
        count_all(),
        count(User::BIO),
        sum(User::AGE),
        avg(User::AGE),
        min(User::AGE),
        max(User::NAME),
    ));
    let row = q.fetch_one(db).await.expect("aggregates");
    assert_eq!(
        row,
        (
            4,
            2,
            Some(155),
            Some(38.75),
            Some(25),
            Some("dee".to_string())
        )
    );
    let q = Post::select()
        .columns((Post::AUTHOR_ID, count_all(), sum(Post::SCORE)))
        .group_by(Post::AUTHOR_ID)
        .having(count_all().ge(1))
        .order_by(Post::AUTHOR_ID);
    let rows = q.fetch_all(db).await.expect("group by");
    assert_eq!(
        rows,
        [
            (u[0].id, 2, Some(5.5)),
            (u[1].id, 1, Some(2.5)),
            (u[2].id, 1, Some(10.0))
        ]
    );
    let q = Post::select()
        .columns((Post::AUTHOR_ID, count_all()))
        .group_by(Post::AUTHOR_ID)
        .having(count_all().gt(1));
    assert_eq!(q.fetch_all(db).await.expect("having"), [(u[0].id, 2)]);
    let q = User::select()
        .columns((
            lower(User::NAME),
            upper(User::NAME),
            coalesce(User::BIO, "-"),
            User::AGE * 2,
            cast::<f64, _>(User::AGE),
        ))
        .where_(User::ID.eq(u[1].id));
    let row = q.fetch_one(db).await.expect("functions");
    assert_eq!(
        row,
        (
            "bob".to_string(),
            "BOB".to_string(),
            "-".to_string(),
            80,
            40.0
        )
    );
    let empty = User::select()
        .columns((sum(User::AGE), max(User::AGE)))
        .where_(User::ID.eq(-1));
    assert_eq!(
        empty.fetch_one(db).await.expect("empty aggregates"),
        (None, None)
    );
}

/// INNER / LEFT joins by foreign key or condition, and a self-join with an alias.
pub async fn joins<D: Db>(db: &D) {
    let u = seed(db).await;
    let q = User::select().join::<Post>().order_by(Post::ID);
    let rows: Vec<(User, Post)> = q.fetch_all(db).await.expect("join");
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[0].0.name.as_str(), rows[0].1.title.as_str()),
        ("ann", "hello")
    );
    assert_eq!(
        (rows[3].0.name.as_str(), rows[3].1.title.as_str()),
        ("cid", "cid's")
    );

    let q = User::select()
        .left_join::<Post>()
        .order_by(User::ID)
        .order_by(Post::ID);
    let rows: Vec<(User, Option<Post>)> = q.fetch_all(db).await.expect("left join");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4].0.name, "dee");
    assert_eq!(rows[4].1, None, "dee has no posts");
    assert_eq!(rows[0].1.as_ref().map(|p| p.title.as_str()), Some("hello"));

    let q = User::select()
        .join_on::<Post>(Post::AUTHOR_ID.eq(User::ID) & Post::SCORE.gt(2.0))
        .columns((User::NAME, Post::TITLE))
        .order_by(Post::ID);
    let rows = q.fetch_all(db).await.expect("join on");
    assert_eq!(
        rows,
        [
            ("ann".into(), "again".into()),
            ("Bob".into(), "bob's".into()),
            ("cid".into(), "cid's".into())
        ]
    );

    let older = User::alias("older");
    let q = User::select()
        .left_join_alias(
            &older,
            older.col(User::AGE).gt(User::AGE) & older.col(User::AGE).lt(User::AGE + 11),
        )
        .where_(User::ID.eq(u[0].id));
    let rows: Vec<(User, Option<User>)> = q.fetch_all(db).await.expect("self join");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.as_ref().map(|o| o.name.as_str()), Some("Bob"));
}

/// IN (SELECT ...), EXISTS, NOT EXISTS.
pub async fn subqueries<D: Db>(db: &D) {
    seed(db).await;
    let high = Post::select()
        .columns(Post::AUTHOR_ID)
        .where_(Post::SCORE.ge(4.0));
    assert_eq!(
        names_where(db, User::ID.in_query(high.clone())).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names_where(db, User::ID.not_in_query(high)).await,
        ["Bob", "dee"]
    );
    let has_posts = Post::select()
        .columns(Post::ID)
        .outer::<User>()
        .where_(Post::AUTHOR_ID.eq(User::ID));
    assert_eq!(
        names_where(db, exists(has_posts.clone())).await,
        ["ann", "Bob", "cid"]
    );
    assert_eq!(names_where(db, not_exists(has_posts)).await, ["dee"]);
}

/// UNION, UNION ALL, INTERSECT, EXCEPT.
pub async fn compound<D: Db>(db: &D) {
    seed(db).await;
    let young = || User::select().columns(User::NAME).where_(User::AGE.le(30));
    let with_bio = || {
        User::select()
            .columns(User::NAME)
            .where_(User::BIO.is_not_null())
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let all = |q: Select<User, String>| async move { q.fetch_all(db).await.expect("compound") };
    assert_eq!(sorted(all(young().union(with_bio())).await), ["ann", "cid"]);
    assert_eq!(all(young().union_all(with_bio())).await.len(), 4);
    assert_eq!(
        sorted(all(young().intersect(with_bio())).await),
        ["ann", "cid"]
    );
    let old = || User::select().columns(User::NAME).where_(User::AGE.ge(40));
    assert_eq!(
        sorted(all(User::select().columns(User::NAME).except(old())).await),
        ["ann", "cid"]
    );
    let q = young().union(old()).order_by(User::NAME.desc()).limit(2);
    assert_eq!(all(q).await, ["dee", "cid"]);
}

/// Raw SQL fragments and raw queries mapped onto a model, a tuple and a map.
pub async fn raw_sql<D: Db>(db: &D) {
    seed(db).await;
    let long: Condition = raw("LENGTH(name) > ?", vec![Value::I32(2)]);
    assert_eq!(
        names_where(db, long & User::AGE.lt(40)).await,
        ["ann", "cid"]
    );
    let users = raw_query::<User>(
        "SELECT id, name, age, bio FROM users WHERE age > ? ORDER BY id",
        vec![Value::I32(35)],
    )
    .fetch_all(db)
    .await
    .expect("raw model");
    assert_eq!(names(&users), ["Bob", "dee"]);
    let pairs = raw_query::<(String, i32)>(
        "SELECT name, age FROM users WHERE name = ?",
        vec!["cid".into()],
    )
    .fetch_all(db)
    .await
    .expect("raw tuple");
    assert_eq!(pairs, [("cid".to_string(), 25)]);
    let maps = raw_query::<RowMap>(
        "SELECT name, age FROM users WHERE name = ?",
        vec!["ann".into()],
    )
    .fetch_all(db)
    .await
    .expect("raw map");
    assert_eq!(maps[0].get("name"), Some(&Value::Text("ann".into())));
    assert!(matches!(
        maps[0].get("age"),
        Some(Value::I32(30)) | Some(Value::I64(30))
    ));
}

/// A raw query fills a model by column name: some columns, in any order, a missing
/// `Option` field `None`, a missing required field a decode error naming model and
/// field; the same async, blocking and streamed.
pub async fn raw_sql_by_column_name<D: Db>(db: &D) {
    seed(db).await;
    let sql = "SELECT age, name, id FROM users WHERE name IN (?, ?) ORDER BY age";
    let params = || vec![Value::from("ann"), Value::from("Bob")];
    let users = User::raw(sql, params()).fetch_all(db).await.expect("raw");
    let got: Vec<(&str, i32, bool)> = users
        .iter()
        .map(|u| (u.name.as_str(), u.age, u.bio.is_none() && u.id > 0))
        .collect();
    assert_eq!(got, [("ann", 30, true), ("Bob", 40, true)]);
    let blocking = User::raw(sql, params())
        .fetch_all_sync(db)
        .expect("raw sync");
    assert_eq!(blocking, users);
    let streamed: Vec<User> = User::raw(sql, params())
        .stream(db)
        .try_collect()
        .await
        .expect("raw stream");
    assert_eq!(streamed, users);
    let full = User::raw(
        "SELECT bio, age, id, name FROM users WHERE name = ?",
        vec!["ann".into()],
    )
    .fetch_one(db)
    .await
    .expect("every column, out of order");
    let stored = User::select()
        .where_(User::NAME.eq("ann"))
        .fetch_one(db)
        .await
        .expect("ann");
    assert_eq!(full, stored);

    let missing = User::raw("SELECT id, name FROM users", vec![])
        .fetch_all(db)
        .await;
    match missing {
        Err(Error::Decode {
            model: Some("User"),
            field: Some("age"),
            expected,
            ..
        }) => {
            assert!(expected.contains("`age`"), "{expected}")
        }
        other => panic!("a missing required column: {other:?}"),
    }
    let shown = User::raw("SELECT id, name FROM users", vec![])
        .fetch_all_sync(db)
        .expect_err("missing column")
        .to_string();
    assert!(shown.contains("User") && shown.contains("age"), "{shown}");
}

/// Several named expressions read back by name as a map, with the values each server
/// gives its aggregates.
pub async fn named_scalars<D: Db>(db: &D) {
    seed(db).await;
    let q = User::select()
        .columns((
            count_all().named("people"),
            max(User::AGE).named("oldest"),
            lower(User::NAME).named("lowered"),
        ))
        .where_(User::NAME.eq("Bob"))
        .group_by(User::NAME)
        .as_map();
    let rows = q.fetch_all(db).await.expect("named");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let names: Vec<&str> = row.0.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["people", "oldest", "lowered"]);
    assert_eq!(row.get("people"), Some(&Value::I64(1)));
    assert!(
        matches!(row.get("oldest"), Some(Value::I32(40) | Value::I64(40))),
        "{row:?}"
    );
    assert_eq!(row.get("lowered"), Some(&Value::Text("bob".into())));
    assert_eq!(q.fetch_all_sync(db).expect("named sync"), rows);
}

/// Upserts (ignore, update chosen columns) and INSERT ... SELECT.
pub async fn upserts<D: Db>(db: &D) {
    let u = seed(db).await;
    let tag = UserTag::new(u[0].id, "admin", 1);
    assert_eq!(tag.insert().execute(db).await.expect("insert"), 1);
    tag.insert()
        .on_conflict_ignore()
        .execute(db)
        .await
        .expect("ignored duplicate");
    let changed = UserTag::new(u[0].id, "admin", 7);
    changed
        .insert()
        .on_conflict((UserTag::USER_ID, UserTag::TAG))
        .update(UserTag::WEIGHT)
        .execute(db)
        .await
        .expect("upsert");
    let tags = UserTag::select().fetch_all(db).await.expect("tags");
    assert_eq!(tags, [changed]);

    let copied = Insert::<UserTag>::from_select(
        (UserTag::USER_ID, UserTag::TAG, UserTag::WEIGHT),
        User::select()
            .columns((User::ID, User::NAME, User::AGE))
            .where_(User::AGE.ge(40)),
    )
    .execute(db)
    .await
    .expect("insert select");
    assert_eq!(copied, 2);
    assert_eq!(
        UserTag::select()
            .count_query(true)
            .fetch_one(db)
            .await
            .expect("count"),
        3
    );
}

/// UPDATE with values and expressions, DELETE, and RETURNING where the dialect has it.
pub async fn update_delete<D: Db>(db: &D) {
    let u = seed(db).await;
    let n = User::update()
        .set(User::AGE, User::AGE + 1)
        .where_(User::AGE.lt(40))
        .execute(db)
        .await
        .expect("update");
    assert_eq!(n, 2);
    User::update()
        .set(User::BIO, None::<String>)
        .set(User::NAME, "ANN")
        .where_(User::ID.eq(u[0].id))
        .execute(db)
        .await
        .expect("set");
    let ann = User::select()
        .where_(User::ID.eq(u[0].id))
        .fetch_one(db)
        .await
        .expect("get");
    assert_eq!((ann.name.as_str(), ann.age, ann.bio), ("ANN", 31, None));
    let gone = Post::delete()
        .where_(Post::SCORE.lt(3.0))
        .execute(db)
        .await
        .expect("delete");
    assert_eq!(gone, 2);
    assert_eq!(
        Post::select()
            .count_query(true)
            .fetch_one(db)
            .await
            .expect("count"),
        2
    );

    let returning = User::update()
        .set(User::AGE, 99)
        .where_(User::ID.eq(u[3].id))
        .returning((User::NAME, User::AGE));
    if Differences::of(db).returning {
        assert_eq!(
            returning.fetch_all(db).await.expect("returning"),
            [("dee".to_string(), 99)]
        );
        let deleted = User::delete()
            .where_(User::ID.eq(u[3].id))
            .returning(User::NAME)
            .fetch_all(db)
            .await
            .expect("delete returning");
        assert_eq!(deleted, ["dee"]);
        let stored = u[1].insert().returning_model();
        let err = stored.fetch_one(db).await.expect_err("duplicate name");
        assert!(matches!(err, Error::Integrity { .. }));
    } else {
        assert!(
            matches!(returning.fetch_all(db).await, Err(Error::Query(_))),
            "refused before sending"
        );
    }
    // Deleting a user cascades to their posts.
    User::delete()
        .where_(User::ID.eq(u[2].id))
        .execute(db)
        .await
        .expect("delete cascade");
    assert_eq!(
        Post::select()
            .where_(Post::AUTHOR_ID.eq(u[2].id))
            .fetch_all(db)
            .await
            .expect("posts")
            .len(),
        0
    );
}

/// COUNT of a query, with and without its LIMIT; streaming many rows.
pub async fn count_and_stream<D: Db>(db: &D) {
    seed(db).await;
    let q = User::select().where_(User::AGE.gt(20)).limit(2);
    assert_eq!(
        q.clone()
            .count_query(false)
            .fetch_one(db)
            .await
            .expect("count limited"),
        2
    );
    assert_eq!(q.count_query(true).fetch_one(db).await.expect("count"), 4);

    let many: Vec<User> = (0..1000)
        .map(|i| User::new(format!("u{i}"), i, None))
        .collect();
    User::insert_many(&many)
        .execute(db)
        .await
        .expect("insert 1000");
    let mut stream = User::select()
        .where_(User::NAME.startswith("u"))
        .order_by(User::ID)
        .stream(db);
    let mut seen = 0;
    while let Some(user) = stream.try_next().await.expect("row") {
        assert_eq!(user.age, seen);
        seen += 1;
    }
    assert_eq!(seen, 1000);
    // A stream dropped half-way leaves the database usable.
    let mut stream = User::select().stream(db);
    stream.try_next().await.expect("first row");
    drop(stream);
    assert_eq!(
        User::select()
            .count_query(true)
            .fetch_one(db)
            .await
            .expect("count after drop"),
        1004
    );
}

/// The blocking API returns exactly what the async one does.
pub async fn sync_matches_async<D: Db>(db: &D) {
    seed(db).await;
    let q = User::select()
        .join::<Post>()
        .where_(Post::SCORE.gt(2.0))
        .order_by(Post::ID);
    let async_rows = q.fetch_all(db).await.expect("async");
    let sync_rows = q.fetch_all_sync(db).expect("sync");
    assert_eq!(async_rows, sync_rows);
    let key = User::new("sync", 5, None)
        .insert()
        .execute_returning_keys_sync(db)
        .expect("sync insert");
    let got = User::select()
        .where_(User::ID.eq(key[0]))
        .fetch_one(db)
        .await
        .expect("async sees sync insert");
    assert_eq!(got.name, "sync");
    assert_eq!(
        User::update()
            .set(User::AGE, 6)
            .where_(User::ID.eq(key[0]))
            .execute_sync(db)
            .expect("sync update"),
        1
    );
}

/// Constraint violations map to the integrity error with the constraint named; the
/// connection keeps working.
pub async fn integrity_errors<D: Db>(db: &D) {
    let u = seed(db).await;
    let err = User::new("ann", 1, None)
        .insert()
        .execute(db)
        .await
        .expect_err("duplicate");
    match &err {
        Error::Integrity {
            kind: IntegrityKind::Unique,
            constraint,
            ..
        } => {
            assert!(
                constraint.as_deref().is_some_and(|c| c.contains("name")),
                "{err}"
            )
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    let err = Post::new(-5, "orphan", 0.0)
        .insert()
        .execute(db)
        .await
        .expect_err("foreign key");
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: IntegrityKind::ForeignKey,
                ..
            }
        ),
        "{err:?}"
    );
    let err = raw_query::<()>(
        "INSERT INTO users (name, age) VALUES (?, NULL)",
        vec!["x".into()],
    )
    .execute(db)
    .await
    .expect_err("not null");
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: IntegrityKind::NotNull,
                ..
            }
        ),
        "{err:?}"
    );
    // The same database keeps serving queries.
    assert_eq!(
        User::select()
            .count_query(true)
            .fetch_one(db)
            .await
            .expect("count"),
        4
    );
    let err = User::new("Bob", 1, None)
        .insert()
        .execute_sync(db)
        .expect_err("sync duplicate");
    assert!(matches!(
        err,
        Error::Integrity {
            kind: IntegrityKind::Unique,
            ..
        }
    ));
    assert_eq!(
        User::select()
            .where_(User::ID.eq(u[1].id))
            .fetch_one_sync(db)
            .expect("sync works")
            .name,
        "Bob"
    );
}

/// `SELECT ... FOR UPDATE` runs and returns the rows.
pub async fn for_update<D: Db>(db: &D) {
    let u = seed(db).await;
    let q = User::select().where_(User::ID.eq(u[0].id)).for_update();
    if Differences::of(db).for_update {
        assert_eq!(q.fetch_all(db).await.expect("for update")[0].name, "ann");
    } else {
        let err = q.fetch_all(db).await.expect_err("refused before sending");
        assert!(matches!(err, Error::Query(_)), "{err:?}");
    }
}

/// JSON operators: get, get as text, path, has key, containment.
pub async fn json_operators<D: Db>(db: &D) {
    use serde_json::json;
    Doc::create_table_async(db, false).await.expect("create");
    let docs = [
        Doc::new(json!({"kind": "click", "n": 5, "tags": {"a": 1}})),
        Doc::new(json!({"kind": "view", "n": 7})),
        Doc::new(json!({"other": true, "quote\"key": "x"})),
    ];
    Doc::insert_many(&docs).execute(db).await.expect("insert");
    let ids = |q: Select<Doc, Doc>| async move {
        q.order_by(Doc::ID)
            .fetch_all(db)
            .await
            .expect("select")
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    // The documents' keys, in insertion order (a cluster's keys need not be 1, 2, 3).
    let key = ids(Doc::select()).await;
    let (first, second, third) = (key[0], key[1], key[2]);
    assert_eq!(
        ids(Doc::select().where_(Doc::DATA.json_get_text("kind").eq("click"))).await,
        [first]
    );
    assert_eq!(
        ids(Doc::select().where_(Doc::DATA.json_has_key("kind"))).await,
        [first, second]
    );
    assert_eq!(
        ids(Doc::select().where_(Doc::DATA.json_has_key("quote\"key"))).await,
        [third]
    );
    let n = Doc::select()
        .columns(Doc::DATA.json_get("n"))
        .order_by(Doc::ID);
    assert_eq!(
        n.fetch_all(db).await.expect("get"),
        [Some(json!(5)), Some(json!(7)), None]
    );
    let a = Doc::select()
        .columns((
            Doc::DATA.json_path(&["tags", "a"]),
            Doc::DATA.json_path_text(&["tags", "a"]),
        ))
        .where_(Doc::ID.eq(first));
    assert_eq!(
        a.fetch_one(db).await.expect("path"),
        (Some(json!(1)), Some("1".to_string()))
    );
    let contains = Doc::select().where_(Doc::DATA.json_contains(&json!({"kind": "view"})));
    let contained = Doc::select()
        .where_(Doc::DATA.json_contained_by(&json!({"kind": "view", "n": 7, "more": 1})));
    if Differences::of(db).json_containment {
        assert_eq!(ids(contains).await, [second]);
        assert_eq!(ids(contained).await, [second]);
    } else {
        assert!(
            matches!(contains.fetch_all(db).await, Err(Error::Query(_))),
            "refused before sending"
        );
    }
}

/// A typed JSON document (`Json<T>`) round-trips on every backend.
pub async fn typed_json<D: Db>(db: &D) {
    Settings::create_table_async(db, false)
        .await
        .expect("create");
    let dark = Settings::new(
        Json(Prefs {
            theme: "dark".into(),
            size: 12,
        }),
        Some(Json(vec!["a".to_string()])),
    );
    let plain = Settings::new(Json(Prefs::default()), None);
    Settings::insert_many(&[dark.clone(), plain.clone()])
        .execute(db)
        .await
        .expect("insert");
    let back = Settings::select()
        .order_by(Settings::ID)
        .fetch_all(db)
        .await
        .expect("select");
    assert_eq!(
        (back[0].prefs.clone(), back[0].extra.clone()),
        (dark.prefs, dark.extra)
    );
    assert_eq!(
        (back[1].prefs.clone(), back[1].extra.clone()),
        (plain.prefs, plain.extra)
    );
    let themed = Settings::select().where_(Settings::PREFS.json_get_text("theme").eq("dark"));
    assert_eq!(themed.fetch_all(db).await.expect("filter").len(), 1);
    // A document that does not fit the type is a decode error naming the field.
    raw_query::<()>(
        "UPDATE settings SET prefs = ?",
        vec![Value::Json(serde_json::json!({"theme": 5}))],
    )
    .execute(db)
    .await
    .expect("store a mismatching document");
    let err = Settings::select()
        .fetch_all(db)
        .await
        .expect_err("does not fit Prefs");
    assert!(
        matches!(
            err,
            Error::Decode {
                field: Some("prefs"),
                ..
            }
        ),
        "{err:?}"
    );
}

/// Arrays and hstore (PostgreSQL): round trips and operators; elsewhere, a clear error
/// before anything is sent.
pub async fn extended_types<D: Db>(db: &D) {
    use std::collections::HashMap;
    if !Differences::of(db).arrays_and_hstore {
        let err = Extras::create_table_async(db, false)
            .await
            .expect_err("no such column types");
        assert!(matches!(err, Error::Query(_)), "{err:?}");
        let q = Extras::select().where_(Extras::TAGS.array_overlaps(&["x".to_string()]));
        assert!(matches!(q.fetch_all(db).await, Err(Error::Query(_))));
        return;
    }
    Extras::create_table_async(db, false).await.expect("create");
    let attrs = |pairs: &[(&str, Option<&str>)]| -> HashMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    };
    let rows = [
        Extras::new(
            vec!["rust".into(), "orm".into()],
            vec![1, 2, 3],
            attrs(&[("a", Some("1")), ("b", None)]),
            Json(Prefs::default()),
        ),
        Extras::new(
            vec!["python".into()],
            vec![],
            attrs(&[("a", Some("2"))]),
            Json(Prefs {
                theme: "x".into(),
                size: 1,
            }),
        ),
        Extras::new(
            vec![],
            vec![i64::MIN, i64::MAX],
            HashMap::new(),
            Json(Prefs::default()),
        ),
    ];
    let keys = Extras::insert_many(&rows)
        .execute_returning_keys(db)
        .await
        .expect("insert");
    let back = Extras::select()
        .order_by(Extras::ID)
        .fetch_all(db)
        .await
        .expect("select");
    for ((mut sent, got), key) in rows.into_iter().zip(&back).zip(keys) {
        sent.id = key;
        assert_eq!(&sent, got);
    }
    let ids = |q: Select<Extras, Extras>| async move {
        q.order_by(Extras::ID)
            .fetch_all(db)
            .await
            .expect("query")
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    let (a, b) = (back[0].id, back[1].id);
    assert_eq!(
        ids(Extras::select().where_(Extras::TAGS.array_contains(&["rust".into()]))).await,
        [a]
    );
    assert_eq!(
        ids(Extras::select().where_(Extras::TAGS.array_overlaps(&["python".into(), "go".into()])))
            .await,
        [b]
    );
    assert_eq!(
        ids(Extras::select().where_(Extras::SCORES.array_any_eq(2))).await,
        [a]
    );
    let contained = Extras::select().where_(Extras::TAGS.array_contained_by(&[
        "rust".into(),
        "orm".into(),
        "x".into(),
    ]));
    assert_eq!(ids(contained).await.len(), 2);
    assert_eq!(
        ids(Extras::select().where_(Extras::ATTRS.hstore_has_key("b"))).await,
        [a]
    );
    assert_eq!(
        ids(Extras::select().where_(Extras::ATTRS.hstore_contains(&attrs(&[("a", Some("2"))]))))
            .await,
        [b]
    );
    assert_eq!(
        ids(Extras::select().where_(Extras::ATTRS.hstore_get("a").eq("1"))).await,
        [a]
    );
    let keys_q = Extras::select()
        .columns(Extras::ATTRS.hstore_keys())
        .where_(Extras::ID.eq(a));
    let mut keys = keys_q.fetch_one(db).await.expect("keys");
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    let slice_q = Extras::select()
        .columns(Extras::ATTRS.hstore_slice(&["a"]))
        .where_(Extras::ID.eq(a));
    assert_eq!(
        slice_q.fetch_one(db).await.expect("slice"),
        attrs(&[("a", Some("1"))])
    );
}

/// A UUID primary key chosen by the application: stored, found, and its duplicate refused.
pub async fn uuid_keys<D: Db>(db: &D) {
    let users = seed(db).await;
    Token::create_table_async(db, false).await.expect("create");
    let ids = [uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(u128::MAX)];
    for id in ids {
        Token::new(id, users[0].id)
            .insert()
            .execute(db)
            .await
            .expect("insert");
    }
    let found = Token::select()
        .where_(Token::ID.eq(ids[1]))
        .fetch_one(db)
        .await
        .expect("get");
    assert_eq!(found, Token::new(ids[1], users[0].id));
    let err = Token::new(ids[0], users[1].id)
        .insert()
        .execute(db)
        .await
        .expect_err("duplicate key");
    assert!(
        matches!(
            err,
            Error::Integrity {
                kind: IntegrityKind::Unique,
                ..
            }
        ),
        "{err:?}"
    );
}

/// Declares one `#[tokio::test]` per suite check, on the database `$make(name)` returns.
#[macro_export]
macro_rules! behaviour_suite {
    ($make:path) => {
        $crate::behaviour_suite!(@tests $make;
            ddl insert_and_fetch comparisons text_matching boolean_logic ordering_and_paging
            aggregates joins subqueries compound raw_sql upserts update_delete count_and_stream
            sync_matches_async integrity_errors for_update json_operators typed_json extended_types
            uuid_keys max_length_is_the_same_everywhere
            json_that_cannot_be_read_is_refused raw_sql_by_column_name named_scalars);
    };
    (@tests $make:path; $($name:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = $make(stringify!($name));
                $crate::suite::$name(&db).await;
            }
        )*
    };
}

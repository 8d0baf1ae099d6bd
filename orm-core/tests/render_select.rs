//! SELECT rendering: SQL text and parameters, exactly, for each dialect.

mod common;

use common::*;
use orm_core::*;

const USER_COLS: &str = r#""users"."id", "users"."name", "users"."age", "users"."bio""#;
const POST_COLS: &str = r#""post"."id", "post"."author_id", "post"."title", "post"."score""#;

fn users_where(cond: Condition<impl scope::Names<User>>) -> Select<User, User> {
    User::select().where_(cond.unchecked())
}

/// Asserts the WHERE clause of `SELECT users ... WHERE <clause>` on both server dialects.
fn assert_where(cond: Condition<impl scope::Names<User>>, pg_where: &str, params: Vec<Value>) {
    let q = users_where(cond);
    let expected = format!(r#"SELECT {USER_COLS} FROM "users" WHERE {pg_where}"#);
    assert_eq!(pg(&q), (expected.clone(), params.clone()));
    assert_eq!(my(&q), (to_mysql(&expected), params));
}

#[test]
fn select_all_columns() {
    let q = User::select();
    assert_eq!(
        pg(&q),
        (format!(r#"SELECT {USER_COLS} FROM "users""#), vec![])
    );
    assert_eq!(
        my(&q).0,
        "SELECT `users`.`id`, `users`.`name`, `users`.`age`, `users`.`bio` FROM `users`"
    );
}

#[test]
fn comparisons() {
    assert_where(
        User::ID.eq(1),
        r#"("users"."id" = $1)"#,
        vec![Value::I64(1)],
    );
    assert_where(
        User::ID.ne(2),
        r#"("users"."id" <> $1)"#,
        vec![Value::I64(2)],
    );
    assert_where(
        User::AGE.lt(3),
        r#"("users"."age" < $1)"#,
        vec![Value::I32(3)],
    );
    assert_where(
        User::AGE.le(4),
        r#"("users"."age" <= $1)"#,
        vec![Value::I32(4)],
    );
    assert_where(
        User::AGE.gt(5),
        r#"("users"."age" > $1)"#,
        vec![Value::I32(5)],
    );
    assert_where(
        User::AGE.ge(6),
        r#"("users"."age" >= $1)"#,
        vec![Value::I32(6)],
    );
    assert_where(
        User::AGE.between(18, 65),
        r#"("users"."age" BETWEEN $1 AND $2)"#,
        vec![Value::I32(18), Value::I32(65)],
    );
}

#[test]
fn value_kinds_accepted_by_a_text_column() {
    let owned = String::from("ann");
    assert_where(
        User::NAME.eq("ann"),
        r#"("users"."name" = $1)"#,
        vec![t("ann")],
    );
    assert_where(
        User::NAME.eq(&owned),
        r#"("users"."name" = $1)"#,
        vec![t("ann")],
    );
    assert_where(
        User::NAME.eq(owned),
        r#"("users"."name" = $1)"#,
        vec![t("ann")],
    );
    assert_where(User::BIO.eq("x"), r#"("users"."bio" = $1)"#, vec![t("x")]);
}

#[test]
fn null_checks_and_none() {
    assert_where(User::BIO.is_null(), r#"("users"."bio" IS NULL)"#, vec![]);
    assert_where(
        User::BIO.is_not_null(),
        r#"("users"."bio" IS NOT NULL)"#,
        vec![],
    );
    assert_where(
        User::BIO.eq(None::<String>),
        r#"("users"."bio" IS NULL)"#,
        vec![],
    );
    assert_where(
        User::BIO.ne(None::<String>),
        r#"("users"."bio" IS NOT NULL)"#,
        vec![],
    );
}

#[test]
fn in_lists() {
    assert_where(
        User::ID.is_in([1, 2, 3]),
        r#"("users"."id" IN ($1, $2, $3))"#,
        vec![Value::I64(1), Value::I64(2), Value::I64(3)],
    );
    assert_where(
        User::NAME.not_in(vec!["a", "b"]),
        r#"("users"."name" NOT IN ($1, $2))"#,
        vec![t("a"), t("b")],
    );
    assert_where(User::ID.is_in(Vec::<i64>::new()), "(1 = 0)", vec![]);
    assert_where(User::ID.not_in(Vec::<i64>::new()), "(1 = 1)", vec![]);
}

#[test]
fn like_family_per_dialect() {
    let q = users_where(User::NAME.like("A%"));
    assert_eq!(
        pg(&q).0,
        format!(r#"SELECT {USER_COLS} FROM "users" WHERE ("users"."name" LIKE $1)"#)
    );
    assert!(my(&q).0.ends_with("WHERE (`users`.`name` LIKE BINARY ?)"));

    let q = users_where(User::NAME.ilike("a%"));
    assert!(pg(&q).0.ends_with(r#"WHERE ("users"."name" ILIKE $1)"#));
    assert!(my(&q)
        .0
        .ends_with("WHERE (LOWER(`users`.`name`) LIKE LOWER(?))"));
    assert!(lite(&q)
        .0
        .ends_with(r#"WHERE (LOWER("users"."name") LIKE LOWER(?1))"#));
    assert_eq!(pg(&q).1, vec![t("a%")]);
}

#[test]
fn contains_startswith_endswith_escape_wildcards() {
    let q = users_where(User::NAME.contains("50%_off!"));
    assert!(pg(&q)
        .0
        .ends_with(r#"WHERE ("users"."name" ILIKE $1 ESCAPE '!')"#));
    assert_eq!(pg(&q).1, vec![t("%50!%!_off!!%")]);
    assert!(my(&q)
        .0
        .ends_with("WHERE (LOWER(`users`.`name`) LIKE LOWER(?) ESCAPE '!')"));

    assert_eq!(
        pg(&users_where(User::NAME.startswith("An"))).1,
        vec![t("An%")]
    );
    assert_eq!(
        pg(&users_where(User::NAME.endswith("na"))).1,
        vec![t("%na")]
    );
}

#[test]
fn and_or_not() {
    assert_where(
        User::AGE.gt(18) & User::NAME.eq("a") | User::BIO.is_null(),
        r#"((("users"."age" > $1) AND ("users"."name" = $2)) OR ("users"."bio" IS NULL))"#,
        vec![Value::I32(18), t("a")],
    );
    assert_where(
        !User::AGE.gt(18),
        r#"NOT ("users"."age" > $1)"#,
        vec![Value::I32(18)],
    );
    assert_where(
        not(User::ID.eq(1)).and(User::ID.eq(2).or(User::ID.eq(3))),
        r#"(NOT ("users"."id" = $1) AND (("users"."id" = $2) OR ("users"."id" = $3)))"#,
        vec![Value::I64(1), Value::I64(2), Value::I64(3)],
    );
    // Repeated where_ calls are joined with AND.
    let q = User::select().where_(User::ID.gt(1)).where_(User::ID.lt(9));
    assert!(pg(&q)
        .0
        .ends_with(r#"WHERE (("users"."id" > $1) AND ("users"."id" < $2))"#));
}

#[test]
fn column_to_column_and_arithmetic() {
    assert_where(
        (User::AGE + 1).gt(User::AGE * 2),
        r#"(("users"."age" + $1) > ("users"."age" * $2))"#,
        vec![Value::I32(1), Value::I32(2)],
    );
    let q = Post::select().columns(Post::ID).where_(
        (Post::SCORE - 1.5)
            .ge(Post::SCORE / 2.0)
            .and(Post::SCORE.ne(0.0)),
    );
    assert_eq!(
        pg(&q),
        (
            r#"SELECT "post"."id" FROM "post" WHERE ((("post"."score" - $1) >= ("post"."score" / $2)) AND ("post"."score" <> $3))"#.to_owned(),
            vec![Value::F64(1.5), Value::F64(2.0), Value::F64(0.0)]
        )
    );
}

#[test]
fn functions() {
    let q = User::select().columns((
        lower(User::NAME),
        upper(User::NAME),
        coalesce(User::BIO, "-"),
    ));
    assert_eq!(
        pg(&q),
        (
            r#"SELECT LOWER("users"."name"), UPPER("users"."name"), COALESCE("users"."bio", $1) FROM "users""#.into(),
            vec![t("-")]
        )
    );
    let q = User::select().columns((
        count_all(),
        count(User::BIO),
        count_distinct(User::AGE),
        sum(User::AGE),
        avg(User::AGE),
        min(User::AGE),
        max(User::NAME),
    ));
    assert_eq!(
        pg(&q).0,
        r#"SELECT COUNT(*), COUNT("users"."bio"), COUNT(DISTINCT "users"."age"), CAST(SUM("users"."age") AS INTEGER), CAST(AVG("users"."age") AS DOUBLE PRECISION), MIN("users"."age"), MAX("users"."name") FROM "users""#
    );
    assert_eq!(
        my(&q).0,
        "SELECT COUNT(*), COUNT(`users`.`bio`), COUNT(DISTINCT `users`.`age`), CAST(SUM(`users`.`age`) AS SIGNED), CAST(AVG(`users`.`age`) AS DOUBLE), MIN(`users`.`age`), MAX(`users`.`name`) FROM `users`"
    );
}

#[cfg(feature = "chrono")]
#[test]
fn now_per_dialect() {
    let q = User::select().columns(now());
    assert_eq!(pg(&q).0, r#"SELECT now() FROM "users""#);
    assert_eq!(my(&q).0, "SELECT UTC_TIMESTAMP(6) FROM `users`");
}

#[test]
fn raw_fragment_binds_its_values() {
    let cond: Condition = raw("length(name) > ? AND name <> '??'", vec![Value::I32(3)]);
    assert_where(
        cond,
        "length(name) > $1 AND name <> '?'",
        vec![Value::I32(3)],
    );
    let bad: Condition = raw("a = ? AND b = ?", vec![Value::I32(3)]);
    let err = users_where(bad).render(&PostgresqlDialect).unwrap_err();
    assert!(
        err.to_string().contains("more `?` than the 1 parameters"),
        "{err}"
    );
}

#[test]
fn order_by_limit_offset_paginate_distinct() {
    let q = User::select()
        .distinct()
        .order_by(User::AGE.desc())
        .order_by(User::NAME)
        .limit(10)
        .offset(20);
    let expected = format!(
        r#"SELECT DISTINCT {USER_COLS} FROM "users" ORDER BY "users"."age" DESC, "users"."name" ASC LIMIT $1 OFFSET $2"#
    );
    assert_eq!(
        pg(&q),
        (expected.clone(), vec![Value::I64(10), Value::I64(20)])
    );
    assert_eq!(my(&q).0, to_mysql(&expected));

    let q = User::select().paginate(3, 25);
    assert_eq!(pg(&q).1, vec![Value::I64(25), Value::I64(50)]);
    let q = User::select().paginate(0, 25);
    assert_eq!(pg(&q).1, vec![Value::I64(25), Value::I64(0)]);
}

#[test]
fn offset_without_limit_per_dialect() {
    let q = User::select().offset(5);
    assert!(pg(&q).0.ends_with(r#"FROM "users" OFFSET $1"#));
    assert!(my(&q)
        .0
        .ends_with("FROM `users` LIMIT 18446744073709551615 OFFSET ?"));
    assert!(lite(&q).0.ends_with(r#"FROM "users" LIMIT -1 OFFSET ?1"#));
}

#[test]
fn nulls_first_last_native_and_emulated() {
    let q = User::select()
        .order_by(User::BIO.asc().nulls_last())
        .order_by(User::AGE.desc().nulls_first());
    assert!(pg(&q)
        .0
        .ends_with(r#"ORDER BY "users"."bio" ASC NULLS LAST, "users"."age" DESC NULLS FIRST"#));
    assert!(my(&q).0.ends_with(
        "ORDER BY (`users`.`bio` IS NULL) ASC, `users`.`bio` ASC, (`users`.`age` IS NULL) DESC, `users`.`age` DESC"
    ));
}

#[test]
fn group_by_having_and_aggregates_into_tuples() {
    let q: Select<Post, (i64, i64, Option<f64>)> = Post::select()
        .columns((Post::AUTHOR_ID, count_all(), sum(Post::SCORE)))
        .group_by(Post::AUTHOR_ID)
        .having(count_all().gt(2));
    assert_eq!(
        pg(&q),
        (
            r#"SELECT "post"."author_id", COUNT(*), CAST(SUM("post"."score") AS DOUBLE PRECISION) FROM "post" GROUP BY "post"."author_id" HAVING (COUNT(*) > $1)"#.into(),
            vec![Value::I64(2)]
        )
    );
}

#[test]
fn inner_and_left_join_by_foreign_key() {
    let q: Select<User, (User, Post), _> =
        User::select().join::<Post>().where_(Post::SCORE.gt(1.0));
    let expected = format!(
        r#"SELECT {USER_COLS}, {POST_COLS} FROM "users" INNER JOIN "post" ON ("post"."author_id" = "users"."id") WHERE ("post"."score" > $1)"#
    );
    assert_eq!(pg(&q), (expected.clone(), vec![Value::F64(1.0)]));
    assert_eq!(my(&q).0, to_mysql(&expected));

    // The key is found from either side.
    let q: Select<Post, (Post, Option<User>), _> = Post::select().left_join::<User>();
    assert_eq!(
        pg(&q).0,
        format!(
            r#"SELECT {POST_COLS}, {USER_COLS} FROM "post" LEFT OUTER JOIN "users" ON ("post"."author_id" = "users"."id")"#
        )
    );

    // A third model joins through the second one; its schema is kept.
    let q: Select<User, (User, Post, Option<Comment>), _> =
        User::select().join::<Post>().left_join::<Comment>();
    assert!(pg(&q).0.ends_with(
        r#"INNER JOIN "post" ON ("post"."author_id" = "users"."id") LEFT OUTER JOIN "app"."comment" ON ("comment"."post_id" = "post"."id")"#
    ));
}

#[test]
fn join_without_foreign_key_is_an_error_not_wrong_sql() {
    let q = Comment::select().join::<UserTag>();
    let err = q.render(&PostgresqlDialect).unwrap_err();
    assert!(matches!(err, Error::Query(_)));
    assert!(
        err.to_string().contains("no foreign key links UserTag"),
        "{err}"
    );
}

#[test]
fn join_on_explicit_condition_and_selected_columns() {
    let q = User::select()
        .join_on::<Post>(Post::AUTHOR_ID.eq(User::ID) & Post::TITLE.ne(""))
        .columns((User::NAME, Post::TITLE));
    assert_eq!(
        pg(&q),
        (
            r#"SELECT "users"."name", "post"."title" FROM "users" INNER JOIN "post" ON (("post"."author_id" = "users"."id") AND ("post"."title" <> $1))"#.into(),
            vec![t("")]
        )
    );
}

#[test]
fn self_join_with_alias() {
    let older = User::alias("older");
    let q: Select<User, (User, Option<User>)> = User::select()
        .left_join_alias(&older, older.col(User::AGE).gt(User::AGE))
        .where_(older.col(User::NAME).eq("x"));
    assert_eq!(
        pg(&q).0,
        format!(
            r#"SELECT {USER_COLS}, "older"."id", "older"."name", "older"."age", "older"."bio" FROM "users" LEFT OUTER JOIN "users" AS "older" ON ("older"."age" > "users"."age") WHERE ("older"."name" = $1)"#
        )
    );
}

#[test]
fn subqueries_in_and_exists() {
    let authors = Post::select()
        .columns(Post::AUTHOR_ID)
        .where_(Post::SCORE.gt(5.0));
    assert_where(
        User::ID.in_query(authors.clone()).and(User::AGE.gt(1)),
        r#"(("users"."id" IN (SELECT "post"."author_id" FROM "post" WHERE ("post"."score" > $1))) AND ("users"."age" > $2))"#,
        vec![Value::F64(5.0), Value::I32(1)],
    );
    assert_where(
        User::ID.not_in_query(authors),
        r#"("users"."id" NOT IN (SELECT "post"."author_id" FROM "post" WHERE ("post"."score" > $1)))"#,
        vec![Value::F64(5.0)],
    );
    assert_where(
        exists(
            Post::select()
                .columns(Post::ID)
                .outer::<User>()
                .where_(Post::AUTHOR_ID.eq(User::ID)),
        ),
        r#"EXISTS (SELECT "post"."id" FROM "post" WHERE ("post"."author_id" = "users"."id"))"#,
        vec![],
    );
    assert_where(
        not_exists(
            Post::select()
                .columns(Post::ID)
                .outer::<User>()
                .where_(Post::AUTHOR_ID.eq(User::ID)),
        ),
        r#"NOT EXISTS (SELECT "post"."id" FROM "post" WHERE ("post"."author_id" = "users"."id"))"#,
        vec![],
    );
}

#[test]
fn compound_selects() {
    let young = User::select().columns(User::NAME).where_(User::AGE.lt(20));
    let old = User::select().columns(User::NAME).where_(User::AGE.gt(60));
    let cases = [
        (young.clone().union(old.clone()), "UNION"),
        (young.clone().union_all(old.clone()), "UNION ALL"),
        (young.clone().intersect(old.clone()), "INTERSECT"),
        (young.clone().except(old.clone()), "EXCEPT"),
    ];
    for (q, op) in cases {
        let expected = format!(
            r#"SELECT "users"."name" FROM "users" WHERE ("users"."age" < $1) {op} SELECT "users"."name" FROM "users" WHERE ("users"."age" > $2)"#
        );
        assert_eq!(
            pg(&q),
            (expected.clone(), vec![Value::I32(20), Value::I32(60)])
        );
        assert_eq!(my(&q).0, to_mysql(&expected));
    }
    // ORDER BY / LIMIT on the whole result name output columns, unqualified.
    let q = young
        .clone()
        .union(old.clone())
        .order_by(User::NAME)
        .limit(5);
    assert!(pg(&q).0.ends_with(r#"SELECT "users"."name" FROM "users" WHERE ("users"."age" > $2) ORDER BY "name" ASC LIMIT $3"#));
    // A part with its own LIMIT is parenthesized; SQLite cannot express it.
    let q = young.union(old.limit(1));
    assert!(pg(&q).0.ends_with(
        r#"UNION (SELECT "users"."name" FROM "users" WHERE ("users"."age" > $2) LIMIT $3)"#
    ));
    assert!(matches!(q.render(&SqliteDialect), Err(Error::Query(_))));
}

#[test]
fn for_update() {
    let q = User::select().where_(User::ID.eq(1)).for_update();
    assert!(pg(&q)
        .0
        .ends_with(r#"WHERE ("users"."id" = $1) FOR UPDATE"#));
    assert!(my(&q).0.ends_with("WHERE (`users`.`id` = ?) FOR UPDATE"));
    let err = q.render(&SqliteDialect).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid query: sqlite has no row locks (SELECT ... FOR UPDATE / FOR SHARE)"
    );
}

#[test]
fn for_share() {
    let q = User::select().where_(User::ID.eq(1)).for_share();
    assert_eq!(
        pg(&q),
        (
            format!(r#"SELECT {USER_COLS} FROM "users" WHERE ("users"."id" = $1) FOR SHARE"#),
            vec![Value::I64(1)]
        )
    );
    assert!(my(&q)
        .0
        .ends_with("WHERE (`users`.`id` = ?) LOCK IN SHARE MODE"));
    assert!(q.render(&SqliteDialect).is_err());
}

#[test]
fn count_query_wraps_the_select() {
    let q = User::select()
        .where_(User::AGE.gt(1))
        .order_by(User::ID)
        .limit(3)
        .count_query(true);
    assert_eq!(
        pg(&q),
        (
            format!(
                r#"SELECT COUNT(*) FROM (SELECT {USER_COLS} FROM "users" WHERE ("users"."age" > $1)) AS "_count""#
            ),
            vec![Value::I32(1)]
        )
    );
    let q = User::select().limit(3).count_query(false);
    assert!(my(&q).0.ends_with("FROM `users` LIMIT ?) AS `_count`"));
}

#[test]
fn raw_queries_renumber_placeholders() {
    let q = raw_query::<RowMap>(
        "SELECT * FROM users WHERE id = ? OR name = ?",
        vec![Value::I64(1), t("a")],
    );
    assert_eq!(
        pg(&q),
        (
            "SELECT * FROM users WHERE id = $1 OR name = $2".into(),
            vec![Value::I64(1), t("a")]
        )
    );
    assert_eq!(my(&q).0, "SELECT * FROM users WHERE id = ? OR name = ?");
    assert_eq!(lite(&q).0, "SELECT * FROM users WHERE id = ?1 OR name = ?2");
}

#[test]
fn sqlite_placeholders_and_quotes() {
    let q = users_where(User::NAME.eq("a").and(User::AGE.eq(3)));
    assert_eq!(
        lite(&q).0,
        format!(
            r#"SELECT {USER_COLS} FROM "users" WHERE (("users"."name" = ?1) AND ("users"."age" = ?2))"#
        )
    );
}

#[test]
fn identifiers_are_quoted_and_values_never_spliced() {
    let evil = "'; DROP TABLE users; --";
    let q = users_where(User::NAME.eq(evil));
    let (sql, params) = pg(&q);
    assert!(!sql.contains("DROP"));
    assert_eq!(params, vec![t(evil)]);
    let (sql, _) = my(&q);
    assert!(!sql.contains("DROP"));
}

/// A LIKE pattern holding NUL renders where LIKE compares it (PostgreSQL refuses NUL text
/// when binding, MySQL compares it) and is refused for SQLite, whose LIKE stops at NUL.
#[test]
fn like_with_nul_is_refused_where_like_cannot_compare_it() {
    let q = users_where(User::NAME.contains("a\0b"));
    assert_eq!(
        pg(&q).1,
        vec![Value::Text("%a\0b%".into())],
        "PostgreSQL renders it"
    );
    assert_eq!(
        my(&q).1,
        vec![Value::Text("%a\0b%".into())],
        "MySQL renders it"
    );
    let err = q.render(&SqliteDialect).expect_err("SQLite refuses it");
    assert!(matches!(err, Error::Query(_)), "{err:?}");
    assert!(err.to_string().contains("NUL"), "{err}");
    // Without NUL, SQLite renders LIKE as usual.
    assert!(users_where(User::NAME.contains("ab"))
        .render(&SqliteDialect)
        .is_ok());
}

/// Conditions nested 60,000 deep (OR chains, NOT around them) render, and 100,000 deep
/// drop, on a thread with a small stack: neither walks the tree by recursion.
#[test]
fn deep_conditions_render_and_drop_without_recursion() {
    let small_stack = std::thread::Builder::new().stack_size(256 * 1024);
    let worker = small_stack.spawn(|| {
        let chain = |n: i64| (1..n).fold(User::ID.eq(0), |c, i| c | User::ID.eq(i));
        let mixed = |n: i64| (1..n).fold(User::ID.eq(0), |c, i| !(c | User::ID.eq(i)));
        for cond in [chain(60_000), mixed(60_000)] {
            let stmt = users_where(cond)
                .render(&PostgresqlDialect)
                .expect("renders");
            assert_eq!(stmt.params.len(), 60_000);
            assert!(
                stmt.sql.ends_with(" = $60000))"),
                "{}",
                &stmt.sql[stmt.sql.len() - 40..]
            );
        }
        drop(chain(100_000));
        drop(mixed(100_000));
    });
    worker.expect("thread").join().expect("no stack overflow");
}

#[test]
fn named_expressions_read_as_a_map() {
    let q = Post::select()
        .columns((count_all().named("posts"), max(Post::SCORE).named("best")))
        .where_(Post::AUTHOR_ID.eq(7))
        .as_map();
    let expected = r#"SELECT COUNT(*) AS "posts", MAX("post"."score") AS "best" FROM "post" WHERE ("post"."author_id" = $1)"#;
    assert_eq!(pg(&q), (expected.to_owned(), vec![Value::I64(7)]));
    assert_eq!(my(&q), (to_mysql(expected), vec![Value::I64(7)]));
    assert_eq!(
        lite(&q),
        (expected.replace("$1", "?1"), vec![Value::I64(7)])
    );
}

//! INSERT, UPDATE and DELETE rendering, exactly, for each dialect.

mod common;

use common::*;
use orm_core::*;

fn ann() -> User {
    User::new("ann", 30, Some("hi".to_string()))
}

#[test]
fn insert_one_leaves_the_auto_key_to_the_database() {
    let q = ann().insert();
    let expected = r#"INSERT INTO "users" ("name", "age", "bio") VALUES ($1, $2, $3)"#;
    let params = vec![t("ann"), Value::I32(30), t("hi")];
    assert_eq!(pg(&q), (expected.into(), params.clone()));
    assert_eq!(my(&q), (to_mysql(expected), params));
}

fn ann_and_bob() -> [User; 2] {
    [ann(), User::new("bob", 40, None)]
}

/// [`ann_and_bob`]'s values, row after row, as every multi-row form binds them.
fn ann_and_bob_values() -> Vec<Value> {
    let row = |name, age, bio: Option<&str>| [t(name), Value::I32(age), bio.map_or(Value::Null, t)];
    [row("ann", 30, Some("hi")), row("bob", 40, None)].concat()
}

#[test]
fn insert_many_in_one_statement() {
    let users = ann_and_bob();
    let q = User::insert_many(&users);
    assert_eq!(
        pg(&q),
        (
            r#"INSERT INTO "users" ("name", "age", "bio") VALUES ($1, $2, $3), ($4, $5, $6)"#
                .into(),
            ann_and_bob_values()
        )
    );
    assert_eq!(
        lite(&q).0,
        r#"INSERT INTO "users" ("name", "age", "bio") VALUES (?1, ?2, ?3), (?4, ?5, ?6)"#
    );
    let none: [User; 0] = [];
    assert!(matches!(
        User::insert_many(&none).render(&PostgresqlDialect),
        Err(Error::Query(_))
    ));
}

/// The placeholder list of many rows is written once and then copied: the copy must be
/// the dialect's own and numbered for this shape, whichever shape came before.
#[test]
fn many_rows_render_alike_from_a_fresh_or_a_remembered_list() {
    let users: Vec<User> = (0..12)
        .map(|i| User::new(format!("u{i}"), i, None))
        .collect();
    let expected = |rows: usize, placeholder: &dyn Fn(usize) -> String| {
        let rows: Vec<String> = (0..rows)
            .map(|r| {
                let cells: Vec<String> = (1..=3).map(|c| placeholder(r * 3 + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        format!(
            r#"INSERT INTO "users" ("name", "age", "bio") VALUES {}"#,
            rows.join(", ")
        )
    };
    for _ in 0..2 {
        for rows in [12, 9, 12] {
            let q = || User::insert_many(&users[..rows]);
            let (sql, params) = pg(&q());
            assert_eq!(sql, expected(rows, &|i| format!("${i}")));
            assert_eq!(params.len(), rows * 3);
            assert_eq!(params[3 * rows - 3], t(&format!("u{}", rows - 1)));
            assert_eq!(lite(&q()).0, expected(rows, &|i| format!("?{i}")));
            assert_eq!(my(&q()).0, to_mysql(&expected(rows, &|_| "?".into())));
            let owned = q().into_statement_for(&PostgresqlDialect).unwrap();
            assert_eq!((owned.sql, owned.params), pg(&q()));
        }
    }
}

#[test]
fn insert_with_composite_key_and_skipped_field() {
    let q = UserTag::new(7, "admin", 2).insert();
    assert_eq!(
        pg(&q),
        (
            r#"INSERT INTO "user_tag" ("user_id", "tag", "weight") VALUES ($1, $2, $3)"#.into(),
            vec![Value::I64(7), t("admin"), Value::I16(2)]
        )
    );
    let c = Comment::new(Some(1), 2, "b", 3);
    assert_eq!(
        pg(&c.insert()).0,
        r#"INSERT INTO "app"."comment" ("post_id", "position", "body_text", "created") VALUES ($1, $2, $3, $4)"#
    );
}

#[test]
fn upsert_update_chosen_columns() {
    let q = ann()
        .insert()
        .on_conflict(User::NAME)
        .update((User::AGE, User::BIO));
    assert_eq!(
        pg(&q).0,
        r#"INSERT INTO "users" ("name", "age", "bio") VALUES ($1, $2, $3) ON CONFLICT ("name") DO UPDATE SET "age" = EXCLUDED."age", "bio" = EXCLUDED."bio""#
    );
    assert_eq!(
        my(&q).0,
        "INSERT INTO `users` (`name`, `age`, `bio`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `age` = VALUES(`age`), `bio` = VALUES(`bio`)"
    );
    assert_eq!(
        lite(&q).0,
        r#"INSERT INTO "users" ("name", "age", "bio") VALUES (?1, ?2, ?3) ON CONFLICT ("name") DO UPDATE SET "age" = EXCLUDED."age", "bio" = EXCLUDED."bio""#
    );
}

#[test]
fn upsert_ignore() {
    let q = ann().insert().on_conflict_ignore();
    assert!(pg(&q)
        .0
        .ends_with("VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"));
    assert!(my(&q)
        .0
        .ends_with("VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `name` = `name`"));
    let q = ann().insert().on_conflict(User::NAME).ignore();
    assert!(pg(&q).0.ends_with(r#"ON CONFLICT ("name") DO NOTHING"#));
    assert!(my(&q)
        .0
        .ends_with("ON DUPLICATE KEY UPDATE `name` = `name`"));
}

#[test]
fn insert_from_select() {
    let q = Insert::<UserTag>::from_select(
        (UserTag::USER_ID, UserTag::TAG, UserTag::WEIGHT),
        User::select()
            .columns((
                User::ID,
                User::NAME,
                cast::<i16, _>(User::AGE.is_not_null()),
            ))
            .where_(User::AGE.gt(1)),
    );
    assert_eq!(
        pg(&q),
        (
            r#"INSERT INTO "user_tag" ("user_id", "tag", "weight") SELECT "users"."id", "users"."name", CAST(("users"."age" IS NOT NULL) AS SMALLINT) FROM "users" WHERE ("users"."age" > $1)"#.into(),
            vec![Value::I32(1)]
        )
    );
}

#[test]
fn update_with_values_and_expressions() {
    let q = User::update()
        .set(User::AGE, User::AGE + 1)
        .set(User::BIO, None::<String>)
        .set(User::NAME, "x")
        .where_(User::ID.eq(5));
    let expected = r#"UPDATE "users" SET "age" = ("users"."age" + $1), "bio" = $2, "name" = $3 WHERE ("users"."id" = $4)"#;
    let params = vec![Value::I32(1), Value::Null, t("x"), Value::I64(5)];
    assert_eq!(pg(&q), (expected.into(), params.clone()));
    assert_eq!(my(&q), (to_mysql(expected), params));
    assert!(matches!(
        User::update().render(&PostgresqlDialect),
        Err(Error::Query(_))
    ));
}

#[test]
fn delete_with_where_and_without() {
    let q = Post::delete().where_(Post::SCORE.lt(0.0));
    assert_eq!(
        pg(&q),
        (
            r#"DELETE FROM "post" WHERE ("post"."score" < $1)"#.into(),
            vec![Value::F64(0.0)]
        )
    );
    assert_eq!(my(&q).0, "DELETE FROM `post` WHERE (`post`.`score` < ?)");
    assert_eq!(pg(&Comment::delete()).0, r#"DELETE FROM "app"."comment""#);
}

#[test]
fn returning_where_the_dialect_has_it() {
    let q = User::update()
        .set(User::AGE, 1)
        .where_(User::ID.eq(1))
        .returning((User::ID, User::AGE));
    assert_eq!(
        pg(&q).0,
        r#"UPDATE "users" SET "age" = $1 WHERE ("users"."id" = $2) RETURNING "users"."id", "users"."age""#
    );
    assert_eq!(
        lite(&q).0,
        r#"UPDATE "users" SET "age" = ?1 WHERE ("users"."id" = ?2) RETURNING "users"."id", "users"."age""#
    );
    assert_eq!(
        q.render(&MySQLDialect).unwrap_err().to_string(),
        "invalid query: mysql has no RETURNING"
    );

    let q = User::delete().where_(User::ID.eq(1)).returning(User::NAME);
    assert_eq!(
        pg(&q).0,
        r#"DELETE FROM "users" WHERE ("users"."id" = $1) RETURNING "users"."name""#
    );

    let q = ann().insert().returning_model();
    assert_eq!(
        pg(&q).0,
        r#"INSERT INTO "users" ("name", "age", "bio") VALUES ($1, $2, $3) RETURNING "id", "name", "age", "bio""#
    );
}

#[test]
fn model_values_and_keys() {
    let mut u = ann();
    assert_eq!(u.column_value(1), t("ann"));
    assert_eq!(u.column_value(3), t("hi"));
    u.set_auto_key(42).unwrap();
    assert_eq!(u.id, 42);
    assert_eq!(u.primary_key_values(), vec![Value::I64(42)]);
    let mut c = Comment::new(None, 1, "", 0);
    assert!(
        c.set_auto_key(i64::MAX).is_err(),
        "an i32 key cannot hold i64::MAX"
    );
    assert_eq!(
        UserTag::new(1, "t", 0).primary_key_values(),
        vec![Value::I64(1), t("t")]
    );
}

#[test]
fn an_explicit_auto_key_is_inserted_as_given() {
    let mut u = ann();
    u.id = 42;
    assert_eq!(
        pg(&u.insert()),
        (
            r#"INSERT INTO "users" ("id", "name", "age", "bio") VALUES ($1, $2, $3, $4)"#.into(),
            vec![Value::I64(42), t("ann"), Value::I32(30), t("hi")]
        )
    );
    // Mixed rows leave every key to the database.
    let q = User::insert_many(&[u, ann()]);
    assert!(pg(&q)
        .0
        .starts_with(r#"INSERT INTO "users" ("name", "age", "bio")"#));
}

#[test]
fn an_owned_insert_renders_the_same_statement_without_copying() {
    let users = [ann(), User::new("bob", 40, None)];
    for dialect in [
        &PostgresqlDialect as &dyn Dialect,
        &MySQLDialect,
        &SqliteDialect,
    ] {
        let borrowed = User::insert_many(&users)
            .on_conflict_ignore()
            .render(dialect)
            .unwrap();
        let owned = User::insert_many(&users)
            .on_conflict_ignore()
            .into_statement_for(dialect)
            .unwrap();
        assert_eq!(borrowed, owned);
    }
}

#[test]
fn statements_over_the_parameter_limit_are_refused_before_sending() {
    // 3 values per row: 21,845 rows are 65,535 parameters, the PostgreSQL / MySQL limit.
    let users: Vec<User> = (0..21_846)
        .map(|i| User::new(format!("u{i}"), i, None))
        .collect();
    let at_limit = User::insert_many(&users[..21_845]);
    assert_eq!(pg(&at_limit).1.len(), 65_535);
    assert_eq!(my(&at_limit).1.len(), 65_535);
    for dialect in [&PostgresqlDialect as &dyn Dialect, &MySQLDialect] {
        match User::insert_many(&users).render(dialect) {
            Err(Error::Query(message)) => {
                assert!(message.contains("65538 parameters"), "{message}");
                assert!(message.contains("at most 65535"), "{message}");
            }
            other => panic!("{}: {other:?}", dialect.name()),
        }
    }
    // SQLite's default limit is 32,766: 10,922 rows fit, 10,923 do not.
    assert!(User::insert_many(&users[..10_922])
        .render(&SqliteDialect)
        .is_ok());
    match User::insert_many(&users[..10_923]).render(&SqliteDialect) {
        Err(Error::Query(message)) => assert!(message.contains("at most 32766"), "{message}"),
        other => panic!("sqlite: {other:?}"),
    }
}

#[test]
fn unnest_sends_one_array_per_column() {
    let users = [ann(), User::new("bob", 40, None)];
    let stmt = User::insert_many(&users)
        .on_conflict(User::NAME)
        .ignore()
        .into_unnest_statement_for(&PostgresqlDialect)
        .expect("render");
    assert_eq!(
        stmt.sql,
        r#"INSERT INTO "users" ("name", "age", "bio") SELECT * FROM UNNEST($1::TEXT[], $2::INTEGER[], $3::TEXT[]) ON CONFLICT ("name") DO NOTHING"#
    );
    assert_eq!(
        stmt.params,
        vec![
            Value::Array(ElementType::Text, vec![t("ann"), t("bob")]),
            Value::Array(ElementType::Int, vec![Value::I32(30), Value::I32(40)]),
            Value::Array(ElementType::Text, vec![t("hi"), Value::Null]),
        ]
    );
    for dialect in [&MySQLDialect as &dyn Dialect, &SqliteDialect] {
        match User::insert_many(&users).into_unnest_statement_for(dialect) {
            Err(Error::Query(message)) => assert!(message.contains("array"), "{message}"),
            other => panic!("{}: {other:?}", dialect.name()),
        }
    }
}

/// Text longer than a `max_length` column is refused at render time, in every dialect
/// and in the UNNEST form of a bulk insert, with the parameter it would have been.
#[test]
fn text_over_max_length_is_refused_before_sending() {
    let long = "x".repeat(41);
    let users = [User::new("ok", 1, None), User::new(long.clone(), 2, None)];
    for dialect in [
        &PostgresqlDialect as &dyn Dialect,
        &MySQLDialect,
        &SqliteDialect,
    ] {
        let err = User::insert_many(&users).render(dialect).unwrap_err();
        assert!(
            matches!(err, Error::InvalidValue { index: 4, .. }),
            "{err:?}"
        );
        let err = User::update()
            .set(User::NAME, long.clone())
            .render(dialect)
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidValue { index: 1, .. }),
            "{err:?}"
        );
    }
    let err = User::insert_many(&users)
        .into_unnest_statement_for(&PostgresqlDialect)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidValue { index: 1, message } if message.starts_with("row 2")),
        "{err:?}"
    );
}

#[test]
fn rows_named_column_by_column() {
    let row = Post::values()
        .set(Post::TITLE, "Hi")
        .set(Post::AUTHOR_ID, 7)
        .set(Post::TITLE, "Hello");
    let key = row.key_condition();
    assert!(key.is_none(), "the generated key was not set");
    let pg_sql = r#"INSERT INTO "post" ("title", "author_id") VALUES ($1, $2)"#;
    let params = vec![t("Hello"), Value::I64(7)];
    let insert = row.insert();
    assert_eq!(pg(&insert), (pg_sql.to_owned(), params.clone()));
    assert_eq!(my(&insert), (to_mysql(pg_sql), params.clone()));
    assert_eq!(lite(&insert), (pg_sql.replace('$', "?"), params));
    let keyed = UserTag::values()
        .set(UserTag::TAG, "rust")
        .set(UserTag::USER_ID, 3);
    let key = keyed.key_condition().expect("every key column set");
    assert_eq!(
        pg(&User::select().columns(User::ID).where_(key)).0,
        r#"SELECT "users"."id" FROM "users" WHERE (("user_tag"."user_id" = $1) AND ("user_tag"."tag" = $2))"#
    );
    assert_eq!(
        pg(&Post::values().insert()).0,
        r#"INSERT INTO "post" DEFAULT VALUES"#
    );
    let too_long = User::values().set(User::NAME, "x".repeat(41)).insert();
    assert!(matches!(
        too_long.render(&PostgresqlDialect),
        Err(Error::InvalidValue { .. })
    ));
}

/// PostgreSQL's binary COPY: the rows are the parameters, row after row, with no
/// parameter limit; a query tells the driver the columns' types. Other dialects, and an
/// INSERT with a conflict clause, are refused before anything is sent.
#[test]
fn a_copy_statement_carries_the_rows_and_a_query_for_their_types() {
    let users = ann_and_bob();
    let stmt = User::insert_many(&users)
        .into_copy_statement_for(&PostgresqlDialect)
        .unwrap();
    assert_eq!(
        stmt.sql,
        r#"COPY "users" ("name", "age", "bio") FROM STDIN (FORMAT binary)"#
    );
    assert_eq!(stmt.params, ann_and_bob_values());
    assert_eq!(
        stmt.copy_in,
        Some(CopyIn {
            types_of: r#"SELECT "name", "age", "bio" FROM "users" WHERE false"#.into()
        })
    );
    // More rows than bind parameters allow: one COPY.
    let many: Vec<User> = (0..30_000)
        .map(|i| User::new(format!("u{i}"), i, None))
        .collect();
    let stmt = User::insert_many(&many)
        .into_copy_statement_for(&PostgresqlDialect)
        .unwrap();
    assert_eq!(stmt.params.len(), 90_000);
    for dialect in [&MySQLDialect as &dyn Dialect, &SqliteDialect] {
        assert!(matches!(
            User::insert_many(&users).into_copy_statement_for(dialect),
            Err(Error::Query(_))
        ));
    }
    assert!(matches!(
        User::insert_many(&users)
            .on_conflict_ignore()
            .into_copy_statement_for(&PostgresqlDialect),
        Err(Error::Query(_))
    ));
    let none: [User; 0] = [];
    assert!(matches!(
        User::insert_many(&none).into_copy_statement_for(&PostgresqlDialect),
        Err(Error::Query(_))
    ));
}

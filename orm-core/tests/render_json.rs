//! JSON operators rendered for each dialect (built with the `json` feature).
#![cfg(feature = "json")]

use orm_core::*;
use serde_json::json;

#[derive(orm_derive::Model, Debug)]
struct Event {
    #[orm(primary_key, auto)]
    id: i64,
    data: serde_json::Value,
}

fn sql(cond: Condition<impl scope::Names<Event>>, d: &dyn Dialect) -> (String, Vec<Value>) {
    let stmt = Event::select()
        .columns(Event::ID)
        .where_(cond.unchecked())
        .render(d)
        .expect("render");
    let sql = stmt
        .sql
        .split_once(" WHERE ")
        .map(|(_, w)| w.to_owned())
        .unwrap_or_default();
    (sql, stmt.params)
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn get_and_get_text() {
    let cond = Event::DATA.json_get_text("kind").eq("click");
    assert_eq!(
        sql(cond.clone(), &PostgresqlDialect),
        (
            r#"(("event"."data" ->> $1) = $2)"#.into(),
            vec![t("kind"), t("click")]
        )
    );
    assert_eq!(
        sql(cond.clone(), &MySQLDialect),
        (
            "(JSON_UNQUOTE(JSON_EXTRACT(`event`.`data`, ?)) = ?)".into(),
            vec![t("$.\"kind\""), t("click")]
        )
    );
    assert_eq!(
        sql(cond, &SqliteDialect).0,
        r#"(CAST(("event"."data" ->> ?1) AS TEXT) = ?2)"#
    );
    let q = Event::select().columns(Event::DATA.json_get("n"));
    assert_eq!(
        q.render(&PostgresqlDialect).unwrap().sql,
        r#"SELECT ("event"."data" -> $1) FROM "event""#
    );
    assert_eq!(
        q.render(&MySQLDialect).unwrap().sql,
        "SELECT JSON_EXTRACT(`event`.`data`, ?) FROM `event`"
    );
}

#[test]
fn paths_quote_their_keys() {
    let cond = Event::DATA.json_path_text(&["a", "b\"c"]).eq("1");
    assert_eq!(
        sql(cond.clone(), &PostgresqlDialect),
        (
            r#"(("event"."data" #>> CAST(CAST($1 AS TEXT) AS TEXT[])) = $2)"#.into(),
            vec![t(r#"{"a","b\"c"}"#), t("1")]
        )
    );
    assert_eq!(sql(cond, &MySQLDialect).1[0], t(r#"$."a"."b\"c""#));
}

#[test]
fn containment_and_keys() {
    let doc = json!({"kind": "view"});
    assert_eq!(
        sql(Event::DATA.json_contains(&doc), &PostgresqlDialect),
        (
            r#"("event"."data" @> CAST($1 AS JSONB))"#.into(),
            vec![t(r#"{"kind":"view"}"#)]
        )
    );
    assert_eq!(
        sql(Event::DATA.json_contains(&doc), &MySQLDialect).0,
        "JSON_CONTAINS(`event`.`data`, ?)"
    );
    assert_eq!(
        sql(Event::DATA.json_contained_by(&doc), &MySQLDialect).0,
        "JSON_CONTAINS(?, `event`.`data`)"
    );
    assert_eq!(
        sql(Event::DATA.json_has_key("k"), &PostgresqlDialect).0,
        r#"("event"."data" ? $1)"#
    );
    assert_eq!(
        sql(Event::DATA.json_has_key("k"), &MySQLDialect).0,
        "JSON_CONTAINS_PATH(`event`.`data`, 'one', ?)"
    );
    assert_eq!(
        sql(Event::DATA.json_has_key("k"), &SqliteDialect).0,
        r#"(json_type("event"."data", ?1) IS NOT NULL)"#
    );
    let err = Event::select()
        .where_(Event::DATA.json_contains(&doc))
        .render(&SqliteDialect)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid query: sqlite has no JSON operator for Contains"
    );
}

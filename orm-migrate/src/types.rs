//! One spelling for types and defaults: the server's way of writing them back
//! (`character varying(40)`, `bigint(20)`, `'x'::text`) turned into the way the dialect's
//! DDL writes them, so that a live schema and the models compare.

use orm_core::{Dialect, SqlType};

/// A model column's type as the dialect's DDL writes it.
pub(crate) fn model_type(dialect: &dyn Dialect, ty: SqlType, keyed: bool, auto: bool) -> String {
    dialect.column_type(ty, keyed || auto).into_owned()
}

/// A model's default, spelt as a live one is after [`live_default`].
pub(crate) fn default_of_model(default: &str) -> String {
    normalized_default(default).unwrap_or_else(|| default.trim().to_string())
}

/// A type as PostgreSQL's `format_type` writes it, in the DDL's spelling.
pub(crate) fn postgres_type(text: &str) -> String {
    let text = text.trim();
    if let Some(element) = text.strip_suffix("[]") {
        return format!("{}[]", postgres_type(element));
    }
    if let Some(rest) = text.strip_prefix("character varying") {
        return format!("VARCHAR{}", rest.trim());
    }
    match text {
        "timestamp with time zone" => "TIMESTAMPTZ".into(),
        "timestamp without time zone" => "TIMESTAMP".into(),
        "time without time zone" => "TIME".into(),
        "time with time zone" => "TIMETZ".into(),
        _ => text.to_ascii_uppercase(),
    }
}

/// A type as MySQL / MariaDB's `COLUMN_TYPE` writes it, in the DDL's spelling: integer
/// display widths dropped (`bigint(20)`), `tinyint(1)` as `BOOLEAN`, a space after the
/// comma of `decimal(65,28)`.
pub(crate) fn mysql_type(text: &str) -> String {
    let text = text.trim().to_ascii_lowercase();
    if text == "tinyint(1)" {
        return "BOOLEAN".into();
    }
    let base = text.split('(').next().unwrap_or(&text);
    let unsigned = text.ends_with(" unsigned");
    let spelt = match base {
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint" => base.to_ascii_uppercase(),
        _ => text
            .trim_end_matches(" unsigned")
            .replace(',', ", ")
            .to_ascii_uppercase(),
    };
    if unsigned {
        format!("{spelt} UNSIGNED")
    } else {
        spelt
    }
}

/// A type as SQLite keeps it: as it was declared.
pub(crate) fn sqlite_type(text: &str) -> String {
    text.trim().to_ascii_uppercase()
}

/// A default as a server writes it back, in one spelling: literal casts dropped
/// (`'x'::text`), `NULL` as none, `CURRENT_TIMESTAMP` however it is written.
pub(crate) fn live_default(text: Option<&str>) -> Option<String> {
    normalized_default(text?)
}

fn normalized_default(text: &str) -> Option<String> {
    let mut text = text.trim().to_string();
    if text.is_empty() || text.eq_ignore_ascii_case("null") {
        return None;
    }
    while let Some(stripped) = without_cast(&text) {
        text = stripped;
    }
    let lower = text.to_ascii_lowercase();
    if let Some(precision) = lower.strip_prefix("current_timestamp") {
        let precision = if precision == "()" { "" } else { precision };
        return Some(format!("CURRENT_TIMESTAMP{precision}"));
    }
    if text.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(text)
}

/// `expr::type` without its cast, when the type is a plain name (PostgreSQL).
fn without_cast(text: &str) -> Option<String> {
    let (expr, ty) = text.rsplit_once("::")?;
    if expr.ends_with('\'') && expr.matches('\'').count() % 2 == 1 {
        return None;
    }
    let plain = ty
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '(' | ')' | '"' | '[' | ']'));
    (plain && !expr.is_empty()).then(|| expr.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_types_in_the_ddl_spelling() {
        assert_eq!(postgres_type("character varying(40)"), "VARCHAR(40)");
        assert_eq!(postgres_type("bigint"), "BIGINT");
        assert_eq!(postgres_type("timestamp with time zone"), "TIMESTAMPTZ");
        assert_eq!(postgres_type("double precision"), "DOUBLE PRECISION");
        assert_eq!(postgres_type("bigint[]"), "BIGINT[]");
        assert_eq!(postgres_type("jsonb"), "JSONB");
    }

    #[test]
    fn mysql_types_in_the_ddl_spelling() {
        assert_eq!(mysql_type("bigint(20)"), "BIGINT");
        assert_eq!(mysql_type("int(11)"), "INT");
        assert_eq!(mysql_type("tinyint(1)"), "BOOLEAN");
        assert_eq!(mysql_type("varchar(40)"), "VARCHAR(40)");
        assert_eq!(mysql_type("decimal(65,28)"), "DECIMAL(65, 28)");
        assert_eq!(mysql_type("datetime(6)"), "DATETIME(6)");
        assert_eq!(mysql_type("int(10) unsigned"), "INT UNSIGNED");
    }

    #[test]
    fn defaults_in_one_spelling() {
        assert_eq!(live_default(Some("'x'::text")).as_deref(), Some("'x'"));
        assert_eq!(
            live_default(Some("'a::b'::character varying")).as_deref(),
            Some("'a::b'")
        );
        assert_eq!(live_default(Some("'it''s'")).as_deref(), Some("'it''s'"));
        assert_eq!(live_default(Some("0")).as_deref(), Some("0"));
        assert_eq!(live_default(Some("NULL")), None);
        assert_eq!(live_default(Some("NULL::text")), None);
        assert_eq!(
            live_default(Some("current_timestamp()")).as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(default_of_model("''"), "''");
    }
}

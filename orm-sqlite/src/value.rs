//! Parameters: orm-core's [`Value`] bound with rusqlite, text and blobs without a copy.

use orm_core::{Error, Result, Value};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

/// Dates and times are stored as fixed-width ISO-8601 text, so they sort correctly.
#[cfg(feature = "chrono")]
pub(crate) mod formats {
    pub const DATE: &str = "%Y-%m-%d";
    pub const TIME: &str = "%H:%M:%S%.6f";
    pub const TIMESTAMP: &str = "%Y-%m-%d %H:%M:%S%.6f";
    pub const TIMESTAMP_UTC: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
}

pub(crate) struct SqliteParam<'a>(pub(crate) &'a Value);

impl ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(v) => ToSqlOutput::from(i64::from(*v)),
            Value::I16(v) => ToSqlOutput::from(i64::from(*v)),
            Value::I32(v) => ToSqlOutput::from(i64::from(*v)),
            Value::I64(v) => ToSqlOutput::from(*v),
            Value::F32(v) => ToSqlOutput::from(f64::from(*v)),
            Value::F64(v) => ToSqlOutput::from(*v),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            #[cfg(feature = "chrono")]
            Value::Date(d) => ToSqlOutput::from(d.format(formats::DATE).to_string()),
            #[cfg(feature = "chrono")]
            Value::Time(t) => ToSqlOutput::from(t.format(formats::TIME).to_string()),
            #[cfg(feature = "chrono")]
            Value::Timestamp(t) => ToSqlOutput::from(t.format(formats::TIMESTAMP).to_string()),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(t) => {
                ToSqlOutput::from(t.format(formats::TIMESTAMP_UTC).to_string())
            }
            #[cfg(feature = "uuid")]
            Value::Uuid(u) => ToSqlOutput::from(u.hyphenated().to_string()),
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => ToSqlOutput::from(d.to_string()),
            #[cfg(feature = "json")]
            Value::Json(j) => ToSqlOutput::from(j.to_string()),
            #[allow(unreachable_patterns)]
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    match other {
                        Value::Invalid(why) => why.clone(),
                        Value::Array(..) | Value::HStore(_) => {
                            "arrays and hstore are PostgreSQL types; SQLite has neither".into()
                        }
                        other => format!("{other:?} needs a feature orm-sqlite was built without"),
                    }
                    .into(),
                ))
            }
        })
    }
}

/// Refuses what SQLite would store wrongly: NaN becomes NULL there.
pub(crate) fn check_params(params: &[Value]) -> Result<()> {
    for (i, v) in params.iter().enumerate() {
        let nan = match v {
            Value::F32(f) => f.is_nan(),
            Value::F64(f) => f.is_nan(),
            _ => false,
        };
        if nan {
            return Err(Error::InvalidValue {
                index: i + 1,
                message: "SQLite stores NaN as NULL; refusing to lose the value".into(),
            });
        }
    }
    Ok(())
}

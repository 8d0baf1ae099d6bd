//! Reading rusqlite rows by column index.

use orm_core::{Error, Result, RowReader, Value};
use rusqlite::types::ValueRef;
use rusqlite::Row;

/// A rusqlite row seen through orm-core's [`RowReader`].
pub(crate) struct SqliteRow<'a, 'stmt>(pub(crate) &'a Row<'stmt>);

fn kind(v: &ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

impl SqliteRow<'_, '_> {
    #[inline]
    fn value(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.0
            .get_ref(idx)
            .map_err(|_| Error::decode(idx, "a column", "no such column"))
    }

    #[cold]
    fn mismatch(&self, idx: usize, expected: &str) -> Error {
        let actual = self.0.get_ref(idx).map(|v| kind(&v)).unwrap_or("no column");
        Error::decode(idx, expected, actual)
    }

    fn int<N: TryFrom<i64>>(&self, idx: usize, expected: &str) -> Result<Option<N>> {
        match self.value(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => N::try_from(v)
                .map(Some)
                .map_err(|_| self.mismatch(idx, expected)),
            _ => Err(self.mismatch(idx, expected)),
        }
    }

    fn text(&self, idx: usize, expected: &str) -> Result<Option<&str>> {
        match self.value(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| self.mismatch(idx, expected)),
            _ => Err(self.mismatch(idx, expected)),
        }
    }

    /// Text parsed with `parse`; a mismatch when it does not parse.
    #[allow(dead_code)]
    fn parsed<T>(
        &self,
        idx: usize,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.text(idx, expected)? {
            None => Ok(None),
            Some(s) => parse(s)
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, expected)),
        }
    }
}

impl RowReader for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.0.as_ref().column_count()
    }

    fn column_name(&self, idx: usize) -> &str {
        self.0.as_ref().column_name(idx).unwrap_or("")
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.value(idx)?, ValueRef::Null))
    }

    fn read_bool(&self, idx: usize) -> Result<Option<bool>> {
        Ok(self.int::<i64>(idx, "bool (INTEGER 0/1)")?.map(|v| v != 0))
    }

    fn read_i16(&self, idx: usize) -> Result<Option<i16>> {
        self.int(idx, "i16 (INTEGER)")
    }

    fn read_i32(&self, idx: usize) -> Result<Option<i32>> {
        self.int(idx, "i32 (INTEGER)")
    }

    #[inline]
    fn read_i64(&self, idx: usize) -> Result<Option<i64>> {
        self.int(idx, "i64 (INTEGER)")
    }

    fn read_f32(&self, idx: usize) -> Result<Option<f32>> {
        Ok(self.read_f64(idx)?.map(|v| v as f32))
    }

    fn read_f64(&self, idx: usize) -> Result<Option<f64>> {
        match self.value(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            _ => Err(self.mismatch(idx, "f64 (REAL)")),
        }
    }

    #[inline]
    fn read_string(&self, idx: usize) -> Result<Option<String>> {
        Ok(self.text(idx, "String (TEXT)")?.map(str::to_owned))
    }

    fn read_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        match self.value(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b.to_vec())),
            _ => Err(self.mismatch(idx, "Vec<u8> (BLOB)")),
        }
    }

    #[cfg(feature = "chrono")]
    fn read_date(&self, idx: usize) -> Result<Option<chrono::NaiveDate>> {
        self.parsed(idx, "NaiveDate (ISO-8601 text)", |s| {
            chrono::NaiveDate::parse_from_str(s, crate::value::formats::DATE).ok()
        })
    }

    #[cfg(feature = "chrono")]
    fn read_time(&self, idx: usize) -> Result<Option<chrono::NaiveTime>> {
        self.parsed(idx, "NaiveTime (ISO-8601 text)", |s| s.parse().ok())
    }

    #[cfg(feature = "chrono")]
    fn read_timestamp(&self, idx: usize) -> Result<Option<chrono::NaiveDateTime>> {
        self.parsed(idx, "NaiveDateTime (ISO-8601 text)", |s| {
            chrono::NaiveDateTime::parse_from_str(s, crate::value::formats::TIMESTAMP)
                .or_else(|_| s.parse())
                .ok()
        })
    }

    #[cfg(feature = "chrono")]
    fn read_timestamptz(&self, idx: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.parsed(idx, "DateTime<Utc> (ISO-8601 text)", |s| {
            s.parse::<chrono::DateTime<chrono::Utc>>().ok().or_else(|| {
                chrono::NaiveDateTime::parse_from_str(s, crate::value::formats::TIMESTAMP)
                    .ok()
                    .map(|t| t.and_utc())
            })
        })
    }

    #[cfg(feature = "uuid")]
    fn read_uuid(&self, idx: usize) -> Result<Option<uuid::Uuid>> {
        match self.value(idx)? {
            ValueRef::Blob(b) if b.len() == 16 => uuid::Uuid::from_slice(b)
                .map(Some)
                .map_err(|_| self.mismatch(idx, "Uuid")),
            _ => self.parsed(idx, "Uuid (text)", |s| uuid::Uuid::parse_str(s).ok()),
        }
    }

    #[cfg(feature = "decimal")]
    fn read_decimal(&self, idx: usize) -> Result<Option<rust_decimal::Decimal>> {
        match self.value(idx)? {
            ValueRef::Integer(v) => Ok(Some(rust_decimal::Decimal::from(v))),
            _ => self.parsed(idx, "Decimal (text)", |s| s.parse().ok()),
        }
    }

    #[cfg(feature = "json")]
    fn read_json(&self, idx: usize) -> Result<Option<serde_json::Value>> {
        match self.text(idx, "JSON (text)")? {
            None => Ok(None),
            // serde's reason is kept: it says what in the document does not parse.
            Some(s) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| Error::decode(idx, "JSON (text)", format!("text ({e})"))),
        }
    }

    fn read_value(&self, idx: usize) -> Result<Value> {
        Ok(match self.value(idx)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::I64(v),
            ValueRef::Real(v) => Value::F64(v),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => Value::Text(s.into()),
                Err(_) => Value::Bytes(t.to_vec()),
            },
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        })
    }
}

//! Reading driver rows by column index.

use mysql_async::{Row, Value as MyValue};
use orm_core::{Error, Result, RowReader, Value};

/// A mysql_async row seen through orm-core's [`RowReader`].
pub(crate) struct MyRow<'a>(pub(crate) &'a Row);

/// The binary charset number: BLOB / BINARY columns carry it, text columns do not.
const BINARY_CHARSET: u16 = 63;

impl MyRow<'_> {
    #[inline]
    fn value(&self, idx: usize) -> Result<&MyValue> {
        self.0.as_ref(idx).ok_or_else(|| {
            Error::decode(
                idx,
                "a column",
                format!("a row of {} columns", self.0.len()),
            )
        })
    }

    #[cold]
    fn mismatch(&self, idx: usize, expected: &str) -> Error {
        let actual = match self.0.as_ref(idx) {
            Some(MyValue::Bytes(_)) => "bytes".to_owned(),
            Some(v) => format!("{v:?}"),
            None => "no column".to_owned(),
        };
        Error::decode(idx, expected, actual)
    }

    fn int(&self, idx: usize, expected: &str) -> Result<Option<i64>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Int(v) => Ok(Some(*v)),
            MyValue::UInt(v) => i64::try_from(*v)
                .map(Some)
                .map_err(|_| self.mismatch(idx, expected)),
            MyValue::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, expected)),
            _ => Err(self.mismatch(idx, expected)),
        }
    }

    fn narrow<N: TryFrom<i64>>(&self, idx: usize, expected: &str) -> Result<Option<N>> {
        match self.int(idx, expected)? {
            None => Ok(None),
            Some(v) => N::try_from(v)
                .map(Some)
                .map_err(|_| self.mismatch(idx, expected)),
        }
    }

    fn text(&self, idx: usize, expected: &str) -> Result<Option<&str>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Bytes(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| self.mismatch(idx, expected)),
            _ => Err(self.mismatch(idx, expected)),
        }
    }

    #[cfg(feature = "chrono")]
    fn datetime(&self, idx: usize, expected: &str) -> Result<Option<chrono::NaiveDateTime>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Date(y, mo, d, h, mi, s, us) => {
                chrono::NaiveDate::from_ymd_opt(i32::from(*y), u32::from(*mo), u32::from(*d))
                    .and_then(|date| {
                        date.and_hms_micro_opt(u32::from(*h), u32::from(*mi), u32::from(*s), *us)
                    })
                    .map(Some)
                    .ok_or_else(|| self.mismatch(idx, expected))
            }
            _ => Err(self.mismatch(idx, expected)),
        }
    }
}

impl RowReader for MyRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn column_name(&self, idx: usize) -> &str {
        self.0
            .columns_ref()
            .get(idx)
            .and_then(|c| std::str::from_utf8(c.name_ref()).ok())
            .unwrap_or("")
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.value(idx)?, MyValue::NULL))
    }

    fn read_bool(&self, idx: usize) -> Result<Option<bool>> {
        Ok(self.int(idx, "bool")?.map(|v| v != 0))
    }

    fn read_i16(&self, idx: usize) -> Result<Option<i16>> {
        self.narrow(idx, "i16 (SMALLINT)")
    }

    fn read_i32(&self, idx: usize) -> Result<Option<i32>> {
        self.narrow(idx, "i32 (INT)")
    }

    #[inline]
    fn read_i64(&self, idx: usize) -> Result<Option<i64>> {
        self.int(idx, "i64 (BIGINT)")
    }

    fn read_f32(&self, idx: usize) -> Result<Option<f32>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Float(v) => Ok(Some(*v)),
            _ => Err(self.mismatch(idx, "f32 (FLOAT)")),
        }
    }

    fn read_f64(&self, idx: usize) -> Result<Option<f64>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Double(v) => Ok(Some(*v)),
            MyValue::Float(v) => Ok(Some(f64::from(*v))),
            MyValue::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, "f64 (DOUBLE)")),
            _ => Err(self.mismatch(idx, "f64 (DOUBLE)")),
        }
    }

    #[inline]
    fn read_string(&self, idx: usize) -> Result<Option<String>> {
        Ok(self.text(idx, "String (TEXT)")?.map(str::to_owned))
    }

    fn read_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Bytes(b) => Ok(Some(b.clone())),
            _ => Err(self.mismatch(idx, "Vec<u8> (BLOB)")),
        }
    }

    #[cfg(feature = "chrono")]
    fn read_date(&self, idx: usize) -> Result<Option<chrono::NaiveDate>> {
        Ok(self.datetime(idx, "NaiveDate (DATE)")?.map(|dt| dt.date()))
    }

    #[cfg(feature = "chrono")]
    fn read_time(&self, idx: usize) -> Result<Option<chrono::NaiveTime>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Time(false, 0, h, m, s, us) => chrono::NaiveTime::from_hms_micro_opt(
                u32::from(*h),
                u32::from(*m),
                u32::from(*s),
                *us,
            )
            .map(Some)
            .ok_or_else(|| self.mismatch(idx, "NaiveTime (TIME)")),
            _ => Err(self.mismatch(idx, "NaiveTime (TIME of one day)")),
        }
    }

    #[cfg(feature = "chrono")]
    fn read_timestamp(&self, idx: usize) -> Result<Option<chrono::NaiveDateTime>> {
        self.datetime(idx, "NaiveDateTime (DATETIME)")
    }

    #[cfg(feature = "chrono")]
    fn read_timestamptz(&self, idx: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        // DATETIME columns hold UTC: every connection runs with time_zone '+00:00'.
        Ok(self
            .datetime(idx, "DateTime<Utc> (DATETIME in UTC)")?
            .map(|dt| dt.and_utc()))
    }

    #[cfg(feature = "uuid")]
    fn read_uuid(&self, idx: usize) -> Result<Option<uuid::Uuid>> {
        match self.value(idx)? {
            MyValue::NULL => Ok(None),
            MyValue::Bytes(b) if b.len() == 16 => uuid::Uuid::from_slice(b)
                .map(Some)
                .map_err(|_| self.mismatch(idx, "Uuid")),
            MyValue::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, "Uuid (CHAR(36))")),
            _ => Err(self.mismatch(idx, "Uuid (CHAR(36))")),
        }
    }

    #[cfg(feature = "decimal")]
    fn read_decimal(&self, idx: usize) -> Result<Option<rust_decimal::Decimal>> {
        match self.text(idx, "Decimal (DECIMAL)")? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| self.mismatch(idx, "Decimal (DECIMAL)")),
        }
    }

    #[cfg(feature = "json")]
    fn read_json(&self, idx: usize) -> Result<Option<serde_json::Value>> {
        match self.text(idx, "JSON")? {
            None => Ok(None),
            // serde's reason is kept: it says what in the document does not parse.
            Some(s) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| Error::decode(idx, "JSON", format!("text ({e})"))),
        }
    }

    fn read_value(&self, idx: usize) -> Result<Value> {
        let column = self.0.columns_ref().get(idx);
        let binary = column.is_some_and(|c| c.character_set() == BINARY_CHARSET);
        Ok(match self.value(idx)? {
            MyValue::NULL => Value::Null,
            MyValue::Int(v) => Value::I64(*v),
            MyValue::UInt(v) => i64::try_from(*v)
                .map(Value::I64)
                .map_err(|_| self.mismatch(idx, "i64"))?,
            MyValue::Float(v) => Value::F32(*v),
            MyValue::Double(v) => Value::F64(*v),
            MyValue::Bytes(b) if binary => Value::Bytes(b.clone()),
            MyValue::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => Value::Text(s.into()),
                Err(_) => Value::Bytes(b.clone()),
            },
            #[cfg(feature = "chrono")]
            MyValue::Date(..)
                if column.is_some_and(|c| {
                    c.column_type() == mysql_async::consts::ColumnType::MYSQL_TYPE_DATE
                }) =>
            {
                self.read_date(idx)?.map(Value::Date).unwrap_or(Value::Null)
            }
            #[cfg(feature = "chrono")]
            MyValue::Date(..) => self
                .read_timestamp(idx)?
                .map(Value::Timestamp)
                .unwrap_or(Value::Null),
            #[cfg(feature = "chrono")]
            MyValue::Time(..) => self.read_time(idx)?.map(Value::Time).unwrap_or(Value::Null),
            #[allow(unreachable_patterns)]
            _ => return Err(self.mismatch(idx, "a value")),
        })
    }
}

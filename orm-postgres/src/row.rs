//! Reading driver rows by column index, with the driver's own decoders.

use orm_core::{ElementType, Error, Result, RowReader, Value};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Row;

/// A tokio-postgres row seen through orm-core's [`RowReader`].
pub(crate) struct PgRow<'a>(pub(crate) &'a Row);

/// Decodes any column only to tell NULL from not NULL.
struct NullProbe(bool);

impl<'a> FromSql<'a> for NullProbe {
    fn from_sql(
        _: &Type,
        _: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(NullProbe(false))
    }
    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(NullProbe(true))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl PgRow<'_> {
    fn ty(&self, idx: usize) -> Result<&Type> {
        self.0.columns().get(idx).map(|c| c.type_()).ok_or_else(|| {
            Error::decode(
                idx,
                "a column",
                format!("a row of {} columns", self.0.len()),
            )
        })
    }

    #[inline]
    fn get<'r, T: FromSql<'r>>(&'r self, idx: usize, expected: &str) -> Result<Option<T>> {
        self.0.try_get::<_, Option<T>>(idx).map_err(|e| {
            let actual = self
                .ty(idx)
                .map(|t| t.name().to_owned())
                .unwrap_or_else(|_| "no column".into());
            // The driver's own reason (e.g. serde's, for a JSON document that does not
            // parse), not only the type names.
            let cause =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            Error::decode(idx, expected, format!("{actual} ({cause})"))
        })
    }
}

impl RowReader for PgRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn column_name(&self, idx: usize) -> &str {
        self.0.columns().get(idx).map(|c| c.name()).unwrap_or("")
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(self.get::<NullProbe>(idx, "any")?.is_none_or(|p| p.0))
    }

    fn read_bool(&self, idx: usize) -> Result<Option<bool>> {
        self.get(idx, "bool")
    }

    fn read_i16(&self, idx: usize) -> Result<Option<i16>> {
        self.get(idx, "i16 (SMALLINT)")
    }

    fn read_i32(&self, idx: usize) -> Result<Option<i32>> {
        match *self.ty(idx)? {
            Type::INT2 => Ok(self.get::<i16>(idx, "i32")?.map(i32::from)),
            _ => self.get(idx, "i32 (INTEGER)"),
        }
    }

    #[inline]
    fn read_i64(&self, idx: usize) -> Result<Option<i64>> {
        match *self.ty(idx)? {
            Type::INT8 => self.get(idx, "i64 (BIGINT)"),
            Type::INT4 => Ok(self.get::<i32>(idx, "i64")?.map(i64::from)),
            Type::INT2 => Ok(self.get::<i16>(idx, "i64")?.map(i64::from)),
            _ => self.get(idx, "i64 (BIGINT)"),
        }
    }

    fn read_f32(&self, idx: usize) -> Result<Option<f32>> {
        self.get(idx, "f32 (REAL)")
    }

    fn read_f64(&self, idx: usize) -> Result<Option<f64>> {
        match *self.ty(idx)? {
            Type::FLOAT4 => Ok(self.get::<f32>(idx, "f64")?.map(f64::from)),
            _ => self.get(idx, "f64 (DOUBLE PRECISION)"),
        }
    }

    #[inline]
    fn read_string(&self, idx: usize) -> Result<Option<String>> {
        self.get(idx, "String (TEXT)")
    }

    fn read_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        self.get(idx, "Vec<u8> (BYTEA)")
    }

    fn read_array(&self, idx: usize) -> Result<Option<Vec<Value>>> {
        fn each<T>(v: Option<Vec<Option<T>>>, f: impl Fn(T) -> Value) -> Option<Vec<Value>> {
            v.map(|items| {
                items
                    .into_iter()
                    .map(|i| i.map(&f).unwrap_or(Value::Null))
                    .collect()
            })
        }
        let ty = self.ty(idx)?.clone();
        Ok(match ty {
            Type::BOOL_ARRAY => each(
                self.get::<Vec<Option<bool>>>(idx, "Vec<bool>")?,
                Value::Bool,
            ),
            Type::INT2_ARRAY => each(self.get::<Vec<Option<i16>>>(idx, "Vec<i16>")?, Value::I16),
            Type::INT4_ARRAY => each(self.get::<Vec<Option<i32>>>(idx, "Vec<i32>")?, Value::I32),
            Type::INT8_ARRAY => each(self.get::<Vec<Option<i64>>>(idx, "Vec<i64>")?, Value::I64),
            Type::FLOAT4_ARRAY => each(self.get::<Vec<Option<f32>>>(idx, "Vec<f32>")?, Value::F32),
            Type::FLOAT8_ARRAY => each(self.get::<Vec<Option<f64>>>(idx, "Vec<f64>")?, Value::F64),
            _ => each(self.get::<Vec<Option<String>>>(idx, "an array")?, |s| {
                Value::Text(s.into())
            }),
        })
    }

    fn read_hstore(
        &self,
        idx: usize,
    ) -> Result<Option<std::collections::HashMap<String, Option<String>>>> {
        self.get(idx, "HashMap<String, Option<String>> (HSTORE)")
    }

    #[cfg(feature = "chrono")]
    fn read_date(&self, idx: usize) -> Result<Option<chrono::NaiveDate>> {
        self.get(idx, "NaiveDate (DATE)")
    }

    #[cfg(feature = "chrono")]
    fn read_time(&self, idx: usize) -> Result<Option<chrono::NaiveTime>> {
        self.get(idx, "NaiveTime (TIME)")
    }

    #[cfg(feature = "chrono")]
    fn read_timestamp(&self, idx: usize) -> Result<Option<chrono::NaiveDateTime>> {
        self.get(idx, "NaiveDateTime (TIMESTAMP)")
    }

    #[cfg(feature = "chrono")]
    fn read_timestamptz(&self, idx: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.get(idx, "DateTime<Utc> (TIMESTAMPTZ)")
    }

    #[cfg(feature = "uuid")]
    fn read_uuid(&self, idx: usize) -> Result<Option<uuid::Uuid>> {
        self.get(idx, "Uuid (UUID)")
    }

    #[cfg(feature = "decimal")]
    fn read_decimal(&self, idx: usize) -> Result<Option<rust_decimal::Decimal>> {
        self.get(idx, "Decimal (NUMERIC)")
    }

    #[cfg(feature = "json")]
    fn read_json(&self, idx: usize) -> Result<Option<serde_json::Value>> {
        Ok(self
            .get::<tokio_postgres::types::Json<serde_json::Value>>(idx, "JSON")?
            .map(|j| j.0))
    }

    fn read_value(&self, idx: usize) -> Result<Value> {
        fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
            v.map(f).unwrap_or(Value::Null)
        }
        let ty = self.ty(idx)?.clone();
        Ok(match ty {
            Type::BOOL => or_null(self.read_bool(idx)?, Value::Bool),
            Type::INT2 => or_null(self.read_i16(idx)?, Value::I16),
            Type::INT4 => or_null(self.read_i32(idx)?, Value::I32),
            Type::INT8 => or_null(self.read_i64(idx)?, Value::I64),
            Type::FLOAT4 => or_null(self.read_f32(idx)?, Value::F32),
            Type::FLOAT8 => or_null(self.read_f64(idx)?, Value::F64),
            Type::BYTEA => or_null(self.read_bytes(idx)?, Value::Bytes),
            #[cfg(feature = "chrono")]
            Type::DATE => or_null(self.read_date(idx)?, Value::Date),
            #[cfg(feature = "chrono")]
            Type::TIME => or_null(self.read_time(idx)?, Value::Time),
            #[cfg(feature = "chrono")]
            Type::TIMESTAMP => or_null(self.read_timestamp(idx)?, Value::Timestamp),
            #[cfg(feature = "chrono")]
            Type::TIMESTAMPTZ => or_null(self.read_timestamptz(idx)?, Value::TimestampTz),
            #[cfg(feature = "uuid")]
            Type::UUID => or_null(self.read_uuid(idx)?, Value::Uuid),
            #[cfg(feature = "decimal")]
            Type::NUMERIC => or_null(self.read_decimal(idx)?, Value::Decimal),
            #[cfg(feature = "json")]
            Type::JSON | Type::JSONB => or_null(self.read_json(idx)?, Value::Json),
            ref t if matches!(t.kind(), tokio_postgres::types::Kind::Array(_)) => {
                let element = match *t {
                    Type::BOOL_ARRAY => ElementType::Bool,
                    Type::INT2_ARRAY => ElementType::SmallInt,
                    Type::INT4_ARRAY => ElementType::Int,
                    Type::INT8_ARRAY => ElementType::BigInt,
                    Type::FLOAT4_ARRAY => ElementType::Real,
                    Type::FLOAT8_ARRAY => ElementType::Double,
                    _ => ElementType::Text,
                };
                or_null(self.read_array(idx)?, |items| Value::Array(element, items))
            }
            ref t if t.name() == "hstore" => or_null(self.read_hstore(idx)?, Value::HStore),
            _ => or_null(self.read_string(idx)?, |s| Value::Text(s.into())),
        })
    }
}

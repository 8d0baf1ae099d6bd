//! Parameters: orm-core's owned [`Value`] encoded with the driver's own encoders.

use std::error::Error as StdError;

use bytes::BytesMut;
use orm_core::{Error, Result, Value};
use tokio_postgres::types::{IsNull, ToSql, Type};

type EncodeResult = std::result::Result<IsNull, Box<dyn StdError + Sync + Send>>;

/// A borrowed parameter, encoded for the type the server inferred for its placeholder.
///
/// Integers and floats adapt to the column's width when the value fits (an `i64` bound
/// to an INTEGER column is sent as int4), so a model whose field is wider than its column
/// still works; a value that does not fit is an error, never a silent truncation.
#[derive(Debug)]
pub(crate) struct PgParam<'a>(pub(crate) &'a Value);

fn int(v: i64, ty: &Type, out: &mut BytesMut) -> EncodeResult {
    match *ty {
        Type::INT2 => i16::try_from(v)?.to_sql_checked(ty, out),
        Type::INT4 => i32::try_from(v)?.to_sql_checked(ty, out),
        Type::OID => u32::try_from(v)?.to_sql_checked(ty, out),
        Type::FLOAT8 => exact_f64(v)?.to_sql_checked(ty, out),
        _ => v.to_sql_checked(ty, out),
    }
}

/// An integer as a double, refused when the double cannot hold it exactly (beyond 2^53).
fn exact_f64(v: i64) -> std::result::Result<f64, String> {
    const EXACT: u64 = 1 << f64::MANTISSA_DIGITS;
    if v.unsigned_abs() <= EXACT {
        Ok(v as f64)
    } else {
        Err(format!(
            "{v} cannot be stored exactly in a double precision column"
        ))
    }
}

fn text(s: &str, ty: &Type, out: &mut BytesMut) -> EncodeResult {
    match *ty {
        // Text's binary format is its bytes: no second type check (a tenth of a bulk
        // load's client instructions went to `&str`'s own).
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        // JSON columns accept text parameters as documents.
        Type::JSON => {
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        Type::JSONB => {
            out.extend_from_slice(&[1]);
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        _ => s.to_sql_checked(ty, out),
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> EncodeResult {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Bool(v) => v.to_sql_checked(ty, out),
            Value::I16(v) => int(i64::from(*v), ty, out),
            Value::I32(v) => int(i64::from(*v), ty, out),
            Value::I64(v) => int(*v, ty, out),
            Value::F32(v) if *ty == Type::FLOAT8 => f64::from(*v).to_sql_checked(ty, out),
            Value::F32(v) => v.to_sql_checked(ty, out),
            Value::F64(v) => v.to_sql_checked(ty, out),
            Value::Text(s) => text(s, ty, out),
            Value::Bytes(b) => b.as_slice().to_sql_checked(ty, out),
            #[cfg(feature = "chrono")]
            Value::Date(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "chrono")]
            Value::Time(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "decimal")]
            Value::Decimal(v) => v.to_sql_checked(ty, out),
            #[cfg(feature = "json")]
            Value::Json(v) => tokio_postgres::types::Json(v).to_sql_checked(ty, out),
            Value::Array(_, items) => {
                let items: Vec<PgParam<'_>> = items.iter().map(PgParam).collect();
                items.to_sql_checked(ty, out)
            }
            Value::HStore(map) if ty.name() == "hstore" => map.to_sql_checked(ty, out),
            // An unnamed statement cannot name hstore's type (it has no fixed OID): send the
            // hstore wire format and let the server take it from the context.
            Value::HStore(map) => {
                let pairs = map.iter().map(|(k, v)| (k.as_str(), v.as_deref()));
                postgres_protocol::types::hstore_to_sql(pairs, out)?;
                Ok(IsNull::No)
            }
            Value::Invalid(why) => Err(why.clone().into()),
            #[allow(unreachable_patterns)]
            other => {
                Err(format!("{other:?} needs a feature orm-postgres was built without").into())
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Refuses values PostgreSQL cannot store before anything is sent, so a bad value changes
/// nothing: text cannot hold a NUL byte.
pub(crate) fn check_params(params: &[Value], hstore: bool) -> Result<()> {
    for (i, value) in params.iter().enumerate() {
        if let (false, Value::HStore(_)) = (hstore, value) {
            return Err(Error::InvalidValue {
                index: i + 1,
                message: "hstore support is off for this database (register_hstore = false)".into(),
            });
        }
        if has_nul(value) {
            return Err(Error::InvalidValue {
                index: i + 1,
                message: "PostgreSQL text cannot contain a NUL (\\0) character".into(),
            });
        }
    }
    Ok(())
}

/// Text holding a NUL byte, alone or as an array element (bulk inserts send arrays).
fn has_nul(value: &Value) -> bool {
    match value {
        Value::Text(s) => s.as_bytes().contains(&0),
        Value::Array(_, items) => items.iter().any(has_nul),
        _ => false,
    }
}

pub(crate) fn params(values: &[Value]) -> impl ExactSizeIterator<Item = PgParam<'_>> {
    values.iter().map(PgParam)
}

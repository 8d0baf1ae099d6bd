//! Parameters: orm-core's owned [`Value`] converted to the driver's values.

use mysql_async::{Params, Value as MyValue};
use orm_core::{Error, Result, Value};

/// A date and time as MySQL stores it; years outside 0..=9999 (MySQL's range) are
/// refused rather than wrapped.
#[cfg(feature = "chrono")]
fn datetime(index: usize, dt: chrono::NaiveDateTime) -> Result<MyValue> {
    use chrono::{Datelike, Timelike};
    let year = u16::try_from(dt.year())
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| Error::InvalidValue {
            index,
            message: format!("MySQL stores years 0 to 9999, not {}", dt.year()),
        })?;
    Ok(MyValue::Date(
        year,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
        dt.nanosecond() / 1000,
    ))
}

fn finite(index: usize, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            index,
            message: format!("MySQL cannot store the float {v}"),
        })
    }
}

/// Converts one value; refuses what MySQL would store wrongly (NaN and infinities).
fn convert(index: usize, value: &Value) -> Result<MyValue> {
    Ok(match value {
        Value::Null => MyValue::NULL,
        Value::Bool(v) => MyValue::Int(i64::from(*v)),
        Value::I16(v) => MyValue::Int(i64::from(*v)),
        Value::I32(v) => MyValue::Int(i64::from(*v)),
        Value::I64(v) => MyValue::Int(*v),
        Value::F32(v) => {
            finite(index, f64::from(*v))?;
            MyValue::Float(*v)
        }
        Value::F64(v) => {
            finite(index, *v)?;
            MyValue::Double(*v)
        }
        Value::Text(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => MyValue::Bytes(b.clone()),
        #[cfg(feature = "chrono")]
        Value::Date(d) => datetime(index, d.and_time(chrono::NaiveTime::MIN))?,
        #[cfg(feature = "chrono")]
        Value::Time(t) => {
            use chrono::Timelike;
            MyValue::Time(
                false,
                0,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
                t.nanosecond() / 1000,
            )
        }
        #[cfg(feature = "chrono")]
        Value::Timestamp(dt) => datetime(index, *dt)?,
        #[cfg(feature = "chrono")]
        Value::TimestampTz(dt) => datetime(index, dt.naive_utc())?,
        #[cfg(feature = "uuid")]
        Value::Uuid(u) => MyValue::Bytes(u.hyphenated().to_string().into_bytes()),
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => MyValue::Bytes(d.to_string().into_bytes()),
        #[cfg(feature = "json")]
        Value::Json(j) => MyValue::Bytes(j.to_string().into_bytes()),
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::InvalidValue {
                index,
                message: match other {
                    Value::Invalid(why) => why.clone(),
                    Value::Array(..) | Value::HStore(_) => {
                        "arrays and hstore are PostgreSQL types; MySQL has neither".into()
                    }
                    other => format!("{other:?} needs a feature orm-mysql was built without"),
                },
            })
        }
    })
}

/// The statement's parameters in the driver's form.
pub(crate) fn params(values: &[Value]) -> Result<Params> {
    positional(values.iter(), convert)
}

/// The parameters of a statement the driver owns, moved into the driver's form: text
/// and bytes change hands without a copy.
pub(crate) fn owned_params(values: Vec<Value>) -> Result<Params> {
    positional(values.into_iter(), |i, v| match v {
        Value::Text(s) => Ok(MyValue::Bytes(s.into_string().into_bytes())),
        Value::Bytes(b) => Ok(MyValue::Bytes(b)),
        other => convert(i, &other),
    })
}

/// Each value converted by `each` (given its 1-based index), in order.
fn positional<V>(
    values: impl ExactSizeIterator<Item = V>,
    each: impl Fn(usize, V) -> Result<MyValue>,
) -> Result<Params> {
    if values.len() == 0 {
        return Ok(Params::Empty);
    }
    let converted = values
        .enumerate()
        .map(|(i, v)| each(i + 1, v))
        .collect::<Result<Vec<_>>>()?;
    Ok(Params::Positional(converted))
}

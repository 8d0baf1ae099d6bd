//! Mapping between Rust types and SQL columns.
//!
//! A backend implements [`RowReader`] over its driver's row, reading a column by index with
//! the driver's own decoder. A column type implements [`Field`] and says which `read_*`
//! method it uses, so generated `from_row` code goes straight from the driver's row to the
//! struct field: no intermediate `Value` and no lookup by name.

use crate::error::{Error, Result};
use crate::value::{SqlType, Value};

/// One result row of a backend, read by zero-based column index.
///
/// Every `read_*` method returns `Ok(None)` for NULL and a [`Error::Decode`] when the column
/// holds another type. The `chrono`, `uuid`, `decimal` and `json` readers have default
/// implementations that report the type as unsupported, so a backend built without one of
/// those features still compiles.
pub trait RowReader {
    /// Number of columns in the row.
    fn len(&self) -> usize;
    /// True when the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The name the server gave column `idx`.
    fn column_name(&self, idx: usize) -> &str;
    /// True when column `idx` is NULL.
    fn is_null(&self, idx: usize) -> Result<bool>;
    /// Reads a boolean.
    fn read_bool(&self, idx: usize) -> Result<Option<bool>>;
    /// Reads a 16-bit integer.
    fn read_i16(&self, idx: usize) -> Result<Option<i16>>;
    /// Reads a 32-bit integer.
    fn read_i32(&self, idx: usize) -> Result<Option<i32>>;
    /// Reads a 64-bit integer.
    fn read_i64(&self, idx: usize) -> Result<Option<i64>>;
    /// Reads a 32-bit float.
    fn read_f32(&self, idx: usize) -> Result<Option<f32>>;
    /// Reads a 64-bit float.
    fn read_f64(&self, idx: usize) -> Result<Option<f64>>;
    /// Reads text.
    fn read_string(&self, idx: usize) -> Result<Option<String>>;
    /// Reads a binary string.
    fn read_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>>;
    /// Reads any column as a dynamic [`Value`], by the type the server reports.
    fn read_value(&self, idx: usize) -> Result<Value>;

    /// Reads an array column as its elements (PostgreSQL).
    fn read_array(&self, idx: usize) -> Result<Option<Vec<Value>>> {
        Err(unsupported(idx, "ARRAY"))
    }
    /// Reads an hstore column (PostgreSQL).
    fn read_hstore(
        &self,
        idx: usize,
    ) -> Result<Option<std::collections::HashMap<String, Option<String>>>> {
        Err(unsupported(idx, "HSTORE"))
    }

    /// Reads a DATE.
    #[cfg(feature = "chrono")]
    fn read_date(&self, idx: usize) -> Result<Option<chrono::NaiveDate>> {
        Err(unsupported(idx, "DATE"))
    }
    /// Reads a TIME.
    #[cfg(feature = "chrono")]
    fn read_time(&self, idx: usize) -> Result<Option<chrono::NaiveTime>> {
        Err(unsupported(idx, "TIME"))
    }
    /// Reads a TIMESTAMP.
    #[cfg(feature = "chrono")]
    fn read_timestamp(&self, idx: usize) -> Result<Option<chrono::NaiveDateTime>> {
        Err(unsupported(idx, "TIMESTAMP"))
    }
    /// Reads a TIMESTAMP WITH TIME ZONE as UTC.
    #[cfg(feature = "chrono")]
    fn read_timestamptz(&self, idx: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        Err(unsupported(idx, "TIMESTAMPTZ"))
    }
    /// Reads a UUID.
    #[cfg(feature = "uuid")]
    fn read_uuid(&self, idx: usize) -> Result<Option<uuid::Uuid>> {
        Err(unsupported(idx, "UUID"))
    }
    /// Reads a DECIMAL.
    #[cfg(feature = "decimal")]
    fn read_decimal(&self, idx: usize) -> Result<Option<rust_decimal::Decimal>> {
        Err(unsupported(idx, "DECIMAL"))
    }
    /// Reads a JSON document.
    #[cfg(feature = "json")]
    fn read_json(&self, idx: usize) -> Result<Option<serde_json::Value>> {
        Err(unsupported(idx, "JSON"))
    }
}

fn unsupported(idx: usize, ty: &str) -> Error {
    Error::decode(idx, ty, "a type this backend was built without")
}

/// A Rust type stored in one non-null SQL column.
///
/// Implemented for the core value types; implement it for your own types (newtypes, enums
/// stored as text or integers) by delegating to one of them. `Option<T>` of any `Field` is
/// then a nullable column automatically.
///
/// ```
/// use orm_core::{Error, Field, Result, RowReader, SqlType, Value};
///
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Status { Active, Banned }
///
/// impl Field for Status {
///     const SQL_TYPE: SqlType = SqlType::Varchar(16);
///     fn to_value(&self) -> Value {
///         Value::Text(match self { Status::Active => "active", Status::Banned => "banned" }.into())
///     }
///     fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
///         match row.read_string(idx)?.as_deref() {
///             None => Ok(None),
///             Some("active") => Ok(Some(Status::Active)),
///             Some("banned") => Ok(Some(Status::Banned)),
///             Some(other) => Err(Error::decode(idx, "Status", format!("text {other:?}"))),
///         }
///     }
/// }
/// assert_eq!(Status::Banned.to_value(), Value::Text("banned".into()));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a column",
    label = "unsupported column type",
    note = "supported: bool, i16, i32, i64, f32, f64, String, Vec<u8>, Option<T> of those, chrono/uuid/decimal/json types and Json<T> behind features, arrays (Vec<T>) and hstore (PostgreSQL), and types implementing `orm_core::Field`"
)]
pub trait Field: Sized {
    /// The SQL type used in DDL.
    const SQL_TYPE: SqlType;
    /// The value bound as a parameter.
    fn to_value(&self) -> Value;
    /// Reads column `idx`; `Ok(None)` for NULL.
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>>;
}

/// The type of a model field: a [`Field`] (NOT NULL) or `Option` of one (nullable).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a column",
    label = "unsupported column type",
    note = "supported: bool, i16, i32, i64, f32, f64, String, Vec<u8>, Option<T> of those, chrono/uuid/decimal/json types and Json<T> behind features, arrays (Vec<T>) and hstore (PostgreSQL), and types implementing `orm_core::Field`"
)]
pub trait ColumnType: Sized {
    /// The non-null type underneath (`T` for both `T` and `Option<T>`).
    type Base: Field;
    /// True for `Option<T>`.
    const NULLABLE: bool;
    /// The value bound as a parameter.
    fn to_value(&self) -> Value;
    /// Reads column `idx`, refusing NULL unless the type is nullable.
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Self>;
}

impl<T: Field> ColumnType for T {
    type Base = T;
    const NULLABLE: bool = false;
    #[inline]
    fn to_value(&self) -> Value {
        Field::to_value(self)
    }
    #[inline]
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Self> {
        match <T as Field>::decode(row, idx)? {
            Some(v) => Ok(v),
            None => Err(Error::decode(idx, T::SQL_TYPE.name(), "NULL")),
        }
    }
}

impl<T: Field> ColumnType for Option<T> {
    type Base = T;
    const NULLABLE: bool = true;
    #[inline]
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    #[inline]
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Self> {
        <T as Field>::decode(row, idx)
    }
}

macro_rules! field {
    ($ty:ty, $sql:expr, $variant:ident, $read:ident) => {
        impl Field for $ty {
            const SQL_TYPE: SqlType = $sql;
            #[inline]
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
            #[inline]
            fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
                row.$read(idx)
            }
        }
    };
}

field!(bool, SqlType::Bool, Bool, read_bool);
field!(i16, SqlType::SmallInt, I16, read_i16);
field!(i32, SqlType::Int, I32, read_i32);
field!(i64, SqlType::BigInt, I64, read_i64);
field!(f32, SqlType::Real, F32, read_f32);
field!(f64, SqlType::Double, F64, read_f64);
impl Field for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    #[inline]
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().into())
    }
    #[inline]
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
        row.read_string(idx)
    }
}
field!(Vec<u8>, SqlType::Bytes, Bytes, read_bytes);
#[cfg(feature = "chrono")]
field!(chrono::NaiveDate, SqlType::Date, Date, read_date);
#[cfg(feature = "chrono")]
field!(chrono::NaiveTime, SqlType::Time, Time, read_time);
#[cfg(feature = "chrono")]
field!(
    chrono::NaiveDateTime,
    SqlType::Timestamp,
    Timestamp,
    read_timestamp
);
#[cfg(feature = "chrono")]
field!(
    chrono::DateTime<chrono::Utc>,
    SqlType::TimestampTz,
    TimestampTz,
    read_timestamptz
);
#[cfg(feature = "uuid")]
field!(uuid::Uuid, SqlType::Uuid, Uuid, read_uuid);
#[cfg(feature = "decimal")]
field!(
    rust_decimal::Decimal,
    SqlType::Decimal,
    Decimal,
    read_decimal
);
#[cfg(feature = "json")]
field!(serde_json::Value, SqlType::Json, Json, read_json);

/// Types an array column (`Vec<T>`, PostgreSQL `T[]`) can hold.
pub trait ArrayElement: Field {
    /// The element's SQL type.
    const ELEMENT: crate::value::ElementType;
    /// Converts one decoded element.
    fn from_element(value: Value) -> Result<Self>;
}

macro_rules! array_element {
    ($ty:ty, $element:ident, $($variant:ident => $conv:expr),+) => {
        impl ArrayElement for $ty {
            const ELEMENT: crate::value::ElementType = crate::value::ElementType::$element;
            fn from_element(value: Value) -> Result<Self> {
                match value {
                    $(Value::$variant(v) => $conv(v),)+
                    other => Err(Error::decode(0, stringify!($ty), format!("array element {other:?}"))),
                }
            }
        }
    };
}

array_element!(bool, Bool, Bool => Ok);
array_element!(i16, SmallInt, I16 => Ok);
array_element!(i32, Int, I32 => Ok, I16 => |v: i16| Ok(i32::from(v)));
array_element!(i64, BigInt, I64 => Ok, I32 => |v: i32| Ok(i64::from(v)), I16 => |v: i16| Ok(i64::from(v)));
array_element!(f32, Real, F32 => Ok);
array_element!(f64, Double, F64 => Ok, F32 => |v: f32| Ok(f64::from(v)));
array_element!(String, Text, Text => |v: crate::CompactString| Ok(v.into_string()));

impl<T: ArrayElement> Field for Vec<T> {
    const SQL_TYPE: SqlType = SqlType::Array(T::ELEMENT);
    fn to_value(&self) -> Value {
        Value::Array(T::ELEMENT, self.iter().map(Field::to_value).collect())
    }
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
        match row.read_array(idx)? {
            None => Ok(None),
            Some(items) => items
                .into_iter()
                .map(T::from_element)
                .collect::<Result<Vec<T>>>()
                .map(Some)
                .map_err(|e| match e {
                    Error::Decode {
                        expected, actual, ..
                    } => Error::decode(idx, expected, actual),
                    other => other,
                }),
        }
    }
}

/// A PostgreSQL `hstore`: text keys to nullable text values.
impl Field for std::collections::HashMap<String, Option<String>> {
    const SQL_TYPE: SqlType = SqlType::HStore;
    fn to_value(&self) -> Value {
        Value::HStore(self.clone())
    }
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
        row.read_hstore(idx)
    }
}

/// Any serde type stored as a JSON document.
///
/// ```
/// use orm_core::{Field, Json, Value};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Prefs { theme: String }
/// let v = Json(Prefs { theme: "dark".into() }).to_value();
/// assert_eq!(v, Value::Json(serde_json::json!({"theme": "dark"})));
/// ```
#[cfg(feature = "json")]
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Json<T>(pub T);

/// `Json<T>` reads as the `T` it holds (`prefs.theme` on a `Json<Prefs>`).
#[cfg(feature = "json")]
impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "json")]
impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(feature = "json")]
impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

/// Serialized as the `T` it holds, so a model with `Json<T>` fields serializes (to an
/// HTTP response, say) as if they were plain `T`.
///
/// ```
/// use orm_core::Json;
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Prefs { theme: String }
/// let prefs = Json(Prefs { theme: "dark".into() });
/// assert_eq!(prefs.theme, "dark", "reads through to the value");
/// let text = serde_json::to_string(&prefs).unwrap();
/// assert_eq!(text, r#"{"theme":"dark"}"#);
/// let back: Json<Prefs> = serde_json::from_str(&text).unwrap();
/// assert_eq!(back, prefs);
/// ```
#[cfg(feature = "json")]
impl<T: serde::Serialize> serde::Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(feature = "json")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Json<T> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Field for Json<T> {
    const SQL_TYPE: SqlType = SqlType::Json;
    fn to_value(&self) -> Value {
        match serde_json::to_value(&self.0) {
            Ok(v) => Value::Json(v),
            Err(e) => Value::Invalid(format!("cannot encode as JSON: {e}")),
        }
    }
    fn decode<R: RowReader + ?Sized>(row: &R, idx: usize) -> Result<Option<Self>> {
        match row.read_json(idx)? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v)
                .map(|t| Some(Json(t)))
                .map_err(|e| {
                    Error::decode(
                        idx,
                        std::any::type_name::<T>(),
                        format!("JSON that does not fit: {e}"),
                    )
                }),
        }
    }
}

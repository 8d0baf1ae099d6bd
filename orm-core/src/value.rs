//! Owned parameter values and the SQL types columns are declared with.

pub use compact_str::CompactString;

/// A value bound as a statement parameter, or read dynamically from a row.
///
/// Queries keep their parameters in this owned form so that a query can be built anywhere
/// and sent to any backend. Values never become part of the SQL text.
///
/// ```
/// use orm_core::Value;
/// assert_eq!(Value::from("text"), Value::Text("text".into()));
/// assert_eq!(Value::from(7_i64), Value::I64(7));
/// assert!(Value::Null.is_null());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// SMALLINT.
    I16(i16),
    /// INTEGER.
    I32(i32),
    /// BIGINT.
    I64(i64),
    /// REAL.
    F32(f32),
    /// DOUBLE PRECISION.
    F64(f64),
    /// TEXT / VARCHAR, as a [`CompactString`]: held inline up to 24 bytes, so the text
    /// most statements carry (names, codes, keys) costs no allocation to build, copy or
    /// free; on the heap beyond. Build one with `.into()` from a `&str` or a `String` (a
    /// `String` keeps its allocation); it dereferences to `str`.
    ///
    /// ```
    /// use orm_core::{CompactString, Value};
    /// let name: CompactString = "ann".into();
    /// assert!(!name.is_heap_allocated());
    /// assert_eq!(Value::Text(name), Value::from("ann"));
    /// ```
    Text(CompactString),
    /// BYTEA / BLOB.
    Bytes(Vec<u8>),
    /// DATE.
    #[cfg(feature = "chrono")]
    Date(chrono::NaiveDate),
    /// TIME.
    #[cfg(feature = "chrono")]
    Time(chrono::NaiveTime),
    /// TIMESTAMP without time zone.
    #[cfg(feature = "chrono")]
    Timestamp(chrono::NaiveDateTime),
    /// TIMESTAMP WITH TIME ZONE, in UTC.
    #[cfg(feature = "chrono")]
    TimestampTz(chrono::DateTime<chrono::Utc>),
    /// UUID.
    #[cfg(feature = "uuid")]
    Uuid(uuid::Uuid),
    /// NUMERIC / DECIMAL.
    #[cfg(feature = "decimal")]
    Decimal(rust_decimal::Decimal),
    /// JSON document.
    #[cfg(feature = "json")]
    Json(serde_json::Value),
    /// An array (PostgreSQL `T[]`) of elements of one type.
    Array(ElementType, Vec<Value>),
    /// A PostgreSQL `hstore`: text keys to nullable text values.
    HStore(std::collections::HashMap<String, Option<String>>),
    /// A value that could not be encoded (e.g. a `Json<T>` whose `Serialize` failed);
    /// rendering a statement with it fails with [`Error::InvalidValue`](crate::Error).
    Invalid(String),
}

/// The deepest JSON document that can be read back: serde_json refuses to parse one
/// nested 128 levels deep or more.
pub const MAX_JSON_DEPTH: usize = 127;

impl Value {
    /// Why this value must not be sent, if it must not: it could not be encoded
    /// ([`Value::Invalid`]), or it would be refused by the database or stored and never
    /// read back (JSON nested deeper than `max_json_depth`, see
    /// [`Dialect::max_json_depth`](crate::Dialect::max_json_depth)).
    #[cfg_attr(not(feature = "json"), allow(unused_variables))]
    pub(crate) fn refusal(&self, max_json_depth: usize) -> Option<String> {
        match self {
            Value::Invalid(why) => Some(why.clone()),
            #[cfg(feature = "json")]
            Value::Json(doc) if json_depth(doc) > max_json_depth => Some(format!(
                "a JSON document nested deeper than {max_json_depth} levels cannot be stored \
                 and read back here"
            )),
            _ => None,
        }
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// The SQL type of a column, rendered to a type name by each dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlType {
    /// BOOLEAN.
    Bool,
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    BigInt,
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// Unbounded text.
    Text,
    /// Text of at most `n` characters.
    Varchar(u32),
    /// Binary string.
    Bytes,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Date and time without zone.
    Timestamp,
    /// Date and time with zone (stored as UTC).
    TimestampTz,
    /// UUID.
    Uuid,
    /// Exact decimal.
    Decimal,
    /// JSON document.
    Json,
    /// A type name written by the user (`#[orm(sql_type = "...")]`), used as is.
    Custom(&'static str),
    /// An array of elements (PostgreSQL only).
    Array(ElementType),
    /// A PostgreSQL `hstore`.
    HStore,
}

impl SqlType {
    /// A short name for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            SqlType::Bool => "BOOLEAN",
            SqlType::SmallInt => "SMALLINT",
            SqlType::Int => "INTEGER",
            SqlType::BigInt => "BIGINT",
            SqlType::Real => "REAL",
            SqlType::Double => "DOUBLE PRECISION",
            SqlType::Text => "TEXT",
            SqlType::Varchar(_) => "VARCHAR",
            SqlType::Bytes => "BYTES",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::TimestampTz => "TIMESTAMPTZ",
            SqlType::Uuid => "UUID",
            SqlType::Decimal => "DECIMAL",
            SqlType::Json => "JSON",
            SqlType::Custom(name) => name,
            SqlType::Array(_) => "ARRAY",
            SqlType::HStore => "HSTORE",
        }
    }
}

/// The element type of an array column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementType {
    /// BOOLEAN
    Bool,
    /// SMALLINT
    SmallInt,
    /// INTEGER
    Int,
    /// BIGINT
    BigInt,
    /// REAL
    Real,
    /// DOUBLE PRECISION
    Double,
    /// TEXT
    Text,
}

impl ElementType {
    /// The element type that carries values of a column of `ty` in an array, if any
    /// (`VARCHAR(n)` travels as text).
    pub fn of(ty: SqlType) -> Option<ElementType> {
        Some(match ty {
            SqlType::Bool => ElementType::Bool,
            SqlType::SmallInt => ElementType::SmallInt,
            SqlType::Int => ElementType::Int,
            SqlType::BigInt => ElementType::BigInt,
            SqlType::Real => ElementType::Real,
            SqlType::Double => ElementType::Double,
            SqlType::Text | SqlType::Varchar(_) => ElementType::Text,
            _ => return None,
        })
    }

    /// The element's SQL type.
    pub fn sql_type(self) -> SqlType {
        match self {
            ElementType::Bool => SqlType::Bool,
            ElementType::SmallInt => SqlType::SmallInt,
            ElementType::Int => SqlType::Int,
            ElementType::BigInt => SqlType::BigInt,
            ElementType::Real => SqlType::Real,
            ElementType::Double => SqlType::Double,
            ElementType::Text => SqlType::Text,
        }
    }
}

/// How deeply arrays and objects nest in `doc`, found without recursion.
#[cfg(feature = "json")]
fn json_depth(doc: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(doc, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

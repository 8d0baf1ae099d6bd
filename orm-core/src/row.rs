//! Decoding result rows into models, tuples, single values and maps.

use crate::error::Result;
use crate::statement::ColumnMatch;
use crate::types::{ColumnType, Field, RowReader};
use crate::value::Value;

/// A type built from consecutive columns of a row.
///
/// `cursor` is the index of the first column to read; implementations advance it past the
/// columns they consume, so tuples of models and values decode left to right.
pub trait FromRow: Sized {
    /// Reads `Self` starting at column `*cursor`.
    fn from_row<R: RowReader + ?Sized>(row: &R, cursor: &mut usize) -> Result<Self>;

    /// Reads a whole row.
    #[inline]
    fn from_whole_row<R: RowReader + ?Sized>(row: &R) -> Result<Self> {
        let mut cursor = 0;
        Self::from_row(row, &mut cursor)
    }

    /// Reads a whole row whose columns are matched by name ([`ColumnMatch::ByName`]):
    /// `#[derive(Model)]` reads each field from the column of its name. Other types read
    /// the row in order.
    #[inline]
    fn from_named_row<R: RowReader + ?Sized>(row: &R) -> Result<Self> {
        Self::from_whole_row(row)
    }

    /// Reads a whole row as `columns` says: what every backend calls on each row.
    #[inline]
    fn read_row<R: RowReader + ?Sized>(row: &R, columns: ColumnMatch) -> Result<Self> {
        match columns {
            ColumnMatch::ByPosition => Self::from_whole_row(row),
            ColumnMatch::ByName => Self::from_named_row(row),
        }
    }
}

impl<F: Field> FromRow for F {
    #[inline]
    fn from_row<R: RowReader + ?Sized>(row: &R, cursor: &mut usize) -> Result<Self> {
        let idx = *cursor;
        *cursor += 1;
        <F as ColumnType>::decode(row, idx)
    }
}

impl<T: OptionalFromRow> FromRow for Option<T> {
    #[inline]
    fn from_row<R: RowReader + ?Sized>(row: &R, cursor: &mut usize) -> Result<Self> {
        T::from_row_optional(row, cursor)
    }
}

/// Types that can stand on the nullable side of a row: a nullable column, or a model on the
/// right of a LEFT JOIN (`None` when all of its columns are NULL). `#[derive(Model)]`
/// implements it for models.
pub trait OptionalFromRow: Sized {
    /// Reads `Some(Self)`, or `None` for NULL, starting at column `*cursor`.
    fn from_row_optional<R: RowReader + ?Sized>(
        row: &R,
        cursor: &mut usize,
    ) -> Result<Option<Self>>;
}

impl<F: Field> OptionalFromRow for F {
    #[inline]
    fn from_row_optional<R: RowReader + ?Sized>(
        row: &R,
        cursor: &mut usize,
    ) -> Result<Option<Self>> {
        let idx = *cursor;
        *cursor += 1;
        F::decode(row, idx)
    }
}

/// A row read into column names and dynamic values, for raw SQL whose shape is not known
/// at compile time. Consumes all remaining columns.
///
/// ```
/// use orm_core::{RowMap, Value};
/// let row = RowMap(vec![("name".into(), Value::Text("ann".into())), ("age".into(), Value::I32(30))]);
/// assert_eq!(row.get("age"), Some(&Value::I32(30)));
/// assert_eq!(row.get("missing"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowMap(pub Vec<(String, Value)>);

impl RowMap {
    /// The value of the column called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl FromRow for RowMap {
    fn from_row<R: RowReader + ?Sized>(row: &R, cursor: &mut usize) -> Result<Self> {
        let mut out = Vec::with_capacity(row.len().saturating_sub(*cursor));
        for idx in *cursor..row.len() {
            out.push((row.column_name(idx).to_owned(), row.read_value(idx)?));
        }
        *cursor = row.len();
        Ok(RowMap(out))
    }
}

macro_rules! tuple_from_row {
    ($($name:ident),+) => {
        impl<$($name: FromRow),+> FromRow for ($($name,)+) {
            #[inline]
            fn from_row<R: RowReader + ?Sized>(row: &R, cursor: &mut usize) -> Result<Self> {
                Ok(($($name::from_row(row, cursor)?,)+))
            }
        }
    };
}

tuple_from_row!(A);
tuple_from_row!(A, B);
tuple_from_row!(A, B, C);
tuple_from_row!(A, B, C, D);
tuple_from_row!(A, B, C, D, E);
tuple_from_row!(A, B, C, D, E, F);
tuple_from_row!(A, B, C, D, E, F, G);
tuple_from_row!(A, B, C, D, E, F, G, H);

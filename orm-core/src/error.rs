//! The one error type users match on.

use std::fmt;
use std::time::Duration;

/// A boxed error from a driver or a user conversion, kept as the `source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which integrity rule a statement broke.
///
/// ```
/// use orm_core::{Error, IntegrityKind};
/// fn already_taken(e: &Error) -> bool {
///     matches!(e, Error::Integrity { kind: IntegrityKind::Unique, .. })
/// }
/// assert!(!already_taken(&Error::Query("x".into())));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrityKind {
    /// A unique index or primary key already holds the value.
    Unique,
    /// A foreign key points at a missing row, or a referenced row is still in use.
    ForeignKey,
    /// NULL was written to a NOT NULL column.
    NotNull,
    /// A CHECK constraint failed.
    Check,
}

impl fmt::Display for IntegrityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntegrityKind::Unique => "unique violation",
            IntegrityKind::ForeignKey => "foreign key violation",
            IntegrityKind::NotNull => "not null violation",
            IntegrityKind::Check => "check violation",
        })
    }
}

/// The code a server gave an error: a PostgreSQL SQLSTATE, a MySQL error number or an
/// SQLite extended result code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbCode {
    /// PostgreSQL's five-character SQLSTATE, e.g. `23505`.
    SqlState(String),
    /// MySQL / MariaDB error number, e.g. `1062`.
    MySQL(u16),
    /// SQLite extended result code.
    Sqlite(i32),
}

impl fmt::Display for DbCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbCode::SqlState(s) => write!(f, "SQLSTATE {s}"),
            DbCode::MySQL(n) => write!(f, "MySQL error {n}"),
            DbCode::Sqlite(n) => write!(f, "SQLite error {n}"),
        }
    }
}

/// Every error the ORM returns.
///
/// Match on the variants you handle and treat the rest as failures:
///
/// ```
/// use orm_core::Error;
///
/// fn describe(err: &Error) -> &'static str {
///     match err {
///         Error::DoesNotExist { .. } => "not found",
///         Error::Integrity { .. } => "conflict",
///         e if e.is_retryable() => "try again",
///         _ => "failed",
///     }
/// }
/// assert_eq!(describe(&Error::DoesNotExist { model: "User" }), "not found");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `get` found no row.
    #[error("{model} matching the query does not exist")]
    DoesNotExist {
        /// The model's name.
        model: &'static str,
    },

    /// An update of a model with a `#[orm(version)]` column found the row at another
    /// version (or gone): another writer got there first. Nothing was written; read the
    /// object again and reapply the change.
    #[error(
        "{model} was changed or deleted by another writer since it was read (version {version})"
    )]
    StaleObject {
        /// The model's name.
        model: &'static str,
        /// The version the object was read at.
        version: i64,
    },

    /// `get` found more than one row where one was expected.
    #[error("{model}: the query returned more than one row")]
    MultipleRows {
        /// The model's name.
        model: &'static str,
    },

    /// A constraint refused the statement; nothing was written.
    #[error("{kind}{}: {message}", constraint.as_deref().map(|c| format!(" on `{c}`")).unwrap_or_default())]
    Integrity {
        /// Which kind of rule.
        kind: IntegrityKind,
        /// The constraint or key name the server reported.
        constraint: Option<String>,
        /// The server's message.
        message: String,
        /// The server's code.
        code: DbCode,
    },

    /// A column could not be read as the Rust type the model declares.
    #[error("cannot decode {}column {index}{}: expected {expected}, found {actual}",
        model.map(|m| format!("{m}.")).unwrap_or_default(),
        field.map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    Decode {
        /// The model being decoded, if any.
        model: Option<&'static str>,
        /// The struct field, if any.
        field: Option<&'static str>,
        /// Zero-based column index in the result row.
        index: usize,
        /// What the Rust side expected.
        expected: String,
        /// What the server sent.
        actual: String,
    },

    /// A value cannot be sent as a parameter (for example a NUL byte in PostgreSQL text).
    #[error("invalid value for parameter {index}: {message}")]
    InvalidValue {
        /// One-based parameter index.
        index: usize,
        /// Why it was refused.
        message: String,
    },

    /// The query cannot be rendered for this database (a dialect lacks a construct, a join
    /// has no foreign key to follow, ...). Nothing was sent.
    #[error("invalid query: {0}")]
    Query(String),

    /// The connection broke; the statement may or may not have run.
    #[error("connection lost: {source}")]
    ConnectionLost {
        /// The driver's error.
        #[source]
        source: BoxError,
    },

    /// No pooled connection became free in time.
    #[error(
        "timed out after {waited:?} waiting for a pooled connection ({in_use} of {max} in use): {reason}"
    )]
    PoolTimeout {
        /// How long the call waited.
        waited: Duration,
        /// Connections checked out when it gave up.
        in_use: usize,
        /// The pool's size.
        max: usize,
        /// Why, as far as the pool can tell: how many connections transactions held, how
        /// many callers waited, whether opening connections failed.
        reason: String,
    },

    /// A blocking call was made where the database's sync policy forbids it.
    #[error("sync query not allowed: {0}")]
    SyncNotAllowed(String),

    /// COMMIT was sent but its outcome could not be learned; the connection was discarded.
    #[error("the outcome of COMMIT is unknown: {source}")]
    CommitOutcomeUnknown {
        /// What interrupted it.
        #[source]
        source: BoxError,
    },

    /// Opening a connection took longer than the configured connect timeout.
    #[error("could not open a connection within {0:?}")]
    ConnectTimeout(std::time::Duration),

    /// A transaction scope's body returned an error and the ROLLBACK that followed failed
    /// too. The connection was closed, so the server rolled the work back; the body's own
    /// error is replaced by this one (the guard form keeps both).
    #[error(
        "ROLLBACK failed after the transaction's body returned an error ({body_error}): {rollback}"
    )]
    RollbackFailed {
        /// The ROLLBACK's own error.
        #[source]
        rollback: Box<Error>,
        /// The type of the body's error.
        body_error: &'static str,
    },

    /// A transaction was used the wrong way (e.g. `transaction()` nested in another).
    #[error("transaction error: {0}")]
    Transaction(String),

    /// TLS with the server failed: it does not offer TLS where the mode requires it, or
    /// its certificate is not trusted or does not name the host. Not retryable.
    #[error("TLS: {0}")]
    Tls(String),

    /// Bad configuration: an unparsable URL, an unknown option.
    #[error("configuration error: {0}")]
    Config(String),

    /// Any other error the server reported.
    #[error("{code}: {message}")]
    Database {
        /// The server's code.
        code: DbCode,
        /// The server's message.
        message: String,
        /// Whether running the same work again may succeed (deadlock, serialization failure,
        /// lock timeout, busy database).
        retryable: bool,
        /// The driver's error.
        #[source]
        source: Option<BoxError>,
    },

    /// Any other driver failure (I/O, protocol).
    #[error("driver error: {0}")]
    Driver(#[source] BoxError),
}

impl Error {
    /// True when running the same transaction again may succeed: deadlocks, serialization
    /// failures, lock wait timeouts, a busy SQLite database.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Database {
                retryable: true,
                ..
            }
        )
    }

    /// The server's error code, when a server reported the error.
    pub fn db_code(&self) -> Option<&DbCode> {
        match self {
            Error::Integrity { code, .. } | Error::Database { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Builds a decode error for a column, before model and field are known.
    pub fn decode(index: usize, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Error::Decode {
            model: None,
            field: None,
            index,
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// Adds the model and field names to a decode error; other errors pass unchanged.
    /// Generated `from_row` code calls this on its error path only.
    #[cold]
    pub fn in_field(self, model_name: &'static str, field_name: &'static str) -> Self {
        match self {
            Error::Decode {
                index,
                expected,
                actual,
                ..
            } => Error::Decode {
                model: Some(model_name),
                field: Some(field_name),
                index,
                expected,
                actual,
            },
            other => other,
        }
    }
}

//! SQLite errors mapped to orm-core's [`Error`] by extended result code.

use orm_core::{DbCode, Error, IntegrityKind};
use rusqlite::ffi;

/// Maps a driver error: constraint failures to [`Error::Integrity`] with the constraint or
/// column named, a busy or locked database to a retryable [`Error::Database`].
pub(crate) fn map(err: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqlInputError { error, msg, .. } = &err {
        // Refused while preparing ("no such column: x"): the database's answer, with its
        // code, like every other error the server side gives.
        return Error::Database {
            code: DbCode::Sqlite(error.extended_code),
            message: msg.clone(),
            retryable: false,
            source: Some(Box::new(err)),
        };
    }
    let rusqlite::Error::SqliteFailure(failure, message) = &err else {
        return Error::Driver(Box::new(err));
    };
    let message = message.clone().unwrap_or_else(|| failure.to_string());
    let code = DbCode::Sqlite(failure.extended_code);
    let kind = match failure.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Some(IntegrityKind::Unique)
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(IntegrityKind::ForeignKey),
        ffi::SQLITE_CONSTRAINT_NOTNULL => Some(IntegrityKind::NotNull),
        ffi::SQLITE_CONSTRAINT_CHECK => Some(IntegrityKind::Check),
        _ => None,
    };
    if let Some(kind) = kind {
        // "UNIQUE constraint failed: users.name" names the column(s).
        let constraint = message
            .split_once("failed: ")
            .map(|(_, what)| what.to_owned());
        return Error::Integrity {
            kind,
            constraint,
            message,
            code,
        };
    }
    let message = if failure.code == rusqlite::ErrorCode::OperationInterrupted {
        format!(
            "{message} (the statement ran past its time limit: SqliteConfig::statement_timeout \
             or Query::timeout)"
        )
    } else {
        message
    };
    let retryable = matches!(
        failure.code,
        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
    );
    Error::Database {
        code,
        message,
        retryable,
        source: Some(Box::new(err)),
    }
}

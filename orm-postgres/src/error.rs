//! PostgreSQL errors mapped to orm-core's [`Error`] by SQLSTATE.

use orm_core::{DbCode, Error, IntegrityKind};
use tokio_postgres::error::SqlState;

/// Maps a driver error: constraint violations to [`Error::Integrity`] with the constraint
/// name, serialization failures and deadlocks to retryable [`Error::Database`], a closed
/// or terminated connection to [`Error::ConnectionLost`].
pub(crate) fn map(err: tokio_postgres::Error) -> Error {
    let Some(db) = err.as_db_error() else {
        // tokio-postgres's words for its TLS errors; the cause says what went wrong.
        if err
            .to_string()
            .starts_with("error performing TLS handshake")
        {
            let cause = std::error::Error::source(&err)
                .map_or_else(|| err.to_string(), |cause| cause.to_string());
            return Error::Tls(format!("handshake with the server failed: {cause}"));
        }
        if err.is_closed()
            || std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>())
        {
            return Error::ConnectionLost {
                source: Box::new(err),
            };
        }
        if let Some(refused) = refused_parameter(&err) {
            return refused;
        }
        return Error::Driver(Box::new(err));
    };
    let code = db.code().clone();
    let integrity = match &code {
        c if *c == SqlState::UNIQUE_VIOLATION => Some(IntegrityKind::Unique),
        c if *c == SqlState::FOREIGN_KEY_VIOLATION => Some(IntegrityKind::ForeignKey),
        c if *c == SqlState::NOT_NULL_VIOLATION => Some(IntegrityKind::NotNull),
        c if *c == SqlState::CHECK_VIOLATION => Some(IntegrityKind::Check),
        _ => None,
    };
    let db_code = DbCode::SqlState(code.code().to_owned());
    if let Some(kind) = integrity {
        let constraint = db.constraint().or_else(|| db.column()).map(str::to_owned);
        return Error::Integrity {
            kind,
            constraint,
            message: db.message().to_owned(),
            code: db_code,
        };
    }
    if code == SqlState::ADMIN_SHUTDOWN || code == SqlState::CRASH_SHUTDOWN {
        // The server's own words ("terminating connection due to administrator command"),
        // not the driver's bare "db error".
        return Error::ConnectionLost {
            source: Box::new(db.clone()),
        };
    }
    let mut message = db.message().to_owned();
    if code == SqlState::UNDEFINED_OBJECT && message.contains("\"hstore\"") {
        message.push_str(
            ": the hstore extension is not installed in this database; install it with \
             `CREATE EXTENSION hstore` (as a user allowed to create extensions), or turn \
             hstore off with PostgresqlConfig::register_hstore(false)",
        );
    }
    let retryable = code == SqlState::T_R_SERIALIZATION_FAILURE
        || code == SqlState::T_R_DEADLOCK_DETECTED
        || code == SqlState::LOCK_NOT_AVAILABLE;
    Error::Database {
        code: db_code,
        message,
        retryable,
        source: Some(Box::new(err)),
    }
}

/// A parameter our encoder refused (it does not fit the type the server inferred for
/// its placeholder): nothing was run. tokio-postgres says which one only in its message.
fn refused_parameter(err: &tokio_postgres::Error) -> Option<Error> {
    let text = err.to_string();
    let index = text
        .strip_prefix("error serializing parameter ")?
        .trim()
        .parse::<usize>()
        .ok()?;
    let message = std::error::Error::source(err).map_or(text.clone(), ToString::to_string);
    Some(Error::InvalidValue {
        index: index + 1,
        message,
    })
}

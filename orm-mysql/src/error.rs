//! MySQL errors mapped to orm-core's [`Error`] by error number.

use mysql_async::{DriverError, Error as MyError};
use orm_core::{DbCode, Error, IntegrityKind};

/// The text between the first pair of `quote` characters after `marker` in `message`.
fn quoted_after(message: &str, marker: &str, quote: char) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let start = rest.find(quote)? + 1;
    let end = rest[start..].find(quote)? + start;
    Some(rest[start..end].to_owned())
}

/// What went wrong with TLS, if that is what `err` is: the server offers none where the
/// mode requires it, or the handshake failed (an untrusted certificate, a wrong name).
fn tls_failure(err: &MyError) -> Option<String> {
    match err {
        MyError::Driver(DriverError::NoClientSslFlagFromServer) => {
            Some("the server does not support TLS".into())
        }
        #[cfg(feature = "tls")]
        MyError::Io(mysql_async::IoError::Tls(e)) => Some(e.to_string()),
        #[cfg(feature = "tls")]
        MyError::Io(mysql_async::IoError::Io(e)) => e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|e| format!("handshake with the server failed: {e}")),
        _ => None,
    }
}

/// Maps a driver error: duplicate key, foreign key and NOT NULL violations to
/// [`Error::Integrity`] with the key or column named; deadlocks and lock wait timeouts to
/// retryable [`Error::Database`]; a broken connection to [`Error::ConnectionLost`].
pub(crate) fn map(err: MyError) -> Error {
    if let Some(tls) = tls_failure(&err) {
        return Error::Tls(tls);
    }
    let server = match err {
        MyError::Server(server) => server,
        MyError::Io(_) | MyError::Driver(DriverError::ConnectionClosed) => {
            return Error::ConnectionLost {
                source: Box::new(err),
            }
        }
        MyError::Url(e) => return Error::Config(e.to_string()),
        other => return Error::Driver(Box::new(other)),
    };
    let message = server.message.clone();
    let integrity = match server.code {
        1062 => Some((
            IntegrityKind::Unique,
            quoted_after(&message, "for key", '\''),
        )),
        1451 | 1452 => Some((
            IntegrityKind::ForeignKey,
            quoted_after(&message, "CONSTRAINT", '`'),
        )),
        1048 => Some((
            IntegrityKind::NotNull,
            quoted_after(&message, "Column", '\''),
        )),
        1364 => Some((
            IntegrityKind::NotNull,
            quoted_after(&message, "Field", '\''),
        )),
        3819 | 4025 => Some((
            IntegrityKind::Check,
            quoted_after(&message, "constraint", '`'),
        )),
        _ => None,
    };
    let code = DbCode::MySQL(server.code);
    if let Some((kind, constraint)) = integrity {
        return Error::Integrity {
            kind,
            constraint,
            message,
            code,
        };
    }
    // 1927: connection killed; 2006 / 2013: server gone.
    if matches!(server.code, 1927 | 2006 | 2013) {
        return Error::ConnectionLost {
            source: Box::new(MyError::Server(server)),
        };
    }
    let retryable = retryable(server.code);
    Error::Database {
        code,
        message,
        retryable,
        source: Some(Box::new(MyError::Server(server))),
    }
}

/// Errors after which the whole transaction may run again: InnoDB's deadlock (also a
/// Galera certification conflict) and lock wait timeout; TiDB's write conflict (9007),
/// "can not retry select for update" (8002) and schema changed during the transaction
/// (8028).
fn retryable(code: u16) -> bool {
    matches!(code, 1213 | 1205 | 9007 | 8002 | 8028)
}

#[cfg(test)]
mod tests {
    use super::{quoted_after, retryable};

    #[test]
    fn conflicts_are_retryable_and_mistakes_are_not() {
        for code in [1213, 1205, 9007, 8002, 8028] {
            assert!(retryable(code), "{code}");
        }
        for code in [1062, 1064, 1146, 1451] {
            assert!(!retryable(code), "{code}");
        }
    }

    #[test]
    fn names_are_read_from_server_messages() {
        let dup = "Duplicate entry 'ann' for key 'users.name'";
        assert_eq!(
            quoted_after(dup, "for key", '\'').as_deref(),
            Some("users.name")
        );
        let fk = "Cannot add or update a child row: a foreign key constraint fails (`test`.`post`, CONSTRAINT `post_ibfk_1` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`))";
        assert_eq!(
            quoted_after(fk, "CONSTRAINT", '`').as_deref(),
            Some("post_ibfk_1")
        );
        assert_eq!(
            quoted_after("Column 'age' cannot be null", "Column", '\'').as_deref(),
            Some("age")
        );
        assert_eq!(quoted_after("no quotes", "for key", '\''), None);
    }
}

//! Tracing of executed statements.
//!
//! Backends open a [`QuerySpan`] around every statement they send, named `orm.query`,
//! with the OpenTelemetry database conventions: `db.system.name`, `db.namespace` (the
//! database), `db.operation.name` (`SELECT`, `INSERT`, ...), `db.collection.name` (the
//! table, for a statement on one table), `db.query.text` (the SQL, which never holds a
//! value: values are bound parameters), `server.address` and `server.port`; then the
//! parameter count, the rows returned or affected and the duration. The parameter values
//! are recorded only when the database was configured to log them.

use std::sync::Arc;
use std::time::Instant;

use tracing::field::Empty;

use orm_core::Statement;

/// Where a connection's statements go, as its spans name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// `db.system.name`: `postgresql`, `mysql`, `sqlite`.
    pub system: &'static str,
    /// `db.namespace`: the database's name (SQLite: its file, or `:memory:`).
    pub namespace: Arc<str>,
    /// `server.address`, for a server reached over the network.
    pub address: Option<Arc<str>>,
    /// `server.port`.
    pub port: Option<u16>,
}

/// `db.operation.name` and `db.collection.name` read from SQL text: the first keyword,
/// and the table of a statement on one table (none for joins, unions or raw SQL the
/// reading does not follow).
///
/// ```
/// use orm_runtime::trace::operation_and_collection;
/// assert_eq!(
///     operation_and_collection(r#"SELECT "t"."id" FROM "users" AS "t" WHERE "t"."id" = $1"#),
///     ("SELECT", Some("users"))
/// );
/// assert_eq!(operation_and_collection("INSERT INTO `post` (`a`) VALUES (?)"), ("INSERT", Some("post")));
/// assert_eq!(operation_and_collection("update counter SET hits = 1"), ("UPDATE", Some("counter")));
/// assert_eq!(operation_and_collection("SELECT 1"), ("SELECT", None));
/// assert_eq!(operation_and_collection("SELECT * FROM a JOIN b ON a.id = b.a"), ("SELECT", None));
/// ```
pub fn operation_and_collection(sql: &str) -> (&'static str, Option<&str>) {
    let words = || sql.split_ascii_whitespace();
    let first = words().next().unwrap_or("");
    let operation = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "DROP", "ALTER",
    ]
    .into_iter()
    .find(|op| first.eq_ignore_ascii_case(op))
    .unwrap_or("OTHER");
    let after = match operation {
        "SELECT" | "DELETE" => "FROM",
        "INSERT" => "INTO",
        "UPDATE" => "UPDATE",
        _ => return (operation, None),
    };
    let joined = words().any(|w| {
        ["JOIN", "UNION", "INTERSECT", "EXCEPT"]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k))
    });
    let table = words()
        .skip_while(|w| !w.eq_ignore_ascii_case(after))
        .nth(1)
        .map(|t| t.trim_matches(|c| c == '"' || c == '`' || c == '(' || c == ','))
        .filter(|t| !t.is_empty() && !t.contains(['(', ')', '.']));
    (operation, if joined { None } else { table })
}

/// A `tracing` span around one executed statement.
pub struct QuerySpan {
    span: tracing::Span,
    started: Instant,
}

impl QuerySpan {
    /// Opens the span for `stmt` sent to `peer`. With `log_values`, the parameter values
    /// are recorded too.
    pub fn start(peer: &Peer, stmt: &Statement, log_values: bool) -> Self {
        let span = tracing::debug_span!(
            "orm.query",
            db.system.name = peer.system,
            db.namespace = &*peer.namespace,
            db.operation.name = Empty,
            db.collection.name = Empty,
            db.query.text = %stmt.sql,
            server.address = Empty,
            server.port = Empty,
            params = stmt.params.len(),
            values = Empty,
            rows = Empty,
            elapsed_us = Empty,
        );
        if !span.is_disabled() {
            // Read from the SQL only when someone listens.
            let (operation, collection) = operation_and_collection(&stmt.sql);
            span.record("db.operation.name", operation);
            if let Some(table) = collection {
                span.record("db.collection.name", table);
            }
            if let Some(address) = &peer.address {
                span.record("server.address", &**address);
            }
            if let Some(port) = peer.port {
                span.record("server.port", port);
            }
            if log_values {
                span.record("values", tracing::field::debug(&stmt.params));
            }
        }
        QuerySpan {
            span,
            started: Instant::now(),
        }
    }

    /// The span, to instrument a future with.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Records the row count and the elapsed time, and emits a debug event.
    pub fn finish(self, rows: u64) {
        let elapsed = self.started.elapsed().as_micros() as u64;
        if !self.span.is_disabled() {
            self.span.record("rows", rows);
            self.span.record("elapsed_us", elapsed);
            self.span
                .in_scope(|| tracing::debug!(rows, elapsed_us = elapsed, "query done"));
        }
    }

    /// Records a failure and emits a debug event with the error.
    pub fn fail(self, error: &orm_core::Error) {
        if !self.span.is_disabled() {
            let elapsed = self.started.elapsed().as_micros() as u64;
            self.span.record("elapsed_us", elapsed);
            self.span
                .in_scope(|| tracing::debug!(%error, "query failed"));
        }
    }
}

impl std::fmt::Debug for QuerySpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySpan")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

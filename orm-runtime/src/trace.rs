//! Tracing of executed statements.
//!
//! Backends open a [`QuerySpan`] around every statement they send. The span carries the
//! SQL text, the parameter count, the rows returned or affected and the duration; the
//! parameter values are recorded only when the database was configured to log them.

use std::time::Instant;

use tracing::field::Empty;

use orm_core::Statement;

/// A `tracing` span around one executed statement.
pub struct QuerySpan {
    span: tracing::Span,
    started: Instant,
}

impl QuerySpan {
    /// Opens the span for `stmt` on `backend` (`postgres`, `mysql`, `sqlite`). With
    /// `log_values`, the parameter values are recorded too.
    pub fn start(backend: &'static str, stmt: &Statement, log_values: bool) -> Self {
        let span = tracing::debug_span!(
            "orm.query",
            db.system = backend,
            db.statement = %stmt.sql,
            params = stmt.params.len(),
            values = Empty,
            rows = Empty,
            elapsed_us = Empty,
        );
        if log_values && !span.is_disabled() {
            span.record("values", tracing::field::debug(&stmt.params));
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

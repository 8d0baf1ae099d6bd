//! A statement's own time limit: [`Query::timeout`] wraps any query, and [`Timed`] any
//! executor, so that every statement sent carries the limit
//! ([`Statement::timeout`]); each backend has the server enforce it.

use std::time::Duration;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::executor::{Executor, RowStream};
use crate::row::FromRow;
use crate::statement::{ExecResult, Statement};

use super::{FetchQuery, Query};

/// A query with a time limit ([`Query::timeout`]).
#[derive(Debug, Clone)]
pub struct Timeout<Q> {
    query: Q,
    limit: Duration,
}

impl<Q> Timeout<Q> {
    pub(super) fn new(query: Q, limit: Duration) -> Self {
        Timeout { query, limit }
    }

    /// The query.
    pub fn query(&self) -> &Q {
        &self.query
    }

    /// The query and its limit.
    pub fn into_parts(self) -> (Q, Duration) {
        (self.query, self.limit)
    }
}

impl<Q: Query> Query for Timeout<Q> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let mut stmt = self.query.render(dialect)?;
        stmt.timeout = Some(self.limit);
        Ok(stmt)
    }
}

impl<Q: FetchQuery> FetchQuery for Timeout<Q> {
    type Row = Q::Row;

    fn model_name(&self) -> &'static str {
        self.query.model_name()
    }
}

/// An executor whose every statement carries a time limit: for operations that send
/// statements themselves (a Manager's `execute` of a timed query, inserts sent one row at
/// a time).
#[derive(Debug)]
pub struct Timed<'a, E: ?Sized> {
    exec: &'a E,
    limit: Duration,
}

impl<'a, E: ?Sized> Timed<'a, E> {
    /// `exec`, each statement limited to `limit`.
    pub fn new(exec: &'a E, limit: Duration) -> Self {
        Timed { exec, limit }
    }

    fn limited(&self, mut stmt: Statement) -> Statement {
        stmt.timeout = Some(stmt.timeout.map_or(self.limit, |own| own.min(self.limit)));
        stmt
    }
}

impl<E: Executor + ?Sized> Executor for Timed<'_, E> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.exec.dialect()
    }

    fn execute(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<ExecResult>> + Send {
        self.exec.execute(self.limited(stmt))
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<Vec<T>>> + Send {
        self.exec.fetch_all(self.limited(stmt))
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        self.exec.fetch_stream(self.limited(stmt))
    }
}

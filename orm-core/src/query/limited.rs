//! A statement's own time limits: [`Query::timeout`] and [`Query::lock_timeout`] wrap any
//! query, and [`Timed`] any executor, so that every statement sent carries them
//! ([`Statement::limits`]); each backend has the server enforce them.

use crate::dialect::Dialect;
use crate::error::Result;
use crate::executor::{Executor, RowStream};
use crate::row::FromRow;
use crate::statement::{ExecResult, Limits, Statement};

use super::{FetchQuery, Query};

/// A query with time limits of its own ([`Query::timeout`], [`Query::lock_timeout`]).
#[derive(Debug, Clone)]
pub struct Limited<Q> {
    query: Q,
    limits: Limits,
}

impl<Q> Limited<Q> {
    pub(super) fn new(query: Q, limits: Limits) -> Self {
        Limited { query, limits }
    }

    /// The query.
    pub fn query(&self) -> &Q {
        &self.query
    }

    /// The query and its limits.
    pub fn into_parts(self) -> (Q, Limits) {
        (self.query, self.limits)
    }
}

impl<Q: Query> Query for Limited<Q> {
    fn render(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let mut stmt = self.query.render(dialect)?;
        stmt.limits = stmt.limits.and(self.limits);
        Ok(stmt)
    }
}

impl<Q: FetchQuery> FetchQuery for Limited<Q> {
    type Row = Q::Row;

    fn model_name(&self) -> &'static str {
        self.query.model_name()
    }
}

/// An executor whose every statement carries time limits: for operations that send
/// statements themselves (a Manager's `execute` of a limited query, inserts sent one row
/// at a time).
#[derive(Debug)]
pub struct Timed<'a, E: ?Sized> {
    exec: &'a E,
    limits: Limits,
}

impl<'a, E: ?Sized> Timed<'a, E> {
    /// `exec`, each statement within `limits`.
    pub fn new(exec: &'a E, limits: Limits) -> Self {
        Timed { exec, limits }
    }

    fn limited(&self, mut stmt: Statement) -> Statement {
        stmt.limits = stmt.limits.and(self.limits);
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

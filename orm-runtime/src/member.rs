//! The connection a database made of several (a primary and its replicas, a cluster's
//! nodes) hands out for a transaction: the member's own connection, which member it came
//! from, and whom to tell when it is given back.

use std::sync::Arc;

use orm_core::{
    Connection, Dialect, ExecResult, Executor, FromRow, Result, RowStream, Statement, TxOptions,
};

use crate::written::Writes;

/// A member database's connection, held for a transaction by a
/// [`ReplicatedDatabase`](crate::ReplicatedDatabase) (always the primary's) or a
/// [`ClusterDatabase`](crate::ClusterDatabase) (the node's it was taken on).
pub struct MemberConnection<C> {
    conn: Arc<C>,
    /// The member it came from, in the order the members were given.
    member: usize,
    /// Told when the connection is given back: the transaction may have written.
    writes: Option<Arc<Writes>>,
}

impl<C> MemberConnection<C> {
    pub(crate) fn new(conn: C, member: usize, writes: Option<Arc<Writes>>) -> Self {
        MemberConnection {
            conn: Arc::new(conn),
            member,
            writes,
        }
    }

    /// The member it came from (0 for a replicated database's primary; a cluster's node,
    /// counted from 0 in the order the nodes were given).
    pub fn member(&self) -> usize {
        self.member
    }
}

impl<C> Drop for MemberConnection<C> {
    fn drop(&mut self) {
        if let Some(writes) = &self.writes {
            writes.wrote();
        }
    }
}

impl<C: Connection> Executor for MemberConnection<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.conn.dialect()
    }

    fn execute(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<ExecResult>> + Send {
        self.conn.execute(stmt)
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &self,
        stmt: Statement,
    ) -> impl std::future::Future<Output = Result<Vec<T>>> + Send {
        self.conn.fetch_all(stmt)
    }

    fn fetch_stream<'a, T: FromRow + Send + 'static>(
        &'a self,
        stmt: Statement,
    ) -> RowStream<'a, T> {
        self.conn.fetch_stream(stmt)
    }
}

impl<C: Connection> Connection for MemberConnection<C> {
    fn begin(&self, options: &TxOptions) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.begin(options)
    }

    fn commit(&self) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.commit()
    }

    fn rollback(&self) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.rollback()
    }

    fn savepoint(&self, name: &str) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.savepoint(name)
    }

    fn release_savepoint(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.release_savepoint(name)
    }

    fn rollback_to_savepoint(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        self.conn.rollback_to_savepoint(name)
    }

    fn in_transaction(&self) -> bool {
        self.conn.in_transaction()
    }

    fn retire(&self) {
        self.conn.retire()
    }

    fn fetch_stream_owned<T: FromRow + Send + 'static>(
        self: Arc<Self>,
        stmt: Statement,
    ) -> RowStream<'static, T> {
        // The stream holds this connection, so that it is given back (and its writes
        // told) only when the stream is dropped.
        let conn = self.conn.clone();
        let rows = conn.fetch_stream_owned(stmt);
        Box::pin(futures_util::StreamExt::map(rows, move |row| {
            let _held = &self;
            row
        }))
    }
}

impl<C> std::fmt::Debug for MemberConnection<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberConnection")
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

//! The transaction a task is running in.
//!
//! As in peewee-async, Manager calls made inside a transaction scope's future join that
//! transaction without a handle being passed around, while a task spawned from inside
//! runs outside it. The scope is a tokio task-local: the stack of open transactions of
//! this task, one entry per database.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use orm_core::Connection;

use crate::transaction::TxShared;

type Entry = (usize, Arc<dyn Any + Send + Sync>);

tokio::task_local! {
    static SCOPES: Vec<Entry>;
}

/// The transaction this task runs in on database `db_id`, if any.
pub(crate) fn current<C: Connection>(db_id: usize) -> Option<Arc<TxShared<C>>> {
    let entry = SCOPES
        .try_with(|scopes| scopes.iter().rev().find(|(id, _)| *id == db_id).cloned())
        .ok()
        .flatten()?;
    entry.1.downcast::<TxShared<C>>().ok()
}

/// Runs `fut` with `tx` as the task's transaction on database `db_id`.
pub(crate) fn enter<C: Connection, F: Future>(
    db_id: usize,
    tx: Arc<TxShared<C>>,
    fut: F,
) -> impl Future<Output = F::Output> {
    let mut scopes = SCOPES.try_with(Clone::clone).unwrap_or_default();
    scopes.push((db_id, tx));
    SCOPES.scope(scopes, fut)
}

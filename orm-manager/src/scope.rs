//! The transaction a task is running in.
//!
//! As in peewee-async, Manager calls made inside a transaction scope's future join that
//! transaction without a handle being passed around, while a task spawned from inside
//! runs outside it. The closure form's scope is a tokio task-local: the stack of open
//! transactions of this task, one entry per database. A guard (`begin_atomic()` ...)
//! cannot set a task-local for the code after it, so it registers its transaction under
//! the tokio task that opened it (or the thread, for a future `block_on` drives): that
//! task's Manager calls join it until the guard ends.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use orm_core::Connection;

use crate::tx::TxShared;

type Entry = (usize, Arc<dyn Any + Send + Sync>);

tokio::task_local! {
    static SCOPES: Vec<Entry>;
}

/// The transaction this task runs in on database `db_id`, if any: the innermost closure
/// scope, else the newest guard this task opened.
pub(crate) fn current<C: Connection>(db_id: usize) -> Option<Arc<TxShared<C>>> {
    let scoped = SCOPES
        .try_with(|scopes| scopes.iter().rev().find(|(id, _)| *id == db_id).cloned())
        .ok()
        .flatten();
    let entry = match scoped {
        Some((_, tx)) => tx,
        None => guarded(db_id)?,
    };
    entry.downcast::<TxShared<C>>().ok()
}

/// Who opened a guard: a tokio task, or (for the future a runtime's `block_on` drives,
/// such as `#[tokio::main]`'s, which is no task) the thread it runs on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Owner {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

impl Owner {
    fn current() -> Owner {
        match tokio::task::try_id() {
            Some(id) => Owner::Task(id),
            None => Owner::Thread(std::thread::current().id()),
        }
    }
}

type Key = (usize, Owner);

/// One guard's transaction: its registration token and a weak handle to it.
type Registered = (u64, Weak<dyn Any + Send + Sync>);

/// The transactions guards opened, per database and task; `open` counts them so that
/// calls pay for the lookup only while a guard is open somewhere.
#[derive(Default)]
struct Guards {
    open: AtomicUsize,
    next: AtomicU64,
    by_task: Mutex<HashMap<Key, Vec<Registered>>>,
}

fn guards() -> &'static Guards {
    static GUARDS: OnceLock<Guards> = OnceLock::new();
    GUARDS.get_or_init(Guards::default)
}

fn guarded(db_id: usize) -> Option<Arc<dyn Any + Send + Sync>> {
    let guards = guards();
    if guards.open.load(Ordering::Acquire) == 0 {
        return None;
    }
    let key = (db_id, Owner::current());
    let by_task = guards
        .by_task
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    by_task.get(&key)?.last()?.1.upgrade()
}

/// A guard's transaction, registered for its task until this is dropped.
pub(crate) struct Registration {
    key: Key,
    token: u64,
}

/// Registers `tx` as the transaction of the current task (or `block_on` thread) on
/// database `db_id`.
pub(crate) fn register<C: Connection>(db_id: usize, tx: &Arc<TxShared<C>>) -> Registration {
    let key = (db_id, Owner::current());
    let guards = guards();
    let token = guards.next.fetch_add(1, Ordering::Relaxed);
    let shared: Arc<dyn Any + Send + Sync> = tx.clone();
    guards
        .by_task
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_default()
        .push((token, Arc::downgrade(&shared)));
    guards.open.fetch_add(1, Ordering::AcqRel);
    Registration { key, token }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let guards = guards();
        let mut by_task = guards
            .by_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entries) = by_task.get_mut(&self.key) {
            entries.retain(|(token, _)| *token != self.token);
            if entries.is_empty() {
                by_task.remove(&self.key);
            }
        }
        guards.open.fetch_sub(1, Ordering::AcqRel);
    }
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

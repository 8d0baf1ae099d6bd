//! Statements on the calling task that let go of the runtime's worker when they run long.
//!
//! A short statement (a lookup, a small write: microseconds) costs least on the task that
//! asks for it: a trip to another thread and back costs 10-50 µs on a small machine,
//! several times the statement. A long one (a scan, a wait for another writer's lock)
//! must not hold the worker, whose other tasks would wait behind it. So on a
//! multi-threaded runtime a statement starts on the calling task, armed: once it has run
//! [`AFTER`] (SQLite's progress handler looks every 1,000 steps), or as soon as it has to
//! wait for a lock (the busy handler), it calls `block_in_place`, which hands the worker's
//! queue to another thread, and goes on here as a blocking call.

use std::cell::Cell;
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor};

/// How long a statement runs on the worker before it lets go of it.
pub(crate) const AFTER: Duration = Duration::from_millis(1);

thread_local! {
    /// A statement runs on this thread, on a runtime worker, and has not let go of it.
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// True when the calling task runs on a multi-threaded tokio runtime, where a long
/// statement can hand its worker's queue to another thread.
pub(crate) fn available() -> bool {
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Runs `work` here, armed to let go of the worker (see the module docs).
pub(crate) fn armed<R>(work: impl FnOnce() -> R) -> R {
    let outer = ARMED.replace(true);
    let out = work();
    ARMED.set(outer);
    out
}

/// From the progress handler: lets go of the worker once the statement, started at
/// `started`, has run [`AFTER`].
pub(crate) fn if_long(started: Instant) {
    if ARMED.get() && started.elapsed() >= AFTER {
        let_go();
    }
}

/// Lets go of the worker now, if an armed statement runs here: the runtime's other tasks
/// go on on another thread, this statement on this one. Waits (20 ms at most) until a
/// worker has run a task, so that the queue has moved before the statement goes on.
pub(crate) fn let_go() {
    if !ARMED.replace(false) {
        return;
    }
    let Ok(handle) = Handle::try_current() else {
        return;
    };
    tokio::task::block_in_place(|| {
        let (ran, running) = std::sync::mpsc::sync_channel(1);
        handle.spawn(async move {
            let _ = ran.send(());
        });
        let _ = running.recv_timeout(Duration::from_millis(20));
    });
}

//! Statements abandoned on the blocking pool still run; the ones sent after them wait.
//!
//! A pooled statement's future can be dropped (a timeout, a cancelled task) while its work
//! is queued or running on a blocking thread, where it cannot be stopped. Left alone, the
//! statements sent after it could run first on another connection, or read before its
//! write commits. The [`Gate`] counts such abandoned statements; every new statement waits
//! until they have run, as statements sent later on one PostgreSQL connection queue
//! behind earlier ones.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use orm_core::Result;
use tokio::sync::Notify;

use crate::offload::blocking;

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

/// Orders a database's statements after the abandoned ones still running.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    abandoned: AtomicUsize,
    cleared: Notify,
}

impl Gate {
    /// Waits until no abandoned statement is left running.
    pub(crate) async fn clear(&self) {
        // The usual case, without registering a waiter.
        if self.abandoned.load(Ordering::Acquire) == 0 {
            return;
        }
        loop {
            let cleared = self.cleared.notified();
            let mut cleared = std::pin::pin!(cleared);
            cleared.as_mut().enable();
            if self.abandoned.load(Ordering::Acquire) == 0 {
                return;
            }
            cleared.await;
        }
    }

    fn release(&self) {
        if self.abandoned.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.cleared.notify_waiters();
        }
    }

    /// Runs `work` on the blocking pool; if this future is dropped before the work has
    /// run, the work counts as abandoned until it has.
    pub(crate) async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce() -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let state = Arc::new(AtomicU8::new(RUNNING));
        let watch = Watch {
            gate: self.clone(),
            state: state.clone(),
            armed: true,
        };
        let gate = self.clone();
        let result = blocking(move || {
            let result = work();
            if state.swap(FINISHED, Ordering::AcqRel) == ABANDONED {
                gate.release();
            }
            result
        })
        .await;
        watch.disarm();
        result
    }
}

/// Marks the work abandoned when the future awaiting it is dropped.
struct Watch {
    gate: Arc<Gate>,
    state: Arc<AtomicU8>,
    armed: bool,
}

impl Watch {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Counted first, so that no new statement slips past between the two steps.
        self.gate.abandoned.fetch_add(1, Ordering::AcqRel);
        let marked =
            self.state
                .compare_exchange(RUNNING, ABANDONED, Ordering::AcqRel, Ordering::Acquire);
        if marked.is_err() {
            // The work finished in the meantime: nothing is left running.
            self.gate.release();
        }
    }
}

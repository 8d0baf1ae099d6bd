//! Read-your-writes bookkeeping for a replicated database: which tasks wrote lately, and
//! the primary's position after their writes, which a replica must have replayed before
//! it answers their reads.
//!
//! A writer is the tokio task that wrote (or the thread, for blocking calls outside a
//! task). Its write is noted without waiting; the primary's position is asked on its next
//! read, since the position then includes the write. The note ends when a replica has
//! replayed that position, or when the window has passed: the window bounds how long a
//! writer's reads may stay on the primary, and is all there is where the position cannot
//! be known.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Writers above this many are pruned of their expired notes.
const PRUNE_ABOVE: usize = 1024;

/// Who wrote: the task, or the thread for calls made outside a task.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Writer {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

impl Writer {
    fn current() -> Self {
        match tokio::task::try_id() {
            Some(id) => Writer::Task(id),
            None => Writer::Thread(std::thread::current().id()),
        }
    }
}

/// A writer's last write.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Written {
    /// When, in milliseconds on the clock of [`Writes`].
    at_ms: u64,
    /// The primary's position after it, once asked.
    pub(crate) position: Option<String>,
}

/// The writers of one replicated database (and of its autonomous side, which shares it).
pub(crate) struct Writes {
    /// How long a writer's reads may stay on the primary (none: read-your-writes is off).
    window: Option<Duration>,
    epoch: Instant,
    writers: Mutex<HashMap<Writer, Written>>,
    /// How many writers are noted: the reads of a database nobody wrote to lately take no
    /// lock.
    noted: AtomicUsize,
}

impl Writes {
    /// Read-your-writes off (`None`) or bounded by `window`.
    pub(crate) fn new(window: Option<Duration>) -> Self {
        Writes {
            window,
            epoch: Instant::now(),
            writers: Mutex::new(HashMap::new()),
            noted: AtomicUsize::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn writers(&self) -> std::sync::MutexGuard<'_, HashMap<Writer, Written>> {
        self.writers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expired(&self, written: &Written, now_ms: u64) -> bool {
        self.window
            .is_none_or(|w| now_ms >= written.at_ms + w.as_millis() as u64)
    }

    /// Notes that the current task (or thread) wrote, or may have.
    pub(crate) fn wrote(&self) {
        if self.window.is_none() {
            return;
        }
        let now = self.now_ms();
        let mut writers = self.writers();
        if writers.len() > PRUNE_ABOVE {
            writers.retain(|_, w| !self.expired(w, now));
        }
        writers.insert(
            Writer::current(),
            Written {
                at_ms: now,
                position: None,
            },
        );
        self.noted.store(writers.len(), Ordering::Relaxed);
    }

    /// The current writer's last write, if its reads must still see it.
    pub(crate) fn pending(&self) -> Option<Written> {
        if self.noted.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = self.now_ms();
        let mut writers = self.writers();
        let writer = Writer::current();
        match writers.get(&writer) {
            Some(w) if self.expired(w, now) => {
                writers.remove(&writer);
                self.noted.store(writers.len(), Ordering::Relaxed);
                None
            }
            found => found.cloned(),
        }
    }

    /// Records the primary's position after `written` (unless the writer wrote again since).
    pub(crate) fn located(&self, written: &Written, position: String) {
        if let Some(w) = self.writers().get_mut(&Writer::current()) {
            if w.at_ms == written.at_ms && w.position.is_none() {
                w.position = Some(position);
            }
        }
    }

    /// A replica has replayed the current writer's `written`: its reads may go there.
    pub(crate) fn replayed(&self, written: &Written) {
        let mut writers = self.writers();
        let writer = Writer::current();
        if writers
            .get(&writer)
            .is_some_and(|w| w.at_ms == written.at_ms)
        {
            writers.remove(&writer);
            self.noted.store(writers.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_is_noted_until_replayed_or_expired() {
        let off = Writes::new(None);
        off.wrote();
        assert_eq!(off.pending(), None, "read-your-writes off");

        let writes = Writes::new(Some(Duration::from_millis(200)));
        assert_eq!(writes.pending(), None);
        writes.wrote();
        let written = writes.pending().expect("noted");
        assert_eq!(written.position, None);
        writes.located(&written, "0/10".into());
        let written = writes.pending().expect("noted");
        assert_eq!(written.position.as_deref(), Some("0/10"));
        writes.replayed(&written);
        assert_eq!(writes.pending(), None, "replayed");

        writes.wrote();
        assert!(writes.pending().is_some());
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(writes.pending(), None, "expired");
    }

    #[test]
    fn another_thread_is_another_writer() {
        let writes = std::sync::Arc::new(Writes::new(Some(Duration::from_secs(5))));
        writes.wrote();
        let seen = std::thread::spawn({
            let writes = writes.clone();
            move || writes.pending()
        })
        .join()
        .expect("thread");
        assert_eq!(seen, None, "only the writer's reads wait");
        assert!(writes.pending().is_some());
    }
}

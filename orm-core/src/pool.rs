//! The pooled databases' shared pool handling: every backend builds its deadpool the same
//! way and turns a wait that runs out into the same [`Error::PoolTimeout`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{Manager, Object, Pool, PoolError};
use deadpool::Runtime;

use crate::error::{Error, Result};

/// A pool of at most `max` connections; waiting, opening and recycling are each bounded by
/// `timeout`, so no call hangs.
pub fn build<M: Manager<Error = Error>>(
    manager: M,
    max: usize,
    timeout: Duration,
) -> Result<Pool<M>> {
    Pool::builder(manager)
        .max_size(max)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(format!("cannot build the connection pool: {e}")))
}

/// Checks a connection out; a wait that runs out is [`Error::PoolTimeout`] with how long it
/// waited and how many connections were in use.
pub async fn checkout<M: Manager<Error = Error>>(pool: &Pool<M>) -> Result<Object<M>> {
    let started = Instant::now();
    // deadpool's wait holds the manager's whole connect future (kilobytes); boxed, every
    // future that awaits a checkout stays small and cheap to move (callgrind: copying it
    // was 15% of a pooled point lookup's client instructions).
    Box::pin(pool.get()).await.map_err(|e| match e {
        PoolError::Timeout(_) => {
            let s = pool.status();
            Error::PoolTimeout {
                waited: started.elapsed(),
                in_use: s.size.saturating_sub(s.available),
                max: s.max_size,
            }
        }
        PoolError::Backend(e) => e,
        other => Error::Driver(other.to_string().into()),
    })
}

/// Pool size, connections open, and connections idle.
pub fn status<M: Manager>(pool: &Pool<M>) -> (usize, usize, usize) {
    let s = pool.status();
    (s.max_size, s.size, s.available)
}

/// The pool size of a database's [`autonomous`](crate::Database::autonomous) side.
pub const AUTONOMOUS_CONNECTIONS: usize = 2;

/// The lock wait of a database's [`autonomous`](crate::Database::autonomous) side: the
/// database's own `lock_timeout`, at most five seconds. The server cannot see a wait that
/// crosses from that side into the caller's transaction, so it must end by itself.
///
/// ```
/// use std::time::Duration;
/// use orm_core::pool::autonomous_lock_timeout;
/// assert_eq!(autonomous_lock_timeout(None), Duration::from_secs(5));
/// assert_eq!(autonomous_lock_timeout(Some(Duration::from_secs(1))), Duration::from_secs(1));
/// ```
pub fn autonomous_lock_timeout(own: Option<Duration>) -> Duration {
    let bound = Duration::from_secs(5);
    own.map_or(bound, |own| own.min(bound))
}

/// A `close()` asked for while a single-connection database's connection was busy (held
/// by a transaction, or running a statement): `close()` returns at once, and the
/// connection is dropped the next time its slot is free, never under the transaction.
///
/// ```
/// let pending = orm_core::pool::PendingClose::default();
/// let mut slot = Some("connection");
/// pending.apply(&mut slot);
/// assert_eq!(slot, Some("connection"), "nothing pending");
/// pending.request();
/// assert!(pending.is_requested());
/// pending.apply(&mut slot);
/// assert_eq!(slot, None, "dropped once the slot was free");
/// ```
#[derive(Debug, Default)]
pub struct PendingClose(AtomicBool);

impl PendingClose {
    /// Asks for the connection to be dropped when its slot is next free.
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// True while a close is waiting for the slot.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Empties `slot` if a close was asked for, and clears the request.
    pub fn apply<T>(&self, slot: &mut Option<T>) {
        if self.0.swap(false, Ordering::AcqRel) {
            *slot = None;
        }
    }
}

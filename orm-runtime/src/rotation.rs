//! Taking turns among databases that can each serve (replicas, cluster nodes), and
//! leaving out for a while one that failed: one mechanism for `ReplicatedDatabase` and
//! `ClusterDatabase`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orm_core::Error;

/// How long a member that failed is left out before it is tried again.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Members in turn (round robin), each left out for `retry_after` after it failed.
pub(crate) struct Rotation<T> {
    members: Vec<Member<T>>,
    next: AtomicUsize,
    retry_after: Duration,
    /// The members' "left out until" times count from here.
    epoch: Instant,
}

/// One member and when it may serve again.
pub(crate) struct Member<T> {
    pub(crate) value: T,
    /// Its place among the members, from 0.
    pub(crate) index: usize,
    /// Statements it is answering now (for the least busy choice).
    busy: AtomicUsize,
    /// Left out until this many milliseconds after `epoch` (0: in).
    out_until_ms: AtomicU64,
}

impl<T> Rotation<T> {
    pub(crate) fn new(members: Vec<T>, retry_after: Duration) -> Self {
        Rotation {
            members: members
                .into_iter()
                .enumerate()
                .map(|(index, value)| Member {
                    value,
                    index,
                    busy: AtomicUsize::new(0),
                    out_until_ms: AtomicU64::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            retry_after,
            epoch: Instant::now(),
        }
    }

    pub(crate) fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Every member, in or out.
    pub(crate) fn all(&self) -> impl Iterator<Item = &T> {
        self.members.iter().map(|m| &m.value)
    }

    /// Every member with its availability.
    pub(crate) fn members(&self) -> &[Member<T>] {
        &self.members
    }

    /// Milliseconds since the rotation began (the clock of the members' times).
    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The next member in turn that is not left out and that `fit` accepts.
    pub(crate) fn pick(&self, fit: impl Fn(&T) -> bool) -> Option<&Member<T>> {
        self.in_turn(fit).next()
    }

    /// The member that is not left out, that `fit` accepts and that is answering the
    /// fewest statements now; among equals, the next in turn.
    pub(crate) fn pick_least_busy(&self, fit: impl Fn(&T) -> bool) -> Option<&Member<T>> {
        self.in_turn(fit)
            .min_by_key(|m| m.busy.load(Ordering::Relaxed))
    }

    /// The members that may serve, starting from the next in turn (which takes a turn).
    fn in_turn(&self, fit: impl Fn(&T) -> bool) -> impl Iterator<Item = &Member<T>> {
        let now = self.now_ms();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.members.len();
        (0..count)
            .map(move |i| &self.members[(start + i) % count])
            .filter(move |m| m.out_until_ms.load(Ordering::Relaxed) <= now && fit(&m.value))
    }

    /// Leaves `member` out for a while after it failed with `err`.
    pub(crate) fn leave_out(&self, member: &Member<T>, err: &Error, what: &str) {
        let until = self.now_ms() + self.retry_after.as_millis() as u64;
        member.out_until_ms.store(until.max(1), Ordering::Relaxed);
        tracing::warn!(error = %err, "{what} failed; it is left out for {:?}", self.retry_after);
    }
}

impl<T> Member<T> {
    /// Counts a statement the member answers until the returned guard is dropped.
    pub(crate) fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(&self.busy)
    }
}

/// A statement a member is answering (see [`Member::busy`]).
pub(crate) struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One sync policy for several databases behind one: it starts as the first one's, and
/// the members' own gates are set to allow, so that the whole's decides (the Manager's
/// `allow_sync` guard sets the whole's gate only).
pub(crate) fn one_gate<D: orm_core::Database>(members: &[D]) -> orm_core::SyncGate {
    let policy = members
        .first()
        .map_or(orm_core::SyncPolicy::default(), |m| m.sync_policy());
    for member in members {
        member.set_allow_sync(orm_core::SyncPolicy::Allow);
    }
    orm_core::SyncGate::new(policy)
}

/// Whether an error means the database cannot answer now (down, unreachable, full),
/// rather than that the statement is wrong, which another would say too.
pub(crate) fn unavailable(err: &Error) -> bool {
    matches!(
        err,
        Error::ConnectionLost { .. }
            | Error::ConnectTimeout(_)
            | Error::PoolTimeout { .. }
            | Error::Tls(_)
    )
}

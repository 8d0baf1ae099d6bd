//! Pool options, written once for every driver, and the deadpool pool built from them.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use deadpool::managed::{Manager, Object, Pool, PoolError, Timeouts};
use deadpool::Runtime;
use orm_core::{Error, Result};

/// How a database opens and keeps its connections. Every driver's configuration holds
/// one; set it through the [`PoolSettings`] methods on the configuration.
///
/// ```
/// use std::time::Duration;
/// use orm_runtime::PoolOptions;
/// let options = PoolOptions::default();
/// assert_eq!(options.max_size, 10);
/// assert_eq!(options.acquire_timeout, Duration::from_secs(30));
/// assert_eq!(options.min_idle, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "options do nothing until a configuration holds them"]
pub struct PoolOptions {
    /// Connections open at most (pooled databases).
    pub max_size: usize,
    /// Connections a pooled database keeps open even when idle, opened in the background
    /// after its first use and after connections were closed.
    pub min_idle: usize,
    /// A connection older than this is closed when it next comes back to the pool.
    pub max_lifetime: Option<Duration>,
    /// A pooled connection not checked out for this long is closed (down to `min_idle`).
    pub idle_timeout: Option<Duration>,
    /// How long a call waits for a free pooled connection before
    /// [`Error::PoolTimeout`].
    pub acquire_timeout: Duration,
    /// How long opening one connection may take, on any database.
    pub connect_timeout: Duration,
    /// Ask the server whether a pooled connection is alive before handing it out (one
    /// round trip per checkout; catches connections the server closed while idle).
    pub check_on_checkout: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            min_idle: 0,
            max_lifetime: None,
            idle_timeout: None,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            check_on_checkout: false,
        }
    }
}

/// The pool settings of a driver's configuration, as builder methods.
///
/// ```
/// use std::time::Duration;
/// use orm_runtime::PoolSettings;
/// # #[derive(Clone, Default)] struct Config(orm_runtime::PoolOptions);
/// # impl PoolSettings for Config {
/// #     fn pool_options(&self) -> &orm_runtime::PoolOptions { &self.0 }
/// #     fn pool_options_mut(&mut self) -> &mut orm_runtime::PoolOptions { &mut self.0 }
/// # }
/// let config = Config::default()
///     .max_connections(20)
///     .min_idle(2)
///     .max_lifetime(Some(Duration::from_secs(1800)))
///     .idle_timeout(Some(Duration::from_secs(600)))
///     .acquire_timeout(Duration::from_secs(5))
///     .check_on_checkout(true);
/// assert_eq!(config.pool_options().max_size, 20);
/// assert_eq!(config.pool_options().min_idle, 2);
/// ```
pub trait PoolSettings: Sized {
    /// The options.
    fn pool_options(&self) -> &PoolOptions;
    /// The options, to change.
    fn pool_options_mut(&mut self) -> &mut PoolOptions;

    /// Pool size of the pooled database (at least 1).
    fn max_connections(mut self, n: usize) -> Self {
        self.pool_options_mut().max_size = n.max(1);
        self
    }
    /// Connections kept open when idle (at most the pool size).
    fn min_idle(mut self, n: usize) -> Self {
        self.pool_options_mut().min_idle = n;
        self
    }
    /// Connections older than this are closed when they come back.
    fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.pool_options_mut().max_lifetime = lifetime;
        self
    }
    /// Pooled connections idle this long are closed.
    fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_options_mut().idle_timeout = timeout;
        self
    }
    /// How long a pooled call waits for a free connection before
    /// [`Error::PoolTimeout`].
    fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.pool_options_mut().acquire_timeout = timeout;
        self
    }
    /// How long opening one connection may take.
    fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.pool_options_mut().connect_timeout = timeout;
        self
    }
    /// Check each pooled connection with the server before handing it out.
    fn check_on_checkout(mut self, on: bool) -> Self {
        self.pool_options_mut().check_on_checkout = on;
        self
    }
}

/// A pool as `options` say; waiting, opening and recycling are each bounded, so no call
/// hangs.
pub(crate) fn build<M: Manager<Error = Error>>(
    manager: M,
    options: &PoolOptions,
) -> Result<Pool<M>> {
    Pool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.acquire_timeout))
        .create_timeout(Some(options.connect_timeout))
        // Recycling is bounded by the manager itself, with a timer only when it has to
        // wait (see `bounded`).
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(format!("cannot build the connection pool: {e}")))
}

/// `future`'s output, or `None` when it has not finished within `limit`. A future that
/// finishes on its first poll (a recycle with nothing to do, the usual case) arms no
/// timer.
pub(crate) async fn bounded<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(out) => Some(out),
        Poll::Pending => tokio::time::timeout(limit, future).await.ok(),
    }
}

/// What a pooled database counts: gauges of its connections now, and totals since it was
/// built. Read them with `pool_metrics()`; each checkout is also a `tracing` debug event
/// (target `orm.pool`) with its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolMetrics {
    /// The pool size.
    pub max_size: usize,
    /// Connections open.
    pub open: usize,
    /// Connections open and free.
    pub idle: usize,
    /// Connections checked out.
    pub in_use: usize,
    /// Of those, held by transactions.
    pub in_transactions: usize,
    /// Callers waiting for a connection now.
    pub waiting: usize,
    /// Checkouts so far.
    pub acquired: u64,
    /// Their waits, summed.
    pub acquire_wait: Duration,
    /// The longest of them.
    pub longest_acquire_wait: Duration,
    /// Waits that ran out ([`Error::PoolTimeout`]).
    pub timeouts: u64,
    /// Connections that failed to open.
    pub connect_failures: u64,
}

/// The counters behind [`PoolMetrics`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    acquired: AtomicU64,
    wait_us: AtomicU64,
    longest_us: AtomicU64,
    timeouts: AtomicU64,
    connect_failures: AtomicU64,
    in_transactions: AtomicUsize,
}

impl Counters {
    pub(crate) fn connect_failed(&self) {
        self.connect_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection held by a transaction until the returned guard drops.
    pub(crate) fn hold(self: &Arc<Self>) -> Holding {
        self.in_transactions.fetch_add(1, Ordering::Relaxed);
        Holding(self.clone())
    }

    pub(crate) fn metrics<M: Manager>(&self, pool: &Pool<M>) -> PoolMetrics {
        let s = pool.status();
        let micros = |a: &AtomicU64| Duration::from_micros(a.load(Ordering::Relaxed));
        PoolMetrics {
            max_size: s.max_size,
            open: s.size,
            idle: s.available,
            in_use: s.size.saturating_sub(s.available),
            in_transactions: self.in_transactions.load(Ordering::Relaxed),
            waiting: s.waiting,
            acquired: self.acquired.load(Ordering::Relaxed),
            acquire_wait: micros(&self.wait_us),
            longest_acquire_wait: micros(&self.longest_us),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            connect_failures: self.connect_failures.load(Ordering::Relaxed),
        }
    }

    /// Why a wait ran out, from what the pool saw.
    fn reason(&self, metrics: &PoolMetrics) -> String {
        let mut why = format!(
            "{} of the checked-out connections were held by transactions, {} other callers were waiting",
            metrics.in_transactions,
            metrics.waiting
        );
        if metrics.connect_failures > 0 {
            why.push_str(&format!(
                "; opening a connection has failed {} times",
                metrics.connect_failures
            ));
        }
        why
    }
}

/// A connection counted as held by a transaction.
#[derive(Debug)]
pub(crate) struct Holding(Arc<Counters>);

impl Drop for Holding {
    fn drop(&mut self) {
        self.0.in_transactions.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Checks a connection out; a wait that runs out is [`Error::PoolTimeout`] with how long it
/// waited, how many connections were in use, and why as far as the pool can tell.
pub(crate) async fn checkout<M: Manager<Error = Error>>(
    pool: &Pool<M>,
    counters: &Counters,
) -> Result<Object<M>> {
    let started = Instant::now();
    // A free connection is taken without waiting, and so without the wait's timer
    // (arming and dropping it was 3 % of a pooled point lookup's client instructions);
    // only when none is free does the checkout wait, bounded.
    let at_once = Timeouts {
        wait: Some(Duration::ZERO),
        ..pool.timeouts()
    };
    // The connect future inside deadpool's is boxed (`PoolManager::create`), so awaiting
    // the checkout in place costs less than a box of its own (callgrind: 0.7 k
    // instructions a lookup). The waiting path, rarer, is boxed.
    let got = match pool.timeout_get(&at_once).await {
        Err(PoolError::Timeout(deadpool::managed::TimeoutType::Wait)) => Box::pin(pool.get()).await,
        got => got,
    };
    match got {
        Ok(obj) => {
            let waited = started.elapsed().as_micros() as u64;
            counters.acquired.fetch_add(1, Ordering::Relaxed);
            counters.wait_us.fetch_add(waited, Ordering::Relaxed);
            counters.longest_us.fetch_max(waited, Ordering::Relaxed);
            tracing::debug!(target: "orm.pool", waited_us = waited, "connection checked out");
            Ok(obj)
        }
        Err(PoolError::Timeout(deadpool::managed::TimeoutType::Wait)) => {
            counters.timeouts.fetch_add(1, Ordering::Relaxed);
            let metrics = counters.metrics(pool);
            let reason = counters.reason(&metrics);
            tracing::warn!(target: "orm.pool", waited = ?started.elapsed(), %reason, "no pooled connection in time");
            Err(Error::PoolTimeout {
                waited: started.elapsed(),
                in_use: metrics.in_use,
                max: metrics.max_size,
                reason,
            })
        }
        Err(PoolError::Timeout(_)) => Err(Error::ConnectTimeout(
            pool.timeouts().create.unwrap_or_default(),
        )),
        Err(PoolError::Backend(e)) => Err(e),
        Err(other) => Err(Error::Driver(other.to_string().into())),
    }
}

/// The configuration of a database's [`autonomous`](orm_core::Database::autonomous) side,
/// from the database's own `config`: lock waits bounded by [`autonomous_lock_timeout`]
/// (set by `bound_locks`, the driver's own setter), a pool of [`AUTONOMOUS_CONNECTIONS`].
pub fn autonomous_config<C: PoolSettings>(
    config: C,
    own_lock_timeout: Option<Duration>,
    bound_locks: impl FnOnce(C, Duration) -> C,
) -> C {
    bound_locks(config, autonomous_lock_timeout(own_lock_timeout))
        .max_connections(AUTONOMOUS_CONNECTIONS)
}

/// The pool size of a database's [`autonomous`](orm_core::Database::autonomous) side.
pub const AUTONOMOUS_CONNECTIONS: usize = 2;

/// The lock wait of a database's [`autonomous`](orm_core::Database::autonomous) side: the
/// database's own `lock_timeout`, at most five seconds. The server cannot see a wait that
/// crosses from that side into the caller's transaction, so it must end by itself.
///
/// ```
/// use std::time::Duration;
/// use orm_runtime::autonomous_lock_timeout;
/// assert_eq!(autonomous_lock_timeout(None), Duration::from_secs(5));
/// assert_eq!(autonomous_lock_timeout(Some(Duration::from_secs(1))), Duration::from_secs(1));
/// ```
pub fn autonomous_lock_timeout(own: Option<Duration>) -> Duration {
    let bound = Duration::from_secs(5);
    own.map_or(bound, |own| own.min(bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_answers_at_once_or_gives_up_at_its_limit() {
        let limit = Duration::from_millis(50);
        assert_eq!(bounded(limit, async { 7 }).await, Some(7));
        let slow = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            8
        };
        assert_eq!(bounded(limit, slow).await, Some(8));
        let started = Instant::now();
        assert_eq!(bounded(limit, std::future::pending::<u8>()).await, None);
        let waited = started.elapsed();
        assert!(
            waited >= limit && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }
}

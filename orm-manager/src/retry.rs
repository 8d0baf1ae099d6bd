//! Transactions that run again when the server says running them again may succeed:
//! serialization failures, deadlocks, lock wait timeouts, a busy SQLite database, and a
//! connection lost before the transaction began. Never after a COMMIT whose outcome is
//! unknown, and never more often than the policy allows.

use std::future::Future;
use std::time::Duration;

use orm_core::{Database, Error, TxOptions};

use crate::manager::Manager;
use crate::transaction::Failure;

/// How often and how patiently a transaction is run again.
///
/// The wait before attempt `n + 1` is `base_delay * 2^(n-1)`, at most `max_delay`, less a
/// random part of up to half (so that transactions that conflicted do not meet again).
///
/// ```
/// use std::time::Duration;
/// use orm_manager::RetryPolicy;
/// let policy = RetryPolicy::new(8).base_delay(Duration::from_millis(5));
/// assert_eq!(policy.max_attempts(), 8);
/// assert!(policy.delay(1) <= Duration::from_millis(5));
/// assert!(policy.delay(30) <= Duration::from_millis(500), "capped");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a policy does nothing until a transaction runs with it"]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, waiting 10 ms, 20 ms, 40 ms, 80 ms (less jitter) between them.
    fn default() -> Self {
        RetryPolicy::new(5)
    }
}

impl RetryPolicy {
    /// At most `max_attempts` runs in all (at least one).
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(500),
        }
    }

    /// The first wait (doubled each time).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Runs in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait after failed attempt `attempt` (1-based), with jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let full = doubled.min(self.max_delay);
        // Half fixed, half random: spread, never longer than `full`.
        full / 2 + full.mul_f64(jitter() / 2.0)
    }
}

/// A number in [0, 1) from the clock and a per-thread counter; retries only need their
/// waits spread, not unpredictable.
fn jitter() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0) });
    STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            x = nanos | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Errors that say whether running the same transaction again may succeed. Implemented
/// for [`Error`]; implement it for your own error type (usually by asking the ORM error it
/// wraps) to use it in [`Manager::transaction_with_retry`].
pub trait Retryable {
    /// True for a serialization failure, a deadlock, a lock wait timeout, a busy database.
    fn is_retryable(&self) -> bool;
}

impl Retryable for Error {
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
}

/// A failure to open the transaction that nothing was done under: the attempt may run
/// again.
fn lost_before_begin(error: &Error) -> bool {
    matches!(
        error,
        Error::ConnectionLost { .. } | Error::ConnectTimeout(_)
    ) || error.is_retryable()
}

/// Whether a failed attempt may run again.
fn worth_another<E: Retryable>(failure: &Failure<E>) -> bool {
    match failure {
        Failure::Body(e) => e.is_retryable(),
        // A COMMIT refused by the server (a serialization failure found at commit) rolled
        // everything back; one whose answer never came may have committed.
        Failure::Commit(e) => !matches!(e, Error::CommitOutcomeUnknown { .. }) && e.is_retryable(),
        // The body failed and the ROLLBACK after it too: the connection failed under the
        // transaction (a node killed, a server restarted) and is closed, so the server
        // rolled everything back and no COMMIT was sent. Running again is safe; a body
        // whose own error was meant returns it again on a sound connection.
        Failure::Rollback(_) => true,
    }
}

impl<D: Database> Manager<D> {
    /// [`transaction_with`](Manager::transaction_with) that runs `body` again, in a new
    /// transaction, when it fails with a retryable error (see [`Retryable`]) or the
    /// connection is lost before BEGIN, up to `policy`'s attempts with jittered backoff.
    /// Never after a COMMIT whose outcome is unknown. `body` must be safe to run more than
    /// once: everything it did in a failed attempt was rolled back, but its effects outside
    /// the database were not.
    ///
    /// ```
    /// # use orm_manager::prelude::*;
    /// use orm_manager::{IsolationLevel, RetryPolicy, TxOptions};
    /// # #[derive(Model, Debug)]
    /// # struct Counter { #[orm(primary_key)] name: String, hits: i64 }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let objects = Manager::new(SqliteDatabase::new(SqliteConfig::memory())?);
    /// Counter::create_table_async(&objects, false).await?;
    /// objects.create(Counter::new("home", 0)).await?;
    /// let serializable = TxOptions::new().isolation(IsolationLevel::Serializable);
    /// objects
    ///     .transaction_with_retry(serializable, &RetryPolicy::default(), |tx| async move {
    ///         let mut counter: Counter = tx.get(Counter::NAME.eq("home")).await?;
    ///         counter.hits += 1;
    ///         tx.update(&mut counter).await?;
    ///         Ok::<_, Error>(())
    ///     })
    ///     .await?;
    /// # Ok::<(), Error>(()) }).unwrap();
    /// ```
    pub async fn transaction_with_retry<F, Fut, T, E>(
        &self,
        options: TxOptions,
        policy: &RetryPolicy,
        mut body: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error> + Retryable,
    {
        let mut attempt = 1;
        loop {
            let last = attempt >= policy.max_attempts();
            match self.begin_transaction_with(options).await {
                Err(e) if !last && lost_before_begin(&e) => {}
                Err(e) => return Err(E::from(e)),
                Ok(scope) => match scope.run_scope(&mut body).await {
                    Ok(value) => return Ok(value),
                    Err(failure) if !last && worth_another(&failure) => {}
                    Err(failure) => return Err(failure.into_error()),
                },
            }
            tokio::time::sleep(policy.delay(attempt)).await;
            attempt += 1;
        }
    }

    /// [`atomic`](Manager::atomic) with retries: outside a transaction, a
    /// [`transaction_with_retry`](Manager::transaction_with_retry) with the server's
    /// default level; inside one, a savepoint run once (a serialization failure or
    /// deadlock ends the whole transaction, so only the outermost scope can retry).
    pub async fn atomic_with_retry<F, Fut, T, E>(
        &self,
        policy: &RetryPolicy,
        body: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(Manager<D>) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error> + Retryable,
    {
        if self.current_tx().is_some() {
            return self.atomic(body).await;
        }
        self.transaction_with_retry(TxOptions::default(), policy, body)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_stay_capped_and_spread() {
        let policy = RetryPolicy::new(10)
            .base_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(100));
        for attempt in 1..=10 {
            let full =
                Duration::from_millis(10 * (1 << (attempt - 1))).min(Duration::from_millis(100));
            let wait = policy.delay(attempt);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(waits.len() > 1, "jittered");
        assert_eq!(RetryPolicy::new(0).max_attempts(), 1);
    }

    #[test]
    fn never_again_after_an_unknown_commit_but_after_a_failed_rollback() {
        let unknown = Failure::<Error>::Commit(Error::CommitOutcomeUnknown {
            source: "connection closed".into(),
        });
        assert!(!worth_another(&unknown));
        let serialization = Error::Database {
            code: orm_core::DbCode::SqlState("40001".into()),
            message: "could not serialize access".into(),
            retryable: true,
            source: None,
        };
        assert!(worth_another(&Failure::<Error>::Commit(serialization)));
        // The connection failed under the transaction: rolled back, no COMMIT sent.
        let rollback = Failure::<Error>::Rollback(Error::ConnectionLost { source: "x".into() });
        assert!(worth_another(&rollback));
        let body = Failure::Body(Error::Query("bad".into()));
        assert!(!worth_another(&body));
        assert!(lost_before_begin(&Error::ConnectionLost {
            source: "x".into()
        }));
        assert!(!lost_before_begin(&Error::Query("bad".into())));
    }
}

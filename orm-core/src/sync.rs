//! The sync guard: where blocking calls are allowed, logged or refused.
//!
//! peewee-async keeps sync code working ("sync will remain sync") but lets a service turn
//! blocking calls into log lines or errors once it runs async. Every database holds a
//! [`SyncGate`]; its sync side asks the gate before each blocking call.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Error, Result};

/// What a blocking call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Run it.
    #[default]
    Allow,
    /// Log a WARN line, then run it.
    Warn,
    /// Log an ERROR line, then run it.
    LogError,
    /// Refuse it with [`Error::SyncNotAllowed`].
    Deny,
}

impl SyncPolicy {
    fn to_u8(self) -> u8 {
        match self {
            SyncPolicy::Allow => 0,
            SyncPolicy::Warn => 1,
            SyncPolicy::LogError => 2,
            SyncPolicy::Deny => 3,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => SyncPolicy::Warn,
            2 => SyncPolicy::LogError,
            3 => SyncPolicy::Deny,
            _ => SyncPolicy::Allow,
        }
    }
}

/// A database's sync policy, shared by every handle to it.
#[derive(Debug, Default)]
pub struct SyncGate {
    policy: AtomicU8,
}

impl SyncGate {
    /// A gate with `policy`.
    pub fn new(policy: SyncPolicy) -> Self {
        SyncGate {
            policy: AtomicU8::new(policy.to_u8()),
        }
    }

    /// The current policy.
    pub fn policy(&self) -> SyncPolicy {
        SyncPolicy::from_u8(self.policy.load(Ordering::Acquire))
    }

    /// Replaces the policy; returns the previous one.
    pub fn set(&self, policy: SyncPolicy) -> SyncPolicy {
        SyncPolicy::from_u8(self.policy.swap(policy.to_u8(), Ordering::AcqRel))
    }

    /// Applies the policy to a blocking call running `sql`.
    pub fn check(&self, sql: &str) -> Result<()> {
        match self.policy() {
            SyncPolicy::Allow => Ok(()),
            SyncPolicy::Warn => {
                tracing::warn!(sql, "sync query while sync is discouraged");
                Ok(())
            }
            SyncPolicy::LogError => {
                tracing::error!(sql, "sync query while sync is not allowed");
                Ok(())
            }
            SyncPolicy::Deny => Err(Error::SyncNotAllowed(format!(
                "a blocking call ran `{}` while the database's sync policy is Deny; use the async API or Manager::allow_sync()",
                truncate(sql, 120)
            ))),
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Runs blocking work so that it completes wherever it is called from: directly on a plain
/// thread, or on a helper thread when the caller is driving a tokio runtime (where
/// blocking inside the runtime would panic or starve it).
pub fn run_blocking<F, R>(work: F) -> R
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A connection a database's sync side can own and reopen.
pub trait BlockingConnection: Sized + Send {
    /// What it takes to open one.
    type Config: Sync;
    /// Opens a connection; runs inside the sync side's own runtime.
    fn open(config: &Self::Config) -> impl std::future::Future<Output = Result<Self>>;
    /// True when the connection can no longer be used (closed by the server, left
    /// mid-statement).
    fn is_broken(&self) -> bool;

    /// The connection has an I/O task that only runs inside `block_on` and must be given
    /// a turn before each use to notice what the server sent while it was idle.
    const POLL_BEFORE_USE: bool = true;
}

struct Owned<C> {
    runtime: Option<tokio::runtime::Runtime>,
    conn: C,
}

impl<C> Drop for Owned<C> {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so dropping is safe inside async code too.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The sync side of a database: one drop-in blocking connection with its own small
/// current-thread runtime, opened on first use, replaced when broken, and guarded by the
/// database's [`SyncGate`]. Backends run their async code on it with `block_on`.
pub struct BlockingSide<C> {
    slot: std::sync::Mutex<Option<Owned<C>>>,
    /// The database's sync policy.
    pub gate: SyncGate,
}

impl<C> Default for BlockingSide<C> {
    fn default() -> Self {
        BlockingSide {
            slot: std::sync::Mutex::new(None),
            gate: SyncGate::default(),
        }
    }
}

impl<C: BlockingConnection> BlockingSide<C> {
    /// Applies the sync policy to `sql`, then runs `op` on the connection, blocking; see
    /// [`run_blocking`] for calls made on a thread that drives a runtime.
    pub fn run<R: Send>(
        &self,
        config: &C::Config,
        sql: &str,
        op: impl FnOnce(&tokio::runtime::Runtime, &mut C) -> Result<R> + Send,
    ) -> Result<R> {
        self.gate.check(sql)?;
        run_blocking(|| {
            let mut slot = match self.slot.lock() {
                Ok(slot) => slot,
                Err(poisoned) => {
                    // A panic mid-statement left the connection in an unknown state.
                    let mut slot = poisoned.into_inner();
                    *slot = None;
                    slot
                }
            };
            if let (
                true,
                Some(Owned {
                    runtime: Some(rt), ..
                }),
            ) = (C::POLL_BEFORE_USE, slot.as_ref())
            {
                // The connection's I/O only runs inside `block_on`: let it read what arrived
                // while idle (a server-side termination) before choosing to reuse it.
                rt.block_on(async {
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                });
            }
            if slot.as_ref().is_none_or(|c| c.conn.is_broken()) {
                *slot = None;
                *slot = Some(open::<C>(config)?);
            }
            match slot.as_mut() {
                Some(Owned {
                    runtime: Some(rt),
                    conn,
                }) => op(rt, conn),
                _ => Err(Error::Config(
                    "the sync connection could not be opened".into(),
                )),
            }
        })
    }

    /// Opens the connection now.
    pub fn connect(&self, config: &C::Config) -> Result<()> {
        self.run(config, "-- connect", |_, _| Ok(()))
    }

    /// Closes the connection, if open.
    pub fn close(&self) {
        let old = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(old);
    }

    /// True while the connection is open and usable.
    pub fn is_open(&self) -> bool {
        self.slot
            .lock()
            .map(|s| s.as_ref().is_some_and(|c| !c.conn.is_broken()))
            .unwrap_or(false)
    }
}

fn open<C: BlockingConnection>(config: &C::Config) -> Result<Owned<C>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Driver(Box::new(e)))?;
    let conn = rt.block_on(C::open(config))?;
    Ok(Owned {
        runtime: Some(rt),
        conn,
    })
}

impl<C> std::fmt::Debug for BlockingSide<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingSide")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_and_deny_refuses() {
        let gate = SyncGate::default();
        assert_eq!(gate.policy(), SyncPolicy::Allow);
        assert!(gate.check("SELECT 1").is_ok());
        assert_eq!(gate.set(SyncPolicy::Deny), SyncPolicy::Allow);
        let err = gate.check("SELECT 1").unwrap_err();
        assert!(matches!(err, Error::SyncNotAllowed(_)));
        assert!(err.to_string().contains("SELECT 1"));
        for p in [SyncPolicy::Warn, SyncPolicy::LogError] {
            gate.set(p);
            assert!(gate.check("SELECT 1").is_ok());
        }
    }
}

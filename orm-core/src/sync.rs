//! The sync guard: where blocking calls are allowed, logged or refused.
//!
//! peewee-async keeps sync code working ("sync will remain sync") but lets a service turn
//! blocking calls into log lines or errors once it runs async. Every database holds a
//! [`SyncGate`]; its sync side asks the gate before each blocking call.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Error, Result};

/// What a blocking call does.
///
/// ```
/// use orm_core::{SyncGate, SyncPolicy};
/// let gate = SyncGate::default();
/// assert_eq!(gate.policy(), SyncPolicy::WarnInRuntime);
/// gate.set(SyncPolicy::Deny);
/// assert!(gate.check("SELECT 1", false).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// The default: run it; on a thread inside a tokio runtime (where it blocks the tasks
    /// that thread drives) log a WARN line first. Sync code outside a runtime stays silent
    /// ("sync will remain sync"). Inside `spawn_blocking` it warns too: allow it there
    /// with [`Allow`](SyncPolicy::Allow) (or the Manager's `allow_sync`).
    #[default]
    WarnInRuntime,
    /// Run it.
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
            SyncPolicy::WarnInRuntime => 0,
            SyncPolicy::Allow => 1,
            SyncPolicy::Warn => 2,
            SyncPolicy::LogError => 3,
            SyncPolicy::Deny => 4,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => SyncPolicy::Allow,
            2 => SyncPolicy::Warn,
            3 => SyncPolicy::LogError,
            4 => SyncPolicy::Deny,
            _ => SyncPolicy::WarnInRuntime,
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

    /// Applies the policy to a blocking call running `sql`; `on_runtime` says whether the
    /// calling thread is inside an async runtime (the runtime crate knows).
    pub fn check(&self, sql: &str, on_runtime: bool) -> Result<()> {
        match self.policy() {
            SyncPolicy::Allow => Ok(()),
            SyncPolicy::WarnInRuntime if !on_runtime => Ok(()),
            SyncPolicy::WarnInRuntime => {
                tracing::warn!(
                    sql,
                    "sync query on an async runtime's thread blocks its tasks; use the async API, or allow sync explicitly"
                );
                Ok(())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_and_deny_refuses() {
        let gate = SyncGate::default();
        assert_eq!(gate.policy(), SyncPolicy::WarnInRuntime);
        assert!(gate.check("SELECT 1", false).is_ok());
        assert!(gate.check("SELECT 1", true).is_ok());
        assert_eq!(gate.set(SyncPolicy::Deny), SyncPolicy::WarnInRuntime);
        let err = gate.check("SELECT 1", false).unwrap_err();
        assert!(matches!(err, Error::SyncNotAllowed(_)));
        assert!(err.to_string().contains("SELECT 1"));
        for p in [
            SyncPolicy::Allow,
            SyncPolicy::Warn,
            SyncPolicy::LogError,
            SyncPolicy::WarnInRuntime,
        ] {
            gate.set(p);
            assert_eq!(gate.policy(), p);
            assert!(gate.check("SELECT 1", true).is_ok());
        }
    }
}

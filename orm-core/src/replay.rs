//! Replication positions, for reads that must see a write: how a primary says where its
//! log is after a write, how a replica says how far it has replayed, and how the two
//! compare. Each dialect with replicas gives one [`ReplayPositions`].

/// How to tell whether a replica has replayed a write (see
/// [`Dialect::replay_positions`](crate::Dialect::replay_positions)). Both queries answer one
/// row with a text column named `position`.
#[derive(Debug, Clone, Copy)]
pub struct ReplayPositions {
    /// Asked on the primary after a write: its position, which includes the write.
    pub written: &'static str,
    /// Asked on a replica: what it has replayed (NULL: it is not a replica, and is not
    /// sent reads that must see a write).
    pub replayed: &'static str,
    /// Whether a replica's `replayed` answer includes the primary's `written` one.
    pub includes: fn(replayed: &str, written: &str) -> bool,
}

/// PostgreSQL WAL positions (`16/B374D848`): whether `replayed` is at or past `written`.
/// An answer that is not a position includes nothing.
///
/// ```
/// use orm_core::replay::lsn_includes;
/// assert!(lsn_includes("0/3000060", "0/3000060"));
/// assert!(lsn_includes("1/0", "0/FFFFFFFF"));
/// assert!(!lsn_includes("0/2FFFFFF", "0/3000060"));
/// assert!(!lsn_includes("garbage", "0/1"));
/// ```
pub fn lsn_includes(replayed: &str, written: &str) -> bool {
    fn lsn(text: &str) -> Option<u64> {
        let (high, low) = text.trim().split_once('/')?;
        Some(u64::from_str_radix(high, 16).ok()? << 32 | u64::from_str_radix(low, 16).ok()?)
    }
    matches!((lsn(replayed), lsn(written)), (Some(r), Some(w)) if r >= w)
}

/// MariaDB GTID positions (`0-1-42,1-2-7`: domain-server-sequence, one per domain):
/// whether `replayed` has reached `written`'s sequence in each of its domains. An empty
/// `written` (no binary log yet) is included in anything.
///
/// ```
/// use orm_core::replay::gtid_includes;
/// assert!(gtid_includes("0-1-42", "0-1-42"));
/// assert!(gtid_includes("0-1-50,1-2-7", "1-2-7,0-1-42"));
/// assert!(!gtid_includes("0-1-41", "0-1-42"));
/// assert!(!gtid_includes("0-1-50", "0-1-42,1-2-7"), "domain 1 not replayed");
/// assert!(gtid_includes("", ""));
/// ```
pub fn gtid_includes(replayed: &str, written: &str) -> bool {
    fn gtids(text: &str) -> impl Iterator<Item = Option<(u32, u64)>> + '_ {
        text.split(',').filter(|g| !g.trim().is_empty()).map(|g| {
            let mut parts = g.trim().split('-');
            let domain = parts.next()?.parse().ok()?;
            let sequence = parts.nth(1)?.parse().ok()?;
            Some((domain, sequence))
        })
    }
    gtids(written).all(|w| {
        let Some((domain, sequence)) = w else {
            return false;
        };
        gtids(replayed).any(|r| matches!(r, Some((d, s)) if d == domain && s >= sequence))
    })
}

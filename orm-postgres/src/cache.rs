//! The per-connection statement cache: prepared statements by SQL text, at most
//! `capacity` of them. When full, the least recently used one is dropped, which closes it
//! on the server once no running query holds it. Without a bound, a program that builds
//! `IN (...)` lists or multi-row inserts of varying length would prepare a new statement
//! for every length and keep them all, on both sides, for the connection's life.

use orm_core::hash::FastMap;

/// Statements cached per connection unless configured otherwise.
pub const DEFAULT_CAPACITY: usize = 256;

pub(crate) struct StatementCache<S> {
    entries: FastMap<String, (S, u64)>,
    capacity: usize,
    clock: u64,
}

impl<S: Clone> StatementCache<S> {
    pub(crate) fn new(capacity: usize) -> Self {
        StatementCache {
            entries: FastMap::default(),
            capacity: capacity.max(1),
            clock: 0,
        }
    }

    /// The cached statement for `sql`, marked as just used.
    pub(crate) fn get(&mut self, sql: &str) -> Option<S> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(sql).map(|(stmt, used)| {
            *used = clock;
            stmt.clone()
        })
    }

    /// Drops the entry for `sql`, if any.
    pub(crate) fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }

    /// Caches `stmt` for `sql`, first dropping the least recently used entry if full.
    pub(crate) fn insert(&mut self, sql: &str, stmt: S) {
        if !self.entries.contains_key(sql) && self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.clock += 1;
        self.entries.insert(sql.to_owned(), (stmt, self.clock));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::StatementCache;

    #[test]
    fn keeps_at_most_capacity_and_drops_the_least_recently_used() {
        let mut cache = StatementCache::new(2);
        cache.insert("a", 1);
        cache.insert("b", 2);
        assert_eq!(cache.get("a"), Some(1)); // b is now the oldest
        cache.insert("c", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("a"), Some(1));
        assert_eq!(cache.get("c"), Some(3));
        // Replacing an entry never evicts another.
        cache.insert("c", 4);
        assert_eq!(
            (cache.len(), cache.get("a"), cache.get("c")),
            (2, Some(1), Some(4))
        );
    }

    #[test]
    fn a_capacity_of_zero_still_caches_one() {
        let mut cache = StatementCache::new(0);
        cache.insert("a", 1);
        cache.insert("b", 2);
        assert_eq!((cache.len(), cache.get("b")), (1, Some(2)));
    }
}

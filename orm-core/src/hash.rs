//! A fast hash for the ORM's own lookup keys: statement texts in a driver's statement
//! cache, model and dialect addresses in the renderer's cache, keys of prefetched rows.
//!
//! It processes eight bytes per step. The keys are the program's own statements and
//! models, in caches of bounded size, so resisting chosen collisions (what std's SipHash
//! is for) buys nothing there, and SipHash was 2 % of a one-row query's client
//! instructions.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher; see the [module docs](self).
///
/// ```
/// use orm_core::hash::FastMap;
///
/// let mut cache: FastMap<String, u32> = FastMap::default();
/// cache.insert("SELECT 1".to_owned(), 1);
/// assert_eq!(cache.get("SELECT 1"), Some(&1));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A `HashSet` with [`FastHasher`].
pub type FastSet<T> = std::collections::HashSet<T, BuildHasherDefault<FastHasher>>;

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(s)
    }

    #[test]
    fn texts_that_differ_hash_apart() {
        let texts = [
            "SELECT 1",
            "SELECT 2",
            "SELECT \"a\".\"id\" FROM \"a\" WHERE (\"a\".\"id\" = $1)",
            "SELECT \"a\".\"id\" FROM \"a\" WHERE (\"a\".\"id\" = $2)",
            "",
        ];
        let hashes: std::collections::HashSet<u64> = texts.iter().map(|t| hash(t)).collect();
        assert_eq!(hashes.len(), texts.len());
        assert_eq!(hash("SELECT 1"), hash("SELECT 1"));
    }
}

//! Deadlines of the coordinator, keyed so that re-arming one replaces it. The coordinator
//! never reads a clock: callers pass `now_ms` and ask for `next_deadline_ms` to know when to
//! call back.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

/// Upper bound on armed timers (members × a few); a larger count means a leak.
pub const TIMERS_COUNT_MAX: usize = 10_000_000;

/// Deadline queue with replace-by-key semantics.
#[derive(Debug)]
pub struct Timers<K: Ord + Hash + Clone> {
    by_deadline: BTreeSet<(u64, u64, K)>,
    by_key: HashMap<K, (u64, u64)>,
    seq: u64,
}

impl<K: Ord + Hash + Clone> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            by_deadline: BTreeSet::new(),
            by_key: HashMap::new(),
            seq: 0,
        }
    }
}

impl<K: Ord + Hash + Clone> Timers<K> {
    /// Arms `key` to fire at `deadline_ms`, replacing an earlier arming of the same key.
    pub fn arm(&mut self, key: K, deadline_ms: u64) {
        self.cancel(&key);
        self.seq += 1;
        self.by_deadline
            .insert((deadline_ms, self.seq, key.clone()));
        self.by_key.insert(key, (deadline_ms, self.seq));
        assert!(self.by_key.len() <= TIMERS_COUNT_MAX);
        assert_eq!(self.by_key.len(), self.by_deadline.len());
    }

    pub fn cancel(&mut self, key: &K) {
        if let Some((deadline_ms, seq)) = self.by_key.remove(key) {
            let removed = self.by_deadline.remove(&(deadline_ms, seq, key.clone()));
            assert!(removed);
        }
    }

    pub fn deadline_ms(&self, key: &K) -> Option<u64> {
        self.by_key.get(key).map(|(d, _)| *d)
    }

    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.by_deadline.first().map(|(d, _, _)| *d)
    }

    /// Removes and returns the earliest timer due at `now_ms`, if any.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<K> {
        let (deadline_ms, _, _) = self.by_deadline.first()?;
        if *deadline_ms > now_ms {
            return None;
        }
        let (_, _, key) = self.by_deadline.pop_first()?;
        self.by_key.remove(&key);
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearming_replaces_and_pops_in_deadline_order() {
        let mut t: Timers<&str> = Timers::default();
        t.arm("a", 30);
        t.arm("b", 10);
        t.arm("a", 5);
        assert_eq!(t.next_deadline_ms(), Some(5));
        assert_eq!(t.pop_due(4), None);
        assert_eq!(t.pop_due(100), Some("a"));
        assert_eq!(t.pop_due(100), Some("b"));
        assert_eq!(t.pop_due(100), None);
    }

    #[test]
    fn cancel_removes() {
        let mut t: Timers<u32> = Timers::default();
        t.arm(1, 10);
        t.cancel(&1);
        t.cancel(&2);
        assert_eq!(t.next_deadline_ms(), None);
        assert_eq!(t.deadline_ms(&1), None);
    }
}

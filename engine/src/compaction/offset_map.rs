//! The cleaner's bounded map from key to the offset of its latest record
//! (`log.cleaner.dedupe.buffer.size`), as Kafka's `SkimpyOffsetMap`: keys are not stored, only a
//! 128-bit hash of each (two independent SipHash keys), in an open-addressing table of fixed
//! size. Two keys whose 128-bit hashes collide would share an entry (the older of the two records
//! could then be removed); the odds are those Kafka accepts with MD5.

use std::hash::{BuildHasher, RandomState};

/// Bytes of one slot: a 128-bit key hash and an offset.
pub const SLOT_BYTES: usize = 24;
/// Fill level at which the map reports full (`log.cleaner.io.buffer.load.factor`, 0.9): linear
/// probing stays short below it.
pub const LOAD_FACTOR_PERCENT: usize = 90;
/// Smallest useful map (slots): below it a single batch may not fit.
pub const SLOTS_MIN: usize = 1024;

const EMPTY_OFFSET: i64 = i64::MIN;

#[derive(Clone, Copy)]
struct Slot {
    hash: [u64; 2],
    offset: i64,
}

const EMPTY: Slot = Slot {
    hash: [0, 0],
    offset: EMPTY_OFFSET,
};

/// Key -> latest offset, bounded. Lives on one shard (the cleaner's); reused pass after pass.
pub struct OffsetMap {
    slots: Vec<Slot>,
    entries: usize,
    entries_max: usize,
    hasher_high: RandomState,
    hasher_low: RandomState,
    /// Largest offset put since the last clear (-1 when none).
    latest_offset: i64,
}

impl OffsetMap {
    /// A map using at most `memory_bytes` (at least `SLOTS_MIN` slots).
    pub fn new(memory_bytes: usize) -> OffsetMap {
        let slot_count = (memory_bytes / SLOT_BYTES).max(SLOTS_MIN);
        let entries_max = slot_count * LOAD_FACTOR_PERCENT / 100;
        assert!(entries_max > 0);
        assert!(entries_max < slot_count, "a free slot ends every probe");
        OffsetMap {
            slots: vec![EMPTY; slot_count],
            entries: 0,
            entries_max,
            hasher_high: RandomState::new(),
            hasher_low: RandomState::new(),
            latest_offset: -1,
        }
    }

    /// Entries the map takes before it reports full.
    pub fn entries_max(&self) -> usize {
        self.entries_max
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Entries still free before the map is full.
    pub fn room(&self) -> usize {
        self.entries_max - self.entries
    }

    /// Largest offset put since the last `clear` (-1 when none).
    pub fn latest_offset(&self) -> i64 {
        self.latest_offset
    }

    pub fn clear(&mut self) {
        self.slots.fill(EMPTY);
        self.entries = 0;
        self.latest_offset = -1;
    }

    fn hash(&self, key: &[u8]) -> [u64; 2] {
        [
            self.hasher_high.hash_one(key),
            self.hasher_low.hash_one(key),
        ]
    }

    fn probe(&self, hash: [u64; 2]) -> usize {
        let mut at = (hash[0] % self.slots.len() as u64) as usize;
        // Bounded: the table is never full (entries_max < slots), so a free slot ends the walk.
        for _ in 0..self.slots.len() {
            let slot = &self.slots[at];
            if slot.offset == EMPTY_OFFSET || slot.hash == hash {
                return at;
            }
            at = (at + 1) % self.slots.len();
        }
        unreachable!("offset map has no free slot: {} entries", self.entries)
    }

    /// Records `offset` as the latest for `key`. Offsets must be put in increasing order.
    /// Panics when the map is full: callers check `room()` first.
    pub fn put(&mut self, key: &[u8], offset: i64) {
        assert!(offset >= 0);
        assert!(offset > self.latest_offset, "offsets are put in log order");
        let hash = self.hash(key);
        let at = self.probe(hash);
        if self.slots[at].offset == EMPTY_OFFSET {
            assert!(self.entries < self.entries_max, "offset map full");
            self.entries += 1;
        }
        self.slots[at] = Slot { hash, offset };
        self.latest_offset = offset;
    }

    /// The latest offset recorded for `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<i64> {
        let slot = self.slots[self.probe(self.hash(key))];
        (slot.offset != EMPTY_OFFSET).then_some(slot.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_offset_per_key_up_to_its_bound() {
        let mut map = OffsetMap::new(SLOTS_MIN * SLOT_BYTES);
        assert_eq!(map.entries_max(), SLOTS_MIN * LOAD_FACTOR_PERCENT / 100);
        let mut offset = 0;
        for round in 0..3 {
            for key in 0..100u32 {
                map.put(&key.to_be_bytes(), offset);
                offset += 1;
            }
            assert_eq!(map.len(), 100, "round {round}");
        }
        for key in 0..100u32 {
            assert_eq!(map.get(&key.to_be_bytes()), Some(200 + i64::from(key)));
        }
        assert_eq!(map.get(b"absent"), None);
        while map.room() > 0 {
            map.put(&offset.to_be_bytes(), offset);
            offset += 1;
        }
        assert_eq!(map.len(), map.entries_max());
        assert_eq!(map.latest_offset(), offset - 1);
        map.clear();
        assert!(map.is_empty());
        assert_eq!(map.get(&5u32.to_be_bytes()), None);
    }
}

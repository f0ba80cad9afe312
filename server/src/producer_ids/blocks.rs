//! The controller shard's blocks of producer ids: the one being handed out and, once it runs
//! low, the next one, fetched ahead so that InitProducerId rarely waits for the controller.
//! Pure: the service asks the controller, this only counts.

use std::collections::VecDeque;

/// Ask for the next block when this few ids are left of the current one (Kafka prefetches
/// at 90% of a 1000-id block).
pub const PREFETCH_REMAINING_IDS: i64 = 100;
/// Blocks held at once: the current one and the prefetched one.
const BLOCKS_HELD_MAX: usize = 2;

#[derive(Debug, Default)]
pub struct ProducerIdBlocks {
    /// `(next id, end)` per block, oldest first; ids `next..end` are still free.
    blocks: VecDeque<(i64, i64)>,
}

impl ProducerIdBlocks {
    /// The next free id, if any block has one.
    pub fn next_id(&mut self) -> Option<i64> {
        while let Some((next, end)) = self.blocks.front_mut() {
            if *next < *end {
                let id = *next;
                *next += 1;
                assert!(id >= 0);
                return Some(id);
            }
            self.blocks.pop_front();
        }
        None
    }

    /// True when the ids left are few enough to fetch the next block now.
    pub fn wants_block(&self) -> bool {
        let remaining: i64 = self.blocks.iter().map(|(next, end)| end - next).sum();
        remaining <= PREFETCH_REMAINING_IDS && self.blocks.len() < BLOCKS_HELD_MAX
    }

    /// Adds a block the controller committed for this broker.
    pub fn add(&mut self, first_producer_id: i64, size: i64) {
        assert!(first_producer_id >= 0);
        assert!(size > 0);
        if let Some((_, end)) = self.blocks.back() {
            assert!(first_producer_id >= *end, "blocks never overlap");
        }
        self.blocks.retain(|(next, end)| next < end);
        self.blocks
            .push_back((first_producer_id, first_producer_id + size));
        assert!(self.blocks.len() <= BLOCKS_HELD_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_in_order_and_the_next_block_is_wanted_before_the_end() {
        let mut blocks = ProducerIdBlocks::default();
        assert_eq!(blocks.next_id(), None);
        assert!(blocks.wants_block());
        blocks.add(1000, 1000);
        assert!(!blocks.wants_block());
        for expected in 1000..1900 {
            assert_eq!(blocks.next_id(), Some(expected));
        }
        assert!(blocks.wants_block(), "100 ids left");
        blocks.add(5000, 1000);
        assert!(!blocks.wants_block(), "two blocks held");
        for expected in (1900..2000).chain(5000..5003) {
            assert_eq!(blocks.next_id(), Some(expected));
        }
    }
}

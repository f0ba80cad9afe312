//! Producer-id blocks: the image keeps only where the next block starts, so blocks are
//! contiguous, never overlap, and survive every controller change.

use super::{ApplyError, MetadataImage};

impl MetadataImage {
    pub(super) fn apply_producer_ids_block(
        &mut self,
        broker_id: i32,
        broker_epoch: i64,
        first_producer_id: i64,
        size: i64,
    ) -> Result<(), ApplyError> {
        if !self.brokers.contains_key(&broker_id) {
            return Err(ApplyError::UnknownBroker(broker_id));
        }
        if broker_epoch < 0 || size <= 0 {
            return Err(ApplyError::Inconsistent(format!(
                "producer-id block of size {size} for broker {broker_id} at epoch {broker_epoch}"
            )));
        }
        if first_producer_id != self.next_producer_id_block_start {
            return Err(ApplyError::Inconsistent(format!(
                "producer-id block starts at {first_producer_id}, the next free id is {}",
                self.next_producer_id_block_start
            )));
        }
        let Some(next) = first_producer_id.checked_add(size) else {
            return Err(ApplyError::Inconsistent(
                "producer-id block overflows i64".to_string(),
            ));
        };
        assert!(next > self.next_producer_id_block_start);
        self.next_producer_id_block_start = next;
        Ok(())
    }
}

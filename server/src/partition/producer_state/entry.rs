//! One producer's state in one partition: its epoch and its last batches.

use std::collections::VecDeque;

/// Batches remembered per producer: Kafka's `NUM_BATCHES_TO_RETAIN`, which is also the most
/// requests an idempotent client keeps in flight per connection
/// (`max.in.flight.requests.per.connection` <= 5), so any batch a client may still retry is
/// remembered.
pub const BATCHES_RETAINED_PER_PRODUCER: usize = 5;

/// Where one batch of the producer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMeta {
    pub first_seq: i32,
    pub last_seq: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    /// The batch's max timestamp (the append time on a LogAppendTime topic).
    pub timestamp_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    pub producer_id: i64,
    pub epoch: i16,
    /// Oldest first, at most [`BATCHES_RETAINED_PER_PRODUCER`], all of `epoch`.
    pub batches: VecDeque<BatchMeta>,
    /// Timestamp of the last batch: what expiry (`producer.id.expiration.ms`) looks at.
    pub last_timestamp_ms: i64,
    /// First offset of the producer's ongoing transaction in this partition (Kafka's
    /// `currentTxnFirstOffset`); `None` when no transaction is open here.
    pub current_txn_first_offset: Option<i64>,
    /// Coordinator epoch of the last transaction marker written for this producer (-1: none).
    pub coordinator_epoch: i32,
}

/// `coordinator_epoch` of a producer that never had a marker.
pub const NO_COORDINATOR_EPOCH: i32 = -1;

impl ProducerEntry {
    pub fn new(producer_id: i64, epoch: i16) -> ProducerEntry {
        assert!(producer_id >= 0);
        ProducerEntry {
            producer_id,
            epoch,
            batches: VecDeque::with_capacity(BATCHES_RETAINED_PER_PRODUCER),
            last_timestamp_ms: i64::MIN,
            current_txn_first_offset: None,
            coordinator_epoch: NO_COORDINATOR_EPOCH,
        }
    }

    /// The last sequence of the last batch, if any batch is remembered.
    pub fn last_seq(&self) -> Option<i32> {
        self.batches.back().map(|batch| batch.last_seq)
    }

    /// A remembered batch with exactly this sequence range.
    pub fn find(&self, first_seq: i32, last_seq: i32) -> Option<&BatchMeta> {
        self.batches
            .iter()
            .find(|batch| batch.first_seq == first_seq && batch.last_seq == last_seq)
    }

    /// Records a batch of `epoch`: a new epoch starts a new batch history.
    pub fn push(&mut self, epoch: i16, batch: BatchMeta) {
        assert!(batch.first_offset <= batch.last_offset);
        if epoch != self.epoch {
            self.epoch = epoch;
            self.batches.clear();
        }
        if let Some(previous) = self.batches.back() {
            assert!(
                previous.last_offset < batch.first_offset,
                "producer {} batches out of offset order",
                self.producer_id
            );
        }
        if self.batches.len() == BATCHES_RETAINED_PER_PRODUCER {
            self.batches.pop_front();
        }
        self.batches.push_back(batch);
        self.last_timestamp_ms = self.last_timestamp_ms.max(batch.timestamp_ms);
        assert!(self.batches.len() <= BATCHES_RETAINED_PER_PRODUCER);
    }
}

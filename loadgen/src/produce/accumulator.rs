//! Per-partition batching for one producer: records go into an open batch per partition;
//! a batch is sealed when it reaches `batch_bytes` or has lingered `linger_us`.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::Result;
use sluice_kafka_client::{BatchBuilder, Codec, ProducerStamp};

/// A batch ready to send (or re-send after a retriable error).
#[derive(Debug)]
pub struct SealedBatch {
    pub partition: u32,
    pub records: Bytes,
    pub sequence_first: u64,
    pub count: u32,
    pub value_bytes: u64,
    /// Per record: the time latency is measured from (intended send time in rate mode).
    pub created_us: Vec<u64>,
    pub attempts: u32,
    /// The producer's transaction this batch belongs to (its number), if transactional.
    pub transaction: Option<u64>,
}

struct OpenBatch {
    builder: BatchBuilder,
    sequence_first: u64,
    created_us: Vec<u64>,
    value_bytes: u64,
    opened_us: u64,
}

pub struct Accumulator {
    codec: Codec,
    batch_bytes: usize,
    linger_us: u64,
    open: Vec<Option<OpenBatch>>,
    /// Next sequence per partition (sequences count per producer and partition).
    sequence_next: Vec<u64>,
    /// An idempotent producer's id and epoch, stamped into every batch with its sequence.
    producer: Option<(i64, i16)>,
    /// Per partition, the loadgen sequence that is wire sequence 0 of the current epoch:
    /// a new epoch (after a failed transaction) starts its wire sequences at 0 again, while
    /// the sequences in values keep counting (they identify messages for `--verify`).
    wire_sequence_base: Vec<u64>,
    /// Batches are transactional, part of this transaction (the producer's count).
    transaction: Option<u64>,
    /// (opened_us, partition) in opening order: linger deadlines are in the same order.
    lingering: VecDeque<(u64, u32)>,
    pub sealed: VecDeque<SealedBatch>,
}

impl Accumulator {
    pub fn new(partitions: u32, codec: Codec, batch_bytes: usize, linger_us: u64) -> Self {
        assert!(partitions > 0);
        assert!(batch_bytes > 0);
        Self {
            codec,
            batch_bytes,
            linger_us,
            open: (0..partitions).map(|_| None).collect(),
            sequence_next: vec![0; partitions as usize],
            producer: None,
            wire_sequence_base: vec![0; partitions as usize],
            transaction: None,
            lingering: VecDeque::new(),
            sealed: VecDeque::new(),
        }
    }

    /// Stamps every batch sealed from now on as an idempotent producer's (before any record).
    pub fn set_producer(&mut self, producer_id: i64, producer_epoch: i16) {
        assert!(producer_id >= 0);
        assert!(
            self.sequence_next.iter().all(|s| *s == 0),
            "set before the first record"
        );
        self.producer = Some((producer_id, producer_epoch));
    }

    /// A new epoch of the same producer (InitProducerId again, after a failed transaction):
    /// wire sequences restart at 0 in every partition. Only between batches.
    pub fn restart_sequences(&mut self, producer_id: i64, producer_epoch: i16) {
        assert!(
            self.producer.is_some(),
            "restart of an idempotent producer only"
        );
        assert!(
            self.open.iter().all(Option::is_none),
            "no batch open across epochs"
        );
        self.producer = Some((producer_id, producer_epoch));
        self.wire_sequence_base.clone_from(&self.sequence_next);
    }

    /// Every batch opened from now on is part of transaction `n` (transactional producers
    /// only; between transactions, every batch is sealed).
    pub fn begin_transaction(&mut self, n: u64) {
        assert!(
            self.producer.is_some(),
            "a transactional producer is idempotent"
        );
        assert!(
            self.open.iter().all(Option::is_none),
            "a batch open across transactions"
        );
        assert!(self.transaction.is_none_or(|previous| previous < n));
        self.transaction = Some(n);
    }

    pub fn next_sequence(&self, partition: u32) -> u64 {
        self.sequence_next[partition as usize]
    }

    /// Appends one record; returns true if this sealed the partition's batch.
    pub fn append(
        &mut self,
        partition: u32,
        created_us: u64,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value_head: &[u8],
        value_tail: &[u8],
    ) -> Result<bool> {
        let p = partition as usize;
        let record_bytes =
            BatchBuilder::record_size_bytes(key, value_head.len() + value_tail.len());
        if let Some(open) = &self.open[p] {
            if open.builder.size_bytes() + record_bytes > self.batch_bytes {
                self.seal(partition)?;
            }
        }
        let slot = &mut self.open[p];
        let open = slot.get_or_insert_with(|| {
            self.lingering.push_back((created_us, partition));
            OpenBatch {
                builder: BatchBuilder::new(self.batch_bytes),
                sequence_first: self.sequence_next[p],
                created_us: Vec::new(),
                value_bytes: 0,
                opened_us: created_us,
            }
        });
        open.builder
            .append(timestamp_ms, key, value_head, value_tail);
        open.created_us.push(created_us);
        open.value_bytes += (value_head.len() + value_tail.len()) as u64;
        self.sequence_next[p] += 1;
        if open.builder.size_bytes() + record_bytes > self.batch_bytes {
            self.seal(partition)?;
            return Ok(true);
        }
        Ok(false)
    }

    pub fn seal(&mut self, partition: u32) -> Result<()> {
        let Some(mut open) = self.open[partition as usize].take() else {
            return Ok(());
        };
        let count = open.builder.record_count();
        assert!(count > 0, "an open batch holds a record");
        assert_eq!(
            open.sequence_first + count as u64,
            self.sequence_next[partition as usize]
        );
        let wire_base = self.wire_sequence_base[partition as usize];
        assert!(
            open.sequence_first >= wire_base,
            "a batch older than its epoch"
        );
        let transactional = self.transaction.is_some();
        let stamp = self
            .producer
            .map(|(producer_id, producer_epoch)| ProducerStamp {
                producer_id,
                producer_epoch,
                // Kafka's sequences wrap from i32::MAX to 0.
                base_sequence: ((open.sequence_first - wire_base) % (i32::MAX as u64 + 1)) as i32,
                transactional,
            });
        let records = open.builder.seal_stamped(self.codec, stamp)?;
        self.sealed.push_back(SealedBatch {
            partition,
            records,
            sequence_first: open.sequence_first,
            count,
            value_bytes: open.value_bytes,
            created_us: open.created_us,
            attempts: 0,
            transaction: self.transaction,
        });
        Ok(())
    }

    /// Seals every batch that has lingered long enough by `now_us`.
    pub fn seal_expired(&mut self, now_us: u64) -> Result<()> {
        while let Some(&(opened_us, partition)) = self.lingering.front() {
            if opened_us + self.linger_us > now_us {
                break;
            }
            self.lingering.pop_front();
            // The entry may be stale: that batch was sealed by size and a new one opened.
            let same = self.open[partition as usize]
                .as_ref()
                .is_some_and(|o| o.opened_us == opened_us);
            if same {
                self.seal(partition)?;
            }
        }
        Ok(())
    }

    /// The earliest time a linger deadline falls due, if any batch is open.
    pub fn next_deadline_us(&self) -> Option<u64> {
        self.lingering
            .front()
            .map(|(opened, _)| opened + self.linger_us)
    }

    pub fn seal_all(&mut self) -> Result<()> {
        for p in 0..self.open.len() as u32 {
            self.seal(p)?;
        }
        self.lingering.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: [u8; 100] = [7u8; 100];

    #[test]
    fn seals_by_size_without_exceeding_batch_bytes() {
        let mut acc = Accumulator::new(2, Codec::None, 1024, 1_000_000);
        let mut sealed_by_append = 0;
        for i in 0..50 {
            if acc
                .append(0, i, 0, None, &VALUE[..28], &VALUE[28..])
                .expect("append")
            {
                sealed_by_append += 1;
            }
        }
        assert!(sealed_by_append >= 5);
        assert_eq!(acc.sealed.len(), sealed_by_append);
        let mut sequence = 0;
        for b in &acc.sealed {
            assert!(b.records.len() <= 1024, "batch {} bytes", b.records.len());
            assert_eq!(
                b.sequence_first, sequence,
                "batches carry consecutive sequences"
            );
            assert_eq!(b.created_us.len() as u32, b.count);
            sequence += b.count as u64;
        }
        acc.seal_all().expect("seal all");
        let total: u32 = acc.sealed.iter().map(|b| b.count).sum();
        assert_eq!(total, 50);
        assert_eq!(acc.next_sequence(0), 50);
        assert_eq!(acc.next_sequence(1), 0);
    }

    #[test]
    fn seals_by_linger() {
        let mut acc = Accumulator::new(4, Codec::None, 1 << 20, 500);
        acc.append(1, 100, 0, None, &VALUE, &[]).expect("append");
        acc.append(3, 300, 0, None, &VALUE, &[]).expect("append");
        acc.append(1, 350, 0, None, &VALUE, &[]).expect("append");
        assert_eq!(acc.next_deadline_us(), Some(600));
        acc.seal_expired(599).expect("seal");
        assert!(acc.sealed.is_empty());
        acc.seal_expired(600).expect("seal");
        assert_eq!(acc.sealed.len(), 1);
        assert_eq!(acc.sealed[0].partition, 1);
        assert_eq!(acc.sealed[0].count, 2);
        acc.seal_expired(10_000).expect("seal");
        assert_eq!(acc.sealed.len(), 2);
        assert_eq!(acc.next_deadline_us(), None);
    }

    #[test]
    fn transactional_batches_carry_their_transaction_and_restart_wire_sequences() {
        let mut acc = Accumulator::new(2, Codec::None, 1 << 20, 1_000);
        acc.set_producer(42, 0);
        acc.begin_transaction(0);
        for _ in 0..3 {
            acc.append(1, 0, 0, None, &VALUE, &[]).expect("append");
        }
        acc.seal_all().expect("seal");
        let header = |b: &SealedBatch| sluice_batch::parse_header(&b.records).expect("header");
        let first = acc.sealed.pop_front().expect("sealed");
        assert_eq!(first.transaction, Some(0));
        let h = header(&first);
        assert!(h.is_transactional());
        assert!(!h.is_control());
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (42, 0, 0)
        );

        // A failed transaction: the next epoch starts at wire sequence 0, values go on at 3.
        acc.restart_sequences(42, 1);
        acc.begin_transaction(1);
        acc.append(1, 0, 0, None, &VALUE, &[]).expect("append");
        acc.seal_all().expect("seal");
        let second = acc.sealed.pop_front().expect("sealed");
        assert_eq!((second.transaction, second.sequence_first), (Some(1), 3));
        let h = header(&second);
        assert_eq!((h.producer_epoch, h.base_sequence), (1, 0));
    }

    #[test]
    fn a_record_larger_than_batch_bytes_still_gets_a_batch() {
        let mut acc = Accumulator::new(1, Codec::Lz4, 64, 1_000);
        let big = [1u8; 300];
        assert!(acc
            .append(0, 0, 0, Some(b"k"), &big[..28], &big[28..])
            .expect("append"));
        assert_eq!(acc.sealed.len(), 1);
        assert_eq!(acc.sealed[0].count, 1);
    }
}

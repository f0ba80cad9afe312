//! `Partition`: one partition on the shard that owns it. It holds the engine log and the
//! partition state Kafka keeps next to it: the log start offset, the high watermark, the leader
//! epoch, replica/ISR state, producer state, and the transactions (`txn.rs`: markers, the last
//! stable offset, read_committed reads). Produce, Fetch, ListOffsets and the group coordinator's offsets
//! partitions all go through it. Lives on its owner shard only (not `Send`).
//!
//! # The high watermark
//!
//! Consumers read below the high watermark only. It is the minimum **durable** (fdatasynced)
//! log end over the in-sync replicas (see `sluice_replica::leader`): on a partition with one
//! replica, the leader's flushed offset. The log end can be ahead of it by what was appended
//! (acks=0/1) but is not yet durable on every ISR member; a crash could take that back and
//! reuse its offsets for other data, so no consumer may have seen it. An offset a consumer has
//! seen never later holds anything else.
//!
//! The cost is latency, not throughput: a fetch waiting for data past the high watermark asks
//! for a flush (a group commit shared with every other waiter and acks=all producer on the
//! shard), and followers fetch again as soon as they have synced what they got.
//!
//! # Roles
//!
//! The metadata decides the role ([`Partition::become_leader`], [`Partition::become_follower`];
//! see `replica.rs`). A leader stamps its epoch into every batch and keeps its followers'
//! progress; a follower only takes batches from its leader (`follower.rs`) and refuses
//! clients' appends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;
use glommio::sync::Semaphore;
use sluice_engine::{AppendInfo, LogError, PartitionLog, ReadError, ReadResult, TimestampType};

use super::producer_append::{self, AppendOrigin, PartitionAppendError};
use super::producer_state::{snapshot, CheckOrigin, ProducerError, ProducerStates, NO_SEQUENCE};
use super::replica::ReplicaRole;

/// The leader epoch of a partition that has never had another leader (one node).
pub const LEADER_EPOCH_INITIAL: i32 = 0;

pub struct Partition {
    topic: String,
    index: i32,
    log: Rc<PartitionLog>,
    leader_epoch: Cell<i32>,
    pub(super) role: RefCell<ReplicaRole>,
    /// Every producer id that wrote here (see `producer_append.rs`).
    pub(super) producers: RefCell<ProducerStates>,
    /// One append at a time, from the producer check to the producer record (markers too).
    pub(super) append_turn: Semaphore,
}

impl Partition {
    /// Wraps an open log, with its producer state loaded from its snapshot and batch headers.
    pub async fn open(log: Rc<PartitionLog>) -> Result<Partition, LogError> {
        let producers = producer_append::load(&log).await?;
        let partition = Partition::new(log);
        *partition.producers.borrow_mut() = producers;
        Ok(partition)
    }

    /// Wraps an open log with no producer state. The leader epoch continues from the log's
    /// leader-epoch checkpoint.
    pub fn new(log: Rc<PartitionLog>) -> Partition {
        let leader_epoch = log
            .leader_epochs()
            .latest_epoch()
            .unwrap_or(LEADER_EPOCH_INITIAL);
        assert!(leader_epoch >= LEADER_EPOCH_INITIAL);
        log.set_leader_epoch(leader_epoch);
        let partition = Partition {
            topic: log.topic().to_string(),
            index: log.partition(),
            log,
            leader_epoch: Cell::new(leader_epoch),
            role: RefCell::new(ReplicaRole::Sole),
            producers: RefCell::new(ProducerStates::default()),
            append_turn: Semaphore::new(1),
        };
        partition.check_offsets();
        partition
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn index(&self) -> i32 {
        self.index
    }

    pub fn log(&self) -> &Rc<PartitionLog> {
        &self.log
    }

    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch.get()
    }

    /// The leader epoch this replica is in (set by the role changes in `replica.rs`).
    pub(super) fn set_leader_epoch(&self, epoch: i32) {
        assert!(epoch >= self.leader_epoch.get());
        self.leader_epoch.set(epoch);
    }

    /// Runs `f` on the producer state (followers record replicated batches; truncation
    /// reloads it).
    pub(super) fn producers_mut<R>(&self, f: impl FnOnce(&mut ProducerStates) -> R) -> R {
        f(&mut self.producers.borrow_mut())
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log.log_start_offset()
    }

    pub fn log_end_offset(&self) -> i64 {
        self.log.log_end_offset()
    }

    /// The first offset consumers cannot read yet (see the module doc). On a leader, moving
    /// it up to what every in-sync replica made durable happens here.
    pub fn high_watermark(&self) -> i64 {
        let flushed = self.log.flushed_offset();
        let end = self.log.log_end_offset();
        let high_watermark = self.role.borrow_mut().high_watermark(flushed, end);
        assert!(high_watermark <= end);
        high_watermark
    }

    /// Every offset below this is durable here (fdatasynced).
    pub fn flushed_offset(&self) -> i64 {
        self.log.flushed_offset()
    }

    /// True when data is appended but not yet readable (waiting for a flush).
    pub fn has_unflushed_data(&self) -> bool {
        self.log.needs_flush()
    }

    /// Appends a producer's batches (see `PartitionLog::append` for the contract), after
    /// checking their producer ids, epochs and sequences, and their transactions: a client's
    /// batch that would start a transaction here is refused with `NeedsTxnVerification`
    /// (and a token) unless `origin` carries the matching token (KIP-890). A retry of one of
    /// a producer's last batches appends nothing and answers with the first append's offsets.
    pub async fn append(
        &self,
        batches: &[Bytes],
        origin: AppendOrigin,
        now_ms: i64,
    ) -> Result<AppendInfo, PartitionAppendError> {
        self.role.borrow().check_appendable()?;
        let call = producer_append::call_batches(batches);
        let Ok(_turn) = self.append_turn.acquire_permit(1).await else {
            let closed = LogError::Closed {
                name: format!("{}-{}", self.topic, self.index),
            };
            return Err(sluice_engine::AppendError::Storage(closed).into());
        };
        let producers: Vec<_> = call.iter().map(|batch| batch.producer).collect();
        let check_origin = match origin {
            AppendOrigin::Client { verification } => CheckOrigin::Client { verification },
            AppendOrigin::Coordinator => CheckOrigin::Coordinator,
        };
        let checked = self.producers.borrow().check(&producers, check_origin);
        let checked = match checked {
            Err(ProducerError::NeedsVerification {
                producer_id, epoch, ..
            }) => {
                let token =
                    self.producers
                        .borrow_mut()
                        .verification_token(producer_id, epoch, now_ms);
                return Err(PartitionAppendError::NeedsTxnVerification {
                    producer_id,
                    epoch,
                    token,
                });
            }
            checked => checked?,
        };
        if let Some(duplicate) = checked {
            let log_append_time = self.log.config().timestamp_type == TimestampType::LogAppendTime;
            assert!(duplicate.last_offset < self.log_end_offset());
            return Ok(producer_append::duplicate_info(&duplicate, log_append_time));
        }
        // The role may have changed while we waited for our turn.
        self.role.borrow().check_appendable()?;
        let end_before = self.log_end_offset();
        let active_before = self.log.active_segment_base();
        let info = self.log.append(batches, now_ms).await?;
        assert!(info.base_offset >= end_before);
        assert!(info.last_offset >= info.base_offset);
        assert!(self.log_end_offset() > info.last_offset);
        let rolled = self.log.active_segment_base() != active_before;
        if rolled && self.log.active_segment_base() == info.base_offset {
            // The state before this call is the state at the new segment's base.
            let bytes = snapshot::encode(&self.producers.borrow());
            producer_append::write_snapshot(&self.log, bytes, info.base_offset).await;
        }
        let aborted = producer_append::record(&mut self.producers.borrow_mut(), &call, &info);
        assert!(aborted.is_empty(), "clients write no markers");
        self.check_offsets();
        Ok(info)
    }

    /// Writes the producer snapshot at the log end (clean close: the next open reads no
    /// batch headers). No append may run after it.
    pub async fn snapshot_producers(&self) {
        let Ok(_turn) = self.append_turn.acquire_permit(1).await else {
            return;
        };
        let bytes = snapshot::encode(&self.producers.borrow());
        producer_append::write_snapshot(&self.log, bytes, self.log_end_offset()).await;
    }

    /// Forgets producers idle for `expiration_ms` (`producer.id.expiration.ms`).
    pub fn expire_producers(&self, now_ms: i64, expiration_ms: i64) -> usize {
        self.producers.borrow_mut().expire(now_ms, expiration_ms)
    }

    /// Every producer this partition remembers, by producer id (DescribeProducers).
    pub fn producer_views(&self) -> Vec<super::messages::ProducerView> {
        let producers = self.producers.borrow();
        let mut views: Vec<_> = producers
            .entries()
            .map(|entry| super::messages::ProducerView {
                producer_id: entry.producer_id,
                epoch: entry.epoch,
                last_sequence: entry.last_seq().unwrap_or(NO_SEQUENCE),
                last_timestamp_ms: entry.last_timestamp_ms,
                coordinator_epoch: entry.coordinator_epoch,
                current_txn_start_offset: entry.current_txn_first_offset.unwrap_or(-1),
            })
            .collect();
        views.sort_by_key(|view| view.producer_id);
        views
    }

    /// How many producers this partition remembers.
    pub fn producer_count(&self) -> usize {
        self.producers.borrow().len()
    }

    /// Makes everything appended so far durable, and so readable; returns the high watermark.
    pub async fn flush(&self) -> Result<i64, LogError> {
        let before = self.high_watermark();
        self.log.flush().await?;
        let after = self.high_watermark();
        assert!(
            after >= before,
            "the high watermark went back: {before} -> {after}"
        );
        self.check_offsets();
        Ok(after)
    }

    /// Reads whole batches from `offset` up to the high watermark.
    pub async fn read(&self, offset: i64, max_bytes: u32) -> Result<ReadResult, ReadError> {
        let high_watermark = self.high_watermark();
        self.log.read(offset, max_bytes, high_watermark).await
    }

    /// log start ≤ high watermark ≤ log end, always.
    fn check_offsets(&self) {
        let start = self.log_start_offset();
        let high_watermark = self.high_watermark();
        let end = self.log_end_offset();
        assert!(
            start <= end,
            "{}-{}: log start {start} > log end {end}",
            self.topic,
            self.index
        );
        assert!(
            high_watermark <= end,
            "{}-{}: high watermark {high_watermark} > log end {end}",
            self.topic,
            self.index
        );
    }
}

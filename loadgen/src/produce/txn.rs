//! A transactional producer's transactions (`--transactional`): which one is open, how many
//! records it holds, which partitions it added, how each one ended, and the coordinator calls
//! that begin and end them (through `sluice_kafka_client::TxnCoordinator`).
//!
//! The order is the Java client's: a partition joins the transaction (AddPartitionsToTxn)
//! before its first batch is sent; once a transaction holds `records` records, every batch is
//! sealed, sent and acknowledged, then EndTxn commits it. A transaction with a batch that
//! failed (or whose fate is unknown) is aborted instead, and the producer takes a new epoch
//! (InitProducerId again) so its sequences start over, as Kafka's client does after an
//! abortable error. `--abort-every K` aborts every K-th transaction on purpose.
//!
//! Lives on its producer thread; never shared.

use std::collections::HashMap;
use std::time::Duration;

use super::outcome::{TxnCounts, Window};
use crate::clock;
use sluice_kafka_client::ConnectOptions;

use crate::error::Result;
use crate::stats;
use crate::verify::checker::{AckedBatch, TxnMark};
use sluice_kafka_client::{TxnCoordinator, TxnPartitions};

/// How long one coordinator call may keep retrying retriable answers.
const COORDINATOR_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What `--transactional` asks of every producer.
#[derive(Debug, Clone)]
pub struct TxnSpec {
    /// Producer `i`'s transactional id is `{id_prefix}-{i}`; unique per run.
    pub id_prefix: String,
    /// Records per transaction.
    pub records: u32,
    pub timeout_ms: i32,
    /// Abort every K-th transaction (0: never).
    pub abort_every: u32,
}

/// Whether transaction number `n` (from 0) is to be committed when nothing failed.
pub fn planned_commit(n: u64, abort_every: u32) -> bool {
    abort_every == 0 || !(n + 1).is_multiple_of(u64::from(abort_every))
}

/// The outcome of a history batch once every transaction ended: a transaction without an
/// answered EndTxn is unknown.
pub fn resolve(batch: &mut AckedBatch, ended: &HashMap<u64, TxnMark>) {
    if let TxnMark::Pending(n) = batch.txn {
        batch.txn = ended.get(&n).copied().unwrap_or(TxnMark::Unknown);
    }
}

pub struct TxnRun {
    coordinator: TxnCoordinator,
    topic: String,
    records_max: u32,
    abort_every: u32,
    message_bytes: u64,
    /// The open transaction's number and the records generated in it so far.
    pub number: u64,
    pub records: u32,
    pub partitions: TxnPartitions,
    /// `failed_batches` when the open transaction began.
    pub failed_at_begin: u64,
    ended: HashMap<u64, TxnMark>,
    pub counts: TxnCounts,
}

impl TxnRun {
    /// FindCoordinator and InitProducerId for producer `index`; returns the run and the
    /// producer id and epoch to stamp into batches.
    pub fn init(
        spec: &TxnSpec,
        bootstrap: &str,
        connect: &ConnectOptions,
        topic: &str,
        index: u32,
        message_bytes: usize,
    ) -> Result<(TxnRun, (i64, i16))> {
        assert!(spec.records > 0, "a transaction holds at least one record");
        let id = format!("{}-{index}", spec.id_prefix);
        let mut coordinator = TxnCoordinator::new(
            bootstrap,
            connect,
            &id,
            spec.timeout_ms,
            COORDINATOR_OPERATION_TIMEOUT,
        );
        let producer = coordinator.init_producer_id()?;
        let run = TxnRun {
            coordinator,
            topic: topic.to_string(),
            records_max: spec.records,
            abort_every: spec.abort_every,
            message_bytes: message_bytes as u64,
            number: 0,
            records: 0,
            partitions: TxnPartitions::default(),
            failed_at_begin: 0,
            ended: HashMap::new(),
            counts: TxnCounts::new(),
        };
        Ok((run, producer))
    }

    /// The error that ends the run after a fatal answer to `op`.
    pub fn fatal(&self, op: &'static str, code: i16) -> sluice_kafka_client::Error {
        sluice_kafka_client::Error::Transaction {
            transactional_id: self.coordinator.transactional_id().to_string(),
            op,
            code,
            hint: sluice_kafka_client::txn::fatal_hint(code),
        }
    }

    pub fn transactional_id(&self) -> &str {
        self.coordinator.transactional_id()
    }

    /// Records the open transaction may still take.
    pub fn room(&self) -> u32 {
        self.records_max - self.records
    }

    /// AddPartitionsToTxn for those of `partitions` the transaction does not have yet.
    pub fn add(&mut self, partitions: impl IntoIterator<Item = u32>) -> Result<()> {
        let missing = self.partitions.missing(partitions);
        if missing.is_empty() {
            return Ok(());
        }
        self.coordinator.add_partitions(&self.topic, &missing)?;
        self.partitions.added(&missing);
        Ok(())
    }

    /// Ends the open transaction (every batch of it acknowledged or failed): commits it
    /// unless `failed` or `--abort-every` says abort. Returns a new (producer id, epoch) when
    /// the producer had to take a new epoch. A transaction with no partition (no record) ends
    /// without a call.
    pub fn end(&mut self, failed: bool, window: &Window) -> Result<Option<(i64, i16)>> {
        let commit = !failed && planned_commit(self.number, self.abort_every);
        if !self.partitions.is_empty() {
            let started_us = clock::now_us();
            let ended = self.coordinator.end(commit);
            self.counts.coordinator_retries = self.coordinator.retries;
            ended?;
            let answered_us = clock::now_us();
            let mark = if commit {
                TxnMark::Committed
            } else {
                TxnMark::Aborted
            };
            self.ended.insert(self.number, mark);
            if commit {
                self.counted_commit(started_us, answered_us, window);
            } else {
                self.counts.aborted += 1;
                self.counts.aborted_after_failure += u64::from(failed);
            }
        }
        self.partitions.clear();
        self.number += 1;
        self.records = 0;
        if failed {
            return Ok(Some(self.coordinator.init_producer_id()?));
        }
        Ok(None)
    }

    fn counted_commit(&mut self, started_us: u64, answered_us: u64, window: &Window) {
        let records = u64::from(self.records);
        self.counts.committed += 1;
        self.counts.committed_msgs += records;
        if window.in_measurement(answered_us) {
            self.counts.measured_commits += 1;
            self.counts.measured_committed_msgs += records;
            self.counts.measured_committed_bytes += records * self.message_bytes;
        }
        if started_us >= window.warm_end_us {
            stats::record(
                &mut self.counts.commit_latency_us,
                answered_us.saturating_sub(started_us),
            );
        }
    }

    /// Marks every batch of `history` with how its transaction ended.
    pub fn resolve_all(&self, history: &mut [AckedBatch]) {
        for batch in history {
            resolve(batch, &self.ended);
        }
    }

    pub fn take_counts(&mut self) -> TxnCounts {
        self.counts.coordinator_retries = self.coordinator.retries;
        std::mem::replace(&mut self.counts, TxnCounts::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_every_k_aborts_the_kth_transactions() {
        let plan: Vec<bool> = (0..6).map(|n| planned_commit(n, 3)).collect();
        assert_eq!(plan, [true, true, false, true, true, false]);
        assert!((0..100).all(|n| planned_commit(n, 0)), "0 never aborts");
        assert!((0..10).all(|n| !planned_commit(n, 1)), "1 aborts them all");
    }

    #[test]
    fn history_learns_how_each_transaction_ended() {
        let batch = |txn| AckedBatch {
            partition: 0,
            producer_id: 1,
            sequence_first: 0,
            count: 1,
            offset_first: Some(0),
            txn,
        };
        let ended = HashMap::from([(0, TxnMark::Committed), (1, TxnMark::Aborted)]);
        let mut history = [
            batch(TxnMark::Pending(0)),
            batch(TxnMark::Pending(1)),
            batch(TxnMark::Pending(2)),
            batch(TxnMark::None),
        ];
        for b in &mut history {
            resolve(b, &ended);
        }
        let marks: Vec<TxnMark> = history.iter().map(|b| b.txn).collect();
        assert_eq!(
            marks,
            [
                TxnMark::Committed,
                TxnMark::Aborted,
                TxnMark::Unknown,
                TxnMark::None
            ]
        );
    }
}

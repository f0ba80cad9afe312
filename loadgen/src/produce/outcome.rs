//! What one producer (or all of them, merged) achieved.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

use crate::stats::new_latency_histogram;
use crate::verify::checker::AckedBatch;

/// Live counters for the progress bar, shared by every producer and consumer thread.
#[derive(Default)]
pub struct LiveCounters {
    pub produced_msgs: AtomicU64,
    pub produced_bytes: AtomicU64,
    pub consumed_msgs: AtomicU64,
    pub consumed_bytes: AtomicU64,
}

impl LiveCounters {
    pub fn add_produced(&self, msgs: u64, bytes: u64) {
        self.produced_msgs.fetch_add(msgs, Ordering::Relaxed);
        self.produced_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn add_consumed(&self, msgs: u64, bytes: u64) {
        self.consumed_msgs.fetch_add(msgs, Ordering::Relaxed);
        self.consumed_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// The measurement window on the monotonic clock: warm-up is [start, warm_end).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start_us: u64,
    pub warm_end_us: u64,
    pub end_us: u64,
}

impl Window {
    pub fn measured_s(&self) -> f64 {
        (self.end_us - self.warm_end_us) as f64 / 1e6
    }

    pub fn in_measurement(&self, t_us: u64) -> bool {
        t_us >= self.warm_end_us && t_us < self.end_us
    }
}

pub struct ProduceOutcome {
    /// Records appended to batches and written to a socket.
    pub sent_msgs: u64,
    /// Acked (or, with acks=0, written) in total, and inside the measurement window.
    pub acked_msgs: u64,
    pub acked_bytes: u64,
    pub measured_msgs: u64,
    pub measured_bytes: u64,
    /// Rejected for good (non-retriable error, or retries exhausted).
    pub failed_msgs: u64,
    /// Sent on a connection that broke before the answer: may or may not be stored.
    pub indeterminate_msgs: u64,
    pub retried_batches: u64,
    pub error_codes: BTreeMap<i16, u64>,
    /// Produce → ack latency of records created inside the measurement window.
    pub latency_us: Histogram<u64>,
    pub history: Vec<AckedBatch>,
    /// Transactional producers only.
    pub transactions: TxnCounts,
}

/// What transactional producers ended, and how long their commits took.
pub struct TxnCounts {
    pub committed: u64,
    pub aborted: u64,
    /// Aborted because a batch failed (the rest were asked for, `--abort-every`).
    pub aborted_after_failure: u64,
    /// Records and value bytes of committed transactions, in total and those whose EndTxn
    /// answered inside the measurement window.
    pub committed_msgs: u64,
    pub measured_committed_msgs: u64,
    pub measured_committed_bytes: u64,
    pub measured_commits: u64,
    /// EndTxn(commit) round trips that started inside the measurement window.
    pub commit_latency_us: Histogram<u64>,
    /// Retriable coordinator answers (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS,
    /// NOT_COORDINATOR, ...) that were retried.
    pub coordinator_retries: u64,
}

impl TxnCounts {
    pub fn new() -> Self {
        Self {
            committed: 0,
            aborted: 0,
            aborted_after_failure: 0,
            committed_msgs: 0,
            measured_committed_msgs: 0,
            measured_committed_bytes: 0,
            measured_commits: 0,
            commit_latency_us: new_latency_histogram(),
            coordinator_retries: 0,
        }
    }

    /// Both histograms share bounds, so adding cannot fail.
    pub fn merge(&mut self, other: &TxnCounts) {
        self.committed += other.committed;
        self.aborted += other.aborted;
        self.aborted_after_failure += other.aborted_after_failure;
        self.committed_msgs += other.committed_msgs;
        self.measured_committed_msgs += other.measured_committed_msgs;
        self.measured_committed_bytes += other.measured_committed_bytes;
        self.measured_commits += other.measured_commits;
        self.coordinator_retries += other.coordinator_retries;
        let added = self.commit_latency_us.add(&other.commit_latency_us);
        assert!(
            added.is_ok(),
            "commit latency histograms share their bounds"
        );
    }
}

impl ProduceOutcome {
    pub fn new() -> Self {
        Self {
            sent_msgs: 0,
            acked_msgs: 0,
            acked_bytes: 0,
            measured_msgs: 0,
            measured_bytes: 0,
            failed_msgs: 0,
            indeterminate_msgs: 0,
            retried_batches: 0,
            error_codes: BTreeMap::new(),
            latency_us: new_latency_histogram(),
            history: Vec::new(),
            transactions: TxnCounts::new(),
        }
    }

    pub fn merge(&mut self, other: ProduceOutcome) {
        self.sent_msgs += other.sent_msgs;
        self.acked_msgs += other.acked_msgs;
        self.acked_bytes += other.acked_bytes;
        self.measured_msgs += other.measured_msgs;
        self.measured_bytes += other.measured_bytes;
        self.failed_msgs += other.failed_msgs;
        self.indeterminate_msgs += other.indeterminate_msgs;
        self.retried_batches += other.retried_batches;
        for (code, n) in other.error_codes {
            *self.error_codes.entry(code).or_default() += n;
        }
        // Both histograms share bounds, so adding cannot fail; count it if it ever does.
        if self.latency_us.add(&other.latency_us).is_err() {
            *self.error_codes.entry(-1).or_default() += 1;
        }
        self.history.extend(other.history);
        self.transactions.merge(&other.transactions);
    }
}

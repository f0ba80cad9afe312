//! What a run reports: per-cell figures, the configuration, the machine and the baseline.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::RunArgs;
use crate::disk_baseline::DiskBaseline;
use crate::net_baseline::NetBaseline;
use crate::produce::outcome::TxnCounts;
use crate::stats::LatencySummary;
use crate::verify::checker::Verdict;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Throughput {
    /// Value bytes and records inside the measurement window.
    pub msgs: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub msgs_per_s: f64,
    /// Decimal megabytes (10^6) of record values per second.
    pub mb_per_s: f64,
}

impl Throughput {
    pub fn of(msgs: u64, bytes: u64, seconds: f64) -> Throughput {
        let s = seconds.max(1e-9);
        Throughput {
            msgs,
            bytes,
            seconds,
            msgs_per_s: msgs as f64 / s,
            mb_per_s: bytes as f64 / s / 1e6,
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ProduceCounts {
    pub sent_msgs: u64,
    pub acked_msgs: u64,
    pub failed_msgs: u64,
    pub indeterminate_msgs: u64,
    pub retried_batches: u64,
    pub error_codes: BTreeMap<i16, u64>,
}

/// What transactional producers achieved (`--transactional`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct TxnSummary {
    pub committed: u64,
    pub aborted: u64,
    /// Of `aborted`, those aborted because a batch failed (not asked for by --abort-every).
    pub aborted_after_failure: u64,
    pub committed_msgs: u64,
    /// Records of transactions committed inside the measurement window, per second.
    pub committed_throughput: Throughput,
    /// Commits answered inside the measurement window, per second.
    pub transactions_per_s: f64,
    /// EndTxn(commit) round trip, from the request to the answer.
    pub commit_latency: Option<LatencySummary>,
    pub coordinator_retries: u64,
}

impl TxnSummary {
    pub fn of(counts: &TxnCounts, measured_s: f64) -> TxnSummary {
        TxnSummary {
            committed: counts.committed,
            aborted: counts.aborted,
            aborted_after_failure: counts.aborted_after_failure,
            committed_msgs: counts.committed_msgs,
            committed_throughput: Throughput::of(
                counts.measured_committed_msgs,
                counts.measured_committed_bytes,
                measured_s,
            ),
            transactions_per_s: counts.measured_commits as f64 / measured_s.max(1e-9),
            commit_latency: LatencySummary::of(&counts.commit_latency_us),
            coordinator_retries: counts.coordinator_retries,
        }
    }

    /// One line for the table and the report.
    pub fn line(&self) -> String {
        let ms =
            |v: Option<u64>| v.map_or("-".to_string(), |us| format!("{:.2} ms", us as f64 / 1e3));
        let l = self.commit_latency.as_ref();
        format!(
            "transactions: {} committed, {} aborted ({} after a failure); {:.1} commits/s, \
             {:.0} committed msgs/s ({:.1} MB/s); commit latency p50 {} p99 {} max {}; \
             {} coordinator retries",
            self.committed,
            self.aborted,
            self.aborted_after_failure,
            self.transactions_per_s,
            self.committed_throughput.msgs_per_s,
            self.committed_throughput.mb_per_s,
            ms(l.map(|l| l.p50_us)),
            ms(l.map(|l| l.p99_us)),
            ms(l.map(|l| l.max_us)),
            self.coordinator_retries
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    pub mode: String,
    pub topic: String,
    pub acks: String,
    pub partitions: u32,
    pub message_bytes: usize,
    pub rate: Option<f64>,
    pub produce: Option<Throughput>,
    pub produce_counts: Option<ProduceCounts>,
    pub produce_latency: Option<LatencySummary>,
    pub consume: Option<Throughput>,
    pub e2e_latency: Option<LatencySummary>,
    /// Produce (or consume, in consume mode) MB/s over the disk baseline's MB/s.
    pub disk_ratio: Option<f64>,
    /// The same MB/s over the network baseline's MB/s.
    pub net_ratio: Option<f64>,
    /// The same MB/s over the smaller of the baselines measured (min(disk, net) with both).
    pub limit_ratio: Option<f64>,
    pub verify: Option<Verdict>,
    /// Loadgen's own CPU use during the cell.
    pub client_cpu: Option<crate::cpu::ClientCpu>,
    /// Transactional producers only.
    pub transactions: Option<TxnSummary>,
    /// Set when the cell could not run to the end.
    pub error: Option<String>,
}

impl CellResult {
    /// The headline throughput of the cell (produce side unless consume-only).
    pub fn headline(&self) -> Option<&Throughput> {
        self.produce.as_ref().or(self.consume.as_ref())
    }

    /// The latency shown in tables: produce→ack, or end-to-end if there is no ack latency.
    pub fn headline_latency(&self) -> Option<&LatencySummary> {
        self.produce_latency.as_ref().or(self.e2e_latency.as_ref())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            cpu_model,
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub tool: String,
    pub version: String,
    pub mode: String,
    pub label: Option<String>,
    pub started_unix_s: u64,
    pub command_line: String,
    pub machine: Machine,
    pub config: RunArgs,
    pub disk_baseline: Option<DiskBaseline>,
    pub net_baseline: Option<NetBaseline>,
    pub cells: Vec<CellResult>,
    /// `None` unless --verify; `Some(false)` if any cell violated an invariant.
    pub verify_ok: Option<bool>,
}

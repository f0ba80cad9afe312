//! One scrape: read every shard's single-writer cells, ask every shard for its state (bounded
//! wait), and put it together as plain data for the exposition. Runs on the metrics thread.

use std::time::{Duration, Instant};

use super::cell::HistogramSnapshot;
use super::registry::{self, ShardEntry};
use super::shard_metrics::{ShardMetrics, Stage};
use super::state::{ShardState, StateQuery};

/// How long a scrape waits for all shards' state; a busy or stopping shard is reported as
/// `sluice_shard_state_collected 0` instead of stalling the scrape.
pub const STATE_WAIT_MAX: Duration = Duration::from_secs(2);

/// One API key's figures on one shard.
#[derive(Debug, Clone)]
pub struct ApiReport {
    pub api_key: i16,
    pub requests: u64,
    pub failures: u64,
    pub denials: u64,
    pub latency: HistogramSnapshot,
}

/// One shard's figures.
#[derive(Debug, Clone, Default)]
pub struct ShardReport {
    pub shard: usize,
    /// Only the APIs that have seen a request.
    pub apis: Vec<ApiReport>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    pub appended_bytes: u64,
    pub read_bytes: u64,
    /// Aligned with [`Stage::ALL`].
    pub stages: Vec<HistogramSnapshot>,
    pub fetch_long_polls_waiting: i64,
    pub cleaner: super::cleaner::CleanerReport,
    pub replication: super::replication_stream::ReplicationStreamReport,
    pub authentications: super::security::AuthenticationCounts,
    /// None when the shard did not answer within [`STATE_WAIT_MAX`].
    pub state: Option<ShardState>,
}

/// Everything one scrape found.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub shards: Vec<ShardReport>,
}

/// Collects a scrape from every registered shard.
pub fn collect() -> Scrape {
    let entries = registry::shards();
    let deadline = Instant::now() + STATE_WAIT_MAX;
    // Ask every shard first so they work in parallel, then wait for each.
    let pending: Vec<Option<flume::Receiver<ShardState>>> = entries.iter().map(ask).collect();
    let shards = entries
        .iter()
        .zip(pending)
        .map(|(entry, answer)| {
            let mut report = read_cells(&entry.metrics);
            report.state = answer.and_then(|answer| answer.recv_deadline(deadline).ok());
            report
        })
        .collect();
    Scrape { shards }
}

fn ask(entry: &ShardEntry) -> Option<flume::Receiver<ShardState>> {
    let (reply, answer) = flume::bounded(1);
    // Full (the shard has not answered earlier scrapes) or gone (stopped): no state this time.
    entry.queries.try_send(StateQuery { reply }).ok()?;
    Some(answer)
}

/// Reads one shard's data-path cells (relaxed loads; the shard keeps writing meanwhile).
pub fn read_cells(metrics: &ShardMetrics) -> ShardReport {
    let apis = metrics
        .apis
        .iter()
        .enumerate()
        .filter_map(|(slot, api)| {
            let requests = api.requests.get();
            let latency = api.latency.snapshot();
            if requests == 0 && latency.is_empty() {
                return None;
            }
            Some(ApiReport {
                api_key: i16::try_from(slot).ok()?,
                requests,
                failures: api.failures.get(),
                denials: api.denials.get(),
                latency,
            })
        })
        .collect();
    ShardReport {
        shard: metrics.shard,
        apis,
        received_bytes: metrics.received_bytes.get(),
        sent_bytes: metrics.sent_bytes.get(),
        appended_bytes: metrics.appended_bytes.get(),
        read_bytes: metrics.read_bytes.get(),
        stages: Stage::ALL
            .iter()
            .map(|stage| metrics.stage(*stage).snapshot())
            .collect(),
        fetch_long_polls_waiting: metrics.fetch_long_polls_waiting.get(),
        cleaner: metrics.cleaner.report(),
        replication: metrics.replication.report(),
        authentications: metrics.security.report(),
        state: None,
    }
}

//! Prometheus metrics: per-shard recording on the data path, aggregation only on scrape.
//!
//! - Data path (`hooks`): each shard records into its own [`ShardMetrics`] through a
//!   thread-local; cells are single-writer atomics (`cell`): no lock, no shared cache line
//!   written by two cores, no allocation.
//! - Scrape (`http` thread, `scrape`): reads every shard's cells with relaxed loads and asks
//!   every shard, over a channel, for state only the shard can read (`state`: partitions,
//!   log offsets, committed group offsets, glommio executor and io_uring statistics). A shard
//!   that does not answer within `scrape::STATE_WAIT_MAX` is reported as such.
//! - Exposition (`exposition`): OpenMetrics text through `prometheus-client`'s encoder.
//!
//! Must never: take a lock or block on a shard, or let a scrape slow the data path beyond
//! the one state snapshot per shard per scrape.

pub mod cell;
pub mod cleaner;
pub mod exposition;
pub mod hooks;
pub mod http;
pub mod registry;
pub mod replication;
pub mod replication_stream;
pub mod scrape;
pub mod security;
pub mod shard_metrics;
pub mod state;

use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;

pub use replication::{FollowerLag, LeaderReplication, PartitionReplication};
pub use shard_metrics::{ShardMetrics, Stage};
pub use state::{ClusterState, CommittedOffset, PartitionState, StateSource};

/// `--metrics-listen` when neither the flag nor `sluice.metrics.listen` is given.
pub const METRICS_LISTEN_DEFAULT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9644);
/// State queries that may wait for one shard (a shard this far behind is skipped).
const STATE_QUERIES_QUEUED_MAX: usize = 4;

/// Called once on each shard's thread at start: installs its metrics and answers scrapes with
/// the state `source` reports. Metrics is a leaf: the shard's subsystems come in through
/// `StateSource`, never by import.
pub fn shard_started(shard: usize, source: Rc<dyn StateSource>) {
    let metrics = Arc::new(ShardMetrics::new(shard));
    shard_metrics::install(metrics.clone());
    let (queries, answers) = flume::bounded(STATE_QUERIES_QUEUED_MAX);
    registry::register(registry::ShardEntry { metrics, queries });
    glommio::spawn_local(state::serve(shard, source, answers)).detach();
}

/// Binds the metrics endpoint and serves it on its own thread.
///
/// `configured` is the flag or config value. When the operator asked for an address, failing
/// to bind it is an error; the default address being taken (another broker on this host) only
/// logs a warning, so a broker never fails to start over metrics it was not asked for.
pub fn start_endpoint(configured: Option<SocketAddr>) -> Result<Option<SocketAddr>, String> {
    let listen = configured.unwrap_or(METRICS_LISTEN_DEFAULT);
    let listener = match TcpListener::bind(listen) {
        Ok(listener) => listener,
        Err(err) if configured.is_some() => {
            return Err(format!("cannot serve metrics on {listen}: {err}"));
        }
        Err(err) => {
            tracing::warn!("metrics endpoint disabled: cannot bind default {listen}: {err}");
            return Ok(None);
        }
    };
    let local = listener
        .local_addr()
        .map_err(|err| format!("metrics listener address: {err}"))?;
    std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || http::serve(listener))
        .map_err(|err| format!("cannot start the metrics thread: {err}"))?;
    tracing::info!("metrics on http://{local}/metrics");
    Ok(Some(local))
}

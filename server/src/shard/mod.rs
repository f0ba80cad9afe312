//! Thread-per-core runtime: one glommio executor per shard, pinned to its core, each with its own
//! SO_REUSEPORT listener, partition logs and metadata snapshot. Shards talk only through glommio
//! shared channels (one per ordered pair of shards); nothing on the data path is shared.

pub mod background;
pub mod listener;
pub mod messages;
pub mod metadata;
pub mod notify;
pub mod ownership;
pub mod service;
// `shard::shard::Shard` reads oddly, but the file holds exactly the per-shard state type.
#[allow(clippy::module_inception)]
pub mod shard;
pub mod timestamp_lookup;

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future;
use glommio::channels::shared_channel::{self, SharedReceiver, SharedSender};
use glommio::net::TcpListener;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement, PoolPlacement};
use sluice_engine::{LogManager, ShardEngineConfig};

use crate::config::BrokerConfig;
use crate::limits::{
    BLOCKING_THREADS_PER_SHARD, MESH_CHANNEL_CAPACITY, SHUTDOWN_DRAIN_MS_MAX, SHUTDOWN_POLL_MS,
};
use crate::signals;
use crate::topics::ClusterMeta;
use messages::ShardRequest;
use shard::Shard;

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("shard {shard}: cannot listen on {listen}: {source}")]
    Listen {
        shard: usize,
        listen: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("shard {shard}: flushing logs at shutdown failed: {reason}")]
    Close { shard: usize, reason: String },
}

/// What one shard thread starts with; `Send`, built on the main thread.
struct ShardSetup {
    id: usize,
    config: Arc<BrokerConfig>,
    meta: Arc<ClusterMeta>,
    senders: Vec<Option<SharedSender<ShardRequest>>>,
    receivers: Vec<SharedReceiver<ShardRequest>>,
    ready: mpsc::Sender<Result<(), String>>,
    drained: Arc<AtomicUsize>,
}

/// Running shards: join them after `signals::request_shutdown`.
pub struct Shards {
    handles: Vec<ExecutorJoinHandle<Result<(), ShardError>>>,
}

impl Shards {
    /// Waits for every shard to finish; the first error wins.
    pub fn join(self) -> Result<(), String> {
        let mut first_error = None;
        for handle in self.handles {
            let outcome = match handle.join() {
                Ok(Ok(())) => continue,
                Ok(Err(err)) => err.to_string(),
                Err(err) => format!("shard executor failed: {err}"),
            };
            signals::request_shutdown();
            first_error.get_or_insert(outcome);
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Starts `cpus.len()` shards and waits until each is listening (or one failed).
pub fn start(
    config: Arc<BrokerConfig>,
    meta: ClusterMeta,
    cpus: &[usize],
    io_memory_bytes: usize,
) -> Result<Shards, String> {
    let shards = cpus.len();
    assert!(shards > 0);
    let meta = Arc::new(meta);
    let mut senders: Vec<Vec<Option<SharedSender<ShardRequest>>>> = (0..shards)
        .map(|_| (0..shards).map(|_| None).collect())
        .collect();
    let mut receivers: Vec<Vec<SharedReceiver<ShardRequest>>> =
        (0..shards).map(|_| Vec::new()).collect();
    for (from, row) in senders.iter_mut().enumerate() {
        for (to, slot) in row.iter_mut().enumerate() {
            if from != to {
                let (sender, receiver) = shared_channel::new_bounded(MESH_CHANNEL_CAPACITY);
                *slot = Some(sender);
                receivers[to].push(receiver);
            }
        }
    }
    let (ready, ready_rx) = mpsc::channel();
    let drained = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(shards);
    for (id, (senders, receivers)) in senders.into_iter().zip(receivers).enumerate() {
        let setup = ShardSetup {
            id,
            config: config.clone(),
            meta: meta.clone(),
            senders,
            receivers,
            ready: ready.clone(),
            drained: drained.clone(),
        };
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpus[id]))
            .name(&format!("shard-{id}"))
            .io_memory(io_memory_bytes)
            .blocking_thread_pool_placement(PoolPlacement::Unbound(BLOCKING_THREADS_PER_SHARD))
            .spawn(move || shard_main(setup))
            .map_err(|err| format!("shard {id}: cannot start executor: {err}"))?;
        handles.push(handle);
    }
    drop(ready);
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                signals::request_shutdown();
                return Err(reason);
            }
            Err(_) => return Err("a shard exited during start-up".to_string()),
        }
    }
    Ok(Shards { handles })
}

async fn shard_main(setup: ShardSetup) -> Result<(), ShardError> {
    let id = setup.id;
    let shards = setup.senders.len();
    let (peers, inbound) = connect_mesh(setup.senders, setup.receivers).await;
    let engine_config = ShardEngineConfig {
        data_dir: setup.config.data_dir.clone(),
        batch_cache_bytes_max: setup.config.batch_cache_bytes_max,
        write_buffer_pool_bytes_max: setup.config.write_buffer_pool_bytes_max,
    };
    let logs = LogManager::with_write_tuning(engine_config, setup.config.write_tuning);
    let shard = Rc::new(Shard::new(
        id,
        setup.config.clone(),
        logs,
        setup.meta.clone(),
        peers,
    ));
    crate::metrics::shard_started(&shard);
    for receiver in inbound {
        glommio::spawn_local(serve_peer(shard.clone(), receiver)).detach();
    }
    metadata::apply_diff(&shard, &ClusterMeta::default(), &setup.meta).await;
    if id == 0 {
        // Shards share the data dir: one of them finishes deletions a stop interrupted.
        match shard.logs.remove_deleted_dirs().await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "removing partition directories of earlier deletions")
            }
            Err(err) => tracing::warn!("cannot look for interrupted deletions: {err}"),
        }
    }
    crate::group::runtime::start(&shard);
    let listener = match TcpListener::bind(setup.config.listen) {
        Ok(listener) => listener,
        Err(err) => {
            let error = ShardError::Listen {
                shard: id,
                listen: setup.config.listen,
                source: std::io::Error::from(err),
            };
            setup.ready.send(Err(error.to_string())).ok();
            return Err(error);
        }
    };
    setup.ready.send(Ok(())).ok();
    background::spawn(&shard);
    let stop_watch = glommio::spawn_local(watch_for_stop(shard.clone()));
    let connections = listener::accept_loop(shard.clone(), listener).await;
    stop_watch.await;
    drain(&connections).await;
    setup.drained.fetch_add(1, Ordering::AcqRel);
    while setup.drained.load(Ordering::Acquire) < shards {
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    close_logs(&shard).await
}

async fn connect_mesh(
    senders: Vec<Option<SharedSender<ShardRequest>>>,
    receivers: Vec<SharedReceiver<ShardRequest>>,
) -> (
    Vec<Option<glommio::channels::shared_channel::ConnectedSender<ShardRequest>>>,
    Vec<glommio::channels::shared_channel::ConnectedReceiver<ShardRequest>>,
) {
    let senders = crate::util::join_all(
        senders
            .into_iter()
            .map(|sender| async move {
                match sender {
                    Some(sender) => Some(sender.connect().await),
                    None => None,
                }
            })
            .collect(),
    );
    let receivers = crate::util::join_all(
        receivers
            .into_iter()
            .map(|receiver| receiver.connect())
            .collect(),
    );
    future::zip(senders, receivers).await
}

/// Serves requests from one peer shard. Produce runs inline so a peer's appends stay in the
/// order it sent them; everything else runs as its own task.
async fn serve_peer(
    shard: Rc<Shard>,
    receiver: glommio::channels::shared_channel::ConnectedReceiver<ShardRequest>,
) {
    while let Some(request) = receiver.recv().await {
        if matches!(request, ShardRequest::Produce { .. }) {
            service::serve(shard.clone(), request).await;
        } else {
            glommio::spawn_local(service::serve(shard.clone(), request)).detach();
        }
    }
}

async fn watch_for_stop(shard: Rc<Shard>) {
    while !signals::shutdown_requested() {
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    shard.begin_stop();
}

/// Waits (bounded) for this shard's connections to answer what they already read.
async fn drain(connections: &Rc<std::cell::Cell<usize>>) {
    let started = Instant::now();
    let limit = Duration::from_millis(SHUTDOWN_DRAIN_MS_MAX);
    while connections.get() > 0 && started.elapsed() < limit {
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    if connections.get() > 0 {
        tracing::warn!(
            open = connections.get(),
            "closing connections still busy after the drain limit"
        );
    }
}

async fn close_logs(shard: &Rc<Shard>) -> Result<(), ShardError> {
    let close = |err: sluice_engine::LogError| ShardError::Close {
        shard: shard.id,
        reason: err.to_string(),
    };
    shard.logs.flush_all().await.map_err(close)?;
    shard.logs.close_all().await.map_err(close)?;
    Ok(())
}

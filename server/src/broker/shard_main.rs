//! One shard's life: connect its meshes, build its subsystems, open its partitions, serve
//! Kafka clients until the process stops, drain, then flush and close its logs.

use std::cell::Cell;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::net::TcpListener;
use sluice_engine::{LogManager, ShardEngineConfig};

use super::state_source::ShardStateSource;
use super::ShardSetup;
use crate::cluster::{lifecycle, ClusterService, CONTROLLER_SHARD};
use crate::config::BrokerConfig;
use crate::group::service::GroupService;
use crate::group::GroupConfig;
use crate::kafka::listener::ListenerContext;
use crate::kafka::services::Services;
use crate::limits::{SHUTDOWN_DRAIN_MS_MAX, SHUTDOWN_POLL_MS};
use crate::metadata::MetadataService;
use crate::partition::{PartitionService, Partitions};
use crate::producer_ids::ProducerIdService;
use crate::shard::context::ShardContext;
use crate::shard::executors::{Barriers, Ready};
use crate::signals;
use crate::topics::MetaCell;

pub async fn run(setup: ShardSetup, ready: Ready, barriers: Barriers) -> Result<(), String> {
    let id = setup.id;
    let config = setup.config.clone();
    let ctx = Rc::new(ShardContext::new(id, setup.shards));
    let partition_mesh = setup.partition_mesh.connect().await;
    let metadata_mesh = setup.metadata_mesh.connect().await;
    let group_mesh = setup.group_mesh.connect().await;
    let producer_id_mesh = setup.producer_id_mesh.connect().await;
    let txn_mesh = setup.txn_mesh.connect().await;
    let engine_config = ShardEngineConfig {
        data_dir: config.data_dir.clone(),
        batch_cache_bytes_max: config.batch_cache_bytes_max,
        write_buffer_pool_bytes_max: config.write_buffer_pool_bytes_max,
    };
    let logs = LogManager::with_write_tuning(engine_config, config.write_tuning);
    let partitions = Rc::new(Partitions::new(logs));
    let meta = Rc::new(MetaCell::new(setup.meta.clone()));
    let partition_service = PartitionService::new(
        ctx.clone(),
        partitions.clone(),
        meta.clone(),
        partition_mesh,
    );
    let groups = GroupService::new(
        ctx.clone(),
        GroupConfig::from_broker(&config),
        partitions.clone(),
        group_mesh,
    );
    let cluster = if id == CONTROLLER_SHARD {
        let started = super::cluster_settings::from_config(&config)
            .and_then(|settings| ClusterService::start(ctx.clone(), settings));
        match started {
            Ok(cluster) => Some(cluster),
            Err(reason) => {
                ready.failed(reason.clone());
                return Err(reason);
            }
        }
    } else {
        None
    };
    let replica_fetcher = crate::replication::ReplicaFetcher::new(
        ctx.clone(),
        config.clone(),
        meta.clone(),
        partitions.clone(),
    );
    let metadata = MetadataService::new(
        ctx.clone(),
        config.clone(),
        meta.clone(),
        partitions.clone(),
        groups.clone(),
        metadata_mesh,
        cluster.clone(),
    );
    let producer_ids = ProducerIdService::new(producer_id_mesh, cluster.clone());
    let txn = crate::txn::TxnService::new(
        ctx.clone(),
        crate::txn::TxnSettings::from_broker(&config),
        crate::txn::service::TxnDeps {
            partitions: partitions.clone(),
            partition_service: partition_service.clone(),
            groups: groups.clone(),
            meta: meta.clone(),
            producer_ids: producer_ids.clone(),
        },
        txn_mesh,
    );
    let state = ShardStateSource {
        partitions: partitions.clone(),
        groups: groups.clone(),
        cluster: cluster.clone(),
    };
    crate::metrics::shard_started(id, Rc::new(state));
    if id == CONTROLLER_SHARD {
        // Shards share the data dir: one of them finishes deletions a stop interrupted.
        match partitions.remove_deleted_dirs().await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "removing partition directories of earlier deletions")
            }
            Err(err) => tracing::warn!("cannot look for interrupted deletions: {err}"),
        }
    }
    groups.start();
    txn.start();
    if let Some(cluster) = &cluster {
        glommio::spawn_local(metadata.clone().follow_images()).detach();
        glommio::spawn_local(lifecycle::run(cluster.clone())).detach();
        // Serve clients only as a member of the cluster: registered, caught up, unfenced.
        if !wait_until_unfenced(cluster).await {
            let reason = format!("shard {id}: stopping before the controller unfenced this broker");
            ready.failed(reason.clone());
            return Err(reason);
        }
        metadata.migrate_legacy_topics().await;
        if cluster.settings().voters.len() == 1 {
            if let Err((code, message)) = metadata.ensure_offsets_topic().await {
                tracing::warn!(code, "cannot create the offsets topic: {message}");
            }
        }
    }
    if !barriers
        .opened
        .arrive_and_wait(signals::shutdown_requested)
        .await
    {
        let reason = format!("shard {id}: stopping before every shard opened its partitions");
        ready.failed(reason.clone());
        return Err(reason);
    }
    if !barriers
        .listen
        .wait_for(id, signals::shutdown_requested)
        .await
    {
        let reason = format!("shard {id}: stopping before its turn to listen");
        ready.failed(reason.clone());
        return Err(reason);
    }
    let bound = bind_listeners(&config, ctx.shards());
    barriers.listen.done(id);
    let bound = match bound {
        Ok(bound) => bound,
        Err(err) => {
            let reason = format!("shard {id}: {err}");
            ready.failed(reason.clone());
            return Err(reason);
        }
    };
    let credentials = match crate::security::credentials::Credentials::load(metadata.clone()) {
        Ok(credentials) => Rc::new(credentials),
        Err(err) => {
            let reason = format!("shard {id}: {err}");
            ready.failed(reason.clone());
            return Err(reason);
        }
    };
    let acls = Rc::new(crate::security::acl_cache::AclCache::new(metadata.clone()));
    ready.serving();
    glommio::spawn_local(replica_fetcher.run()).detach();
    glommio::spawn_local(crate::replication::isr::run(
        ctx.clone(),
        partitions.clone(),
        metadata.clone(),
    ))
    .detach();
    crate::partition::background::spawn(
        &ctx,
        &partitions,
        config.flush_interval_ms,
        config.retention_check_interval_ms,
    );
    crate::partition::producer_expiry::spawn(
        &ctx,
        &partitions,
        config.producer_id_expiration_ms,
        config.producer_id_expiration_check_interval_ms,
    );
    crate::partition::cleaner::spawn(
        &ctx,
        &partitions,
        config.cleaner_backoff_ms,
        config.cleaner_dedupe_buffer_bytes,
        config.cleaner_duty_percent,
    );
    let stop_watch = glommio::spawn_local(watch_for_stop(ctx.clone(), cluster.clone()));
    let services = Rc::new(Services {
        ctx: ctx.clone(),
        config,
        credentials,
        acls,
        partitions: partition_service,
        metadata,
        groups,
        producer_ids,
        txn: txn.clone(),
        fetch_sessions: Rc::new(crate::kafka::fetch_sessions::FetchSessions::new(id)),
        // Wired to the transaction coordinator when it lands.
        txn_verifier: Some(txn_verifier(&txn)),
    });
    let connections = Rc::new(Cell::new(0usize));
    let accept_loops: Vec<_> = bound
        .into_iter()
        .map(|(context, listener)| {
            glommio::spawn_local(crate::kafka::listener::accept_loop(
                services.clone(),
                context,
                listener,
                connections.clone(),
            ))
        })
        .collect();
    drop(services);
    for accept_loop in accept_loops {
        accept_loop.await;
    }
    stop_watch.await;
    drain(&connections).await;
    // Shutdown is already requested here: wait for every shard regardless.
    barriers.drained.arrive_and_wait(|| false).await;
    let close = |err: sluice_engine::LogError| {
        format!("shard {id}: flushing logs at shutdown failed: {err}")
    };
    partitions.close_all().await.map_err(close)
}

/// The produce path's KIP-890 verification, answered by the transaction coordinator.
fn txn_verifier(txn: &Rc<crate::txn::TxnService>) -> crate::kafka::txn_verifier::TxnVerifier {
    let txn = txn.clone();
    Rc::new(move |request| {
        let txn = txn.clone();
        Box::pin(async move {
            txn.verify(
                &request.transactional_id,
                request.producer_id,
                request.producer_epoch,
                &request.topic,
                request.partition,
            )
            .await
        })
    })
}

async fn watch_for_stop(ctx: Rc<ShardContext>, cluster: Option<Rc<ClusterService>>) {
    while !signals::shutdown_requested() {
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    // The controller shard stops last: first the controller moves this broker's leaderships
    // (and, if this node is the active controller, it answers that itself).
    if let Some(cluster) = cluster {
        lifecycle::controlled_shutdown(&cluster).await;
    }
    ctx.begin_stop();
}

/// Waits until the controller unfences this broker; false if the process is asked to stop
/// first. Says now and then what it is waiting for: a quorum that cannot form (too few voters
/// up) keeps a broker here.
async fn wait_until_unfenced(cluster: &Rc<ClusterService>) -> bool {
    let started = Instant::now();
    let mut next_report = Duration::from_secs(UNFENCE_REPORT_S);
    while cluster.broker().is_fenced() {
        if signals::shutdown_requested() {
            return false;
        }
        if started.elapsed() >= next_report {
            tracing::info!(
                controller = ?cluster.controller_id(),
                broker_epoch = cluster.broker().epoch(),
                waited_s = started.elapsed().as_secs(),
                "waiting for the controller quorum to register and unfence this broker"
            );
            next_report += Duration::from_secs(UNFENCE_REPORT_S);
        }
        let generation = cluster.broker().changed().generation();
        futures_lite::future::or(
            cluster.broker().changed().changed_since(generation),
            async {
                glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
            },
        )
        .await;
    }
    // Serve with the metadata that unfenced this broker applied on every shard (it makes this
    // broker the leader of its partitions again).
    let offset = cluster.image().offset;
    let limit = Duration::from_millis(crate::limits::METADATA_APPLY_MS_MAX);
    if !cluster.broker().applied(offset, limit).await {
        tracing::warn!(
            offset,
            "serving before this broker applied the metadata that unfenced it"
        );
    }
    true
}

/// Seconds between "still waiting for the quorum" lines at start.
const UNFENCE_REPORT_S: u64 = 5;

/// Waits (bounded) for this shard's connections to answer what they already read.
async fn drain(connections: &Rc<Cell<usize>>) {
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

/// Binds this shard's socket of every client listener, and has each port steer connections by
/// source port (`shard::steering`): a follower shard's replication stream then lands on the
/// shard that owns its partitions. Called in shard order.
fn bind_listeners(
    config: &BrokerConfig,
    shards: usize,
) -> Result<Vec<(Rc<ListenerContext>, TcpListener)>, String> {
    let mut bound = Vec::with_capacity(config.client_listeners.len());
    for client_listener in &config.client_listeners {
        let context = ListenerContext::build(client_listener, &config.security)?;
        let socket = listen_reusing_port(client_listener.address).map_err(|err| {
            format!(
                "cannot listen on {} ({}): {err}",
                client_listener.address, client_listener.name,
            )
        })?;
        if let Err(err) = crate::shard::steering::attach(socket.as_raw_fd(), shards) {
            // Connections still work; replica fetches may cross shards.
            tracing::warn!(listener = %client_listener.name, "cannot steer connections to shards: {err}");
        }
        // SAFETY: the fd is a bound, listening socket whose ownership moves to the listener.
        let listener = unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) };
        bound.push((Rc::new(context), listener));
    }
    Ok(bound)
}

/// Pending connections a listening socket queues before accepting (glommio's own choice).
const LISTEN_BACKLOG: i32 = 1024;

/// A listening socket in `address`'s reuseport group (one per shard), as glommio's
/// `TcpListener::bind` makes it; made here so that the steering program can be attached.
/// Fails with `AddrInUse` when another process listens on the address
/// (`foreign_listeners`).
fn listen_reusing_port(address: std::net::SocketAddr) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_port(true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    // `sluice start` refused a port already taken; this catches a broker that started at the
    // same instant: once both listen, each sees the other and both refuse.
    super::foreign_listeners::refuse_foreign(address)?;
    Ok(socket)
}

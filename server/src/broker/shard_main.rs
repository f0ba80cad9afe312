//! One shard's life: connect its meshes, build its subsystems, open its partitions, serve
//! Kafka clients until the process stops, drain, then flush and close its logs.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::net::TcpListener;
use sluice_engine::{LogManager, ShardEngineConfig};

use super::state_source::ShardStateSource;
use super::ShardSetup;
use crate::group::service::GroupService;
use crate::group::GroupConfig;
use crate::kafka::services::Services;
use crate::limits::{SHUTDOWN_DRAIN_MS_MAX, SHUTDOWN_POLL_MS};
use crate::metadata::{MetadataService, METADATA_SHARD};
use crate::partition::{PartitionService, Partitions};
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
    let metadata = MetadataService::new(
        ctx.clone(),
        config.clone(),
        meta,
        partitions.clone(),
        metadata_mesh,
    );
    let groups = GroupService::new(
        ctx.clone(),
        GroupConfig::from_broker(&config),
        partitions.clone(),
        group_mesh,
    );
    let state = ShardStateSource {
        partitions: partitions.clone(),
        groups: groups.clone(),
    };
    crate::metrics::shard_started(id, Rc::new(state));
    metadata.open_initial().await;
    if id == METADATA_SHARD {
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
    if !barriers
        .opened
        .arrive_and_wait(signals::shutdown_requested)
        .await
    {
        let reason = format!("shard {id}: stopping before every shard opened its partitions");
        ready.failed(reason.clone());
        return Err(reason);
    }
    let listener = match TcpListener::bind(config.listen) {
        Ok(listener) => listener,
        Err(err) => {
            let reason = format!(
                "shard {id}: cannot listen on {}: {}",
                config.listen,
                std::io::Error::from(err)
            );
            ready.failed(reason.clone());
            return Err(reason);
        }
    };
    ready.serving();
    crate::partition::background::spawn(
        &ctx,
        &partitions,
        config.flush_interval_ms,
        config.retention_check_interval_ms,
    );
    crate::partition::cleaner::spawn(
        &ctx,
        &partitions,
        config.cleaner_backoff_ms,
        config.cleaner_dedupe_buffer_bytes,
    );
    let stop_watch = glommio::spawn_local(watch_for_stop(ctx.clone()));
    let services = Rc::new(Services {
        ctx: ctx.clone(),
        config,
        partitions: partition_service,
        metadata,
        groups,
    });
    let connections = crate::kafka::listener::accept_loop(services, listener).await;
    stop_watch.await;
    drain(&connections).await;
    // Shutdown is already requested here: wait for every shard regardless.
    barriers.drained.arrive_and_wait(|| false).await;
    let close = |err: sluice_engine::LogError| {
        format!("shard {id}: flushing logs at shutdown failed: {err}")
    };
    partitions.close_all().await.map_err(close)
}

async fn watch_for_stop(ctx: Rc<ShardContext>) {
    while !signals::shutdown_requested() {
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    ctx.begin_stop();
}

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

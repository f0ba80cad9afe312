//! The composition root: builds each shard's subsystems and wires them together. It is the
//! only module that knows every layer: it creates one mesh per subsystem on the main thread,
//! starts the shard executors (`shard::executors`), and on each shard builds the partition,
//! metadata and group services, hands the Kafka layer its `Services`, and runs the listener
//! until the process stops.

mod cluster_settings;
mod foreign_listeners;
mod shard_main;
mod state_source;

use std::sync::Arc;
use std::time::Duration;

use crate::config::BrokerConfig;
use crate::group::service::{GroupAnswer, GroupRequest};
use crate::metadata::messages::{MetadataReply, MetadataRequest};
use crate::partition::messages::{PartitionReply, PartitionRequest};
use crate::producer_ids::{ProducerIdReply, ProducerIdRequest};
use crate::shard::cpus::ShardPlacement;
use crate::shard::executors::{self, Shards};
use crate::shard::mesh::{new_meshes, MeshEnds};
use crate::topics::ClusterMeta;
use crate::txn::{TxnAnswer, TxnRequest};

/// What one shard thread starts with; `Send`, built on the main thread.
struct ShardSetup {
    id: usize,
    shards: usize,
    config: Arc<BrokerConfig>,
    meta: Arc<ClusterMeta>,
    partition_mesh: MeshEnds<PartitionRequest, PartitionReply>,
    metadata_mesh: MeshEnds<MetadataRequest, MetadataReply>,
    group_mesh: MeshEnds<GroupRequest, GroupAnswer>,
    producer_id_mesh: MeshEnds<ProducerIdRequest, ProducerIdReply>,
    txn_mesh: MeshEnds<TxnRequest, TxnAnswer>,
}

/// Fails when another process listens on a client listener's address already. Called before
/// the data dir is touched, so a broker started on a taken port changes nothing; the shards
/// check again once they listen (against a broker started at the same instant). Sockets no
/// process holds (a broker killed a moment ago) get time to close first.
pub fn refuse_taken_client_ports(config: &BrokerConfig) -> Result<(), String> {
    let unheld_wait = Duration::from_millis(crate::limits::PORT_UNHELD_WAIT_MS_MAX);
    for listener in &config.client_listeners {
        foreign_listeners::refuse_foreign_within(listener.address, unheld_wait).map_err(|err| {
            format!(
                "cannot listen on {} ({}): {err}",
                listener.address, listener.name
            )
        })?;
    }
    Ok(())
}

/// Starts `placement.shards()` shards and waits until each is listening (or one failed).
pub fn start(
    config: Arc<BrokerConfig>,
    placement: &ShardPlacement,
    io_memory_bytes: usize,
) -> Result<Shards, String> {
    let shards = placement.shards();
    assert!(shards > 0);
    let in_cluster = config.quorum.voters().len() > 1;
    crate::replication::inter_broker_client::install(&config.security, in_cluster)?;
    // Shards start empty; the cluster subsystem's metadata image fills them.
    let meta = Arc::new(ClusterMeta::default());
    let partition_meshes = new_meshes(shards);
    let metadata_meshes = new_meshes(shards);
    let group_meshes = new_meshes(shards);
    let producer_id_meshes = new_meshes(shards);
    let txn_meshes = new_meshes(shards);
    let setups: Vec<ShardSetup> = partition_meshes
        .into_iter()
        .zip(metadata_meshes)
        .zip(group_meshes)
        .zip(producer_id_meshes)
        .zip(txn_meshes)
        .enumerate()
        .map(
            |(
                id,
                ((((partition_mesh, metadata_mesh), group_mesh), producer_id_mesh), txn_mesh),
            )| ShardSetup {
                id,
                shards,
                config: config.clone(),
                meta: meta.clone(),
                partition_mesh,
                metadata_mesh,
                group_mesh,
                producer_id_mesh,
                txn_mesh,
            },
        )
        .collect();
    executors::start(placement, io_memory_bytes, setups, shard_main::run)
}

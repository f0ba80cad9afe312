//! What the security metadata tests share: one broker's controller-shard stack (the cluster
//! subsystem with its metadata log, and the `MetadataService` that follows its image) built
//! in-process on a glommio executor of its own, as `broker::shard_main` builds it, without
//! the Kafka listener: the SCRAM and ACL handlers are not wired yet, so the tests call
//! `MetadataService` directly.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};
use sluice_controller::records::{AclEntry, ScramCredential, SecretBytes};
use sluice_engine::{LogManager, ShardEngineConfig};
use sluice_server::cluster::wire::WireScramUpsertion;
use sluice_server::cluster::{ClusterService, ClusterSettings};
use sluice_server::config::BrokerConfig;
use sluice_server::group::service::GroupService;
use sluice_server::group::GroupConfig;
use sluice_server::metadata::messages::{MetadataReply, MetadataRequest};
use sluice_server::metadata::MetadataService;
use sluice_server::partition::Partitions;
use sluice_server::shard::context::ShardContext;
use sluice_server::shard::mesh::new_meshes;
use sluice_server::topics::{ClusterMeta, MetaCell};

/// Longest one node's life in a test may last.
pub const NODE_LIFE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a change may take to show in a node's metadata.
pub const VISIBLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The controller-shard stack of one broker.
pub struct Node {
    pub ctx: Rc<ShardContext>,
    pub cluster: Rc<ClusterService>,
    pub metadata: Rc<MetadataService>,
}

pub fn settings(
    node_id: i32,
    data_dir: &Path,
    voters: Vec<(i32, Option<SocketAddr>)>,
) -> ClusterSettings {
    let controller_listen = voters
        .iter()
        .find(|(id, _)| *id == node_id)
        .and_then(|(_, address)| *address);
    ClusterSettings {
        node_id,
        cluster_id: "security-test".into(),
        voters,
        voter_hosts: Vec::new(),
        controller_tls: None,
        controller_listen,
        advertised_host: "127.0.0.1".into(),
        advertised_port: 9092,
        inter_broker_listener: "PLAINTEXT".into(),
        inter_broker_protocol: "PLAINTEXT".into(),
        other_listeners: Vec::new(),
        heartbeat_interval_ms: 2_000,
        session_timeout_ms: 9_000,
        election_timeout_ms: 1_000,
        default_partitions: 1,
        default_replication_factor: 1,
        unclean_leader_election_enable: false,
        auto_leader_rebalance_enable: false,
        leader_imbalance_check_interval_ms: 300_000,
        offsets_topic_partitions: 1,
        offsets_topic_replication_factor: 1,
        data_dir: data_dir.to_path_buf(),
    }
}

/// Builds the stack on the current (one-shard) executor: opens and replays the metadata log,
/// starts the quorum member, and follows the image into this shard's metadata.
pub async fn start_node(settings: ClusterSettings) -> Node {
    let ctx = Rc::new(ShardContext::new(0, 1));
    let config = Arc::new(BrokerConfig {
        data_dir: settings.data_dir.clone(),
        node_id: settings.node_id,
        ..BrokerConfig::default()
    });
    let metadata_mesh = new_meshes::<MetadataRequest, MetadataReply>(1)
        .pop()
        .expect("one shard's ends")
        .connect()
        .await;
    let group_mesh = new_meshes(1)
        .pop()
        .expect("one shard's ends")
        .connect()
        .await;
    let logs = LogManager::new(ShardEngineConfig {
        data_dir: settings.data_dir.clone(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    });
    let partitions = Rc::new(Partitions::new(logs));
    let meta = Rc::new(MetaCell::new(Arc::new(ClusterMeta::default())));
    let groups = GroupService::new(
        ctx.clone(),
        GroupConfig::from_broker(&config),
        partitions.clone(),
        group_mesh,
    );
    let cluster = ClusterService::start(ctx.clone(), settings).expect("the cluster starts");
    let metadata = MetadataService::new(
        ctx.clone(),
        config,
        meta,
        partitions,
        groups,
        metadata_mesh,
        Some(cluster.clone()),
    );
    glommio::spawn_local(metadata.clone().follow_images()).detach();
    Node {
        ctx,
        cluster,
        metadata,
    }
}

/// Runs `life` on an executor thread of its own; the returned handle fails the test (on
/// join) if it did not finish within [`NODE_LIFE_TIMEOUT`].
pub fn spawn_node<F, Fut>(name: &str, life: F) -> std::thread::JoinHandle<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let (done, finished) = std::sync::mpsc::channel();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name(name)
        .io_memory(2 << 20)
        .spawn(move || async move {
            life().await;
            done.send(()).expect("the waiting thread is there");
        })
        .expect("spawn executor");
    let name = name.to_string();
    std::thread::spawn(move || {
        finished
            .recv_timeout(NODE_LIFE_TIMEOUT)
            .unwrap_or_else(|_| panic!("{name} did not finish in time"));
        handle.join().expect("executor thread");
    })
}

/// Waits until `done` holds of the node's metadata (it wakes at every metadata change).
pub async fn wait_for_meta(node: &Node, what: &str, done: impl Fn(&ClusterMeta) -> bool) {
    let deadline = Instant::now() + VISIBLE_TIMEOUT;
    loop {
        if done(&node.metadata.meta()) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not visible in time");
        let generation = node.cluster.image_changed().generation();
        futures_lite::future::or(
            node.cluster.image_changed().changed_since(generation),
            async {
                glommio::timer::sleep(Duration::from_millis(50)).await;
            },
        )
        .await;
    }
}

/// Stops the node's background tasks at their next turn.
pub fn stop(node: &Node) {
    node.ctx.begin_stop();
}

/// A SCRAM-SHA-256 credential. The keys stand in for ones derived from a salted password.
pub fn upsertion(name: &str) -> WireScramUpsertion {
    WireScramUpsertion {
        name: name.into(),
        mechanism: 1,
        iterations: 4096,
        salt: SecretBytes(b"salt-of-the-earth".to_vec()),
        stored_key: SecretBytes(vec![0x5a; 32]),
        server_key: SecretBytes(vec![0xa5; 32]),
    }
}

/// `principal` may read topic `orders`.
pub fn read_orders(principal: &str) -> AclEntry {
    AclEntry {
        resource_type: 2,
        resource_name: "orders".into(),
        pattern_type: 3,
        principal: principal.into(),
        host: "*".into(),
        operation: 3,
        permission_type: 3,
    }
}

/// The credential the image keeps for an upsertion.
pub fn credential_of(upsertion: &WireScramUpsertion) -> ScramCredential {
    ScramCredential {
        salt: upsertion.salt.clone(),
        stored_key: upsertion.stored_key.clone(),
        server_key: upsertion.server_key.clone(),
        iterations: upsertion.iterations,
    }
}

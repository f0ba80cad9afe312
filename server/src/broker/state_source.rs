//! What a shard reports at a metrics scrape, read from its subsystems.

use std::rc::Rc;

use crate::cluster::ClusterService;
use crate::group::service::GroupService;
use crate::metrics::{ClusterState, CommittedOffset, PartitionState, StateSource};
use crate::partition::Partitions;

pub struct ShardStateSource {
    pub partitions: Rc<Partitions>,
    pub groups: Rc<GroupService>,
    /// On the controller shard only.
    pub cluster: Option<Rc<ClusterService>>,
}

impl StateSource for ShardStateSource {
    fn cluster(&self) -> Option<ClusterState> {
        let cluster = self.cluster.as_ref()?;
        let image = cluster.image();
        let status = cluster.raft().status();
        Some(ClusterState {
            node_id: cluster.node_id(),
            controller_id: cluster.controller_id().unwrap_or(-1),
            elections: cluster.raft().elections(),
            fenced_brokers: image.fenced_broker_count() as u64,
            brokers: image.brokers.len() as u64,
            committed_offset: status.commit_index.max(image.offset),
            applied_offset: cluster.broker().applied_offset(),
            broker_epoch: cluster.broker().epoch(),
            broker_fenced: cluster.broker().is_fenced(),
            offline_partitions: image.offline_partitions().count() as u64,
        })
    }

    fn partitions(&self) -> Vec<PartitionState> {
        let now_ms = crate::util::now_ms();
        self.partitions
            .all()
            .iter()
            .map(|partition| PartitionState {
                topic: partition.topic().to_string(),
                partition: partition.index(),
                log_start_offset: partition.log_start_offset(),
                log_end_offset: partition.log_end_offset(),
                bytes: partition.log().size_bytes(),
                cleaner: crate::partition::cleaner::log_state(partition, now_ms),
                replication: partition.replica_metrics(now_ms.max(0) as u64),
            })
            .collect()
    }

    fn committed_offsets(&self) -> Vec<CommittedOffset> {
        self.groups
            .runtime()
            .committed_offsets()
            .into_iter()
            .map(|(group, topic, partition, offset)| CommittedOffset {
                group,
                topic,
                partition,
                offset,
            })
            .collect()
    }
}

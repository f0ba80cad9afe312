//! The connection shard's checks of a partition named in a request that carries a current
//! leader epoch (ListOffsets, OffsetForLeaderEpoch), in Kafka's order (`Partition.getLocalLog`):
//! an unknown partition; then, on a broker holding a replica, the request's epoch against the
//! partition's epoch in the metadata (a follower fences a stale client too); then leadership.

use crate::error_code::{ResponseError, NONE};
use crate::partition::epoch_fence::check_current_leader_epoch;
use crate::topics::ClusterMeta;

/// Ok when broker `node` leads the partition at the epoch the request names (or it names none);
/// else Kafka's error code.
pub fn check_leader_and_epoch(
    meta: &ClusterMeta,
    node: i32,
    topic: &str,
    partition: i32,
    current_leader_epoch: i32,
) -> Result<(), i16> {
    let Some(state) = meta.topic(topic).and_then(|t| t.state(partition)) else {
        return Err(ResponseError::UnknownTopicOrPartition.code());
    };
    if state.replicas.contains(&node) {
        let fenced = check_current_leader_epoch(current_leader_epoch, state.leader_epoch);
        if fenced != NONE {
            return Err(fenced);
        }
    }
    meta.check_leader(node, topic, partition)
}

#[cfg(test)]
mod tests {
    use sluice_controller::image::PartitionImage;

    use super::*;
    use crate::topics::{TopicConfigs, TopicMeta};

    /// Topic "t", one partition on brokers 1 and 2, led by 1 at epoch 3.
    fn meta() -> ClusterMeta {
        let mut meta = ClusterMeta::default();
        let state = PartitionImage {
            replicas: vec![1, 2],
            isr: vec![1, 2],
            leader: 1,
            leader_epoch: 3,
            partition_epoch: 5,
            leader_recovery_state: Default::default(),
            adding_replicas: Vec::new(),
            removing_replicas: Vec::new(),
        };
        let topic = TopicMeta {
            name: "t".into(),
            id_hex: crate::topics::meta::new_topic_id("t"),
            partitions: 1,
            configs: TopicConfigs::default(),
            states: vec![state],
        };
        meta.topics.insert("t".into(), topic);
        meta
    }

    #[test]
    fn the_leader_checks_the_epoch() {
        let meta = meta();
        assert_eq!(check_leader_and_epoch(&meta, 1, "t", 0, 3), Ok(()));
        assert_eq!(check_leader_and_epoch(&meta, 1, "t", 0, -1), Ok(()));
        let fenced = ResponseError::FencedLeaderEpoch.code();
        assert_eq!(check_leader_and_epoch(&meta, 1, "t", 0, 2), Err(fenced));
        let unknown = ResponseError::UnknownLeaderEpoch.code();
        assert_eq!(check_leader_and_epoch(&meta, 1, "t", 0, 4), Err(unknown));
    }

    #[test]
    fn a_follower_fences_first_then_is_not_the_leader() {
        let meta = meta();
        let fenced = ResponseError::FencedLeaderEpoch.code();
        assert_eq!(check_leader_and_epoch(&meta, 2, "t", 0, 2), Err(fenced));
        let not_leader = ResponseError::NotLeaderOrFollower.code();
        assert_eq!(check_leader_and_epoch(&meta, 2, "t", 0, 3), Err(not_leader));
        // A broker without a replica knows nothing of the epoch.
        assert_eq!(check_leader_and_epoch(&meta, 3, "t", 0, 2), Err(not_leader));
    }

    #[test]
    fn unknown_partitions_come_first() {
        let unknown = ResponseError::UnknownTopicOrPartition.code();
        assert_eq!(check_leader_and_epoch(&meta(), 1, "t", 1, 3), Err(unknown));
        assert_eq!(check_leader_and_epoch(&meta(), 1, "u", 0, 3), Err(unknown));
    }
}

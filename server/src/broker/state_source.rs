//! What a shard reports at a metrics scrape, read from its subsystems.

use std::rc::Rc;

use crate::group::service::GroupService;
use crate::metrics::{CommittedOffset, PartitionState, StateSource};
use crate::partition::Partitions;

pub struct ShardStateSource {
    pub partitions: Rc<Partitions>,
    pub groups: Rc<GroupService>,
}

impl StateSource for ShardStateSource {
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

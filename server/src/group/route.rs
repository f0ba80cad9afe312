//! From a connection's shard to the coordinator shard of a group: the shard owning the group's
//! `__consumer_offsets` partition.

use std::rc::Rc;

use kafka_protocol::ResponseError;

use super::placement::{offsets_partition, OFFSETS_TOPIC};
use super::service::{GroupAnswer, GroupCall, GroupOp};
use crate::shard::messages::ShardRequest;
use crate::shard::shard::Shard;

/// The shard coordinating `group_id`.
pub fn coordinator_shard(shard: &Shard, group_id: &str) -> usize {
    let partitions = shard.groups.config().offsets_partitions;
    shard.owner_of(OFFSETS_TOPIC, offsets_partition(group_id, partitions))
}

/// Runs `op` for `group_id` on its coordinator shard. `Err` means that shard is gone
/// (shutting down); callers answer COORDINATOR_NOT_AVAILABLE.
pub async fn call(
    shard: &Rc<Shard>,
    group_id: &str,
    op: GroupOp,
) -> Result<GroupAnswer, ResponseError> {
    let target = coordinator_shard(shard, group_id);
    call_shard(shard, target, op).await
}

pub async fn call_shard(
    shard: &Rc<Shard>,
    target: usize,
    op: GroupOp,
) -> Result<GroupAnswer, ResponseError> {
    let now_ms = crate::util::now_ms() as u64;
    shard
        .call(target, |reply| {
            ShardRequest::Group(GroupCall { op, now_ms, reply })
        })
        .await
        .map_err(|_| ResponseError::CoordinatorNotAvailable)
}

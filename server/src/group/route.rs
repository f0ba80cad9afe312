//! From a connection's shard to the coordinator shard of a group: the shard owning the group's
//! `__consumer_offsets` partition.

use std::rc::Rc;

use kafka_protocol::ResponseError;

use super::placement::{offsets_partition, OFFSETS_TOPIC};
use super::service::{execute, GroupAnswer, GroupOp, GroupRequest, GroupService};

impl GroupService {
    /// The shard coordinating `group_id`.
    pub fn coordinator_shard(&self, group_id: &str) -> usize {
        let partitions = self.config().offsets_partitions;
        self.ctx()
            .owner_of(OFFSETS_TOPIC, offsets_partition(group_id, partitions))
    }

    /// Runs `op` for `group_id` on its coordinator shard. `Err` means that shard is gone
    /// (shutting down); callers answer COORDINATOR_NOT_AVAILABLE.
    pub async fn call(
        self: &Rc<Self>,
        group_id: &str,
        op: GroupOp,
    ) -> Result<GroupAnswer, ResponseError> {
        let target = self.coordinator_shard(group_id);
        self.call_shard(target, op).await
    }

    /// Runs `op` on shard `target`.
    pub async fn call_shard(
        self: &Rc<Self>,
        target: usize,
        op: GroupOp,
    ) -> Result<GroupAnswer, ResponseError> {
        let now_ms = crate::util::now_ms() as u64;
        if target == self.ctx().id() {
            return Ok(execute(self, op, now_ms).await);
        }
        self.mesh()
            .call(target, GroupRequest { op, now_ms })
            .await
            .map_err(|_| ResponseError::CoordinatorNotAvailable)
    }
}

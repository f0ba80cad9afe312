//! The leader side's ISR changes: every shard looks at the partitions it leads now and then,
//! and proposes to the controller (AlterPartition, KIP-497) what `LeaderState::isr_change`
//! asks for: laggards out after `replica.lag.time.max.ms`, caught-up replicas in. One
//! proposal per partition in flight; the answer arrives as metadata (the new ISR and
//! partition epoch), and a refusal or a lost answer clears the proposal for the next look.
//!
//! The leader never changes its ISR itself: a deposed leader that cannot reach the controller
//! keeps its old ISR, so its high watermark cannot move without those followers, and it
//! acknowledges nothing they did not fetch.

use std::rc::Rc;
use std::time::Duration;

use crate::limits::ISR_CHECK_INTERVAL_MS;
use crate::metadata::messages::AlterPartitionRequest;
use crate::metadata::MetadataService;
use crate::partition::{Partition, Partitions};
use crate::shard::context::ShardContext;

pub async fn run(ctx: Rc<ShardContext>, partitions: Rc<Partitions>, metadata: Rc<MetadataService>) {
    while !ctx.is_stopping() {
        let now_ms = crate::util::now_ms().max(0) as u64;
        for partition in partitions.all() {
            if let Some(request) = proposal(&partition, now_ms) {
                let metadata = metadata.clone();
                let partitions = partitions.clone();
                glommio::spawn_local(async move {
                    propose(&metadata, &partitions, &partition, request).await;
                })
                .detach();
            }
        }
        let wait = Duration::from_millis(ISR_CHECK_INTERVAL_MS);
        futures_lite::future::or(ctx.stopping(), glommio::timer::sleep(wait)).await;
    }
}

/// The ISR change this partition's leader wants now, marked pending.
fn proposal(partition: &Partition, now_ms: u64) -> Option<AlterPartitionRequest> {
    partition
        .with_leader_state(|state| {
            let isr = state.isr_change(now_ms)?;
            state.set_pending_isr(isr.clone());
            let assignment = state.assignment();
            Some(AlterPartitionRequest {
                topic: partition.topic().to_string(),
                partition: partition.index(),
                leader_epoch: assignment.leader_epoch,
                partition_epoch: assignment.partition_epoch,
                new_isr: isr,
                // This leader's log is the partition's truth from its election on.
                leader_recovered: true,
            })
        })
        .flatten()
}

async fn propose(
    metadata: &Rc<MetadataService>,
    partitions: &Partitions,
    partition: &Partition,
    request: AlterPartitionRequest,
) {
    let partition_epoch = request.partition_epoch;
    let topic = request.topic.clone();
    let index = request.partition;
    let isr = request.new_isr.clone();
    match metadata.alter_partition(request).await {
        Ok(outcome) => {
            tracing::info!(%topic, partition = index, isr = ?outcome.isr, partition_epoch = outcome.partition_epoch, "ISR changed");
        }
        Err((code, message)) => {
            tracing::warn!(%topic, partition = index, ?isr, code, "ISR change refused: {message}");
        }
    }
    // Answered or not, the next look proposes afresh unless the metadata already moved on.
    partition.with_leader_state(|state| {
        if state.assignment().partition_epoch == partition_epoch && state.has_pending_isr() {
            state.clear_pending_isr();
        }
    });
    partitions.data_notify().notify();
}

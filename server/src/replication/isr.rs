//! The leader side's ISR changes: every shard looks at the partitions it leads now and then,
//! and proposes to the controller (AlterPartition, KIP-497) what `LeaderState::isr_change`
//! asks for: laggards out after `replica.lag.time.max.ms`, caught-up replicas in. One
//! proposal per partition in flight; the answer arrives as metadata (the new ISR and
//! partition epoch). Until it does, the proposal stays pending and counts for the high
//! watermark (maximal ISR): a committed change or a stale refusal waits for the metadata, a
//! lost answer is sent again, and only a refusal that leaves the ISR unchanged clears it.
//!
//! The leader never changes its ISR itself: a deposed leader that cannot reach the controller
//! keeps its old ISR, so its high watermark cannot move without those followers, and it
//! acknowledges nothing they did not fetch.

use std::rc::Rc;
use std::time::Duration;

use sluice_replica::IsrAnswer;

use crate::error_code::ResponseError;
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
    let (leader_epoch, partition_epoch) = (request.leader_epoch, request.partition_epoch);
    let (topic, index) = (request.topic.clone(), request.partition);
    for attempt in 1..=ISR_PROPOSAL_ATTEMPTS_MAX {
        let answer = match metadata.alter_partition(request.clone()).await {
            Ok(outcome) => {
                tracing::info!(%topic, partition = index, isr = ?outcome.isr, partition_epoch = outcome.partition_epoch, "ISR changed");
                IsrAnswer::Committed
            }
            Err((code, message)) => {
                let answer = answer_of(code);
                tracing::warn!(%topic, partition = index, isr = ?request.new_isr, code, attempt, ?answer, "ISR change not committed: {message}");
                answer
            }
        };
        // Only the proposal this leader still holds, at the epochs it was made in, is ours to
        // settle; a newer assignment has replaced it already.
        let resend = partition
            .with_leader_state(|state| {
                let current = state.assignment();
                let same = current.leader_epoch == leader_epoch
                    && current.partition_epoch == partition_epoch
                    && state.pending_isr() == Some(request.new_isr.as_slice());
                if same {
                    state.on_isr_answer(answer)
                } else {
                    None
                }
            })
            .flatten();
        partitions.data_notify().notify();
        if resend.is_none() {
            return;
        }
        let wait = Duration::from_millis(ISR_CHECK_INTERVAL_MS);
        glommio::timer::sleep(wait).await;
    }
    // Still unanswered: let the next look propose afresh (the controller answers a repeat
    // of a committed change with success and no record).
    partition.with_leader_state(|state| {
        if state.assignment().partition_epoch == partition_epoch {
            state.clear_pending_isr();
        }
    });
}

/// Sends of one proposal whose answers were lost, before the proposal is dropped and made
/// afresh from the current state.
const ISR_PROPOSAL_ATTEMPTS_MAX: u32 = 30;

/// Kafka's handling of AlterPartition errors (`handleAlterPartitionError`): which answers mean
/// the ISR stays as this leader holds it, which mean the metadata moved on, and which say
/// nothing.
fn answer_of(code: i16) -> IsrAnswer {
    let unchanged = [
        ResponseError::IneligibleReplica.code(),
        ResponseError::OperationNotAttempted.code(),
        ResponseError::InvalidRequest.code(),
    ];
    let stale = [
        ResponseError::InvalidUpdateVersion.code(),
        ResponseError::FencedLeaderEpoch.code(),
        ResponseError::NotLeaderOrFollower.code(),
        ResponseError::UnknownTopicOrPartition.code(),
        ResponseError::StaleBrokerEpoch.code(),
    ];
    if unchanged.contains(&code) {
        IsrAnswer::RefusedUnchanged
    } else if stale.contains(&code) {
        IsrAnswer::RefusedStale
    } else {
        IsrAnswer::Lost
    }
}

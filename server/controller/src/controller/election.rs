//! Leader election and ISR changes, as KRaft makes them (`PartitionChangeBuilder`): a leader is
//! chosen among the ISR members, in replica order, that are active (registered, unfenced, not
//! shutting down). No unclean election: a partition whose ISR has no active member stays
//! offline until one returns.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use crate::image::{MetadataImage, PartitionView};
use crate::records::{MetadataRecord, NO_LEADER};

/// Takes `broker_id` out of every partition before it is fenced, shuts down, or is replaced by
/// a new incarnation: it leaves each ISR unless it is the last member (KRaft keeps the last
/// member, so the partition can come back with its data when that broker returns), and its
/// leaderships move to another active ISR member, or to [`NO_LEADER`]. Brokers in `leaving`
/// (which holds `broker_id`) are leaving in the same batch and are never chosen.
pub(super) fn remove_broker_from_partitions(
    batch: &mut BatchBuilder,
    broker_id: i32,
    leaving: &BTreeSet<i32>,
) {
    assert!(leaving.contains(&broker_id));
    let image = batch.image();
    let changes: Vec<MetadataRecord> = image
        .partitions()
        .filter(|p| p.image.isr.contains(&broker_id))
        .filter_map(|p| removal_change(image, p, broker_id, leaving))
        .collect();
    for change in changes {
        batch.push(change);
    }
    let image = batch.image();
    assert!(image.partitions_led_by(broker_id).next().is_none());
}

fn removal_change(
    image: &MetadataImage,
    partition: PartitionView,
    broker_id: i32,
    leaving: &BTreeSet<i32>,
) -> Option<MetadataRecord> {
    let current = partition.image;
    let others: Vec<i32> = current
        .isr
        .iter()
        .copied()
        .filter(|r| *r != broker_id)
        .collect();
    let isr = if others.is_empty() {
        current.isr.clone()
    } else {
        others
    };
    let leader = if current.leader == broker_id {
        let eligible = |r: i32| !leaving.contains(&r) && image.is_broker_active(r);
        choose_leader(&current.replicas, &isr, eligible)
    } else {
        current.leader
    };
    partition_change(partition, leader, isr)
}

/// Elects a leader for every offline partition whose ISR has an active member.
pub(super) fn elect_offline_leaders(batch: &mut BatchBuilder) {
    let image = batch.image();
    let changes: Vec<MetadataRecord> = image
        .offline_partitions()
        .filter_map(|p| {
            let leader = choose_leader(&p.image.replicas, &p.image.isr, |r| {
                image.is_broker_active(r)
            });
            partition_change(p, leader, p.image.isr.clone())
        })
        .collect();
    for change in changes {
        batch.push(change);
    }
}

/// Gives `broker_id` back the leadership of the partitions it is the preferred (first)
/// replica of, where it is an active ISR member: a broker that restarts leads them again.
pub(super) fn elect_preferred_leader(batch: &mut BatchBuilder, broker_id: i32) {
    let image = batch.image();
    if !image.is_broker_active(broker_id) {
        return;
    }
    let changes: Vec<MetadataRecord> = image
        .partitions()
        .filter(|p| p.image.replicas.first() == Some(&broker_id))
        .filter(|p| p.image.isr.contains(&broker_id))
        .filter_map(|p| partition_change(p, broker_id, p.image.isr.clone()))
        .collect();
    for change in changes {
        batch.push(change);
    }
}

/// The first replica, in replica order, that is in `isr` and `eligible`; [`NO_LEADER`] if
/// none is.
pub(super) fn choose_leader(replicas: &[i32], isr: &[i32], eligible: impl Fn(i32) -> bool) -> i32 {
    let mut candidates = replicas.iter().copied().filter(|r| isr.contains(r));
    candidates.find(|r| eligible(*r)).unwrap_or(NO_LEADER)
}

/// The record that gives `partition` this leader and ISR, or `None` if it has them already
/// (a PartitionChange always bumps the partition epoch, so no-op records are not written).
fn partition_change(
    partition: PartitionView,
    leader: i32,
    isr: Vec<i32>,
) -> Option<MetadataRecord> {
    let current = partition.image;
    let leader_changes = leader != current.leader;
    let isr_changes = isr != current.isr;
    if !leader_changes && !isr_changes {
        return None;
    }
    Some(MetadataRecord::PartitionChange {
        topic_id: partition.topic.topic_id,
        partition: partition.partition,
        leader: leader_changes.then_some(leader),
        isr: isr_changes.then_some(isr),
        replicas: None,
    })
}

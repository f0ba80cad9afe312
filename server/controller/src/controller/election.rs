//! Leader election and ISR changes, as KRaft makes them (`PartitionChangeBuilder`): a leader is
//! chosen among the ISR members, in replica order, that are active (registered, unfenced, not
//! shutting down). A partition whose ISR has no active member stays offline until one
//! returns, unless its topic allows an unclean election (`unclean.leader.election.enable`):
//! then the first active replica leads, alone in the ISR and marked `Recovering` (KIP-704),
//! and whatever only the old ISR held is lost.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::partition_change::PartitionTarget;
use crate::image::{MetadataImage, PartitionView, TopicImage};
use crate::records::{LeaderRecoveryState, MetadataRecord, NO_LEADER};

/// Kafka's topic and broker config name.
pub const UNCLEAN_LEADER_ELECTION_ENABLE: &str = "unclean.leader.election.enable";

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

/// Elects a leader for every offline partition whose ISR has an active member; where none is,
/// and the topic allows it ([`unclean_election_enabled`] with `unclean_default`, the broker
/// config), elects the first active replica uncleanly.
pub(super) fn elect_offline_leaders(batch: &mut BatchBuilder, unclean_default: bool) {
    let image = batch.image();
    let changes: Vec<MetadataRecord> = image
        .offline_partitions()
        .filter_map(|p| {
            let active = |r| image.is_broker_active(r);
            let leader = choose_leader(&p.image.replicas, &p.image.isr, active);
            if leader != NO_LEADER {
                return partition_change(p, leader, p.image.isr.clone());
            }
            if !unclean_election_enabled(image, p.topic, unclean_default) {
                return None;
            }
            let leader = p.image.replicas.iter().copied().find(|r| active(*r))?;
            tracing::warn!(
                topic = %p.topic.name,
                partition = p.partition,
                leader,
                isr = ?p.image.isr,
                "unclean leader election: records only the old ISR held are lost"
            );
            let mut target = PartitionTarget::of(p.image);
            target.leader = leader;
            target.isr = vec![leader];
            target.leader_recovery_state = LeaderRecoveryState::Recovering;
            target.record(p)
        })
        .collect();
    for change in changes {
        batch.push(change);
    }
}

/// `unclean.leader.election.enable` for `topic`: its override, else the cluster-wide dynamic
/// default (broker config resource ""), else `broker_default`. A value that is not a boolean
/// counts as absent (the broker validates values before they reach the controller).
pub(super) fn unclean_election_enabled(
    image: &MetadataImage,
    topic: &TopicImage,
    broker_default: bool,
) -> bool {
    let parse = |value: &String| value.trim().to_ascii_lowercase().parse::<bool>().ok();
    let topic_override = topic
        .configs
        .get(UNCLEAN_LEADER_ELECTION_ENABLE)
        .and_then(parse);
    let cluster_default = image
        .broker_configs
        .get("")
        .and_then(|configs| configs.get(UNCLEAN_LEADER_ELECTION_ENABLE))
        .and_then(parse);
    topic_override.or(cluster_default).unwrap_or(broker_default)
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
pub(super) fn partition_change(
    partition: PartitionView,
    leader: i32,
    isr: Vec<i32>,
) -> Option<MetadataRecord> {
    let mut target = PartitionTarget::of(partition.image);
    target.leader = leader;
    target.isr = isr;
    target.record(partition)
}

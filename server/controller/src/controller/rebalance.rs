//! Auto leader rebalance (`auto.leader.rebalance.enable`, KRaft's
//! `maybeBalancePartitionLeaders`): leaderships move back to each partition's preferred replica
//! (the first one) where it is active and in the ISR, so that leadership spreads as placement
//! meant it to after brokers restart.
//!
//! Like KRaft, and unlike the ZooKeeper-era controller, there is no per-broker threshold
//! (`leader.imbalance.per.broker.percentage` is not honoured): every imbalanced partition whose
//! preferred replica can lead is moved, at most [`LEADER_ELECTIONS_PER_REBALANCE_MAX`] per
//! pass (KRaft's `maxElectionsPerImbalance`), so one pass stays one modest batch.
//!
//! [`LEADER_ELECTIONS_PER_REBALANCE_MAX`]: super::limits::LEADER_ELECTIONS_PER_REBALANCE_MAX

use super::batch::BatchBuilder;
use super::election::partition_change;
use crate::records::MetadataRecord;

/// Moves up to `elections_max` leaderships to preferred replicas; returns how many moved.
pub(super) fn rebalance_leaders(batch: &mut BatchBuilder, elections_max: usize) -> usize {
    let image = batch.image();
    let changes: Vec<MetadataRecord> = image
        .partitions()
        .filter_map(|p| {
            let preferred = *p.image.replicas.first()?;
            let movable = preferred != p.image.leader
                && p.image.isr.contains(&preferred)
                && image.is_broker_active(preferred);
            movable.then(|| partition_change(p, preferred, p.image.isr.clone()))?
        })
        .take(elections_max)
        .collect();
    let elections = changes.len();
    for change in changes {
        batch.push(change);
    }
    elections
}

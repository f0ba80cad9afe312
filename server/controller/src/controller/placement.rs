//! Where new partitions' replicas go: Kafka's rack-unaware assignment
//! (`AdminUtils.assignReplicasToBrokers` without racks). Over the sorted active brokers, the
//! first replica of consecutive partitions walks round-robin from a random start, so leaders
//! spread evenly; the other replicas follow the first at a distance (the "shift") that grows
//! by one every time the first replica has gone once around, so followers spread too.

use super::error::{ControllerError, ErrorKind};
use super::rng::SeededRng;

/// Replica lists for partitions `first_partition .. first_partition + partition_count` over
/// `brokers` (ascending, distinct). Each list has `replication_factor` distinct brokers.
pub(super) fn place_replicas(
    brokers: &[i32],
    first_partition: usize,
    partition_count: usize,
    replication_factor: usize,
    rng: &mut SeededRng,
) -> Result<Vec<Vec<i32>>, ControllerError> {
    assert!(brokers.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(replication_factor > 0);
    if brokers.is_empty() {
        return Err(ControllerError::new(
            ErrorKind::InvalidReplicationFactor,
            format!(
                "cannot place {replication_factor} replica(s): no broker is available (all are \
                 fenced, shutting down, or none has registered)"
            ),
        ));
    }
    let broker_count = brokers.len();
    if replication_factor > broker_count {
        return Err(ControllerError::new(
            ErrorKind::InvalidReplicationFactor,
            format!(
                "replication factor {replication_factor} is larger than the {broker_count} \
                 available broker(s)"
            ),
        ));
    }
    let start = rng.below(broker_count);
    let mut shift = rng.below(broker_count);
    let mut assignments = Vec::with_capacity(partition_count);
    for partition in first_partition..first_partition + partition_count {
        if partition > 0 && partition % broker_count == 0 {
            shift += 1;
        }
        let first = (partition + start) % broker_count;
        let followers = (0..replication_factor - 1).map(|replica| {
            // 1 ..= broker_count - 1 away from the first, never the first itself.
            let distance = 1 + (shift + replica) % (broker_count - 1);
            brokers[(first + distance) % broker_count]
        });
        let replicas: Vec<i32> = std::iter::once(brokers[first]).chain(followers).collect();
        assert_eq!(replicas.len(), replication_factor);
        assignments.push(replicas);
    }
    Ok(assignments)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn place(brokers: &[i32], partitions: usize, rf: usize, seed: u64) -> Vec<Vec<i32>> {
        place_replicas(brokers, 0, partitions, rf, &mut SeededRng::new(seed)).unwrap()
    }

    fn count_by_broker(replica_lists: impl Iterator<Item = i32>) -> BTreeMap<i32, usize> {
        let mut counts = BTreeMap::new();
        for broker in replica_lists {
            *counts.entry(broker).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn leaders_and_followers_spread_evenly() {
        for seed in 0..20 {
            let assignments = place(&[1, 2, 3], 9, 1, seed);
            let leaders = count_by_broker(assignments.iter().map(|r| r[0]));
            assert_eq!(
                leaders,
                BTreeMap::from([(1, 3), (2, 3), (3, 3)]),
                "seed {seed}"
            );

            let assignments = place(&[1, 2, 3, 4], 8, 2, seed);
            let leaders = count_by_broker(assignments.iter().map(|r| r[0]));
            assert!(
                leaders.values().all(|count| *count == 2),
                "seed {seed}: {leaders:?}"
            );
            let replicas = count_by_broker(assignments.iter().flatten().copied());
            assert!(
                replicas.values().all(|count| *count == 4),
                "seed {seed}: {replicas:?}"
            );
            for replicas in &assignments {
                let distinct: BTreeSet<_> = replicas.iter().collect();
                assert_eq!(distinct.len(), replicas.len(), "seed {seed}: {replicas:?}");
            }
        }
    }

    #[test]
    fn every_replica_set_is_distinct_at_full_replication() {
        let assignments = place(&[1, 2, 3], 12, 3, 5);
        for replicas in &assignments {
            let distinct: BTreeSet<_> = replicas.iter().copied().collect();
            assert_eq!(distinct, BTreeSet::from([1, 2, 3]));
        }
        // The shift moves on after each round, so follower order varies between rounds.
        let orders: BTreeSet<_> = assignments.iter().map(|r| (r[1], r[2])).collect();
        assert!(orders.len() > 3, "{assignments:?}");
    }

    #[test]
    fn the_same_seed_places_the_same_way() {
        assert_eq!(
            place(&[1, 2, 3, 4, 5], 10, 3, 9),
            place(&[1, 2, 3, 4, 5], 10, 3, 9)
        );
        let starts: BTreeSet<i32> = (0..32)
            .map(|seed| place(&[1, 2, 3, 4, 5], 1, 1, seed)[0][0])
            .collect();
        assert!(starts.len() > 1, "the start must depend on the seed");
    }

    #[test]
    fn later_partitions_continue_the_round_robin() {
        let mut rng = SeededRng::new(3);
        let first = place_replicas(&[1, 2, 3], 0, 3, 1, &mut rng).unwrap();
        let leaders: BTreeSet<i32> = first.iter().map(|r| r[0]).collect();
        assert_eq!(leaders.len(), 3);
        let more = place_replicas(&[1, 2, 3], 3, 3, 1, &mut rng).unwrap();
        let leaders: BTreeSet<i32> = more.iter().map(|r| r[0]).collect();
        assert_eq!(leaders.len(), 3);
    }

    #[test]
    fn too_few_brokers_is_an_invalid_replication_factor() {
        let mut rng = SeededRng::new(1);
        let error = place_replicas(&[1, 2], 0, 1, 3, &mut rng).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidReplicationFactor);
        let error = place_replicas(&[], 0, 1, 1, &mut rng).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidReplicationFactor);
    }
}

//! Partition → shard: a stable hash, identical on every shard and across restarts with the same
//! shard count. Consecutive partitions of a topic land on consecutive shards, so a topic with at
//! least as many partitions as shards spans all of them.

/// FNV-1a of the topic name: stable across Rust versions, unlike `DefaultHasher`.
fn topic_hash(topic: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    topic.as_bytes().iter().fold(FNV_OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(FNV_PRIME)
    })
}

/// The shard that owns `topic`/`partition` among `shards` shards.
pub fn owner_shard(topic: &str, partition: i32, shards: usize) -> usize {
    assert!(shards > 0);
    assert!(partition >= 0);
    let owner = (topic_hash(topic).wrapping_add(partition as u64) % shards as u64) as usize;
    assert!(owner < shards);
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_is_stable_and_in_range() {
        for shards in 1..8 {
            for p in 0..32 {
                let owner = owner_shard("orders", p, shards);
                assert!(owner < shards);
                assert_eq!(owner, owner_shard("orders", p, shards));
            }
        }
    }

    #[test]
    fn a_topic_with_as_many_partitions_as_shards_spans_every_shard() {
        let shards = 4;
        let mut owners: Vec<usize> = (0..4).map(|p| owner_shard("t", p, shards)).collect();
        owners.sort_unstable();
        assert_eq!(owners, vec![0, 1, 2, 3]);
    }
}

//! Which `__transaction_state` partition holds a transactional id.

/// Kafka's `partitionFor`: `Utils.abs(transactionalId.hashCode) % partitions_count`, where
/// `hashCode` is Java's `String.hashCode` over UTF-16 code units and `Utils.abs` maps
/// `i32::MIN` to 0. Must match Kafka exactly: clients find the coordinator by it, and the
/// records of an id must stay in one partition.
pub fn transaction_partition(transactional_id: &str, partitions_count: i32) -> i32 {
    assert!(
        partitions_count > 0,
        "transaction.state.log.num.partitions {partitions_count}"
    );
    let hash = java_string_hash(transactional_id);
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions_count
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn java_string_hash(value: &str) -> i32 {
    value.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

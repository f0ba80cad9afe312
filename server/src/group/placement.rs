//! Which `__consumer_offsets` partition holds a group: Kafka's own rule,
//! `abs(groupId.hashCode()) % offsets.topic.num.partitions`, with Java's `String.hashCode` over
//! UTF-16 code units, so a group lands on the same partition number as in Kafka.

/// Name of the internal topic.
pub use crate::topics::OFFSETS_TOPIC;

/// Java's `String.hashCode`.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(unit as i32))
}

/// The offsets partition of `group_id` among `partitions_count` partitions.
pub fn offsets_partition(group_id: &str, partitions_count: i32) -> i32 {
    assert!(partitions_count > 0);
    let hash = java_string_hash(group_id);
    // Kafka's Utils.abs maps i32::MIN to 0.
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    let partition = abs % partitions_count;
    assert!((0..partitions_count).contains(&partition));
    partition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_hash_code() {
        // Values computed by java.lang.String#hashCode.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("consumer-group"), -1_738_392_088);
    }

    #[test]
    fn partition_is_in_range() {
        for g in ["", "a", "my-group", "émoji-🦀", "polygenelubricants"] {
            let p = offsets_partition(g, 50);
            assert!((0..50).contains(&p));
        }
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE in Java.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(offsets_partition("polygenelubricants", 50), 0);
    }
}

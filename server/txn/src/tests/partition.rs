//! `transaction_partition` matches Kafka's `partitionFor`.

use crate::{java_string_hash, transaction_partition};

#[test]
fn java_string_hash_matches_java() {
    assert_eq!(java_string_hash(""), 0);
    assert_eq!(java_string_hash("hello"), 99_162_322);
    // A character outside the BMP hashes as its two UTF-16 surrogates.
    assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
}

#[test]
fn partition_is_abs_hash_modulo_with_min_as_zero() {
    assert_eq!(transaction_partition("hello", 50), 99_162_322 % 50);
    assert_eq!(transaction_partition("polygenelubricants", 50), 0);
    let negative = "negative-hash-id-0";
    let hash = java_string_hash(negative);
    let want = if hash == i32::MIN { 0 } else { hash.abs() % 7 };
    assert_eq!(transaction_partition(negative, 7), want);
    for id in ["a", "b", "txn-1", "ünïcode"] {
        let partition = transaction_partition(id, 50);
        assert!((0..50).contains(&partition));
    }
}

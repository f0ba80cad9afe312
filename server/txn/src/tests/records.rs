//! The `__transaction_state` key and value codecs.

use std::collections::BTreeSet;

use super::*;
use crate::records::{decode_key, decode_value, encode_key, encode_value};
use crate::RecordError;

fn metadata(state: TxnState, partitions: &[TopicPartition]) -> TxnMetadata {
    let open = !state.is_idle();
    TxnMetadata {
        transactional_id: ID.to_owned(),
        producer_id: 0x0102_0304_0506_0708,
        previous_producer_id: 41,
        next_producer_id: -1,
        producer_epoch: 7,
        last_producer_epoch: -1,
        timeout_ms: 60_000,
        state,
        partitions: partitions.iter().cloned().collect(),
        start_timestamp_ms: if state == TxnState::Empty { -1 } else { 1_000 },
        last_update_timestamp_ms: 2_000 + i64::from(open),
    }
}

fn all_durable() -> Vec<TxnMetadata> {
    let parts = [tp("foo", 0), tp("foo", 3), tp("bar", 1)];
    vec![
        metadata(TxnState::Empty, &[]),
        metadata(TxnState::Ongoing, &parts),
        metadata(TxnState::PrepareCommit, &parts),
        metadata(TxnState::PrepareAbort, &parts[..1]),
        metadata(TxnState::CompleteCommit, &[]),
        metadata(TxnState::CompleteAbort, &[]),
    ]
}

#[test]
fn key_is_version_zero_and_an_int16_string() {
    let bytes = encode_key("ab");
    assert_eq!(bytes, vec![0, 0, 0, 2, b'a', b'b']);
    assert_eq!(decode_key(&bytes), Ok("ab".to_owned()));
}

#[test]
fn key_refuses_other_versions_and_bad_bytes() {
    assert_eq!(
        decode_key(&[0, 1, 0, 1, b'a']),
        Err(RecordError::UnknownKeyVersion(1))
    );
    assert_eq!(decode_key(&[0, 0, 0, 3, b'a']), Err(RecordError::Truncated));
    assert_eq!(
        decode_key(&[0, 0, 0xff, 0xff]),
        Err(RecordError::InvalidLength)
    );
    assert_eq!(
        decode_key(&[0, 0, 0, 1, 0xff]),
        Err(RecordError::InvalidString)
    );
    assert_eq!(decode_key(&[0, 0, 0, 0]), Err(RecordError::InvalidString));
    assert_eq!(
        decode_key(&[0, 0, 0, 1, b'a', 9]),
        Err(RecordError::TrailingBytes(1))
    );
    assert_eq!(decode_key(&[0]), Err(RecordError::Truncated));
}

#[test]
fn value_v1_round_trips_every_durable_state() {
    for m in all_durable() {
        let bytes = encode_value(&m);
        assert_eq!(&bytes[..2], &[0, 1], "written as v1");
        assert_eq!(decode_value(ID, &bytes), Ok(m.clone()), "{:?}", m.state);
        // And decode → encode gives the same bytes.
        assert_eq!(encode_value(&decode_value(ID, &bytes).unwrap()), bytes);
    }
}

#[test]
fn value_v1_round_trips_next_producer_id_and_omits_defaults() {
    let mut m = metadata(TxnState::CompleteCommit, &[]);
    m.next_producer_id = 99;
    assert_eq!(decode_value(ID, &encode_value(&m)), Ok(m.clone()));
    m.previous_producer_id = -1;
    m.next_producer_id = -1;
    let bytes = encode_value(&m);
    assert_eq!(
        *bytes.last().unwrap(),
        0,
        "no tagged fields when both are -1"
    );
    assert_eq!(decode_value(ID, &bytes), Ok(m));
}

#[test]
fn last_producer_epoch_is_not_durable() {
    let mut m = metadata(TxnState::Empty, &[]);
    m.last_producer_epoch = 6;
    assert_eq!(
        decode_value(ID, &encode_value(&m))
            .unwrap()
            .last_producer_epoch,
        -1
    );
}

/// A v0 value built by hand from Kafka's schema: version, ProducerId int64, ProducerEpoch
/// int16, TransactionTimeoutMs int32, TransactionStatus int8, TransactionPartitions (int32
/// count; Topic int16 string, PartitionIds int32 count + int32s), LastUpdate int64, Start int64.
fn v0_ongoing() -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend(5i64.to_be_bytes());
    b.extend(3i16.to_be_bytes());
    b.extend(30_000i32.to_be_bytes());
    b.push(1); // Ongoing
    b.extend(2i32.to_be_bytes());
    b.extend(3i16.to_be_bytes());
    b.extend(b"foo");
    b.extend(2i32.to_be_bytes());
    b.extend(0i32.to_be_bytes());
    b.extend(4i32.to_be_bytes());
    b.extend(1i16.to_be_bytes());
    b.extend(b"q");
    b.extend(1i32.to_be_bytes());
    b.extend(9i32.to_be_bytes());
    b.extend(1_234i64.to_be_bytes());
    b.extend(1_200i64.to_be_bytes());
    b
}

#[test]
fn value_v0_decodes() {
    let m = decode_value(ID, &v0_ongoing()).unwrap();
    let want: BTreeSet<_> = [tp("foo", 0), tp("foo", 4), tp("q", 9)].into();
    assert_eq!(m.transactional_id, ID);
    assert_eq!((m.producer_id, m.producer_epoch), (5, 3));
    assert_eq!(
        (
            m.previous_producer_id,
            m.next_producer_id,
            m.last_producer_epoch
        ),
        (-1, -1, -1)
    );
    assert_eq!(m.timeout_ms, 30_000);
    assert_eq!(m.state, TxnState::Ongoing);
    assert_eq!(m.partitions, want);
    assert_eq!(
        (m.last_update_timestamp_ms, m.start_timestamp_ms),
        (1_234, 1_200)
    );
}

#[test]
fn value_v0_empty_with_null_partitions_decodes() {
    let mut b = vec![0, 0];
    b.extend(5i64.to_be_bytes());
    b.extend(0i16.to_be_bytes());
    b.extend(30_000i32.to_be_bytes());
    b.push(0); // Empty
    b.extend((-1i32).to_be_bytes()); // null
    b.extend(1_234i64.to_be_bytes());
    b.extend((-1i64).to_be_bytes());
    let m = decode_value(ID, &b).unwrap();
    assert_eq!(m.state, TxnState::Empty);
    assert!(m.partitions.is_empty());
}

#[test]
fn value_v1_with_kafka4_client_transaction_version_and_unknown_tags_decodes() {
    let m = metadata(TxnState::CompleteAbort, &[]);
    let mut bytes = encode_value(&m);
    // Replace the tagged fields (prev id only: count 1, tag 0, size 8, value) with tag 0,
    // tag 2 (int16) and an unknown tag 7 of 3 bytes.
    let tags_at = bytes.len() - 11;
    assert_eq!(bytes[tags_at], 1);
    bytes.truncate(tags_at);
    bytes.extend([3, 0, 8]);
    bytes.extend(41i64.to_be_bytes());
    bytes.extend([2, 2, 0, 2, 7, 3, 1, 2, 3]);
    assert_eq!(decode_value(ID, &bytes), Ok(m));
}

#[test]
fn every_truncation_of_a_value_is_an_error() {
    for m in all_durable() {
        let bytes = encode_value(&m);
        for len in 0..bytes.len() {
            assert!(
                decode_value(ID, &bytes[..len]).is_err(),
                "{:?} cut at {len}",
                m.state
            );
        }
    }
    let v0 = v0_ongoing();
    for len in 0..v0.len() {
        assert!(decode_value(ID, &v0[..len]).is_err(), "v0 cut at {len}");
    }
}

#[test]
fn garbage_values_are_errors_not_panics() {
    // A deterministic generator: every byte flipped, then pseudo-random buffers.
    let base = encode_value(&metadata(TxnState::Ongoing, &[tp("foo", 0), tp("bar", 2)]));
    for index in 0..base.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = base.clone();
            bytes[index] ^= flip;
            if let Ok(m) = decode_value(ID, &bytes) {
                m.assert_invariants(); // anything accepted is valid metadata
            }
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 80) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|i| (x >> (i % 8 * 8)) as u8 ^ i as u8)
            .collect();
        let _ = decode_value(ID, &bytes).map(|m| m.assert_invariants());
        let _ = decode_key(&bytes);
    }
}

#[test]
fn huge_counts_are_refused_before_allocating() {
    let mut b = vec![0, 0];
    b.extend(5i64.to_be_bytes());
    b.extend(0i16.to_be_bytes());
    b.extend(30_000i32.to_be_bytes());
    b.push(1);
    b.extend(i32::MAX.to_be_bytes());
    assert_eq!(decode_value(ID, &b), Err(RecordError::Truncated));
    let mut b = vec![0, 1];
    b.extend(5i64.to_be_bytes());
    b.extend(0i16.to_be_bytes());
    b.extend(30_000i32.to_be_bytes());
    b.push(1);
    b.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(decode_value(ID, &b), Err(RecordError::Truncated));
    b.truncate(b.len() - 5);
    b.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(decode_value(ID, &b), Err(RecordError::InvalidLength));
}

#[test]
fn values_no_record_holds_are_refused() {
    let mut bytes = encode_value(&metadata(TxnState::CompleteCommit, &[]));
    bytes[16] = TxnState::Dead.code() as u8;
    assert_eq!(decode_value(ID, &bytes), Err(RecordError::InvalidState(6)));
    bytes[16] = TxnState::PrepareEpochFence.code() as u8;
    assert_eq!(decode_value(ID, &bytes), Err(RecordError::InvalidState(7)));
    bytes[16] = 42;
    assert_eq!(decode_value(ID, &bytes), Err(RecordError::InvalidState(42)));
    bytes[16] = TxnState::Ongoing.code() as u8; // Ongoing without partitions
    assert!(matches!(
        decode_value(ID, &bytes),
        Err(RecordError::Inconsistent(_))
    ));
    let mut bytes = encode_value(&metadata(TxnState::CompleteCommit, &[]));
    bytes[0..2].copy_from_slice(&2i16.to_be_bytes());
    assert_eq!(
        decode_value(ID, &bytes),
        Err(RecordError::UnknownValueVersion(2))
    );
    let mut bytes = encode_value(&metadata(TxnState::CompleteCommit, &[]));
    bytes.push(0);
    assert_eq!(decode_value(ID, &bytes), Err(RecordError::TrailingBytes(1)));
}

#[test]
fn a_tombstone_removes_the_id_on_load() {
    let mut c = coordinator();
    let m = metadata(TxnState::CompleteCommit, &[]);
    let key = encode_key(ID);
    let value = encode_value(&m);
    let records: [(&[u8], Option<&[u8]>); 2] = [(&key, Some(&value)), (&key, None)];
    for (i, (key, value)) in records.iter().enumerate() {
        let id = decode_key(key).unwrap();
        c.load(&id, value.map(|v| decode_value(&id, v).unwrap()));
        assert_eq!(c.describe(ID).is_some(), i == 0);
    }
}

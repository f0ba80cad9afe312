//! Round trips: batches built by `BatchBuilder` decode with kafka-protocol's reference
//! decoder (CRC, offsets, timestamps, keys, values), and with our own reader.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use sluice_kafka_client::{for_each_record, BatchBuilder, Codec};

const CODECS: [Codec; 5] = [
    Codec::None,
    Codec::Gzip,
    Codec::Snappy,
    Codec::Lz4,
    Codec::Zstd,
];

fn build(codec: Codec, count: usize, keyed: bool) -> Bytes {
    let mut builder = BatchBuilder::new(4096);
    for i in 0..count {
        let key = format!("key-{i}");
        let tail = vec![b'x'; i % 7];
        builder.append(
            1_700_000_000_000 + i as i64,
            keyed.then_some(key.as_bytes()),
            format!("value-{i}:").as_bytes(),
            &tail,
        );
    }
    assert_eq!(builder.record_count() as usize, count);
    let batch = builder.seal(codec).expect("seal");
    assert!(builder.is_empty(), "sealing resets the builder");
    batch
}

#[test]
fn batches_decode_with_kafka_protocol_for_every_codec() {
    for codec in CODECS {
        let batch = build(codec, 300, true);
        let mut input = batch.clone();
        let sets = RecordBatchDecoder::decode_all(&mut input).expect("reference decoder");
        assert_eq!(sets.len(), 1, "{codec:?}: one batch, not one per record");
        let set = &sets[0];
        let expected_codec = match codec {
            Codec::None => Compression::None,
            Codec::Gzip => Compression::Gzip,
            Codec::Snappy => Compression::Snappy,
            Codec::Lz4 => Compression::Lz4,
            Codec::Zstd => Compression::Zstd,
        };
        assert_eq!(set.compression, expected_codec);
        assert_eq!(set.records.len(), 300);
        for (i, r) in set.records.iter().enumerate() {
            assert_eq!(r.offset, i as i64);
            assert_eq!(r.timestamp, 1_700_000_000_000 + i as i64);
            assert_eq!(r.producer_id, -1);
            assert_eq!(r.key.as_deref(), Some(format!("key-{i}").as_bytes()));
            let mut value = format!("value-{i}:").into_bytes();
            value.extend(std::iter::repeat_n(b'x', i % 7));
            assert_eq!(r.value.as_deref(), Some(&value[..]));
        }
    }
}

#[test]
fn batches_walk_with_our_reader_and_null_keys() {
    for codec in CODECS {
        let mut wire = BytesMut::new();
        wire.extend_from_slice(&build(codec, 10, false));
        wire.extend_from_slice(&build(codec, 5, false));
        // Pretend the broker assigned base offset 10 to the second batch.
        let first_len = wire.len() - build(codec, 5, false).len();
        wire[first_len..first_len + 8].copy_from_slice(&10i64.to_be_bytes());
        // A partial trailing batch must be ignored, as the protocol allows it.
        let partial = build(codec, 3, false);
        wire.extend_from_slice(&partial[..partial.len() / 2]);
        let wire = wire.freeze();
        let mut offsets = Vec::new();
        let summary = for_each_record(&wire, true, |r| {
            assert!(r.key.is_none());
            assert!(r.value.is_some());
            offsets.push(r.offset);
        })
        .expect("walk");
        assert_eq!(summary.batches, 2, "{codec:?}");
        assert_eq!(summary.crc_failures, 0);
        assert_eq!(summary.next_offset, Some(15));
        assert_eq!(offsets, (0..15).collect::<Vec<_>>());
    }
}

#[test]
fn reader_reports_crc_failures() {
    let batch = build(Codec::None, 4, false);
    let mut bad = BytesMut::from(&batch[..]);
    let last = bad.len() - 2;
    bad[last] ^= 0xff;
    let summary =
        for_each_record(&bad.freeze(), true, |_| panic!("corrupt records surfaced")).expect("walk");
    assert_eq!(summary.crc_failures, 1);
}

#[test]
fn size_estimate_bounds_the_real_size() {
    let mut builder = BatchBuilder::new(1024);
    let before = builder.size_bytes();
    let estimate = BatchBuilder::record_size_bytes(Some(b"k"), 100);
    builder.append(0, Some(b"k"), &[0u8; 28], &[1u8; 72]);
    let grown = builder.size_bytes() - before;
    assert!(grown <= estimate, "grown {grown} > estimate {estimate}");
    assert!(
        estimate - grown <= 13,
        "slack is at most the two worst-case varints"
    );
}

//! Keyed records for compaction tests: a batch builder written independently of the engine's
//! encoder (so a wrong encoder fails the tests), and a reader that decodes every record a log
//! serves.

use std::collections::BTreeMap;

use bytes::Bytes;
use sluice_engine::batch::{self, CountRule};
use sluice_engine::compaction::{codec, records};
use sluice_engine::PartitionLog;

pub type Key = Vec<u8>;

/// One record to write: a key (None = keyless) and a value (None = tombstone).
#[derive(Debug, Clone)]
pub struct Put {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

pub fn put(key: &str, value: &str) -> Put {
    Put {
        key: Some(key.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
    }
}

pub fn tombstone(key: &str) -> Put {
    Put {
        key: Some(key.as_bytes().to_vec()),
        value: None,
    }
}

fn varint(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

/// Producer identity of a batch (-1s for a non-idempotent producer).
#[derive(Debug, Clone, Copy)]
pub struct Producer {
    pub id: i64,
    pub epoch: i16,
    pub base_sequence: i32,
}

pub const NO_PRODUCER: Producer = Producer {
    id: -1,
    epoch: -1,
    base_sequence: -1,
};

/// A batch of `puts` with `codec`, record i stamped `base_timestamp + i`, one header per record.
pub fn keyed_batch(puts: &[Put], codec_id: i16, base_timestamp: i64, producer: Producer) -> Bytes {
    let mut section = Vec::new();
    for (i, put) in puts.iter().enumerate() {
        let mut body = vec![0u8];
        varint(&mut body, i as i64);
        varint(&mut body, i as i64);
        for field in [&put.key, &put.value] {
            match field {
                None => varint(&mut body, -1),
                Some(bytes) => {
                    varint(&mut body, bytes.len() as i64);
                    body.extend_from_slice(bytes);
                }
            }
        }
        varint(&mut body, 1);
        varint(&mut body, 1);
        body.push(b'h');
        varint(&mut body, 1);
        body.push(b'v');
        varint(&mut section, body.len() as i64);
        section.extend_from_slice(&body);
    }
    let records = codec::compress(codec_id, &section).expect("compress");
    let mut out = vec![0u8; batch::HEADER_BYTES];
    out.extend_from_slice(&records);
    let len = (out.len() - batch::LOG_OVERHEAD_BYTES) as i32;
    let count = puts.len() as i32;
    out[batch::BATCH_LENGTH_AT..][..4].copy_from_slice(&len.to_be_bytes());
    out[batch::PARTITION_LEADER_EPOCH_AT..][..4].copy_from_slice(&(-1i32).to_be_bytes());
    out[batch::MAGIC_AT] = 2;
    out[batch::ATTRIBUTES_AT..][..2].copy_from_slice(&codec_id.to_be_bytes());
    out[batch::LAST_OFFSET_DELTA_AT..][..4].copy_from_slice(&(count - 1).to_be_bytes());
    out[batch::BASE_TIMESTAMP_AT..][..8].copy_from_slice(&base_timestamp.to_be_bytes());
    let max_ts = base_timestamp + i64::from(count) - 1;
    out[batch::MAX_TIMESTAMP_AT..][..8].copy_from_slice(&max_ts.to_be_bytes());
    out[batch::PRODUCER_ID_AT..][..8].copy_from_slice(&producer.id.to_be_bytes());
    out[batch::PRODUCER_EPOCH_AT..][..2].copy_from_slice(&producer.epoch.to_be_bytes());
    out[batch::BASE_SEQUENCE_AT..][..4].copy_from_slice(&producer.base_sequence.to_be_bytes());
    out[batch::RECORDS_COUNT_AT..][..4].copy_from_slice(&count.to_be_bytes());
    let crc = batch::compute_crc(&out);
    out[batch::CRC_AT..][..4].copy_from_slice(&crc.to_be_bytes());
    batch::validate(&out, CountRule::Producer).expect("test batch is valid");
    Bytes::from(out)
}

/// One record as a log serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub offset: i64,
    pub key: Option<Key>,
    pub value: Option<Vec<u8>>,
    pub timestamp: i64,
    pub batch_base: i64,
    pub codec: i16,
    pub producer_id: i64,
}

/// Every record of every batch `log` serves from its start, checked (CRC, counts).
pub async fn served_records(log: &PartitionLog) -> Vec<Served> {
    let mut out = Vec::new();
    for bytes in batches_served(log).await {
        let header = batch::validate(&bytes, CountRule::Compacted).expect("served batch valid");
        let section = codec::decompress(
            header.compression(),
            &bytes[batch::HEADER_BYTES..],
            64 << 20,
        )
        .expect("decompress");
        for record in records::parse_records(&section, header.records_count).expect("records") {
            let offset = header.base_offset + i64::from(record.offset_delta);
            assert!(offset <= header.last_offset(), "record inside its batch");
            out.push(Served {
                offset,
                key: record.key.map(<[u8]>::to_vec),
                value: record.value.map(<[u8]>::to_vec),
                timestamp: header.base_timestamp + record.timestamp_delta,
                batch_base: header.base_offset,
                codec: header.compression(),
                producer_id: header.producer_id,
            });
        }
    }
    let offsets: Vec<i64> = out.iter().map(|served| served.offset).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "offsets increase");
    out
}

/// Every batch `log` serves from its start. Cleaning leaves gaps, possibly up to the log end
/// (a read there returns nothing), so an empty read ends the walk.
pub async fn batches_served(log: &PartitionLog) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let result = log.read(offset, 1 << 20, i64::MAX).await.expect("read");
        let batches = super::split_batches(&super::read_bytes(&result).await);
        if batches.is_empty() {
            break;
        }
        for (_, bytes) in batches {
            let header = batch::parse_header(&bytes).expect("header");
            assert!(header.next_offset() > offset, "reads move forward");
            offset = header.next_offset();
            out.push(bytes);
        }
    }
    out
}

/// Key -> (offset, value) of the latest record of each key in `history` (offset, key, value).
pub fn latest_per_key(history: &[(i64, Put)]) -> BTreeMap<Key, (i64, Option<Vec<u8>>)> {
    let mut latest = BTreeMap::new();
    for (offset, put) in history {
        if let Some(key) = &put.key {
            latest.insert(key.clone(), (*offset, put.value.clone()));
        }
    }
    latest
}

/// Appends one batch per call and returns the offsets it got, in `history`.
pub async fn append_keyed(
    log: &PartitionLog,
    history: &mut Vec<(i64, Put)>,
    puts: &[Put],
    codec_id: i16,
    timestamp: i64,
) {
    let bytes = keyed_batch(puts, codec_id, timestamp, NO_PRODUCER);
    let info = log.append(&[bytes], timestamp).await.expect("append");
    for (i, put) in puts.iter().enumerate() {
        history.push((info.base_offset + i as i64, put.clone()));
    }
}

/// A compacted log config (no time or size retention) with small segments.
pub fn compacted_log_config(
    segment_bytes: u64,
    compaction: sluice_engine::CompactionConfig,
) -> sluice_engine::LogConfig {
    sluice_engine::LogConfig {
        cleanup_policy: sluice_engine::CleanupPolicy {
            delete: false,
            compact: Some(compaction),
        },
        ..super::log_config(segment_bytes)
    }
}

/// `bytes` with `extra` attribute bits set and its CRC recomputed.
fn with_attributes(bytes: &Bytes, extra: i16) -> Bytes {
    let mut out = bytes.to_vec();
    let attributes = i16::from_be_bytes([out[batch::ATTRIBUTES_AT], out[batch::ATTRIBUTES_AT + 1]]);
    out[batch::ATTRIBUTES_AT..][..2].copy_from_slice(&(attributes | extra).to_be_bytes());
    let crc = batch::compute_crc(&out);
    out[batch::CRC_AT..][..4].copy_from_slice(&crc.to_be_bytes());
    batch::validate(&out, CountRule::Producer).expect("test batch is valid");
    Bytes::from(out)
}

/// A transactional batch of `puts` by `producer`.
pub fn txn_batch(puts: &[Put], base_timestamp: i64, producer: Producer) -> Bytes {
    let bytes = keyed_batch(puts, 0, base_timestamp, producer);
    with_attributes(&bytes, batch::ATTRIBUTE_TRANSACTIONAL)
}

/// A COMMIT (`commit`) or ABORT marker of `producer`: a control batch of one record, key
/// version 0 + type, value version 0 + coordinator epoch 0 (Kafka's `EndTransactionMarker`).
pub fn marker_batch(producer: Producer, commit: bool, timestamp: i64) -> Bytes {
    let record = Put {
        key: Some(vec![0, 0, 0, u8::from(commit)]),
        value: Some(vec![0; 6]),
    };
    let producer = Producer {
        base_sequence: -1,
        ..producer
    };
    let bytes = keyed_batch(&[record], 0, timestamp, producer);
    with_attributes(
        &bytes,
        batch::ATTRIBUTE_TRANSACTIONAL | batch::ATTRIBUTE_CONTROL,
    )
}

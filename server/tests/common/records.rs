//! RecordBatch v2 bytes for raw produce requests, and decoding of fetched batches.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// Offset of the CRC-32C field inside a RecordBatch v2 (after baseOffset, batchLength,
/// partitionLeaderEpoch and magic).
pub const CRC_OFFSET: usize = 17;

/// What a test produces and expects to read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRecord {
    pub key: Bytes,
    pub value: Bytes,
    pub timestamp_ms: i64,
}

/// One uncompressed batch holding `records`, relative offsets 0..n, no producer id.
pub fn encode_batch(records: &[TestRecord]) -> Bytes {
    encode_producer_batch(records, &ProducerFields::NONE)
}

/// The producer fields of a batch: an idempotent producer's id, epoch and first sequence.
#[derive(Clone, Copy, Debug)]
pub struct ProducerFields {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// Sequence of the first record; -1 without a producer id.
    pub base_sequence: i32,
    pub transactional: bool,
    pub control: bool,
}

impl ProducerFields {
    pub const NONE: ProducerFields = ProducerFields {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        transactional: false,
        control: false,
    };

    pub fn idempotent(producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        ProducerFields {
            producer_id,
            producer_epoch,
            base_sequence,
            ..ProducerFields::NONE
        }
    }
}

/// One uncompressed batch holding `records` with the given producer fields.
pub fn encode_producer_batch(records: &[TestRecord], producer: &ProducerFields) -> Bytes {
    assert!(!records.is_empty(), "a batch holds at least one record");
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            transactional: producer.transactional,
            control: producer.control,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: producer.producer_id,
            producer_epoch: producer.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder starts a new batch whenever offset - sequence changes, and takes the
            // first record's sequence as the base sequence (-1 without a producer id).
            sequence: if producer.base_sequence < 0 {
                i as i32 - 1
            } else {
                producer.base_sequence + i as i32
            },
            timestamp: r.timestamp_ms,
            key: Some(r.key.clone()),
            value: Some(r.value.clone()),
            headers: IndexMap::from([(
                StrBytes::from_static_str("test"),
                Some(Bytes::from_static(b"header")),
            )]),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode record batch");
    let batch = buf.freeze();
    assert_eq!(
        batch_count(&batch),
        1,
        "encoder split the records into several batches"
    );
    batch
}

/// The same batch with one payload byte flipped, so its CRC-32C no longer matches.
pub fn with_bad_crc(batch: &Bytes) -> Bytes {
    assert!(
        batch.len() > CRC_OFFSET + 4,
        "too short for a RecordBatch v2"
    );
    let mut corrupt = BytesMut::from(&batch[..]);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x5a;
    corrupt.freeze()
}

/// Number of batches in a buffer of back-to-back RecordBatch v2.
pub fn batch_count(bytes: &Bytes) -> usize {
    let mut rest = bytes.clone();
    RecordBatchDecoder::decode_batch_info(&mut rest)
        .expect("decode batch headers")
        .len()
}

/// Every record in `bytes` (whole uncompressed batches, as a fetch returns them).
pub fn decode_records(bytes: &Bytes) -> Vec<Record> {
    let mut rest = bytes.clone();
    RecordBatchDecoder::decode_all(&mut rest)
        .expect("decode fetched batches")
        .into_iter()
        .flat_map(|set| set.records)
        .collect()
}

/// A deterministic stream of pseudo-random numbers (xorshift64*), so failures reproduce.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// Record number `index` of a test stream: key and value say where it came from.
pub fn numbered_record(stream: &str, index: usize, timestamp_ms: i64) -> TestRecord {
    TestRecord {
        key: Bytes::from(format!("{stream}-key-{index}")),
        value: Bytes::from(format!("{stream}-value-{index}-{}", "x".repeat(index % 50))),
        timestamp_ms,
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

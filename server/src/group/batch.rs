//! `__consumer_offsets` records as RecordBatch v2 (uncompressed), the format every Kafka tool
//! reads; and back, for loading. Plain records go in batches without a producer id; a
//! TxnOffsetCommit's go in a transactional batch (attribute bit 4) of its producer id and epoch
//! with no sequence (base sequence -1), as Kafka's coordinator writes them. Transaction markers
//! (control batches, bit 5) are written by the partition's data plane; loading reads them.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    TimestampType, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
};

use super::offsets::TxnProducer;
use super::records::OffsetsRecord;

/// Control record key: version then type (Kafka's `ControlRecordType`).
const CONTROL_KEY_BYTES: usize = 4;
const CONTROL_TYPE_ABORT: i16 = 0;
const CONTROL_TYPE_COMMIT: i16 = 1;

/// Bytes of keys and values per batch; stays well under the default `max.message.bytes`.
pub const BATCH_PAYLOAD_BYTES_MAX: usize = 512 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("encoding an offsets batch: {0}")]
    Encode(String),
    #[error("decoding an offsets batch: {0}")]
    Decode(String),
}

/// A decoded record with its offset in the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedRecord {
    pub offset: i64,
    /// The producer id of a transactional batch; `None` outside transactions.
    pub txn_producer_id: Option<i64>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// What replaying a partition meets, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    Record(LoadedRecord),
    /// The end of a producer's transaction: its commit or abort marker.
    Marker {
        offset: i64,
        producer_id: i64,
        commit: bool,
    },
}

impl Loaded {
    pub fn offset(&self) -> i64 {
        match self {
            Loaded::Record(r) => r.offset,
            Loaded::Marker { offset, .. } => *offset,
        }
    }
}

/// Encodes `records` into one or more batches (base offset 0: the log assigns offsets),
/// splitting at `BATCH_PAYLOAD_BYTES_MAX`; transactional batches of `producer` if given.
pub fn encode_batches(
    records: &[OffsetsRecord],
    now_ms: i64,
    producer: Option<TxnProducer>,
) -> Result<Vec<Bytes>, BatchError> {
    let mut batches = Vec::new();
    let mut chunk: Vec<Record> = Vec::new();
    let mut chunk_bytes = 0usize;
    for r in records {
        let bytes = r.key.len() + r.value.as_ref().map_or(0, |v| v.len());
        if !chunk.is_empty() && chunk_bytes + bytes > BATCH_PAYLOAD_BYTES_MAX {
            batches.push(encode_one(&chunk)?);
            chunk.clear();
            chunk_bytes = 0;
        }
        let index = chunk.len() as i64;
        // The encoder starts a new batch whenever offset - sequence changes, and derives the
        // base sequence from the first record: 0 for plain batches, -1 (none) for
        // transactional ones.
        let sequence = match producer {
            None => index as i32,
            Some(_) => index as i32 - 1,
        };
        chunk.push(Record {
            transactional: producer.is_some(),
            control: false,
            delete_horizon: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: producer.map_or(NO_PRODUCER_ID, |p| p.producer_id),
            producer_epoch: producer.map_or(NO_PRODUCER_EPOCH, |p| p.producer_epoch),
            timestamp_type: TimestampType::Creation,
            offset: index,
            sequence,
            timestamp: now_ms,
            key: Some(r.key.clone()),
            value: r.value.clone(),
            headers: IndexMap::new(),
        });
        chunk_bytes += bytes;
    }
    if !chunk.is_empty() {
        batches.push(encode_one(&chunk)?);
    }
    Ok(batches)
}

fn encode_one(records: &[Record]) -> Result<Bytes, BatchError> {
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options)
        .map_err(|e| BatchError::Encode(e.to_string()))?;
    Ok(buf.freeze())
}

/// Decodes whole batches (as read back from the log) into records and transaction markers, in
/// offset order. Control records other than commit and abort markers are skipped.
pub fn decode_batches(mut bytes: Bytes) -> Result<Vec<Loaded>, BatchError> {
    let sets = RecordBatchDecoder::decode_all(&mut bytes)
        .map_err(|e| BatchError::Decode(e.to_string()))?;
    let mut out = Vec::new();
    for set in sets {
        for r in set.records {
            if r.control {
                if let Some(commit) = marker_commit(r.key.as_deref())? {
                    out.push(Loaded::Marker {
                        offset: r.offset,
                        producer_id: r.producer_id,
                        commit,
                    });
                }
                continue;
            }
            out.push(Loaded::Record(LoadedRecord {
                offset: r.offset,
                txn_producer_id: r.transactional.then_some(r.producer_id),
                key: r.key,
                value: r.value,
            }));
        }
    }
    Ok(out)
}

/// `Some(true)` for a commit marker, `Some(false)` for an abort, `None` for other control
/// records (leader change, snapshot headers).
fn marker_commit(key: Option<&[u8]>) -> Result<Option<bool>, BatchError> {
    let key = key.ok_or_else(|| BatchError::Decode("control record without a key".into()))?;
    if key.len() < CONTROL_KEY_BYTES {
        return Err(BatchError::Decode(format!(
            "control record key of {} bytes",
            key.len()
        )));
    }
    let control_type = i16::from_be_bytes([key[2], key[3]]);
    Ok(match control_type {
        CONTROL_TYPE_ABORT => Some(false),
        CONTROL_TYPE_COMMIT => Some(true),
        _ => None,
    })
}

/// A transaction marker batch, as the partition's data plane writes one (for tests and tools:
/// the group coordinator itself never writes markers).
pub fn encode_marker(
    producer: TxnProducer,
    commit: bool,
    now_ms: i64,
) -> Result<Bytes, BatchError> {
    let control_type = if commit {
        CONTROL_TYPE_COMMIT
    } else {
        CONTROL_TYPE_ABORT
    };
    let mut key = BytesMut::with_capacity(CONTROL_KEY_BYTES);
    key.extend_from_slice(&0i16.to_be_bytes());
    key.extend_from_slice(&control_type.to_be_bytes());
    // EndTransactionMarker value: version 0, coordinator epoch.
    let mut value = BytesMut::with_capacity(6);
    value.extend_from_slice(&0i16.to_be_bytes());
    value.extend_from_slice(&0i32.to_be_bytes());
    let record = Record {
        transactional: true,
        control: true,
        delete_horizon: false,
        partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
        producer_id: producer.producer_id,
        producer_epoch: producer.producer_epoch,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: now_ms,
        key: Some(key.freeze()),
        value: Some(value.freeze()),
        headers: IndexMap::new(),
    };
    encode_one(std::slice::from_ref(&record))
}

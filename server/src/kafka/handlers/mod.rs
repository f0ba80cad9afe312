//! One handler per Kafka API. Each file declares the version range it serves in `VERSIONS`;
//! ApiVersions advertises exactly this table.

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_partition_reassignments;
pub mod alter_user_scram_credentials;
pub mod api_versions;
pub mod create_acls;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_acls;
pub mod delete_groups;
pub mod delete_topics;
pub mod describe_acls;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_producers;
pub mod describe_quorum;
pub mod describe_transactions;
pub mod describe_user_scram_credentials;
pub mod end_txn;
pub mod fetch;
pub mod fetch_for_follower;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_partition_reassignments;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod sync_group;
pub mod txn_offset_commit;
pub mod write_txn_markers;

use std::rc::Rc;

use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::VersionRange;

use super::dispatch::{Conn, Outcome, Request, RequestError};

/// Every API the broker serves, with its versions, in api-key order.
pub const APIS: [(ApiKey, VersionRange); 42] = [
    (ApiKey::Produce, produce::VERSIONS),
    (ApiKey::Fetch, fetch::VERSIONS),
    (ApiKey::ListOffsets, list_offsets::VERSIONS),
    (ApiKey::Metadata, metadata::VERSIONS),
    (ApiKey::OffsetCommit, offset_commit::VERSIONS),
    (ApiKey::OffsetFetch, offset_fetch::VERSIONS),
    (ApiKey::FindCoordinator, find_coordinator::VERSIONS),
    (ApiKey::JoinGroup, join_group::VERSIONS),
    (ApiKey::Heartbeat, heartbeat::VERSIONS),
    (ApiKey::LeaveGroup, leave_group::VERSIONS),
    (ApiKey::SyncGroup, sync_group::VERSIONS),
    (ApiKey::DescribeGroups, describe_groups::VERSIONS),
    (ApiKey::ListGroups, list_groups::VERSIONS),
    (ApiKey::SaslHandshake, sasl_handshake::VERSIONS),
    (ApiKey::ApiVersions, api_versions::VERSIONS),
    (ApiKey::CreateTopics, create_topics::VERSIONS),
    (ApiKey::DeleteTopics, delete_topics::VERSIONS),
    (ApiKey::DescribeConfigs, describe_configs::VERSIONS),
    (ApiKey::CreatePartitions, create_partitions::VERSIONS),
    (ApiKey::DeleteGroups, delete_groups::VERSIONS),
    (ApiKey::InitProducerId, init_producer_id::VERSIONS),
    (
        ApiKey::OffsetForLeaderEpoch,
        offset_for_leader_epoch::VERSIONS,
    ),
    (ApiKey::AddPartitionsToTxn, add_partitions_to_txn::VERSIONS),
    (ApiKey::AddOffsetsToTxn, add_offsets_to_txn::VERSIONS),
    (ApiKey::EndTxn, end_txn::VERSIONS),
    (ApiKey::WriteTxnMarkers, write_txn_markers::VERSIONS),
    (ApiKey::TxnOffsetCommit, txn_offset_commit::VERSIONS),
    (ApiKey::DescribeAcls, describe_acls::VERSIONS),
    (ApiKey::CreateAcls, create_acls::VERSIONS),
    (ApiKey::DeleteAcls, delete_acls::VERSIONS),
    (ApiKey::SaslAuthenticate, sasl_authenticate::VERSIONS),
    (
        ApiKey::IncrementalAlterConfigs,
        incremental_alter_configs::VERSIONS,
    ),
    (
        ApiKey::AlterPartitionReassignments,
        alter_partition_reassignments::VERSIONS,
    ),
    (
        ApiKey::ListPartitionReassignments,
        list_partition_reassignments::VERSIONS,
    ),
    (ApiKey::OffsetDelete, offset_delete::VERSIONS),
    (
        ApiKey::DescribeUserScramCredentials,
        describe_user_scram_credentials::VERSIONS,
    ),
    (
        ApiKey::AlterUserScramCredentials,
        alter_user_scram_credentials::VERSIONS,
    ),
    (ApiKey::DescribeCluster, describe_cluster::VERSIONS),
    (ApiKey::DescribeQuorum, describe_quorum::VERSIONS),
    (ApiKey::DescribeProducers, describe_producers::VERSIONS),
    (
        ApiKey::DescribeTransactions,
        describe_transactions::VERSIONS,
    ),
    (ApiKey::ListTransactions, list_transactions::VERSIONS),
];

pub fn versions(api_key: i16) -> Option<VersionRange> {
    APIS.iter()
        .find(|(key, _)| *key as i16 == api_key)
        .map(|(_, range)| *range)
}

/// Hands the request to its API's handler, with the services that handler uses and the
/// request's authorization (each handler asks Kafka's questions of it).
pub async fn handle(conn: &Rc<Conn>, request: Request) -> Result<Outcome, RequestError> {
    let services = &conn.services;
    let partitions = &services.partitions;
    let metadata = &services.metadata;
    let groups = &services.groups;
    let authz = conn.authz(request.api_key);
    match request.api_key {
        ApiKey::Produce => {
            let verifier = services.txn_verifier.clone();
            produce::handle(partitions, metadata, &authz, verifier, request).await
        }
        ApiKey::Fetch => fetch::handle(
            partitions,
            metadata,
            &services.fetch_sessions,
            &authz,
            request,
        ),
        ApiKey::ListOffsets => list_offsets::handle(partitions, metadata, &authz, request).await,
        ApiKey::Metadata => metadata::handle(conn, metadata, &authz, request).await,
        ApiKey::ApiVersions => api_versions::handle(request),
        ApiKey::SaslHandshake => sasl_handshake::handle(conn, request),
        ApiKey::SaslAuthenticate => sasl_authenticate::handle(conn, request).await,
        ApiKey::DescribeAcls => describe_acls::handle(&authz, metadata, request),
        ApiKey::CreateAcls => create_acls::handle(&authz, metadata, request).await,
        ApiKey::DeleteAcls => delete_acls::handle(&authz, metadata, request).await,
        ApiKey::DescribeUserScramCredentials => {
            describe_user_scram_credentials::handle(&authz, metadata, request)
        }
        ApiKey::AlterUserScramCredentials => {
            alter_user_scram_credentials::handle(&authz, metadata, request).await
        }
        ApiKey::CreateTopics => create_topics::handle(metadata, &authz, request).await,
        ApiKey::DeleteTopics => delete_topics::handle(metadata, &authz, request).await,
        ApiKey::DescribeConfigs => describe_configs::handle(metadata, &authz, request),
        ApiKey::CreatePartitions => create_partitions::handle(metadata, &authz, request).await,
        ApiKey::IncrementalAlterConfigs => {
            incremental_alter_configs::handle(metadata, &authz, request).await
        }
        ApiKey::DescribeCluster => describe_cluster::handle(conn, metadata, &authz, request),
        ApiKey::DescribeQuorum => describe_quorum::handle(metadata, &authz, request).await,
        ApiKey::AlterPartitionReassignments => {
            alter_partition_reassignments::handle(metadata, &authz, request).await
        }
        ApiKey::ListPartitionReassignments => {
            list_partition_reassignments::handle(metadata, &authz, request).await
        }
        ApiKey::OffsetForLeaderEpoch => {
            offset_for_leader_epoch::handle(partitions, metadata, &authz, request).await
        }
        ApiKey::OffsetCommit => offset_commit::handle(groups, metadata, &authz, request),
        ApiKey::TxnOffsetCommit => txn_offset_commit::handle(groups, metadata, &authz, request),
        ApiKey::OffsetFetch => offset_fetch::handle(groups, &authz, request).await,
        ApiKey::FindCoordinator => find_coordinator::handle(conn, metadata, &authz, request).await,
        ApiKey::JoinGroup => join_group::handle(groups, &conn.peer, &authz, request),
        ApiKey::Heartbeat => heartbeat::handle(groups, &authz, request).await,
        ApiKey::LeaveGroup => leave_group::handle(groups, &authz, request).await,
        ApiKey::SyncGroup => sync_group::handle(groups, &authz, request),
        ApiKey::DescribeGroups => describe_groups::handle(groups, &authz, request).await,
        ApiKey::ListGroups => list_groups::handle(groups, &authz, request).await,
        ApiKey::DeleteGroups => delete_groups::handle(groups, &authz, request).await,
        ApiKey::OffsetDelete => offset_delete::handle(groups, metadata, &authz, request).await,
        ApiKey::DescribeProducers => {
            describe_producers::handle(partitions, metadata, &authz, request).await
        }
        ApiKey::InitProducerId => {
            init_producer_id::handle(&services.producer_ids, &services.txn, &authz, request).await
        }
        ApiKey::AddPartitionsToTxn => {
            add_partitions_to_txn::handle(&services.txn, metadata, &authz, request).await
        }
        ApiKey::AddOffsetsToTxn => {
            add_offsets_to_txn::handle(&services.txn, metadata, &authz, request).await
        }
        ApiKey::EndTxn => end_txn::handle(&services.txn, &authz, request).await,
        ApiKey::DescribeTransactions => {
            describe_transactions::handle(&services.txn, &authz, request).await
        }
        ApiKey::ListTransactions => list_transactions::handle(&services.txn, &authz, request).await,
        ApiKey::WriteTxnMarkers => {
            write_txn_markers::handle(partitions, groups, metadata, &authz, request).await
        }
        other => Err(RequestError::UnknownApiKey(other as i16)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::Message;

    /// Every advertised version must be one the protocol crate can decode and encode, except
    /// Produce's minimum, which is advertised as 0 for librdkafka (server/README.md, "Protocol and runtime facts").
    #[test]
    fn advertised_versions_are_within_what_the_codec_supports() {
        let codec = |key: ApiKey| key.valid_versions();
        for (key, range) in APIS {
            let supported = codec(key);
            assert!(range.max <= supported.max, "{key:?}");
            if key != ApiKey::Produce {
                assert!(range.min >= supported.min, "{key:?}");
            }
        }
        assert_eq!(produce::VERSIONS.min, 0);
        assert_eq!(ApiVersionsRequest::VERSIONS.min, 0);
    }

    /// TxnOffsetCommit is served v0-v3 (v4 is KIP-890's verification), every one of which the
    /// codec round-trips.
    #[test]
    fn txn_offset_commit_versions_round_trip() {
        use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
        assert_eq!(
            versions(ApiKey::TxnOffsetCommit as i16),
            Some(txn_offset_commit::VERSIONS)
        );
        assert_eq!(txn_offset_commit::VERSIONS.min, 0);
        assert_eq!(txn_offset_commit::VERSIONS.max, 3);
        for version in txn_offset_commit::VERSIONS.min..=txn_offset_commit::VERSIONS.max {
            let request = TxnOffsetCommitRequest::default()
                .with_transactional_id(TransactionalId(StrBytes::from_static_str("tx")))
                .with_group_id(GroupId(StrBytes::from_static_str("g")))
                .with_producer_id(ProducerId(7))
                .with_producer_epoch(2);
            let mut bytes = bytes::BytesMut::new();
            request.encode(&mut bytes, version).expect("encode");
            let decoded =
                TxnOffsetCommitRequest::decode(&mut bytes.freeze(), version).expect("decode");
            assert_eq!(decoded.producer_id, ProducerId(7), "v{version}");
            assert_eq!(decoded.group_id.0.as_str(), "g");
        }
    }
}

//! DescribeQuorum (key 55): the controller quorum of the metadata log (`__cluster_metadata`
//! partition 0) as its leader sees it: leader, epoch (the Raft term), high watermark (the
//! commit index), and each voter's log end offset (its matched index) and last contact. Any
//! broker answers: it asks the active controller, as Kafka's brokers forward it (KIP-836).
//! Needs DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED at the top), as Kafka's
//! controller asks.

use std::rc::Rc;

use kafka_protocol::messages::describe_quorum_response::{PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

/// KRaft's name for the metadata log, and its one partition.
const METADATA_TOPIC: &str = "__cluster_metadata";
const METADATA_PARTITION: i32 = 0;

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeQuorumRequest = request.decode()?;
    if !authz.cluster(AclOperation::Describe) {
        let mut response = DescribeQuorumResponse::default();
        response.error_code = ResponseError::ClusterAuthorizationFailed.code();
        return Ok(request.respond(&response)?.into());
    }
    let view = metadata.describe_quorum().await;
    let now_ms = crate::util::now_ms();
    let mut response = DescribeQuorumResponse::default();
    response.topics = body
        .topics
        .iter()
        .map(|topic| {
            let mut out = TopicData::default();
            out.topic_name = topic.topic_name.clone();
            out.partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let mut partition = PartitionData::default();
                    partition.partition_index = p.partition_index;
                    let ours = topic.topic_name.0.as_str() == METADATA_TOPIC
                        && p.partition_index == METADATA_PARTITION;
                    match (&view, ours) {
                        (_, false) => {
                            partition.error_code = ResponseError::UnknownTopicOrPartition.code()
                        }
                        (None, true) => {
                            partition.error_code = ResponseError::NotLeaderOrFollower.code()
                        }
                        (Some(view), true) => {
                            partition.error_code = NONE;
                            partition.leader_id = BrokerId(view.leader);
                            partition.leader_epoch = view.term as i32;
                            partition.high_watermark = view.commit_index as i64;
                            partition.current_voters = view
                                .voters
                                .iter()
                                .map(|voter| {
                                    let mut state = ReplicaState::default();
                                    state.replica_id = BrokerId(voter.node_id);
                                    state.log_end_offset = voter.matched_offset as i64;
                                    let contact = voter.last_contact_ms.map_or(-1, |ms| ms as i64);
                                    state.last_fetch_timestamp = contact;
                                    state.last_caught_up_timestamp =
                                        if voter.matched_offset >= view.commit_index {
                                            now_ms
                                        } else {
                                            contact
                                        };
                                    state
                                })
                                .collect();
                        }
                    }
                    partition
                })
                .collect();
            out
        })
        .collect();
    Ok(request.respond(&response)?.into())
}

//! AlterPartitionReassignments (key 45, KIP-455): starts, replaces or cancels (null replicas)
//! the reassignment of partitions to new replicas. Any broker answers: it forwards the whole
//! request to the active controller, which answers per partition; v1 (KIP-860) may forbid a
//! change of replication factor. Answered once this broker applied the accepted changes.
//!
//! Needs ALTER on the cluster: otherwise CLUSTER_AUTHORIZATION_FAILED at the top and on every
//! partition, as Kafka's error answer has it.

use std::rc::Rc;

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::cluster::wire::WireReassignment;
use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: AlterPartitionReassignmentsRequest = request.decode()?;
    if !authz.cluster(AclOperation::Alter) {
        return Ok(request.respond(&refused(&body))?.into());
    }
    // v0 has no such field; its default (true) is v0's behaviour.
    let allow = body.allow_replication_factor_change;
    let reassignments: Vec<WireReassignment> = body
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|partition| WireReassignment {
                topic: topic.name.0.to_string(),
                partition: partition.partition_index,
                replicas: partition
                    .replicas
                    .as_ref()
                    .map(|replicas| replicas.iter().map(|broker| broker.0).collect()),
            })
        })
        .collect();
    let count = reassignments.len();
    let mut response = AlterPartitionReassignmentsResponse::default();
    response.allow_replication_factor_change = allow;
    let results = match metadata
        .alter_partition_reassignments(reassignments, allow)
        .await
    {
        Ok(results) => results,
        Err((code, message)) => {
            response.error_code = code;
            response.error_message = Some(StrBytes::from_string(message));
            return Ok(request.respond(&response)?.into());
        }
    };
    assert_eq!(results.len(), count, "one result per partition");
    let mut results = results.into_iter();
    for topic in &body.topics {
        let mut topic_response = ReassignableTopicResponse::default();
        topic_response.name = topic.name.clone();
        for partition in &topic.partitions {
            let mut partition_response = ReassignablePartitionResponse::default();
            partition_response.partition_index = partition.partition_index;
            match results.next().flatten() {
                None => partition_response.error_code = NONE,
                Some((code, message)) => {
                    partition_response.error_code = code;
                    partition_response.error_message = Some(StrBytes::from_string(message));
                }
            }
            topic_response.partitions.push(partition_response);
        }
        response.responses.push(topic_response);
    }
    Ok(request.respond(&response)?.into())
}

/// Kafka's error answer to a principal without ALTER on the cluster: the error at the top and
/// on every partition.
fn refused(body: &AlterPartitionReassignmentsRequest) -> AlterPartitionReassignmentsResponse {
    let error = ResponseError::ClusterAuthorizationFailed;
    let message = || Some(StrBytes::from_static_str("Cluster authorization failed."));
    let mut response = AlterPartitionReassignmentsResponse::default();
    response.allow_replication_factor_change = body.allow_replication_factor_change;
    response.error_code = error.code();
    response.error_message = message();
    for topic in &body.topics {
        let mut topic_response = ReassignableTopicResponse::default();
        topic_response.name = topic.name.clone();
        for partition in &topic.partitions {
            let mut partition_response = ReassignablePartitionResponse::default();
            partition_response.partition_index = partition.partition_index;
            partition_response.error_code = error.code();
            partition_response.error_message = message();
            topic_response.partitions.push(partition_response);
        }
        response.responses.push(topic_response);
    }
    response
}

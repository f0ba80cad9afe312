//! ListPartitionReassignments (key 46, KIP-455): the reassignments in progress, of every
//! partition (null topics) or of the partitions named, with each one's replicas and the
//! replicas being added and removed. Any broker answers: it asks the active controller.
//! Needs DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    BrokerId, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::AclOperation;

use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: ListPartitionReassignmentsRequest = request.decode()?;
    if !authz.cluster(AclOperation::Describe) {
        let mut response = ListPartitionReassignmentsResponse::default();
        response.error_code = ResponseError::ClusterAuthorizationFailed.code();
        response.error_message = Some(StrBytes::from_static_str("Cluster authorization failed."));
        return Ok(request.respond(&response)?.into());
    }
    let partitions = body.topics.as_ref().map(|topics| {
        let named = topics.iter().flat_map(|topic| {
            let name = topic.name.0.to_string();
            let indexes = topic.partition_indexes.iter();
            indexes.map(move |partition| (name.clone(), *partition))
        });
        named.collect::<Vec<(String, i32)>>()
    });
    let mut response = ListPartitionReassignmentsResponse::default();
    let ongoing = match metadata.list_partition_reassignments(partitions).await {
        Ok(ongoing) => ongoing,
        Err((code, message)) => {
            response.error_code = code;
            response.error_message = Some(StrBytes::from_string(message));
            return Ok(request.respond(&response)?.into());
        }
    };
    let brokers = |ids: &[i32]| ids.iter().map(|id| BrokerId(*id)).collect::<Vec<_>>();
    // The controller lists them by topic name then partition: one entry per topic.
    for reassignment in ongoing {
        let mut partition = OngoingPartitionReassignment::default();
        partition.partition_index = reassignment.partition;
        partition.replicas = brokers(&reassignment.replicas);
        partition.adding_replicas = brokers(&reassignment.adding_replicas);
        partition.removing_replicas = brokers(&reassignment.removing_replicas);
        let same_topic = response
            .topics
            .last()
            .is_some_and(|topic| topic.name.0.as_str() == reassignment.topic);
        if !same_topic {
            let mut topic = OngoingTopicReassignment::default();
            topic.name = StrBytes::from_string(reassignment.topic).into();
            response.topics.push(topic);
        }
        let topic = response.topics.last_mut().expect("pushed above");
        topic.partitions.push(partition);
    }
    Ok(request.respond(&response)?.into())
}

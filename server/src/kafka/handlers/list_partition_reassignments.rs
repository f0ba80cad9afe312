//! ListPartitionReassignments (key 46, KIP-455): the reassignments in progress, of every
//! partition (null topics) or of the partitions named, with each one's replicas and the
//! replicas being added and removed. Any broker answers: it asks the active controller.

use std::rc::Rc;

use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    BrokerId, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: ListPartitionReassignmentsRequest = request.decode()?;
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

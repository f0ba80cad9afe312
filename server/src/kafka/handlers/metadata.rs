//! Metadata (key 3): the live brokers, the active controller, and each partition's leader,
//! leader epoch, replicas, ISR and offline replicas, as this broker's metadata image has them.
//! Unknown topics are created when both the request and `auto.create.topics.enable` allow it.
//!
//! Authorization (Kafka's `handleTopicMetadataRequest`): a request for every topic lists only
//! the topics the principal may DESCRIBE; a named topic it may not describe gets
//! TOPIC_AUTHORIZATION_FAILED (and nothing about whether it exists). Auto-creation needs CREATE
//! on the cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED. The authorized-operations
//! fields are filled when asked for (cluster: v8–v10, 0 without DESCRIBE on the cluster).

use std::rc::Rc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::cluster_view::{live_brokers, offline_replicas};
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};
use crate::topics::{ClusterMeta, TopicConfigs};
use sluice_controller::records::NO_LEADER;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 12 };

/// Versions before 4 have no allow_auto_topic_creation field: Kafka treats them as allowing it.
const AUTO_CREATE_FIELD_VERSION: i16 = 4;

/// Cluster authorized operations are asked for in v8–v10 only (DescribeCluster took over).
const CLUSTER_OPERATIONS_VERSIONS: std::ops::RangeInclusive<i16> = 8..=10;
const TOPIC_OPERATIONS_VERSION_MIN: i16 = 8;

pub async fn handle(
    conn: &Conn,
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: MetadataRequest = request.decode()?;
    let allow_auto_create = metadata.config().auto_create_topics_enable
        && (request.version < AUTO_CREATE_FIELD_VERSION || body.allow_auto_topic_creation);
    let mut wanted: Option<Vec<WantedTopic>> = None;
    // In v0 an empty list (null is not allowed) means every topic.
    let all_topics = request.version == 0 && body.topics.as_ref().is_some_and(Vec::is_empty);
    if let Some(topics) = body.topics.as_ref().filter(|_| !all_topics) {
        let meta = metadata.meta();
        let mut list = Vec::with_capacity(topics.len());
        for topic in topics {
            let name = match &topic.name {
                Some(name) => Some(name.0.to_string()),
                None => meta.topic_by_id(topic.topic_id).map(|t| t.name.clone()),
            };
            let Some(name) = name else {
                list.push(WantedTopic::UnknownId(topic.topic_id));
                continue;
            };
            // Kafka tells nothing of a topic the principal may not describe; one asked for by
            // id keeps its id (ids are not secret) and loses its name.
            if !authz.topic(AclOperation::Describe, &name) {
                let (name, id) = match topic.name {
                    Some(_) => (Some(name), uuid::Uuid::nil()),
                    None => (None, topic.topic_id),
                };
                list.push(WantedTopic::Refused(name, id));
                continue;
            }
            let mut error_code = NONE;
            if meta.topic(&name).is_none() && allow_auto_create {
                error_code = auto_create(metadata, authz, &name).await;
            }
            list.push(WantedTopic::Name(name, error_code));
        }
        wanted = Some(list);
    }
    let mut response = build(conn, &metadata.meta(), authz, wanted);
    if CLUSTER_OPERATIONS_VERSIONS.contains(&request.version)
        && body.include_cluster_authorized_operations
    {
        response.cluster_authorized_operations = if authz.cluster(AclOperation::Describe) {
            authz.authorized_operations(ResourceType::Cluster, CLUSTER_NAME)
        } else {
            0
        };
    }
    if request.version >= TOPIC_OPERATIONS_VERSION_MIN && body.include_topic_authorized_operations {
        for topic in &mut response.topics {
            let shown = topic.error_code != ResponseError::TopicAuthorizationFailed.code();
            if let Some(name) = topic.name.as_ref().filter(|_| shown) {
                let operations = authz.authorized_operations(ResourceType::Topic, name.0.as_str());
                topic.topic_authorized_operations = operations;
            }
        }
    }
    Ok(request.respond(&response)?.into())
}

/// Creates a topic a Metadata request named (Kafka's AutoTopicCreationManager: this broker's
/// num.partitions and default.replication.factor), if the principal may: CREATE on the cluster
/// (asked quietly) or on the topic, else TOPIC_AUTHORIZATION_FAILED. The topic's error code.
async fn auto_create(metadata: &Rc<MetadataService>, authz: &Authz, name: &str) -> i16 {
    let on_cluster = authz.can_see(AclOperation::Create, ResourceType::Cluster, CLUSTER_NAME);
    if !on_cluster && !authz.topic(AclOperation::Create, name) {
        return ResponseError::TopicAuthorizationFailed.code();
    }
    let op = AdminOp::CreateTopic {
        name: name.to_string(),
        partitions: metadata.config().num_partitions,
        replication_factor: metadata.config().default_replication_factor,
        assignments: None,
        configs: TopicConfigs::default(),
        validate_only: false,
    };
    match metadata.admin(op).await {
        Ok(()) => tracing::info!(topic = %name, "auto-created topic"),
        Err((code, _)) if code == ResponseError::TopicAlreadyExists.code() => {}
        Err((code, message)) => {
            tracing::info!(topic = %name, "auto-create refused: {message}");
            return code;
        }
    }
    NONE
}

enum WantedTopic {
    Name(String, i16),
    UnknownId(uuid::Uuid),
    /// Not to be described: TOPIC_AUTHORIZATION_FAILED with the name or the id asked for.
    Refused(Option<String>, uuid::Uuid),
}

/// The response; "all topics" lists only those the principal may describe (leaving the others
/// out is no refusal: nothing is counted).
fn build(
    conn: &Conn,
    meta: &ClusterMeta,
    authz: &Authz,
    wanted: Option<Vec<WantedTopic>>,
) -> MetadataResponse {
    let config = &conn.config;
    let mut response = MetadataResponse::default();
    response.brokers = live_brokers(conn, meta)
        .into_iter()
        .map(|b| {
            let mut broker = MetadataResponseBroker::default();
            broker.node_id = BrokerId(b.node_id);
            broker.host = StrBytes::from_string(b.host);
            broker.port = b.port;
            broker.rack = b.rack.map(StrBytes::from_string);
            broker
        })
        .collect();
    response.cluster_id = Some(StrBytes::from_string(config.cluster_id.clone()));
    response.controller_id = BrokerId(meta.controller_id);
    response.topics = match wanted {
        None => meta
            .topics
            .keys()
            .filter(|name| authz.can_see(AclOperation::Describe, ResourceType::Topic, name))
            .map(|name| topic(meta, name, NONE))
            .collect(),
        Some(list) => list
            .into_iter()
            .map(|wanted| match wanted {
                WantedTopic::Name(name, code) => topic(meta, &name, code),
                WantedTopic::UnknownId(id) => {
                    let mut unknown = MetadataResponseTopic::default();
                    unknown.topic_id = id;
                    unknown.error_code = ResponseError::UnknownTopicId.code();
                    unknown
                }
                WantedTopic::Refused(name, id) => {
                    let mut refused = MetadataResponseTopic::default();
                    refused.name = name.map(|name| TopicName(StrBytes::from_string(name)));
                    refused.topic_id = id;
                    refused.error_code = ResponseError::TopicAuthorizationFailed.code();
                    refused
                }
            })
            .collect(),
    };
    response
}

fn topic(meta: &ClusterMeta, name: &str, error_code: i16) -> MetadataResponseTopic {
    let mut out = MetadataResponseTopic::default();
    out.name = Some(TopicName(StrBytes::from_string(name.to_string())));
    let Some(topic) = meta.topic(name) else {
        out.error_code = if error_code == NONE {
            ResponseError::UnknownTopicOrPartition.code()
        } else {
            error_code
        };
        return out;
    };
    out.topic_id = topic.id();
    out.is_internal = crate::topics::is_internal(name);
    out.partitions = topic
        .states
        .iter()
        .enumerate()
        .map(|(index, state)| {
            let mut partition = MetadataResponsePartition::default();
            partition.partition_index = index as i32;
            partition.leader_id = BrokerId(state.leader);
            partition.leader_epoch = state.leader_epoch;
            partition.replica_nodes = state.replicas.iter().copied().map(BrokerId).collect();
            partition.isr_nodes = state.isr.iter().copied().map(BrokerId).collect();
            partition.offline_replicas = offline_replicas(meta, &state.replicas)
                .into_iter()
                .map(BrokerId)
                .collect();
            if state.leader == NO_LEADER {
                partition.error_code = ResponseError::LeaderNotAvailable.code();
            }
            partition
        })
        .collect();
    out
}

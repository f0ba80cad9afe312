//! DescribeConfigs (key 32): topic configs (override or broker default) and the broker's own
//! settings (read-only: they come from the config file and flags).
//!
//! Authorization (Kafka's `ConfigHelper`): DESCRIBE_CONFIGS on the topic
//! (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the cluster (CLUSTER_AUTHORIZATION_FAILED).

use std::rc::Rc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::config::BrokerConfig;
use sluice_security::acl::AclOperation;

use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::topics::config::*;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 4 };

pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;
const SOURCE_DYNAMIC_TOPIC: i8 = 1;
const SOURCE_STATIC_BROKER: i8 = 5;
const TYPE_BOOLEAN: i8 = 1;
const TYPE_STRING: i8 = 2;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;
const TYPE_LIST: i8 = 7;

pub fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeConfigsRequest = request.decode()?;
    let mut response = DescribeConfigsResponse::default();
    for resource in body.resources {
        let keys: Option<Vec<String>> = resource
            .configuration_keys
            .as_ref()
            .map(|keys| keys.iter().map(|k| k.to_string()).collect());
        let wanted = |key: &str| {
            keys.as_ref()
                .is_none_or(|keys| keys.iter().any(|k| k == key))
        };
        let mut result = DescribeConfigsResult::default();
        result.resource_type = resource.resource_type;
        result.resource_name = resource.resource_name.clone();
        let name = resource.resource_name.as_str();
        let refused = match resource.resource_type {
            RESOURCE_TOPIC if !authz.topic(AclOperation::DescribeConfigs, name) => {
                Some(ResponseError::TopicAuthorizationFailed)
            }
            RESOURCE_BROKER if !authz.cluster(AclOperation::DescribeConfigs) => {
                Some(ResponseError::ClusterAuthorizationFailed)
            }
            _ => None,
        };
        if let Some(error) = refused {
            result.error_code = error.code();
            result.error_message = Some(StrBytes::from_static_str("Authorization failed."));
            response.results.push(result);
            continue;
        }
        match resource.resource_type {
            RESOURCE_TOPIC => {
                let meta = metadata.meta();
                match meta.topic(resource.resource_name.as_str()) {
                    None => {
                        result.error_code = ResponseError::UnknownTopicOrPartition.code();
                        result.error_message = Some(StrBytes::from_static_str("unknown topic"));
                    }
                    Some(topic) => {
                        for key in SUPPORTED_KEYS.iter().filter(|k| wanted(k)) {
                            let value = topic.configs.value(key, metadata.config());
                            let source = if topic.configs.overrides.contains_key(*key) {
                                SOURCE_DYNAMIC_TOPIC
                            } else {
                                SOURCE_STATIC_BROKER
                            };
                            let entry = entry(key, value, false, source, topic_type(key));
                            result.configs.push(entry);
                        }
                    }
                }
            }
            RESOURCE_BROKER => {
                for (key, value, config_type) in broker_entries(metadata.config()) {
                    if wanted(key) {
                        let entry =
                            entry(key, Some(value), true, SOURCE_STATIC_BROKER, config_type);
                        result.configs.push(entry);
                    }
                }
            }
            other => {
                result.error_code = ResponseError::InvalidRequest.code();
                let message = format!("resource type {other} has no configs here");
                result.error_message = Some(StrBytes::from_string(message));
            }
        }
        response.results.push(result);
    }
    Ok(request.respond(&response)?.into())
}

fn entry(
    key: &str,
    value: Option<String>,
    read_only: bool,
    source: i8,
    config_type: i8,
) -> DescribeConfigsResourceResult {
    let mut entry = DescribeConfigsResourceResult::default();
    entry.name = StrBytes::from_string(key.to_string());
    entry.value = value.map(StrBytes::from_string);
    entry.read_only = read_only;
    entry.config_source = source;
    entry.config_type = config_type;
    entry
}

fn topic_type(key: &str) -> i8 {
    match key {
        RETENTION_MS | RETENTION_BYTES | SEGMENT_MS => TYPE_LONG,
        SEGMENT_BYTES | MAX_MESSAGE_BYTES | MIN_INSYNC_REPLICAS => TYPE_INT,
        UNCLEAN_LEADER_ELECTION_ENABLE => TYPE_BOOLEAN,
        CLEANUP_POLICY => TYPE_LIST,
        _ => TYPE_STRING,
    }
}

fn broker_entries(config: &BrokerConfig) -> Vec<(&'static str, String, i8)> {
    vec![
        (
            "auto.create.topics.enable",
            config.auto_create_topics_enable.to_string(),
            TYPE_BOOLEAN,
        ),
        (
            "num.partitions",
            config.num_partitions.to_string(),
            TYPE_INT,
        ),
        (
            "socket.request.max.bytes",
            config.socket_request_max_bytes.to_string(),
            TYPE_INT,
        ),
        (
            "log.dirs",
            config.data_dir.display().to_string(),
            TYPE_STRING,
        ),
        (
            "log.flush.interval.ms",
            config.flush_interval_ms.to_string(),
            TYPE_LONG,
        ),
        (
            "log.segment.bytes",
            config.segment_bytes.to_string(),
            TYPE_INT,
        ),
        (
            "log.retention.ms",
            config.retention_ms.to_string(),
            TYPE_LONG,
        ),
        (
            "log.retention.bytes",
            config.retention_bytes.to_string(),
            TYPE_LONG,
        ),
        (
            "message.max.bytes",
            config.max_message_bytes.to_string(),
            TYPE_INT,
        ),
        (
            "log.message.timestamp.type",
            config.message_timestamp_type.clone(),
            TYPE_STRING,
        ),
        (
            "default.replication.factor",
            config.default_replication_factor.to_string(),
            TYPE_INT,
        ),
        (
            "offsets.topic.replication.factor",
            config.offsets_topic_replication_factor.to_string(),
            TYPE_INT,
        ),
        (
            MIN_INSYNC_REPLICAS,
            config.min_insync_replicas.to_string(),
            TYPE_INT,
        ),
        (
            UNCLEAN_LEADER_ELECTION_ENABLE,
            config.unclean_leader_election_enable.to_string(),
            TYPE_BOOLEAN,
        ),
    ]
}

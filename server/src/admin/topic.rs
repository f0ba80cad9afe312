//! `sluice topic create|delete|list|describe|alter-config|reassign`.

use clap::{Args, Subcommand};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResult;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteTopicsRequest, DescribeConfigsRequest,
    IncrementalAlterConfigsRequest, MetadataResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_kafka_client::error_code::{self, ResponseError};

use super::dirty_ratio::{self, DirtyRatios};
use super::error::AdminError;
use super::pool::BrokerPool;
use super::reassign::{self, Reassign};
use super::render::table;
use super::{versions, ConnectArgs};

/// Kafka's ConfigResource type for topics.
pub const RESOURCE_TYPE_TOPIC: i8 = 2;
/// IncrementalAlterConfigs operations.
pub const CONFIG_OP_SET: i8 = 0;
pub const CONFIG_OP_DELETE: i8 = 1;

/// Manage topics over the Kafka protocol.
#[derive(Debug, Args)]
pub struct TopicArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: TopicCommand,
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create a topic.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        /// Replicas per partition; default: the broker's default.
        #[arg(long)]
        replication_factor: Option<i16>,
        /// Topic config `key=value` (repeatable), e.g. `--config retention.ms=3600000`.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
    },
    /// Delete a topic and all its data.
    Delete { name: String },
    /// List topics with their partition counts.
    List,
    /// Partitions, leaders, replicas and configs of a topic; for a compacted topic, its
    /// cleanup policy and each partition's dirty ratio (from the brokers' metrics endpoints).
    Describe {
        name: String,
        /// Prometheus endpoints (`--metrics-listen`) to read dirty ratios from; default: each
        /// broker's host at the default port 9644. Kafka has no API for the dirty ratio.
        #[arg(long, value_delimiter = ',', value_name = "HOST:PORT,...")]
        metrics: Vec<String>,
    },
    /// Set or remove topic configs (IncrementalAlterConfigs).
    AlterConfig {
        name: String,
        /// `key=value` to set (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Config key to remove, back to the default (repeatable).
        #[arg(long = "delete", value_name = "KEY")]
        delete: Vec<String>,
    },
    /// Move a partition's replicas (`--topic T --partition P --replicas 1,2,3`), cancel the
    /// move (`--cancel`), or list the moves in progress (`--list`).
    Reassign {
        #[arg(long)]
        topic: Option<String>,
        #[arg(long)]
        partition: Option<i32>,
        /// Target broker ids, preferred leader first.
        #[arg(long, value_delimiter = ',', value_name = "ID,ID,...")]
        replicas: Option<Vec<i32>>,
        #[arg(long)]
        cancel: bool,
        #[arg(long)]
        list: bool,
    },
}

impl TopicCommand {
    /// Argument errors, found before connecting to anything.
    pub fn validate(&self) -> Result<(), AdminError> {
        match self {
            TopicCommand::Create {
                partitions,
                configs,
                ..
            } => {
                if *partitions < 1 {
                    return Err(AdminError::Usage(format!(
                        "--partitions must be at least 1, got {partitions}"
                    )));
                }
                configs
                    .iter()
                    .try_for_each(|c| parse_key_value(c).map(drop))
            }
            TopicCommand::AlterConfig { set, delete, .. } => {
                if set.is_empty() && delete.is_empty() {
                    return Err(AdminError::Usage(
                        "alter-config needs --set KEY=VALUE or --delete KEY".into(),
                    ));
                }
                set.iter().try_for_each(|c| parse_key_value(c).map(drop))
            }
            TopicCommand::Reassign { .. } => self.reassign().map(drop),
            TopicCommand::Delete { .. } | TopicCommand::List | TopicCommand::Describe { .. } => {
                Ok(())
            }
        }
    }

    fn reassign(&self) -> Result<Reassign, AdminError> {
        let TopicCommand::Reassign {
            topic,
            partition,
            replicas,
            cancel,
            list,
        } = self
        else {
            unreachable!("only for reassign");
        };
        let replicas = replicas.as_deref();
        Reassign::from_flags(topic.as_deref(), *partition, replicas, *cancel, *list)
    }
}

/// Request timeout sent with CreateTopics/DeleteTopics.
const TOPIC_OP_TIMEOUT_MS: i32 = 30_000;

pub fn parse_key_value(text: &str) -> Result<(String, String), AdminError> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(AdminError::Usage(format!(
            "expected KEY=VALUE, got {text:?}"
        ))),
    }
}

pub fn create_topics_request(
    version: i16,
    name: &str,
    partitions: i32,
    replication_factor: Option<i16>,
    configs: &[(String, String)],
) -> CreateTopicsRequest {
    let mut topic = CreatableTopic::default();
    topic.name = StrBytes::from_string(name.to_string()).into();
    topic.num_partitions = partitions;
    topic.replication_factor = replication_factor.unwrap_or(
        if version >= versions::CREATE_TOPICS_DEFAULT_REPLICATION_VERSION {
            -1
        } else {
            1
        },
    );
    topic.configs = configs
        .iter()
        .map(|(key, value)| {
            let mut config = CreatableTopicConfig::default();
            config.name = StrBytes::from_string(key.clone());
            config.value = Some(StrBytes::from_string(value.clone()));
            config
        })
        .collect();
    let mut request = CreateTopicsRequest::default();
    request.topics = vec![topic];
    request.timeout_ms = TOPIC_OP_TIMEOUT_MS;
    request
}

pub fn delete_topics_request(version: i16, name: &str) -> DeleteTopicsRequest {
    let mut request = DeleteTopicsRequest::default();
    let topic_name = StrBytes::from_string(name.to_string()).into();
    if version >= versions::DELETE_TOPICS_STATE_VERSION {
        let mut state = DeleteTopicState::default();
        state.name = Some(topic_name);
        request.topics = vec![state];
    } else {
        request.topic_names = vec![topic_name];
    }
    request.timeout_ms = TOPIC_OP_TIMEOUT_MS;
    request
}

pub fn describe_configs_request(_version: i16, name: &str) -> DescribeConfigsRequest {
    let mut resource = DescribeConfigsResource::default();
    resource.resource_type = RESOURCE_TYPE_TOPIC;
    resource.resource_name = StrBytes::from_string(name.to_string());
    resource.configuration_keys = None;
    let mut request = DescribeConfigsRequest::default();
    request.resources = vec![resource];
    request
}

pub fn alter_configs_request(
    _version: i16,
    name: &str,
    set: &[(String, String)],
    delete: &[String],
) -> IncrementalAlterConfigsRequest {
    let alter = |key: &str, op: i8, value: Option<&str>| {
        let mut config = AlterableConfig::default();
        config.name = StrBytes::from_string(key.to_string());
        config.config_operation = op;
        config.value = value.map(|v| StrBytes::from_string(v.to_string()));
        config
    };
    let mut resource = AlterConfigsResource::default();
    resource.resource_type = RESOURCE_TYPE_TOPIC;
    resource.resource_name = StrBytes::from_string(name.to_string());
    resource.configs = set
        .iter()
        .map(|(k, v)| alter(k, CONFIG_OP_SET, Some(v)))
        .chain(delete.iter().map(|k| alter(k, CONFIG_OP_DELETE, None)))
        .collect();
    let mut request = IncrementalAlterConfigsRequest::default();
    request.resources = vec![resource];
    request
}

/// Kafka's ConfigSource names.
pub fn config_source_name(source: i8) -> &'static str {
    match source {
        1 => "DYNAMIC_TOPIC_CONFIG",
        2 => "DYNAMIC_BROKER_CONFIG",
        3 => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        4 => "STATIC_BROKER_CONFIG",
        5 => "DEFAULT_CONFIG",
        6 => "DYNAMIC_BROKER_LOGGER_CONFIG",
        7 => "CLIENT_METRICS_CONFIG",
        8 => "GROUP_CONFIG",
        _ => "UNKNOWN",
    }
}

fn topic_name(topic: &MetadataResponseTopic) -> String {
    topic
        .name
        .as_ref()
        .map_or_else(|| topic.topic_id.to_string(), |n| n.0.to_string())
}

fn id_list(ids: &[kafka_protocol::messages::BrokerId]) -> String {
    ids.iter()
        .map(|id| id.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn render_topic_list(metadata: &MetadataResponse) -> String {
    let mut topics: Vec<&MetadataResponseTopic> = metadata.topics.iter().collect();
    topics.sort_by_key(|t| topic_name(t));
    let rows: Vec<Vec<String>> = topics
        .iter()
        .map(|t| {
            let replicas = t.partitions.first().map_or(0, |p| p.replica_nodes.len());
            let status = if t.error_code == 0 {
                String::new()
            } else {
                error_code::name(t.error_code)
            };
            vec![
                topic_name(t),
                t.partitions.len().to_string(),
                replicas.to_string(),
                t.is_internal.to_string(),
                status,
            ]
        })
        .collect();
    table(
        &["NAME", "PARTITIONS", "REPLICAS", "INTERNAL", "ERROR"],
        &rows,
    )
}

/// The topic's `cleanup.policy`, from a DescribeConfigs result.
pub fn cleanup_policy(configs: &DescribeConfigsResult) -> Option<String> {
    configs
        .configs
        .iter()
        .find(|c| c.name.as_str() == "cleanup.policy")
        .and_then(|c| c.value.as_ref().map(|v| v.to_string()))
}

fn is_compacted(policy: Option<&str>) -> bool {
    policy.is_some_and(|p| p.split(',').any(|p| p.trim() == "compact"))
}

/// `configs`: the DescribeConfigs result, or why there is none. `dirty`: the partitions'
/// dirty ratios, shown in a DIRTY column when the topic is compacted.
pub fn render_topic_describe(
    topic: &MetadataResponseTopic,
    configs: Result<&DescribeConfigsResult, String>,
    dirty: Option<&DirtyRatios>,
) -> String {
    let mut out = format!("TOPIC       {}\n", topic_name(topic));
    if !topic.topic_id.is_nil() {
        out.push_str(&format!("ID          {}\n", topic.topic_id));
    }
    out.push_str(&format!(
        "PARTITIONS  {}\nINTERNAL    {}\n",
        topic.partitions.len(),
        topic.is_internal
    ));
    let policy = configs.as_ref().ok().and_then(|c| cleanup_policy(c));
    if let Some(policy) = &policy {
        out.push_str(&format!("POLICY      {policy}\n"));
    }
    let dirty = dirty.filter(|_| is_compacted(policy.as_deref()));
    if let Some(dirty) = dirty {
        out.push_str(&format!(
            "DIRTY FROM  {} (dirty bytes / cleanable bytes, per partition)\n",
            dirty.endpoints.join(",")
        ));
        for error in &dirty.errors {
            out.push_str(&format!("            unreadable: {error}\n"));
        }
    }
    out.push('\n');
    let mut partitions: Vec<_> = topic.partitions.iter().collect();
    partitions.sort_by_key(|p| p.partition_index);
    let rows: Vec<Vec<String>> = partitions
        .iter()
        .map(|p| {
            vec![
                p.partition_index.to_string(),
                p.leader_id.0.to_string(),
                p.leader_epoch.to_string(),
                id_list(&p.replica_nodes),
                id_list(&p.isr_nodes),
                if p.error_code == 0 {
                    String::new()
                } else {
                    error_code::name(p.error_code)
                },
            ]
        })
        .collect();
    let mut header = vec!["PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "ERROR"];
    let mut rows = rows;
    if let Some(dirty) = dirty {
        header.insert(5, "DIRTY");
        for (row, p) in rows.iter_mut().zip(&partitions) {
            let ratio = dirty.by_partition.get(&p.partition_index);
            row.insert(5, ratio.map_or("?".to_string(), |r| format!("{r:.3}")));
        }
    }
    out.push_str(&table(&header, &rows));
    out.push('\n');
    match configs {
        Ok(result) => {
            let mut configs: Vec<_> = result.configs.iter().collect();
            configs.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
            let rows: Vec<Vec<String>> = configs
                .iter()
                .map(|c| {
                    let value = match (&c.value, c.is_sensitive) {
                        (_, true) => "(sensitive)".to_string(),
                        (Some(v), false) => v.to_string(),
                        (None, false) => "(null)".to_string(),
                    };
                    vec![
                        c.name.to_string(),
                        value,
                        config_source_name(c.config_source).to_string(),
                    ]
                })
                .collect();
            out.push_str(&table(&["CONFIG", "VALUE", "SOURCE"], &rows));
        }
        Err(why) => out.push_str(&format!("CONFIG      unavailable: {why}\n")),
    }
    out
}

/// Runs one topic command; returns what to print.
pub fn execute(pool: &mut BrokerPool, command: &TopicCommand) -> Result<String, AdminError> {
    command.validate()?;
    match command {
        TopicCommand::Create {
            name,
            partitions,
            replication_factor,
            configs,
        } => {
            let configs = configs
                .iter()
                .map(|c| parse_key_value(c))
                .collect::<Result<Vec<_>, _>>()?;
            let response = pool.bootstrap().call(versions::CREATE_TOPICS, |v| {
                create_topics_request(v, name, *partitions, *replication_factor, &configs)
            })?;
            for result in &response.topics {
                let message = result.error_message.as_ref().map(|m| m.as_str());
                AdminError::check(result.error_code, message, || {
                    format!("create topic {name}")
                })?;
            }
            // CreateTopics v5+ reports the factor the topic got (-1 before: not known).
            let factor = response
                .topics
                .first()
                .map(|result| result.replication_factor)
                .filter(|factor| *factor > 0);
            Ok(match factor {
                Some(factor) => format!(
                    "created topic {name} with {partitions} partition(s), replication factor {factor}\n"
                ),
                None => format!("created topic {name} with {partitions} partition(s)\n"),
            })
        }
        TopicCommand::Delete { name } => {
            let response = pool
                .bootstrap()
                .call(versions::DELETE_TOPICS, |v| delete_topics_request(v, name))?;
            for result in &response.responses {
                let message = result.error_message.as_ref().map(|m| m.as_str());
                AdminError::check(result.error_code, message, || {
                    format!("delete topic {name}")
                })?;
            }
            Ok(format!("deleted topic {name}\n"))
        }
        TopicCommand::List => Ok(render_topic_list(&pool.metadata(None)?)),
        TopicCommand::Reassign { .. } => reassign::execute(pool, &command.reassign()?),
        TopicCommand::Describe { name, metrics } => describe(pool, name, metrics),
        TopicCommand::AlterConfig { name, set, delete } => {
            if set.is_empty() && delete.is_empty() {
                return Err(AdminError::Usage(
                    "alter-config needs --set KEY=VALUE or --delete KEY".into(),
                ));
            }
            let set = set
                .iter()
                .map(|c| parse_key_value(c))
                .collect::<Result<Vec<_>, _>>()?;
            let response = pool
                .bootstrap()
                .call(versions::INCREMENTAL_ALTER_CONFIGS, |v| {
                    alter_configs_request(v, name, &set, delete)
                })?;
            for result in &response.responses {
                let message = result.error_message.as_ref().map(|m| m.as_str());
                AdminError::check(result.error_code, message, || {
                    format!("alter configs of topic {name}")
                })?;
            }
            Ok(format!(
                "altered {} config(s) of topic {name}\n",
                set.len() + delete.len()
            ))
        }
    }
}

fn describe(pool: &mut BrokerPool, name: &str, metrics: &[String]) -> Result<String, AdminError> {
    let metadata = pool.metadata(Some(&[name.to_string()]))?;
    let endpoints: Vec<String> = if metrics.is_empty() {
        let mut hosts: Vec<String> = metadata
            .brokers
            .iter()
            .map(|b| format!("{}:{}", b.host, dirty_ratio::METRICS_PORT_DEFAULT))
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    } else {
        metrics.to_vec()
    };
    let topic = metadata
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.as_str() == name))
        .ok_or_else(|| AdminError::Kafka {
            context: format!("describe topic {name}"),
            code: ResponseError::UnknownTopicOrPartition.code(),
            message: None,
        })?;
    AdminError::check(topic.error_code, None, || format!("describe topic {name}"))?;
    let client = pool.bootstrap();
    let described = client
        .call(versions::DESCRIBE_CONFIGS, |v| {
            describe_configs_request(v, name)
        })
        .map_err(AdminError::from);
    let configs = match described {
        Ok(response) => response
            .results
            .into_iter()
            .next()
            .ok_or_else(|| "empty DescribeConfigs response".to_string())
            .and_then(|r| {
                let message = r.error_message.as_ref().map(|m| m.to_string());
                AdminError::check(r.error_code, message.as_deref(), || {
                    "DescribeConfigs".into()
                })
                .map_err(|e| e.to_string())
                .map(|()| r)
            }),
        Err(e @ (AdminError::Unsupported { .. } | AdminError::NotImplemented { .. })) => {
            Err(e.to_string())
        }
        Err(e) => return Err(e),
    };
    let compacted = configs
        .as_ref()
        .ok()
        .is_some_and(|c| is_compacted(cleanup_policy(c).as_deref()));
    let dirty = compacted.then(|| dirty_ratio::read_dirty_ratios(&endpoints, name));
    Ok(render_topic_describe(
        topic,
        configs.as_ref().map_err(Clone::clone),
        dirty.as_ref(),
    ))
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
    use kafka_protocol::messages::metadata_response::MetadataResponsePartition;
    use kafka_protocol::messages::BrokerId;

    use super::*;

    #[test]
    fn create_uses_broker_default_replication_only_where_the_version_allows() {
        assert_eq!(
            create_topics_request(3, "t", 1, None, &[]).topics[0].replication_factor,
            1
        );
        assert_eq!(
            create_topics_request(4, "t", 1, None, &[]).topics[0].replication_factor,
            -1
        );
        assert_eq!(
            create_topics_request(7, "t", 1, Some(3), &[]).topics[0].replication_factor,
            3
        );
        let configs = [("cleanup.policy".to_string(), "compact".to_string())];
        let request = create_topics_request(7, "t", 12, None, &configs);
        assert_eq!(request.topics[0].num_partitions, 12);
        assert_eq!(request.topics[0].configs[0].name.as_str(), "cleanup.policy");
    }

    #[test]
    fn delete_names_the_topic_in_the_field_the_version_has() {
        let old = delete_topics_request(5, "t");
        assert_eq!(old.topic_names.len(), 1);
        assert!(old.topics.is_empty());
        let new = delete_topics_request(6, "t");
        assert!(new.topic_names.is_empty());
        assert_eq!(new.topics[0].name.as_ref().map(|n| n.as_str()), Some("t"));
    }

    #[test]
    fn alter_sets_and_deletes() {
        let set = [("retention.ms".to_string(), "1000".to_string())];
        let request = alter_configs_request(1, "t", &set, &["segment.ms".to_string()]);
        let configs = &request.resources[0].configs;
        assert_eq!(request.resources[0].resource_type, RESOURCE_TYPE_TOPIC);
        assert_eq!(
            (configs[0].config_operation, configs[0].value.as_deref()),
            (CONFIG_OP_SET, Some("1000"))
        );
        assert_eq!(
            (configs[1].config_operation, configs[1].value.as_deref()),
            (CONFIG_OP_DELETE, None)
        );
    }

    #[test]
    fn key_values_need_a_key_and_an_equals_sign() {
        assert_eq!(
            parse_key_value("a=b=c").ok(),
            Some(("a".to_string(), "b=c".to_string()))
        );
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    fn topic(name: &str, partitions: i32) -> MetadataResponseTopic {
        let mut topic = MetadataResponseTopic::default();
        topic.name = Some(StrBytes::from_string(name.to_string()).into());
        topic.partitions = (0..partitions)
            .rev()
            .map(|i| {
                let mut p = MetadataResponsePartition::default();
                p.partition_index = i;
                p.leader_id = BrokerId(1);
                p.replica_nodes = vec![BrokerId(1)];
                p.isr_nodes = vec![BrokerId(1)];
                p
            })
            .collect();
        topic
    }

    #[test]
    fn list_is_sorted_by_name() {
        let mut metadata = MetadataResponse::default();
        metadata.topics = vec![topic("zeta", 2), topic("alpha", 3)];
        let text = render_topic_list(&metadata);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME"));
        assert!(lines[1].starts_with("alpha  3"), "{text}");
        assert!(lines[2].starts_with("zeta   2"), "{text}");
    }

    #[test]
    fn describe_shows_partitions_in_order_and_configs_with_sources() {
        let mut config = DescribeConfigsResourceResult::default();
        config.name = StrBytes::from_static_str("retention.ms");
        config.value = Some(StrBytes::from_static_str("3600000"));
        config.config_source = 1;
        let mut result = DescribeConfigsResult::default();
        result.configs = vec![config];
        let text = render_topic_describe(&topic("orders", 2), Ok(&result), None);
        let partition_0 = text.find("\n0 ").unwrap_or(usize::MAX);
        let partition_1 = text.find("\n1 ").unwrap_or(0);
        assert!(partition_0 < partition_1, "{text}");
        assert!(
            text.contains("retention.ms  3600000  DYNAMIC_TOPIC_CONFIG"),
            "{text}"
        );
        let without = render_topic_describe(
            &topic("orders", 1),
            Err("no DescribeConfigs".to_string()),
            None,
        );
        assert!(
            without.contains("unavailable: no DescribeConfigs"),
            "{without}"
        );
    }

    #[test]
    fn a_compacted_topic_shows_its_policy_and_dirty_ratios() {
        let mut policy = DescribeConfigsResourceResult::default();
        policy.name = StrBytes::from_static_str("cleanup.policy");
        policy.value = Some(StrBytes::from_static_str("compact,delete"));
        let mut result = DescribeConfigsResult::default();
        result.configs = vec![policy];
        let dirty = DirtyRatios {
            by_partition: std::collections::BTreeMap::from([(0, 0.125)]),
            endpoints: vec!["127.0.0.1:9644".into()],
            errors: vec!["10.0.0.2:9644: connection refused".into()],
        };
        let text = render_topic_describe(&topic("orders", 2), Ok(&result), Some(&dirty));
        assert!(text.contains("POLICY      compact,delete"), "{text}");
        assert!(text.contains("DIRTY FROM  127.0.0.1:9644"), "{text}");
        assert!(text.contains("unreadable: 10.0.0.2:9644"), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with(['0', '1'])).collect();
        assert!(rows[0].contains("0.125"), "{text}");
        assert!(rows[1].contains('?'), "partition 1 has no sample: {text}");
        // A topic that is not compacted has no DIRTY column, whatever was read.
        let mut plain = result.clone();
        plain.configs[0].value = Some(StrBytes::from_static_str("delete"));
        let text = render_topic_describe(&topic("orders", 1), Ok(&plain), Some(&dirty));
        assert!(!text.contains("DIRTY"), "{text}");
    }
}

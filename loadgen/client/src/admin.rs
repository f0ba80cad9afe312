//! Cluster-level operations over one bootstrap connection: metadata, topic creation,
//! and offset lookups routed to each partition's leader.

use std::collections::{BTreeMap, HashMap};
use std::thread::sleep;
use std::time::{Duration, Instant};

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreateTopicsRequest, DeleteTopicsRequest, InitProducerIdRequest,
    ListOffsetsRequest, MetadataRequest, ProducerId,
};

use crate::client::Client;
use crate::conn::{ConnectOptions, Connection};
use crate::error::{Error, Result};
use crate::error_code::{self, ResponseError};
use crate::route::{topic_name, TopicRoute};
use crate::versions::BrokerVersions;

/// Creating or deleting a topic with many partitions (and gigabytes of data) can be slow.
const ADMIN_READ_TIMEOUT: Duration = Duration::from_secs(120);

const DELETE_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// ListOffsets on a partition leader other than the bootstrap broker.
const LEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// ListOffsets timestamps: the log start and the log end.
pub const TIMESTAMP_EARLIEST: i64 = -2;
pub const TIMESTAMP_LATEST: i64 = -1;

/// Topic setup and offset lookups for a benchmark or a checker: the bootstrap connection,
/// plus short-lived connections to other partition leaders.
pub struct Admin {
    bootstrap: String,
    client: Client,
    options: ConnectOptions,
}

impl Admin {
    /// Connects to `bootstrap` and negotiates versions; reads use the admin timeouts, not
    /// `options`' read timeout.
    pub fn connect(bootstrap: &str, options: &ConnectOptions) -> Result<Admin> {
        let options = ConnectOptions {
            read_timeout: Some(ADMIN_READ_TIMEOUT),
            ..options.clone()
        };
        Ok(Admin {
            bootstrap: bootstrap.to_string(),
            client: Client::connect(bootstrap, &options)?,
            options,
        })
    }

    pub fn versions(&self) -> &BrokerVersions {
        self.client.versions()
    }

    /// Metadata for one topic; `Ok(None)` if the broker does not know it.
    pub fn route(&mut self, topic: &str) -> Result<Option<TopicRoute>> {
        let version = self.client.versions().of(ApiKey::Metadata)?;
        let request = MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(topic_name(topic)))
            ]))
            .with_allow_auto_topic_creation(false);
        let response = self.client.connection().call(&request, version)?;
        let brokers = response
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
            .collect();
        let Some(t) = response
            .topics
            .iter()
            .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(topic))
        else {
            return Ok(None);
        };
        if t.error_code == ResponseError::UnknownTopicOrPartition.code() {
            return Ok(None);
        }
        if t.error_code != error_code::NONE
            && t.error_code != ResponseError::LeaderNotAvailable.code()
        {
            return Err(Error::Broker {
                what: format!("metadata of {topic}"),
                code: t.error_code,
            });
        }
        let mut by_index: BTreeMap<i32, Option<i32>> = BTreeMap::new();
        for p in &t.partitions {
            let leader = (p.leader_id.0 >= 0
                && p.error_code != ResponseError::LeaderNotAvailable.code())
            .then_some(p.leader_id.0);
            by_index.insert(p.partition_index, leader);
        }
        let leaders: Vec<Option<i32>> = by_index.values().copied().collect();
        if by_index.keys().copied().ne(0..leaders.len() as i32) {
            return Err(Error::Protocol(format!(
                "metadata of {topic} has gaps in partition indexes"
            )));
        }
        Ok(Some(TopicRoute {
            topic: topic.to_string(),
            leaders,
            brokers,
        }))
    }

    /// Creates `topic` unless it exists; waits until every partition has a leader.
    pub fn ensure_topic(
        &mut self,
        topic: &str,
        partitions: u32,
        replication_factor: i16,
    ) -> Result<TopicRoute> {
        if self.route(topic)?.is_none() {
            let version = self.client.versions().of(ApiKey::CreateTopics)?;
            let request = CreateTopicsRequest::default()
                .with_topics(vec![CreatableTopic::default()
                    .with_name(topic_name(topic))
                    .with_num_partitions(partitions as i32)
                    .with_replication_factor(replication_factor)])
                .with_timeout_ms(30_000);
            let response = self.client.connection().call(&request, version)?;
            for t in &response.topics {
                if t.error_code != error_code::NONE
                    && t.error_code != ResponseError::TopicAlreadyExists.code()
                {
                    let message = t
                        .error_message
                        .as_ref()
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default();
                    return Err(Error::Broker {
                        what: format!("CreateTopics {topic} ({message})"),
                        code: t.error_code,
                    });
                }
            }
        }
        let route = self.wait_for_leaders(topic, Duration::from_secs(30))?;
        self.wait_until_servable(&route, Duration::from_secs(30))?;
        Ok(route)
    }

    /// Metadata can name leaders before they serve the partitions (Kafka's own metadata
    /// propagation, or a broker creating logs asynchronously); acks=0 cannot retry, so wait
    /// until every leader answers ListOffsets for its partitions.
    fn wait_until_servable(&mut self, route: &TopicRoute, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.list_offsets(route, TIMESTAMP_LATEST) {
                Ok(_) => return Ok(()),
                Err(Error::Broker { code, .. })
                    if error_code::resend_may_succeed(code) && Instant::now() < deadline =>
                {
                    sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes `topic` (sweeps use it so that many cells fit on one disk).
    pub fn delete_topic(&mut self, topic: &str) -> Result<()> {
        let version = self.client.versions().of(ApiKey::DeleteTopics)?;
        let request = DeleteTopicsRequest::default()
            .with_topic_names(vec![topic_name(topic)])
            .with_timeout_ms(30_000);
        // Deletion is housekeeping: don't let a slow answer hold up the next sweep cell.
        self.client
            .connection()
            .set_read_timeout(Some(DELETE_READ_TIMEOUT))?;
        let response = self.client.connection().call(&request, version);
        self.client
            .connection()
            .set_read_timeout(Some(ADMIN_READ_TIMEOUT))?;
        for t in &response?.responses {
            if t.error_code != error_code::NONE
                && t.error_code != ResponseError::UnknownTopicOrPartition.code()
            {
                return Err(Error::Broker {
                    what: format!("DeleteTopics {topic}"),
                    code: t.error_code,
                });
            }
        }
        Ok(())
    }

    pub fn wait_for_leaders(&mut self, topic: &str, timeout: Duration) -> Result<TopicRoute> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(route) = self.route(topic)? {
                if route.all_led() {
                    return Ok(route);
                }
            }
            if Instant::now() > deadline {
                return Err(Error::Timeout(format!(
                    "topic {topic} has no leader for every partition"
                )));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// InitProducerId without a transactional id: an idempotent producer's id and epoch.
    pub fn init_producer_id(&mut self) -> Result<(i64, i16)> {
        let version = self.client.versions().of(ApiKey::InitProducerId)?;
        // The codec's default transactional id is "", not null: Kafka refuses "".
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(-1)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
        let response = self.client.connection().call(&request, version)?;
        if response.error_code != error_code::NONE {
            return Err(Error::Broker {
                what: "InitProducerId".to_string(),
                code: response.error_code,
            });
        }
        Ok((response.producer_id.0, response.producer_epoch))
    }

    /// ListOffsets for every partition of `route` at `timestamp` (-2 earliest, -1 latest).
    pub fn list_offsets(&mut self, route: &TopicRoute, timestamp: i64) -> Result<Vec<i64>> {
        let version = self.client.versions().of(ApiKey::ListOffsets)?;
        let mut by_leader: HashMap<i32, Vec<u32>> = HashMap::new();
        for p in 0..route.partition_count() {
            let (node, _) = route
                .leader_addr(p)
                .ok_or_else(|| Error::Protocol(format!("partition {p} has no leader")))?;
            by_leader.entry(node).or_default().push(p);
        }
        let mut offsets = vec![-1i64; route.partition_count() as usize];
        for (node, partitions) in by_leader {
            let addr = &route.brokers[&node];
            let mut own;
            let conn = if addr == &self.bootstrap {
                self.client.connection()
            } else {
                own = Connection::connect(addr, &self.options)?;
                own.set_read_timeout(Some(LEADER_READ_TIMEOUT))?;
                &mut own
            };
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![ListOffsetsTopic::default()
                    .with_name(topic_name(&route.topic))
                    .with_partitions(
                        partitions
                            .iter()
                            .map(|p| {
                                ListOffsetsPartition::default()
                                    .with_partition_index(*p as i32)
                                    .with_current_leader_epoch(-1)
                                    .with_timestamp(timestamp)
                            })
                            .collect(),
                    )]);
            let response = conn.call(&request, version)?;
            for t in &response.topics {
                for p in &t.partitions {
                    if p.error_code != error_code::NONE {
                        return Err(Error::Broker {
                            what: format!("ListOffsets {}-{}", route.topic, p.partition_index),
                            code: p.error_code,
                        });
                    }
                    if let Some(slot) = offsets.get_mut(p.partition_index as usize) {
                        *slot = p.offset;
                    }
                }
            }
        }
        if let Some(p) = offsets.iter().position(|o| *o < 0) {
            return Err(Error::Protocol(format!(
                "no offset returned for partition {p}"
            )));
        }
        Ok(offsets)
    }
}

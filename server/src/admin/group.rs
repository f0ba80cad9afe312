//! `sluice group list|describe`: consumer groups and their lag.

use std::collections::{BTreeMap, HashMap};

use bytes::Buf;
use clap::{Args, Subcommand};
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, DescribeGroupsRequest, FindCoordinatorRequest, ListGroupsRequest,
    ListOffsetsRequest, OffsetFetchRequest, OffsetFetchResponse,
};
use kafka_protocol::protocol::{Decodable, StrBytes};

use sluice_kafka_client::error_code;

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// ListOffsets timestamp meaning "the log end offset".
pub const LATEST_TIMESTAMP: i64 = -1;
/// FindCoordinator key type for consumer groups.
pub const COORDINATOR_KEY_GROUP: i8 = 0;

/// Inspect consumer groups over the Kafka protocol.
#[derive(Debug, Args)]
pub struct GroupArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: GroupCommand,
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// List the consumer groups of every broker.
    List,
    /// State, members and per-partition lag of a group.
    Describe { group: String },
}

pub fn find_coordinator_request(version: i16, group: &str) -> FindCoordinatorRequest {
    find_coordinator_request_of(version, group, COORDINATOR_KEY_GROUP)
}

/// FindCoordinator for `key` of `key_type` (0 a group, 1 a transactional id).
pub fn find_coordinator_request_of(
    version: i16,
    key: &str,
    key_type: i8,
) -> FindCoordinatorRequest {
    let mut request = FindCoordinatorRequest::default();
    if version >= versions::FIND_COORDINATOR_BATCH_VERSION {
        request.coordinator_keys = vec![StrBytes::from_string(key.to_string())];
    } else {
        request.key = StrBytes::from_string(key.to_string());
    }
    request.key_type = key_type;
    request
}

/// The node coordinating `key` (FindCoordinator on the bootstrap broker); the pool learns
/// its address.
pub fn locate_coordinator(
    pool: &mut BrokerPool,
    key: &str,
    key_type: i8,
) -> Result<i32, AdminError> {
    let found = pool.bootstrap().call(versions::FIND_COORDINATOR, |v| {
        find_coordinator_request_of(v, key, key_type)
    })?;
    let (node, addr) = match found.coordinators.first() {
        Some(c) => {
            AdminError::check(c.error_code, c.error_message.as_deref(), || {
                format!("find coordinator of {key}")
            })?;
            (c.node_id.0, format!("{}:{}", c.host.as_str(), c.port))
        }
        None => {
            let message = found.error_message.as_deref();
            AdminError::check(found.error_code, message, || {
                format!("find coordinator of {key}")
            })?;
            (
                found.node_id.0,
                format!("{}:{}", found.host.as_str(), found.port),
            )
        }
    };
    pool.learn(node, addr);
    Ok(node)
}

pub fn describe_groups_request(_version: i16, group: &str) -> DescribeGroupsRequest {
    let mut request = DescribeGroupsRequest::default();
    request.groups = vec![StrBytes::from_string(group.to_string()).into()];
    request
}

/// Every committed offset of `group` (a null topic list means all).
pub fn offset_fetch_request(version: i16, group: &str) -> OffsetFetchRequest {
    let mut request = OffsetFetchRequest::default();
    if version >= versions::OFFSET_FETCH_BATCH_VERSION {
        let mut entry = OffsetFetchRequestGroup::default();
        entry.group_id = StrBytes::from_string(group.to_string()).into();
        entry.topics = None;
        request.groups = vec![entry];
    } else {
        request.group_id = StrBytes::from_string(group.to_string()).into();
        request.topics = None;
    }
    request
}

/// Log end offsets of `partitions`, as a consumer asks for them.
pub fn list_offsets_request(_version: i16, partitions: &[(String, i32)]) -> ListOffsetsRequest {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        by_topic.entry(topic).or_default().push(*partition);
    }
    let mut request = ListOffsetsRequest::default();
    request.replica_id = (-1).into();
    request.topics = by_topic
        .into_iter()
        .map(|(name, indexes)| {
            let mut topic = ListOffsetsTopic::default();
            topic.name = StrBytes::from_string(name.to_string()).into();
            topic.partitions = indexes
                .into_iter()
                .map(|index| {
                    let mut partition = ListOffsetsPartition::default();
                    partition.partition_index = index;
                    partition.timestamp = LATEST_TIMESTAMP;
                    partition
                })
                .collect();
            topic
        })
        .collect();
    request
}

/// (topic, partition, committed offset) from either OffsetFetch layout (v8+ batches groups).
pub fn committed_offsets(
    group: &str,
    response: &OffsetFetchResponse,
) -> Result<Vec<(String, i32, i64)>, AdminError> {
    let mut offsets = Vec::new();
    if let Some(entry) = response.groups.first() {
        AdminError::check(entry.error_code, None, || {
            format!("fetch offsets of group {group}")
        })?;
        for topic in &entry.topics {
            for p in &topic.partitions {
                offsets.push((
                    topic.name.to_string(),
                    p.partition_index,
                    p.committed_offset,
                ));
            }
        }
    } else {
        AdminError::check(response.error_code, None, || {
            format!("fetch offsets of group {group}")
        })?;
        for topic in &response.topics {
            for p in &topic.partitions {
                offsets.push((
                    topic.name.to_string(),
                    p.partition_index,
                    p.committed_offset,
                ));
            }
        }
    }
    offsets.sort();
    Ok(offsets)
}

/// Which member owns each partition, from the consumer protocol assignments.
pub fn assignment_owners(group: &DescribedGroup) -> HashMap<(String, i32), String> {
    let mut owners = HashMap::new();
    if group.protocol_type.as_str() != "consumer" {
        return owners;
    }
    for member in &group.members {
        let mut bytes = member.member_assignment.clone();
        if bytes.remaining() < 2 {
            continue;
        }
        let version = bytes.get_i16();
        let Ok(assignment) = ConsumerProtocolAssignment::decode(&mut bytes, version) else {
            continue;
        };
        let owner = format!(
            "{}/{}",
            member.client_id.as_str(),
            member.client_host.as_str()
        );
        for topic in assignment.assigned_partitions {
            for partition in topic.partitions {
                owners.insert((topic.topic.to_string(), partition), owner.clone());
            }
        }
    }
    owners
}

/// One row of `group describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LagRow {
    pub topic: String,
    pub partition: i32,
    /// -1 when the group committed nothing for the partition.
    pub committed: i64,
    /// `Err(reason)` when the leader could not say.
    pub log_end: Result<i64, String>,
    pub owner: Option<String>,
}

pub fn render_group(group: &DescribedGroup, rows: &[LagRow]) -> String {
    let mut out = format!(
        "GROUP     {}\nSTATE     {}\nPROTOCOL  {}\nMEMBERS   {}\n\n",
        group.group_id.as_str(),
        group.group_state.as_str(),
        format!(
            "{} {}",
            group.protocol_type.as_str(),
            group.protocol_data.as_str()
        )
        .trim_end(),
        group.members.len()
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let committed = if r.committed < 0 {
                "-".to_string()
            } else {
                r.committed.to_string()
            };
            let (log_end, lag) = match (&r.log_end, r.committed) {
                (Ok(end), c) if c >= 0 => (end.to_string(), (end - c).max(0).to_string()),
                (Ok(end), _) => (end.to_string(), "-".to_string()),
                (Err(why), _) => (why.clone(), "-".to_string()),
            };
            let owner = r.owner.clone().unwrap_or_else(|| "-".to_string());
            vec![
                r.topic.clone(),
                r.partition.to_string(),
                committed,
                log_end,
                lag,
                owner,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "TOPIC",
            "PARTITION",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "MEMBER",
        ],
        &cells,
    ));
    out
}

pub fn render_group_list(groups: &[ListedGroup]) -> String {
    let mut sorted: Vec<&ListedGroup> = groups.iter().collect();
    sorted.sort_by(|a, b| a.group_id.as_str().cmp(b.group_id.as_str()));
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|g| {
            let state = if g.group_state.is_empty() {
                "-"
            } else {
                g.group_state.as_str()
            };
            vec![
                g.group_id.to_string(),
                state.to_string(),
                g.protocol_type.to_string(),
            ]
        })
        .collect();
    table(&["GROUP", "STATE", "PROTOCOL-TYPE"], &rows)
}

pub fn execute(pool: &mut BrokerPool, command: &GroupCommand) -> Result<String, AdminError> {
    match command {
        GroupCommand::List => list(pool),
        GroupCommand::Describe { group } => describe(pool, group),
    }
}

/// Groups live on their coordinators, so every broker is asked.
fn list(pool: &mut BrokerPool) -> Result<String, AdminError> {
    pool.metadata(Some(&[]))?;
    let mut groups = Vec::new();
    let nodes = pool.node_ids();
    let nodes = if nodes.is_empty() { vec![-1] } else { nodes };
    for node in nodes {
        let client = pool.node(node)?;
        let response = client.call(versions::LIST_GROUPS, |_| ListGroupsRequest::default())?;
        AdminError::check(response.error_code, None, || {
            format!("list groups on broker {node}")
        })?;
        groups.extend(response.groups);
    }
    Ok(render_group_list(&groups))
}

fn describe(pool: &mut BrokerPool, group: &str) -> Result<String, AdminError> {
    let metadata = pool.metadata(None)?;
    let node = locate_coordinator(pool, group, COORDINATOR_KEY_GROUP)?;
    let coordinator = pool.node(node)?;
    let described = coordinator.call(versions::DESCRIBE_GROUPS, |v| {
        describe_groups_request(v, group)
    })?;
    let state = described.groups.into_iter().next().ok_or_else(|| {
        AdminError::Usage(format!("broker returned no description of group {group}"))
    })?;
    AdminError::check(state.error_code, state.error_message.as_deref(), || {
        format!("describe group {group}")
    })?;
    let fetched = coordinator.call(versions::OFFSET_FETCH, |v| offset_fetch_request(v, group))?;
    let committed = committed_offsets(group, &fetched)?;
    if state.group_state.as_str() == "Dead" && committed.is_empty() {
        return Err(AdminError::Usage(format!("group {group} does not exist")));
    }
    let leaders: HashMap<(String, i32), i32> = metadata
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| (n.to_string(), t)))
        .flat_map(|(name, t)| {
            t.partitions
                .iter()
                .map(move |p| ((name.clone(), p.partition_index), p.leader_id.0))
        })
        .collect();
    let log_ends = log_end_offsets(pool, &committed, &leaders);
    let owners = assignment_owners(&state);
    let rows: Vec<LagRow> = committed
        .into_iter()
        .map(|(topic, partition, offset)| {
            let key = (topic.clone(), partition);
            LagRow {
                log_end: log_ends
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| Err("no leader".to_string())),
                owner: owners.get(&key).cloned(),
                topic,
                partition,
                committed: offset,
            }
        })
        .collect();
    Ok(render_group(&state, &rows))
}

type LogEnds = HashMap<(String, i32), Result<i64, String>>;

/// Log end offsets from each partition's leader; failures become per-row reasons.
fn log_end_offsets(
    pool: &mut BrokerPool,
    committed: &[(String, i32, i64)],
    leaders: &HashMap<(String, i32), i32>,
) -> LogEnds {
    let mut by_leader: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
    for (topic, partition, _) in committed {
        if let Some(leader) = leaders.get(&(topic.clone(), *partition)) {
            by_leader
                .entry(*leader)
                .or_default()
                .push((topic.clone(), *partition));
        }
    }
    let mut ends = LogEnds::new();
    for (leader, partitions) in by_leader {
        let response = pool.node(leader).and_then(|client| {
            client
                .call(versions::LIST_OFFSETS, |v| {
                    list_offsets_request(v, &partitions)
                })
                .map_err(AdminError::from)
        });
        match response {
            Ok(response) => {
                for topic in response.topics {
                    for p in topic.partitions {
                        let end = if p.error_code == 0 {
                            Ok(p.offset)
                        } else {
                            Err(error_code::name(p.error_code))
                        };
                        ends.insert((topic.name.to_string(), p.partition_index), end);
                    }
                }
            }
            Err(e) => {
                for key in partitions {
                    ends.insert(key, Err(e.to_string()));
                }
            }
        }
    }
    ends
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::messages::describe_groups_response::DescribedGroupMember;
    use kafka_protocol::messages::offset_fetch_response::{
        OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
        OffsetFetchResponseTopic, OffsetFetchResponseTopics,
    };
    use kafka_protocol::protocol::Encodable;

    use super::*;

    #[test]
    fn offset_fetch_uses_the_layout_of_its_version() {
        let old = offset_fetch_request(7, "g");
        assert_eq!(old.group_id.as_str(), "g");
        assert!(old.topics.is_none() && old.groups.is_empty());
        let new = offset_fetch_request(8, "g");
        assert_eq!(new.groups[0].group_id.as_str(), "g");
        assert!(new.groups[0].topics.is_none());
        assert_eq!(find_coordinator_request(3, "g").key.as_str(), "g");
        assert_eq!(
            find_coordinator_request(4, "g").coordinator_keys[0].as_str(),
            "g"
        );
        let txn = find_coordinator_request_of(4, "tx", 1);
        assert_eq!((txn.coordinator_keys[0].as_str(), txn.key_type), ("tx", 1));
    }

    #[test]
    fn committed_offsets_read_both_layouts() -> Result<(), AdminError> {
        let mut old = OffsetFetchResponse::default();
        let mut topic = OffsetFetchResponseTopic::default();
        topic.name = StrBytes::from_static_str("t").into();
        let mut partition = OffsetFetchResponsePartition::default();
        partition.partition_index = 1;
        partition.committed_offset = 7;
        topic.partitions = vec![partition];
        old.topics = vec![topic];
        assert_eq!(committed_offsets("g", &old)?, vec![("t".to_string(), 1, 7)]);

        let mut new = OffsetFetchResponse::default();
        let mut group = OffsetFetchResponseGroup::default();
        let mut topic = OffsetFetchResponseTopics::default();
        topic.name = StrBytes::from_static_str("t").into();
        let mut partition = OffsetFetchResponsePartitions::default();
        partition.partition_index = 0;
        partition.committed_offset = 3;
        topic.partitions = vec![partition];
        group.topics = vec![topic];
        new.groups = vec![group.clone()];
        assert_eq!(committed_offsets("g", &new)?, vec![("t".to_string(), 0, 3)]);

        group.error_code = 16;
        new.groups = vec![group];
        let error = committed_offsets("g", &new).map_or_else(|e| e.to_string(), |_| String::new());
        assert!(error.contains("NOT_COORDINATOR (16)"), "{error}");
        Ok(())
    }

    #[test]
    fn list_offsets_asks_for_latest_as_a_consumer() {
        let partitions = [
            ("b".to_string(), 1),
            ("a".to_string(), 0),
            ("b".to_string(), 0),
        ];
        let request = list_offsets_request(7, &partitions);
        assert_eq!(request.replica_id.0, -1);
        assert_eq!(request.topics.len(), 2);
        assert_eq!(request.topics[1].partitions.len(), 2);
        assert!(request
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .all(|p| p.timestamp == LATEST_TIMESTAMP));
    }

    fn group_with_member() -> DescribedGroup {
        let mut assignment = ConsumerProtocolAssignment::default();
        let mut tp = TopicPartition::default();
        tp.topic = StrBytes::from_static_str("t").into();
        tp.partitions = vec![0, 2];
        assignment.assigned_partitions = vec![tp];
        let mut bytes = BytesMut::new();
        bytes.put_i16(1);
        assignment
            .encode(&mut bytes, 1)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut member = DescribedGroupMember::default();
        member.client_id = StrBytes::from_static_str("app");
        member.client_host = StrBytes::from_static_str("/10.0.0.1");
        member.member_assignment = bytes.freeze();
        let mut group = DescribedGroup::default();
        group.group_id = StrBytes::from_static_str("g").into();
        group.group_state = StrBytes::from_static_str("Stable");
        group.protocol_type = StrBytes::from_static_str("consumer");
        group.protocol_data = StrBytes::from_static_str("range");
        group.members = vec![member];
        group
    }

    #[test]
    fn assignments_name_each_partition_owner() {
        let owners = assignment_owners(&group_with_member());
        assert_eq!(
            owners.get(&("t".to_string(), 2)).map(String::as_str),
            Some("app//10.0.0.1")
        );
        assert_eq!(owners.len(), 2);
    }

    #[test]
    fn lag_is_log_end_minus_committed() {
        let rows = [
            LagRow {
                topic: "t".into(),
                partition: 0,
                committed: 5,
                log_end: Ok(12),
                owner: Some("app".into()),
            },
            LagRow {
                topic: "t".into(),
                partition: 1,
                committed: -1,
                log_end: Ok(4),
                owner: None,
            },
            LagRow {
                topic: "t".into(),
                partition: 2,
                committed: 1,
                log_end: Err("NOT_LEADER_OR_FOLLOWER (6)".into()),
                owner: None,
            },
        ];
        let text = render_group(&group_with_member(), &rows);
        assert!(text.contains("STATE     Stable"), "{text}");
        let line = |p: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("t      {p}")))
                .unwrap_or("")
                .to_string()
        };
        assert!(
            line("0")
                .split_whitespace()
                .eq(["t", "0", "5", "12", "7", "app"]),
            "{text}"
        );
        assert!(
            line("1")
                .split_whitespace()
                .eq(["t", "1", "-", "4", "-", "-"]),
            "{text}"
        );
        assert!(line("2").contains("NOT_LEADER_OR_FOLLOWER"), "{text}");
    }
}

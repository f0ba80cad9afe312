//! `__consumer_offsets` is compacted (Kafka's `cleanup.policy=compact`): many commits of the
//! same keys shrink, once the shard's cleaner has run, to one record per key below the active
//! segment; a deleted group leaves only its tombstones; the topic describes itself as
//! compacted; and after kill -9 and a restart the cleaned log loads the latest offsets.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, fetch, topic_name};
use common::records::decode_records;
use common::wait::wait_until;
use common::wire::KafkaConnection;

const OFFSETS_TOPIC: &str = "__consumer_offsets";
const GROUP: &str = "compacted-group";
const DELETED_GROUP: &str = "deleted-group";
const TOPIC: &str = "compacted-offsets-topic";
const PARTITIONS: i32 = 3;
const COMMITS: i64 = 600;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const TIMEOUT: Duration = Duration::from_secs(60);
/// One offsets partition (every group lands in it), small segments (so commits seal many),
/// and a cleaner that looks for work every 20 ms.
const CONFIG: &str = "\"offsets.topic.num.partitions\" = 1\n\
                      \"sluice.offsets.segment.bytes\" = 16384\n\
                      \"log.cleaner.backoff.ms\" = 20\n";

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// A standalone commit (generation -1) of `offset` on every partition; the first error code.
fn commit(conn: &mut KafkaConnection, group: &str, offset: i64) -> i16 {
    let partitions = (0..PARTITIONS)
        .map(|p| {
            OffsetCommitRequestPartition::default()
                .with_partition_index(p)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s(&format!("m{offset}"))))
        })
        .collect();
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(partitions)]);
    let response = conn.request(7, &request);
    response.topics[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .find(|c| *c != 0)
        .unwrap_or(0)
}

fn fetch_offsets(conn: &mut KafkaConnection) -> OffsetFetchResponse {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partition_indexes((0..PARTITIONS).collect())]));
    conn.request(5, &request)
}

/// Base offset of the active segment of `__consumer_offsets-0` (its newest `.log` file).
fn active_segment_base(broker: &Broker) -> i64 {
    let dir = broker.data_dir().join(format!("{OFFSETS_TOPIC}-0"));
    std::fs::read_dir(&dir)
        .expect("read the offsets partition dir")
        .flatten()
        .filter_map(|f| {
            let name = f.file_name().to_string_lossy().to_string();
            name.strip_suffix(".log")?.parse::<i64>().ok()
        })
        .max()
        .expect("the offsets partition has a segment")
}

/// Every record of `__consumer_offsets-0` below `end`: (offset, key, value is null).
fn offsets_records(conn: &mut KafkaConnection, end: i64) -> Vec<(i64, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut next = 0;
    while next < end {
        let data = fetch(conn, OFFSETS_TOPIC, 0, next, 1 << 20);
        assert_eq!(data.error_code, 0, "fetching {OFFSETS_TOPIC}");
        let records = data.records.map(|r| decode_records(&r)).unwrap_or_default();
        let Some(last) = records.last() else { break };
        next = last.offset + 1;
        for r in records.into_iter().filter(|r| r.offset < end) {
            let key = r.key.expect("every offsets record has a key").to_vec();
            out.push((r.offset, key, r.value.is_none()));
        }
    }
    out
}

/// Keys appearing more than once among `records`.
fn duplicated_keys(records: &[(i64, Vec<u8>, bool)]) -> usize {
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for (_, key, _) in records {
        *seen.entry(key).or_default() += 1;
    }
    seen.values().filter(|count| **count > 1).count()
}

fn cleanup_policy(conn: &mut KafkaConnection) -> Option<String> {
    let request =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(OFFSETS_TOPIC))
            .with_configuration_keys(Some(vec![s("cleanup.policy")]))]);
    let response = conn.request(1, &request);
    let result = response.results.first()?;
    let entry = result
        .configs
        .iter()
        .find(|c| c.name.as_str() == "cleanup.policy")?;
    entry.value.as_ref().map(|v| v.to_string())
}

#[test]
fn group_offsets_topic_stays_bounded_by_compaction() {
    let mut broker = Broker::start(BrokerOptions::default().config(CONFIG));
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, PARTITIONS);
    wait_until("the coordinator to load", TIMEOUT, || {
        commit(&mut conn, DELETED_GROUP, 0) != COORDINATOR_LOAD_IN_PROGRESS
    });
    assert_eq!(cleanup_policy(&mut conn).as_deref(), Some("compact"));
    for offset in 1..=20 {
        assert_eq!(commit(&mut conn, DELETED_GROUP, offset), 0);
    }
    let delete = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(DELETED_GROUP))]);
    assert_eq!(conn.request(2, &delete).results[0].error_code, 0);
    for offset in 1..=COMMITS {
        assert_eq!(commit(&mut conn, GROUP, offset), 0, "commit {offset}");
    }

    // Below the active segment (never cleaned), one record per key once the cleaner ran.
    let end = active_segment_base(&broker);
    assert!(
        end > COMMITS,
        "the commits sealed segments (active base {end})"
    );
    let cleaned = wait_until("the cleaner to compact the offsets", TIMEOUT, || {
        let records = offsets_records(&mut conn, end);
        (duplicated_keys(&records) == 0).then_some(records)
    });
    let live_keys = cleaned
        .iter()
        .filter(|(_, _, tombstone)| !tombstone)
        .count();
    let tombstones = cleaned
        .iter()
        .filter(|(_, _, tombstone)| *tombstone)
        .count();
    assert_eq!(
        tombstones,
        PARTITIONS as usize + 1,
        "the deleted group's offsets and group record: tombstones, kept for delete.retention.ms"
    );
    assert!(
        live_keys <= PARTITIONS as usize,
        "{live_keys} live records below {end}: one per key at most"
    );
    assert!(
        cleaned.len() < 10,
        "{} records stayed of {}",
        cleaned.len(),
        end
    );

    broker.kill9();
    broker.restart();
    let mut conn = broker.connect();
    let fetched = wait_until("the coordinator to load after the restart", TIMEOUT, || {
        let fetched = fetch_offsets(&mut conn);
        (fetched.error_code != COORDINATOR_LOAD_IN_PROGRESS).then_some(fetched)
    });
    assert_eq!(fetched.error_code, 0);
    for p in &fetched.topics[0].partitions {
        assert_eq!(
            p.committed_offset, COMMITS,
            "partition {}",
            p.partition_index
        );
        let metadata = p.metadata.as_ref().map(|m| m.to_string());
        assert_eq!(metadata.as_deref(), Some(format!("m{COMMITS}").as_str()));
    }
}

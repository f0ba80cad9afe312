//! Until compaction exists, `__consumer_offsets` stays bounded: after every
//! `sluice.offsets.snapshot.records` records the coordinator appends a snapshot of the
//! partition's live state and deletes everything before it. Many commits leave only a few
//! segments, and after kill -9 and a restart the replayed snapshot gives the latest offsets.

mod common;

use std::time::Duration;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, topic_name};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const GROUP: &str = "snapshot-group";
const TOPIC: &str = "snapshot-topic";
const PARTITIONS: i32 = 3;
const COMMITS: i64 = 600;
/// Without snapshots the commits fill about ten 16 KiB segments.
const SEGMENTS_MAX: usize = 4;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// A standalone commit (generation -1) of `offset` on every partition; the first error code.
fn commit(conn: &mut KafkaConnection, offset: i64) -> i16 {
    let partitions = (0..PARTITIONS)
        .map(|p| {
            OffsetCommitRequestPartition::default()
                .with_partition_index(p)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s(&format!("m{offset}"))))
        })
        .collect();
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(GROUP)))
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

fn fetch(conn: &mut KafkaConnection) -> OffsetFetchResponse {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partition_indexes((0..PARTITIONS).collect())]));
    conn.request(5, &request)
}

/// Most `.log` segments held by any `__consumer_offsets` partition.
fn offsets_segments_max(broker: &Broker) -> usize {
    let entries = std::fs::read_dir(broker.data_dir()).expect("read data dir");
    let mut most = 0;
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("__consumer_offsets-")
        {
            continue;
        }
        let logs = std::fs::read_dir(entry.path())
            .expect("read partition dir")
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().ends_with(".log"))
            .count();
        most = most.max(logs);
    }
    most
}

#[test]
fn group_offsets_topic_stays_bounded_by_snapshots() {
    let toml =
        "\"sluice.offsets.snapshot.records\" = 30\n\"sluice.offsets.segment.bytes\" = 16384\n";
    let mut broker = Broker::start(BrokerOptions::default().config(toml));
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, PARTITIONS);
    wait_until("the coordinator to load", LOAD_TIMEOUT, || {
        commit(&mut conn, 0) != COORDINATOR_LOAD_IN_PROGRESS
    });
    for offset in 1..=COMMITS {
        assert_eq!(commit(&mut conn, offset), 0, "commit {offset}");
    }
    let segments = offsets_segments_max(&broker);
    assert!(
        segments <= SEGMENTS_MAX,
        "{segments} segments: snapshots did not bound the topic"
    );

    broker.kill9();
    broker.restart();
    let mut conn = broker.connect();
    let fetched = wait_until(
        "the coordinator to load after the restart",
        LOAD_TIMEOUT,
        || {
            let fetched = fetch(&mut conn);
            (fetched.error_code != COORDINATOR_LOAD_IN_PROGRESS).then_some(fetched)
        },
    );
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

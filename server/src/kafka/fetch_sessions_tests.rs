//! KIP-227 session rules: open with epoch 0, continue with the next epoch, refuse unknown ids
//! and wrong epochs, merge changed partitions, forget removed ones, and answer only news.

#![allow(clippy::unwrap_used)]

use kafka_protocol::messages::fetch_request::ForgottenTopic;
use kafka_protocol::messages::BrokerId;

use super::*;

/// The client ids of two replication streams of broker 2 (its shards 0 and 1).
const STREAM: &str = "sluice-replica-2-0";
const OTHER_STREAM: &str = "sluice-replica-2-1";

fn request(session_id: i32, epoch: i32, partitions: &[(i32, i64)]) -> FetchRequest {
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(
            partitions
                .iter()
                .map(|&(p, offset)| {
                    FetchPartition::default()
                        .with_partition(p)
                        .with_fetch_offset(offset)
                })
                .collect(),
        );
    FetchRequest::default()
        .with_replica_id(BrokerId(2))
        .with_session_id(session_id)
        .with_session_epoch(epoch)
        .with_topics(if partitions.is_empty() {
            vec![]
        } else {
            vec![topic]
        })
}

fn served(partition: i32, records: bool, high_watermark: i64) -> ServedPartition {
    ServedPartition {
        key: ("t".to_string(), partition),
        has_records_or_error: records,
        high_watermark,
        log_start_offset: 0,
    }
}

fn offsets(body: &FetchRequest) -> Vec<(i32, i64)> {
    body.topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (p.partition, p.fetch_offset)))
        .collect()
}

#[test]
fn consumers_get_no_session() {
    let sessions = FetchSessions::new(0);
    let mut body = request(0, 0, &[(0, 0)]).with_replica_id(BrokerId(-1));
    assert_eq!(sessions.begin(&mut body, STREAM, 0), SessionUse::None);
}

#[test]
fn a_session_serves_its_partitions_and_merges_changes() {
    let sessions = FetchSessions::new(3);
    let mut open = request(0, 0, &[(0, 5), (1, 7), (2, 9)]);
    let SessionUse::Open { id, full } = sessions.begin(&mut open, STREAM, 0) else {
        panic!("a full fetch with epoch 0 opens a session");
    };
    assert!(full);
    assert_eq!(id & 0xff, 3, "the shard is in the id");
    let all = [
        served(0, false, 5),
        served(1, false, 7),
        served(2, false, 9),
    ];
    assert_eq!(sessions.finish(id, true, &all), vec![true, true, true]);

    // Only partition 1 moved; partition 2 is forgotten.
    let mut next = request(id, 1, &[(1, 8)]);
    next.forgotten_topics_data = vec![ForgottenTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![2])];
    assert_eq!(
        sessions.begin(&mut next, STREAM, 1),
        SessionUse::Open { id, full: false }
    );
    assert_eq!(offsets(&next), vec![(0, 5), (1, 8)]);
    // Partition 0 idle and unchanged: left out; partition 1 has records.
    let news = sessions.finish(id, false, &[served(0, false, 5), served(1, true, 8)]);
    assert_eq!(news, vec![false, true]);
    // A new high watermark is news even without records.
    let mut third = request(id, 2, &[]);
    sessions.begin(&mut third, STREAM, 2);
    assert_eq!(
        sessions.finish(id, false, &[served(0, false, 6), served(1, false, 8)]),
        vec![true, false]
    );
}

#[test]
fn unknown_sessions_and_wrong_epochs_are_refused() {
    let sessions = FetchSessions::new(0);
    let mut unknown = request(12_345, 1, &[]);
    assert_eq!(
        sessions.begin(&mut unknown, STREAM, 0),
        SessionUse::Refused(ResponseError::FetchSessionIdNotFound.code())
    );
    let mut open = request(0, 0, &[(0, 0)]);
    let SessionUse::Open { id, .. } = sessions.begin(&mut open, STREAM, 0) else {
        panic!("opens");
    };
    let mut stale = request(id, 5, &[]);
    assert_eq!(
        sessions.begin(&mut stale, STREAM, 0),
        SessionUse::Refused(ResponseError::InvalidFetchSessionEpoch.code())
    );
    let mut other = request(id, 1, &[]).with_replica_id(BrokerId(3));
    assert_eq!(
        sessions.begin(&mut other, STREAM, 0),
        SessionUse::Refused(ResponseError::InvalidFetchSessionEpoch.code())
    );
}

#[test]
fn a_follower_closes_its_session_with_epoch_minus_one() {
    let sessions = FetchSessions::new(0);
    let mut open = request(0, 0, &[(0, 0)]);
    let SessionUse::Open { id, .. } = sessions.begin(&mut open, STREAM, 0) else {
        panic!("opens");
    };
    let mut close = request(id, -1, &[(0, 0)]);
    assert_eq!(sessions.begin(&mut close, STREAM, 0), SessionUse::None);
    let mut after = request(id, 1, &[]);
    assert_eq!(
        sessions.begin(&mut after, STREAM, 0),
        SessionUse::Refused(ResponseError::FetchSessionIdNotFound.code())
    );
}

#[test]
fn epochs_wrap_to_one() {
    assert_eq!(next_epoch(i32::MAX), 1);
    assert_eq!(next_epoch(1), 2);
}

#[test]
fn two_streams_of_one_follower_keep_a_session_each() {
    // Two shards of broker 2 whose connections both landed on this shard.
    let sessions = FetchSessions::new(0);
    let open = |client_id| {
        let mut body = request(0, 0, &[(0, 5)]);
        match sessions.begin(&mut body, client_id, 0) {
            SessionUse::Open { id, full: true } => id,
            other => panic!("{client_id} did not open a session: {other:?}"),
        }
    };
    let first = open(STREAM);
    let second = open(OTHER_STREAM);
    for (id, client_id) in [(first, STREAM), (second, OTHER_STREAM)] {
        let mut next = request(id, 1, &[]);
        assert_eq!(
            sessions.begin(&mut next, client_id, 1),
            SessionUse::Open { id, full: false },
            "{client_id} lost its session to the other stream"
        );
    }
    // A stream cannot continue another stream's session.
    let mut stolen = request(first, 2, &[]);
    assert_eq!(
        sessions.begin(&mut stolen, OTHER_STREAM, 2),
        SessionUse::Refused(ResponseError::InvalidFetchSessionEpoch.code())
    );
    // A stream that reopens drops only its own old session.
    let reopened = open(STREAM);
    let mut old = request(first, 2, &[]);
    assert_eq!(
        sessions.begin(&mut old, STREAM, 2),
        SessionUse::Refused(ResponseError::FetchSessionIdNotFound.code())
    );
    assert_ne!(reopened, first);
    let mut other = request(second, 2, &[]);
    assert_eq!(
        sessions.begin(&mut other, OTHER_STREAM, 2),
        SessionUse::Open {
            id: second,
            full: false
        }
    );
}

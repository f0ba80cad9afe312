//! The image's contract: records apply in order, a batch whole or not at all, and every
//! invariant holds after every entry.
// A test's unwrap is its assertion: the panic names the failing step.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::records::{ConfigResource, Endpoint, MetadataRecord, RecordBatch, TopicId, NO_LEADER};

const TOPIC_ID: TopicId = TopicId(0x7);

fn endpoint(broker_id: i32) -> Endpoint {
    Endpoint {
        name: "PLAINTEXT".into(),
        host: format!("broker{broker_id}"),
        port: 9092,
        security_protocol: "PLAINTEXT".into(),
    }
}

fn register(broker_id: i32, broker_epoch: i64) -> MetadataRecord {
    MetadataRecord::RegisterBroker {
        broker_id,
        incarnation_id: 100 + broker_id as u128,
        broker_epoch,
        endpoints: vec![endpoint(broker_id)],
        rack: None,
    }
}

fn unfence(broker_id: i32, broker_epoch: i64) -> MetadataRecord {
    MetadataRecord::UnfenceBroker {
        broker_id,
        broker_epoch,
    }
}

fn partition(index: i32, replicas: &[i32], leader: i32) -> MetadataRecord {
    MetadataRecord::Partition {
        topic_id: TOPIC_ID,
        partition: index,
        replicas: replicas.to_vec(),
        isr: replicas.to_vec(),
        leader,
        leader_epoch: 0,
        partition_epoch: 0,
        leader_recovery_state: Default::default(),
    }
}

fn change(index: i32, leader: Option<i32>, isr: Option<&[i32]>) -> MetadataRecord {
    MetadataRecord::PartitionChange {
        topic_id: TOPIC_ID,
        partition: index,
        leader,
        isr: isr.map(<[i32]>::to_vec),
        replicas: None,
        leader_recovery_state: None,
        adding_replicas: None,
        removing_replicas: None,
        bump_leader_epoch: false,
    }
}

fn batch(records: Vec<MetadataRecord>) -> RecordBatch {
    RecordBatch { records }
}

/// Brokers 1..=3 registered (epochs 1..=3) and unfenced, topic "t" with partition 0 on
/// [1, 2, 3] led by 1 and partition 1 on [2] led by 2.
fn cluster() -> MetadataImage {
    let mut image = MetadataImage::default();
    let brokers = (1..=3).flat_map(|id| [register(id, i64::from(id)), unfence(id, i64::from(id))]);
    image.apply(1, &batch(brokers.collect())).unwrap();
    let topic = MetadataRecord::Topic {
        name: "t".into(),
        topic_id: TOPIC_ID,
    };
    let records = vec![topic, partition(0, &[1, 2, 3], 1), partition(1, &[2], 2)];
    image.apply(2, &batch(records)).unwrap();
    image
}

#[test]
fn registration_starts_fenced_and_replaces_the_previous_one() {
    let mut image = cluster();
    assert!(!image.broker(3).unwrap().fenced);
    image.apply(3, &batch(vec![register(3, 9)])).unwrap();
    let broker = image.broker(3).unwrap();
    assert!(broker.fenced);
    assert!(!broker.shutting_down);
    assert_eq!(broker.broker_epoch, 9);
    assert_eq!(image.broker_epoch_max, 9);
    // Broker 1 leads partition 0: its new incarnation (fenced) may not keep the leadership.
    assert!(image.apply(4, &batch(vec![register(1, 4)])).is_err());
    image
        .apply(4, &batch(vec![change(0, Some(2), None), register(1, 4)]))
        .unwrap();
    assert_eq!(image.broker(1).unwrap().broker_epoch, 4);
    assert_eq!(
        image.broker_epoch_max, 9,
        "the largest epoch handed out stays"
    );
}

#[test]
fn registration_epochs_never_go_backwards() {
    let mut image = cluster();
    let before = image.clone();
    let error = image.apply(3, &batch(vec![register(2, 2)])).unwrap_err();
    assert!(matches!(error, ApplyError::Inconsistent(_)), "{error}");
    assert_eq!(image, before);
}

#[test]
fn fence_unfence_and_shutdown_follow_the_current_epoch() {
    let mut image = cluster();
    let shutdown = MetadataRecord::BrokerShuttingDown {
        broker_id: 3,
        broker_epoch: 3,
    };
    image.apply(3, &batch(vec![shutdown])).unwrap();
    assert!(image.broker(3).unwrap().shutting_down);
    assert!(!image.is_broker_active(3));
    let fence = MetadataRecord::FenceBroker {
        broker_id: 3,
        broker_epoch: 3,
    };
    image.apply(4, &batch(vec![fence])).unwrap();
    assert!(image.broker(3).unwrap().fenced);
    image.apply(5, &batch(vec![unfence(3, 3)])).unwrap();
    assert!(!image.broker(3).unwrap().fenced);
}

#[test]
fn stale_broker_records_change_nothing() {
    let mut image = cluster();
    image.apply(3, &batch(vec![register(3, 7)])).unwrap();
    let before = image.clone();
    let fence = MetadataRecord::FenceBroker {
        broker_id: 3,
        broker_epoch: 3,
    };
    let shutdown = MetadataRecord::BrokerShuttingDown {
        broker_id: 3,
        broker_epoch: 3,
    };
    image
        .apply(4, &batch(vec![unfence(3, 3), fence, shutdown]))
        .unwrap();
    assert_eq!(image.brokers, before.brokers);
    assert_eq!(image.offset, 4);
}

#[test]
fn broker_records_for_unknown_brokers_or_future_epochs_are_refused() {
    let mut image = cluster();
    let before = image.clone();
    assert_eq!(
        image.apply(3, &batch(vec![unfence(9, 1)])),
        Err(ApplyError::UnknownBroker(9))
    );
    let error = image.apply(3, &batch(vec![unfence(1, 5)])).unwrap_err();
    assert!(matches!(error, ApplyError::Inconsistent(_)), "{error}");
    assert_eq!(image, before);
}

#[test]
fn partitions_are_created_in_order() {
    let mut image = cluster();
    let error = image
        .apply(3, &batch(vec![partition(3, &[1], 1)]))
        .unwrap_err();
    assert!(matches!(error, ApplyError::Inconsistent(_)), "{error}");
    image.apply(3, &batch(vec![partition(2, &[3], 3)])).unwrap();
    assert_eq!(image.topic("t").unwrap().partitions.len(), 3);
    let unknown = MetadataRecord::Partition {
        topic_id: TopicId(0x99),
        partition: 0,
        replicas: vec![1],
        isr: vec![1],
        leader: 1,
        leader_epoch: 0,
        partition_epoch: 0,
        leader_recovery_state: Default::default(),
    };
    let error = image.apply(4, &batch(vec![unknown])).unwrap_err();
    assert_eq!(error, ApplyError::UnknownTopicId(0x99));
}

#[test]
fn a_leader_change_bumps_both_epochs_an_isr_change_only_the_partition_epoch() {
    let mut image = cluster();
    image
        .apply(3, &batch(vec![change(0, None, Some(&[1, 2]))]))
        .unwrap();
    let p = image.partition("t", 0).unwrap();
    assert_eq!((p.leader, p.leader_epoch, p.partition_epoch), (1, 0, 1));
    assert_eq!(p.isr, vec![1, 2]);
    image
        .apply(4, &batch(vec![change(0, Some(2), None)]))
        .unwrap();
    let p = image.partition("t", 0).unwrap();
    assert_eq!((p.leader, p.leader_epoch, p.partition_epoch), (2, 1, 2));
    image
        .apply(5, &batch(vec![change(0, Some(2), None)]))
        .unwrap();
    let p = image.partition("t", 0).unwrap();
    assert_eq!((p.leader, p.leader_epoch, p.partition_epoch), (2, 1, 3));
    image
        .apply(6, &batch(vec![change(0, Some(NO_LEADER), None)]))
        .unwrap();
    let p = image.partition("t", 0).unwrap();
    assert_eq!(
        (p.leader, p.leader_epoch, p.partition_epoch),
        (NO_LEADER, 2, 4)
    );
}

#[test]
fn partition_changes_that_break_a_partition_are_refused() {
    let mut image = cluster();
    let before = image.clone();
    let cases = [
        change(0, Some(4), None),          // leader outside the ISR
        change(0, None, Some(&[1, 1])),    // ISR repeats a broker
        change(0, None, Some(&[1, 4])),    // ISR outside the replicas
        change(0, None, Some(&[])),        // empty ISR
        change(0, Some(3), Some(&[1, 2])), // leader dropped from the ISR
        change(7, Some(1), None),          // no such partition
        MetadataRecord::PartitionChange {
            topic_id: TOPIC_ID,
            partition: 0,
            leader: None,
            isr: None,
            replicas: Some(vec![]),
            leader_recovery_state: None,
            adding_replicas: None,
            removing_replicas: None,
            bump_leader_epoch: false,
        },
    ];
    for record in cases {
        let error = image.apply(3, &batch(vec![record.clone()])).unwrap_err();
        assert!(
            matches!(error, ApplyError::Inconsistent(_)),
            "{record:?}: {error}"
        );
        assert_eq!(image, before, "{record:?}");
    }
}

#[test]
fn a_batch_with_a_bad_record_leaves_the_image_unchanged() {
    let mut image = cluster();
    let before = image.clone();
    let records = vec![
        change(0, Some(2), None),
        MetadataRecord::Topic {
            name: "u".into(),
            topic_id: TopicId(0x8),
        },
        partition(5, &[1], 1),
    ];
    assert!(image.apply(3, &batch(records)).is_err());
    assert_eq!(image, before);
}

#[test]
fn a_batch_that_leaves_a_fenced_leader_is_refused() {
    let mut image = cluster();
    let before = image.clone();
    let fence = MetadataRecord::FenceBroker {
        broker_id: 2,
        broker_epoch: 2,
    };
    let error = image.apply(3, &batch(vec![fence.clone()])).unwrap_err();
    assert!(matches!(error, ApplyError::Inconsistent(_)), "{error}");
    assert_eq!(image, before);
    // Moving the leaderships first makes the same fence acceptable; the last ISR member stays.
    let records = vec![change(1, Some(NO_LEADER), None), fence];
    image.apply(3, &batch(records)).unwrap();
    assert_eq!(image.partition("t", 1).unwrap().isr, vec![2]);
    assert_eq!(
        image.offline_replicas(image.partition("t", 1).unwrap()),
        vec![2]
    );
}

#[test]
fn offsets_strictly_increase() {
    let mut image = cluster();
    assert!(image.apply(2, &RecordBatch::default()).is_err());
    assert!(image
        .apply(1, &batch(vec![change(0, Some(2), None)]))
        .is_err());
    assert_eq!(image.offset, 2);
    image.apply(10, &RecordBatch::default()).unwrap();
    assert_eq!(image.offset, 10);
}

#[test]
fn topics_need_a_fresh_name_and_id() {
    let mut image = cluster();
    for (name, id) in [("t", 0x9), ("u", 0x7), ("u", 0), ("", 0x9)] {
        let topic = MetadataRecord::Topic {
            name: name.into(),
            topic_id: TopicId(id),
        };
        let error = image.apply(3, &batch(vec![topic])).unwrap_err();
        assert!(
            matches!(error, ApplyError::Inconsistent(_)),
            "{name} {id}: {error}"
        );
    }
}

#[test]
fn configs_are_set_and_removed() {
    let mut image = cluster();
    let config = |resource, resource_name: &str, value: Option<&str>| MetadataRecord::Config {
        resource,
        resource_name: resource_name.into(),
        name: "retention.ms".into(),
        value: value.map(str::to_owned),
    };
    let records = vec![
        config(ConfigResource::Topic, "t", Some("1000")),
        config(ConfigResource::Broker, "1", Some("2000")),
        config(ConfigResource::Broker, "", Some("3000")),
    ];
    image.apply(3, &batch(records)).unwrap();
    assert_eq!(image.topic("t").unwrap().configs["retention.ms"], "1000");
    assert_eq!(image.broker_configs["1"]["retention.ms"], "2000");
    assert_eq!(image.broker_configs[""]["retention.ms"], "3000");
    let records = vec![
        config(ConfigResource::Topic, "t", None),
        config(ConfigResource::Broker, "1", None),
    ];
    image.apply(4, &batch(records)).unwrap();
    assert!(image.topic("t").unwrap().configs.is_empty());
    assert!(!image.broker_configs.contains_key("1"));
    let unknown_topic = config(ConfigResource::Topic, "nope", Some("1"));
    let error = image.apply(5, &batch(vec![unknown_topic])).unwrap_err();
    assert!(matches!(error, ApplyError::Inconsistent(_)), "{error}");
}

#[test]
fn removing_a_topic_drops_its_partitions_and_configs() {
    let mut image = cluster();
    let remove = MetadataRecord::RemoveTopic { topic_id: TOPIC_ID };
    image.apply(3, &batch(vec![remove.clone()])).unwrap();
    assert!(image.topic("t").is_none());
    assert_eq!(image.partitions().count(), 0);
    assert_eq!(
        image.apply(4, &batch(vec![remove])),
        Err(ApplyError::UnknownTopicId(TOPIC_ID.0))
    );
}

#[test]
fn lookups_answer_what_metadata_needs() {
    let mut image = cluster();
    let led: Vec<_> = image
        .partitions_led_by(2)
        .map(|p| (p.topic.name.as_str(), p.partition))
        .collect();
    assert_eq!(led, vec![("t", 1)]);
    assert_eq!(
        image.leader_endpoint("t", 0, "PLAINTEXT"),
        Some(&endpoint(1))
    );
    assert_eq!(image.leader_endpoint("t", 0, "SSL"), None);
    assert_eq!(image.leader_endpoint("t", 9, "PLAINTEXT"), None);
    image.apply(3, &batch(vec![register(3, 4)])).unwrap();
    assert_eq!(image.active_broker_ids(), vec![1, 2]);
    let alive: Vec<i32> = image.alive_brokers().map(|b| b.broker_id).collect();
    assert_eq!(alive, vec![1, 2]);
    assert_eq!(image.fenced_broker_count(), 1);
    assert_eq!(
        image.offline_replicas(image.partition("t", 0).unwrap()),
        vec![3]
    );
    assert_eq!(image.offline_partitions().count(), 0);
}

#[test]
fn images_round_trip_through_json() {
    let mut image = cluster();
    let config = MetadataRecord::Config {
        resource: ConfigResource::Topic,
        resource_name: "t".into(),
        name: "cleanup.policy".into(),
        value: Some("compact".into()),
    };
    let big_incarnation = MetadataRecord::RegisterBroker {
        broker_id: 4,
        incarnation_id: u128::MAX - 1,
        broker_epoch: 5,
        endpoints: vec![endpoint(4)],
        rack: Some("rack-a".into()),
    };
    image
        .apply(3, &batch(vec![config, big_incarnation]))
        .unwrap();
    let text = serde_json::to_string(&image).unwrap();
    let decoded: MetadataImage = serde_json::from_str(&text).unwrap();
    assert_eq!(decoded, image);
    decoded.check_invariants().unwrap();
}

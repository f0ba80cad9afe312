//! Creating, growing, deleting and configuring topics.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::records::{ConfigResource, MetadataRecord};

fn leaders(cluster: &Cluster, topic: &str) -> Vec<i32> {
    let partitions = &cluster.image.topic(topic).unwrap().partitions;
    partitions.iter().map(|p| p.leader).collect()
}

#[test]
fn a_topic_is_spread_over_the_active_brokers() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_topic(create("t", 9, 3)).unwrap();
    let topic = cluster.image.topic("t").unwrap();
    assert_eq!(topic.partitions.len(), 9);
    for broker_id in 1..=3 {
        assert_eq!(
            cluster.image.partitions_led_by(broker_id).count(),
            3,
            "broker {broker_id}"
        );
    }
    for partition in &topic.partitions {
        assert_eq!(partition.isr, partition.replicas);
        assert_eq!(partition.leader, partition.replicas[0]);
        assert_eq!((partition.leader_epoch, partition.partition_epoch), (0, 0));
    }
}

#[test]
fn fenced_and_shutting_down_brokers_get_no_new_replicas() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.register(4); // fenced: never caught up
    cluster.shutdown_heartbeat(3); // leads nothing: stops and is fenced at once
    cluster.create_topic(create("t", 6, 2)).unwrap();
    let used: BTreeSet<i32> = cluster
        .image
        .partitions()
        .flat_map(|p| p.image.replicas.clone())
        .collect();
    assert_eq!(used, BTreeSet::from([1, 2]));
}

#[test]
fn placement_is_deterministic_per_seed() {
    let place = |seed: u64| {
        let mut cluster = Cluster::with_seed(seed);
        for broker_id in 1..=5 {
            cluster.start_broker(broker_id);
        }
        cluster.create_topic(create("t", 10, 3)).unwrap();
        cluster.image.topic("t").unwrap().clone()
    };
    assert_eq!(place(11), place(11));
    let firsts: BTreeSet<Vec<i32>> = (0..16)
        .map(|seed| place(seed).partitions[0].replicas.clone())
        .collect();
    assert!(firsts.len() > 1, "the seed must matter");
}

#[test]
fn defaults_apply_for_minus_one() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_topic(create("t", -1, -1)).unwrap();
    let topic = cluster.image.topic("t").unwrap();
    assert_eq!(topic.partitions.len(), 3);
    assert!(topic.partitions.iter().all(|p| p.replicas.len() == 1));
}

#[test]
fn validate_only_writes_nothing_but_still_validates() {
    let mut cluster = Cluster::with_brokers(1);
    let mut command = create("t", 2, 1);
    command.validate_only = true;
    let batch = cluster
        .controller
        .create_topic(&cluster.image, command.clone())
        .unwrap();
    assert!(batch.records.is_empty());
    command.replication_factor = 2;
    let error = cluster
        .controller
        .create_topic(&cluster.image, command)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidReplicationFactor);
}

#[test]
fn a_topic_is_created_with_its_configs_and_a_fresh_id() {
    let mut cluster = Cluster::with_brokers(1);
    let mut command = create("t", 1, 1);
    command.configs = BTreeMap::from([("cleanup.policy".to_owned(), "compact".to_owned())]);
    let batch = cluster
        .controller
        .create_topic(&cluster.image, command)
        .unwrap();
    let config = MetadataRecord::Config {
        resource: ConfigResource::Topic,
        resource_name: "t".into(),
        name: "cleanup.policy".into(),
        value: Some("compact".into()),
    };
    assert!(batch.records.contains(&config));
    cluster.commit(batch);
    cluster.create_topic(create("u", 1, 1)).unwrap();
    let t = cluster.image.topic("t").unwrap().topic_id;
    let u = cluster.image.topic("u").unwrap().topic_id;
    assert_ne!(t, u);
    assert_ne!(t.0, 0);
    assert_eq!(
        cluster.image.topic("t").unwrap().configs["cleanup.policy"],
        "compact"
    );
}

#[test]
fn internal_topics_may_use_the_reserved_prefix() {
    let mut cluster = Cluster::with_brokers(1);
    let mut command = create("__consumer_offsets", 5, 1);
    command.internal = true;
    cluster.create_topic(command).unwrap();
    assert_eq!(
        cluster
            .image
            .topic("__consumer_offsets")
            .unwrap()
            .partitions
            .len(),
        5
    );
}

#[test]
fn explicit_assignments_are_used_as_given() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.register(4); // registered but fenced
    cluster.create_assigned("t", &[&[4, 3], &[2, 1]]);
    let partition = cluster.image.partition("t", 0).unwrap();
    assert_eq!(partition.replicas, vec![4, 3]);
    assert_eq!(
        partition.isr,
        vec![3],
        "a fenced replica starts out of the ISR"
    );
    assert_eq!(partition.leader, 3);
    assert_eq!(leaders(&cluster, "t"), vec![3, 2]);
}

#[test]
fn create_partitions_adds_partitions_with_the_topic_replication_factor() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_topic(create("t", 2, 2)).unwrap();
    let batch = cluster
        .controller
        .create_partitions(&cluster.image, "t", 6, None, true)
        .unwrap();
    assert!(batch.records.is_empty());
    let batch = cluster
        .controller
        .create_partitions(&cluster.image, "t", 6, None, false)
        .unwrap();
    cluster.commit(batch);
    let topic = cluster.image.topic("t").unwrap();
    assert_eq!(topic.partitions.len(), 6);
    assert!(topic.partitions.iter().all(|p| p.replicas.len() == 2));
    let new_leaders: BTreeSet<i32> = leaders(&cluster, "t")[2..].iter().copied().collect();
    assert_eq!(
        new_leaders,
        BTreeSet::from([1, 2, 3]),
        "new partitions spread too"
    );

    let assignments = Some(vec![vec![3, 1]]);
    let batch = cluster
        .controller
        .create_partitions(&cluster.image, "t", 7, assignments, false)
        .unwrap();
    cluster.commit(batch);
    assert_eq!(
        cluster.image.partition("t", 6).unwrap().replicas,
        vec![3, 1]
    );
}

#[test]
fn delete_topic_removes_it_whole() {
    let mut cluster = Cluster::with_brokers(1);
    cluster.create_topic(create("t", 2, 1)).unwrap();
    let batch = cluster
        .controller
        .delete_topic(&cluster.image, "t")
        .unwrap();
    cluster.commit(batch);
    assert!(cluster.image.topic("t").is_none());
    cluster.create_topic(create("t", 1, 1)).unwrap();
}

#[test]
fn set_topic_configs_writes_only_the_difference() {
    let mut cluster = Cluster::with_brokers(1);
    let mut command = create("t", 1, 1);
    command.configs = BTreeMap::from([
        ("retention.ms".to_owned(), "1000".to_owned()),
        ("cleanup.policy".to_owned(), "compact".to_owned()),
        ("segment.bytes".to_owned(), "1048576".to_owned()),
    ]);
    cluster.create_topic(command).unwrap();
    let wanted = BTreeMap::from([
        ("retention.ms".to_owned(), "2000".to_owned()),
        ("cleanup.policy".to_owned(), "compact".to_owned()),
        ("max.message.bytes".to_owned(), "100".to_owned()),
    ]);
    let dry = cluster
        .controller
        .set_topic_configs(&cluster.image, "t", wanted.clone(), true)
        .unwrap();
    assert!(dry.records.is_empty());
    let batch = cluster
        .controller
        .set_topic_configs(&cluster.image, "t", wanted.clone(), false)
        .unwrap();
    assert_eq!(
        batch.records.len(),
        3,
        "remove one, change one, add one: {batch:?}"
    );
    cluster.commit(batch);
    assert_eq!(cluster.image.topic("t").unwrap().configs, wanted);
    let again = cluster
        .controller
        .set_topic_configs(&cluster.image, "t", wanted, false)
        .unwrap();
    assert!(again.records.is_empty());
}

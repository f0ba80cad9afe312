//! Every refusal, with the kind the server turns into a Kafka error code.

use std::collections::BTreeMap;

use super::*;

fn create_error(cluster: &mut Cluster, command: CreateTopic) -> ErrorKind {
    let before = cluster.image.clone();
    let error = cluster
        .controller
        .create_topic(&cluster.image, command)
        .unwrap_err();
    assert_eq!(cluster.image, before);
    error.kind
}

fn assigned(name: &str, assignments: Vec<Vec<i32>>) -> CreateTopic {
    let mut command = create(name, -1, -1);
    command.assignments = Some(assignments);
    command
}

#[test]
fn topic_already_exists() {
    let mut cluster = Cluster::with_brokers(1);
    cluster.create_topic(create("t", 1, 1)).unwrap();
    assert_eq!(
        create_error(&mut cluster, create("t", 1, 1)),
        ErrorKind::TopicAlreadyExists
    );
}

#[test]
fn invalid_topic() {
    let mut cluster = Cluster::with_brokers(1);
    cluster.create_topic(create("a.b", 1, 1)).unwrap();
    for name in ["", "..", "bad name", "__consumer_offsets", "a_b"] {
        assert_eq!(
            create_error(&mut cluster, create(name, 1, 1)),
            ErrorKind::InvalidTopic,
            "{name}"
        );
    }
}

#[test]
fn invalid_partitions() {
    let mut cluster = Cluster::with_brokers(1);
    for partitions in [0, -2, 101] {
        let kind = create_error(&mut cluster, create("t", partitions, 1));
        assert_eq!(kind, ErrorKind::InvalidPartitions, "{partitions}");
    }
    let too_many = (0..101).map(|_| vec![1]).collect();
    assert_eq!(
        create_error(&mut cluster, assigned("t", too_many)),
        ErrorKind::InvalidPartitions
    );
    cluster.create_topic(create("t", 2, 1)).unwrap();
    for count in [1, 2, 101, -1] {
        let error = cluster
            .controller
            .create_partitions(&cluster.image, "t", count, None, false);
        assert_eq!(
            error.unwrap_err().kind,
            ErrorKind::InvalidPartitions,
            "{count}"
        );
    }
}

#[test]
fn invalid_replication_factor() {
    let mut empty = Cluster::new();
    // Kafka answers INVALID_REPLICATION_FACTOR, not BROKER_NOT_AVAILABLE, when no broker can
    // take a replica.
    assert_eq!(
        create_error(&mut empty, create("t", 1, 1)),
        ErrorKind::InvalidReplicationFactor
    );
    let mut cluster = Cluster::with_brokers(2);
    for factor in [0, -2, 3] {
        let kind = create_error(&mut cluster, create("t", 1, factor));
        assert_eq!(kind, ErrorKind::InvalidReplicationFactor, "{factor}");
    }
    cluster.create_topic(create("t", 1, 2)).unwrap();
    cluster.shutdown_heartbeat(2);
    cluster.shutdown_heartbeat(2);
    let error = cluster
        .controller
        .create_partitions(&cluster.image, "t", 2, None, false);
    assert_eq!(error.unwrap_err().kind, ErrorKind::InvalidReplicationFactor);
}

#[test]
fn invalid_replica_assignment() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.register(4); // fenced
    let cases = [
        vec![vec![1, 1]],          // a broker twice
        vec![vec![1, 9]],          // an unregistered broker
        vec![vec![1, 2], vec![3]], // uneven replica counts
        vec![vec![]],              // no replica
        vec![vec![4]],             // only fenced brokers
    ];
    for assignments in cases {
        let kind = create_error(&mut cluster, assigned("t", assignments.clone()));
        assert_eq!(kind, ErrorKind::InvalidReplicaAssignment, "{assignments:?}");
    }
    cluster.create_topic(create("t", 1, 2)).unwrap();
    let wrong = [vec![vec![1]], vec![vec![1, 2], vec![2, 3]]]; // wrong factor, wrong count
    for assignments in wrong {
        let result = cluster.controller.create_partitions(
            &cluster.image,
            "t",
            2,
            Some(assignments.clone()),
            false,
        );
        assert_eq!(
            result.unwrap_err().kind,
            ErrorKind::InvalidReplicaAssignment,
            "{assignments:?}"
        );
    }
}

#[test]
fn unknown_topic_or_partition() {
    let mut cluster = Cluster::with_brokers(1);
    let image = cluster.image.clone();
    let controller = &mut cluster.controller;
    let results = [
        controller.delete_topic(&image, "nope"),
        controller.create_partitions(&image, "nope", 3, None, false),
        controller.set_topic_configs(&image, "nope", BTreeMap::new(), false),
    ];
    for result in results {
        assert_eq!(result.unwrap_err().kind, ErrorKind::UnknownTopicOrPartition);
    }
}

#[test]
fn stale_broker_epoch() {
    let mut cluster = Cluster::with_brokers(1);
    let heartbeat = Heartbeat {
        broker_id: 1,
        broker_epoch: cluster.epoch(1) + 1,
        metadata_offset: 0,
        want_shutdown: false,
    };
    let error = cluster
        .controller
        .heartbeat(&cluster.image, heartbeat, 0)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::StaleBrokerEpoch);
}

#[test]
fn duplicate_broker_registration() {
    let mut cluster = Cluster::with_brokers(1);
    let other = cluster.next_incarnation();
    let error = cluster.try_register(1, other).unwrap_err();
    assert_eq!(error.kind, ErrorKind::DuplicateBrokerRegistration);
}

#[test]
fn invalid_request() {
    let mut cluster = Cluster::with_brokers(2);
    let mut command = assigned("t", vec![vec![1]]);
    command.partitions = 1;
    assert_eq!(
        create_error(&mut cluster, command),
        ErrorKind::InvalidRequest
    );
    let mut command = assigned("t", vec![vec![1]]);
    command.replication_factor = 1;
    assert_eq!(
        create_error(&mut cluster, command),
        ErrorKind::InvalidRequest
    );
    let mut command = create("t", 1, 1);
    command.configs = BTreeMap::from([(String::new(), "x".to_owned())]);
    assert_eq!(
        create_error(&mut cluster, command),
        ErrorKind::InvalidRequest
    );

    let registrations = [
        Registration {
            broker_id: 3,
            incarnation_id: 5,
            endpoints: vec![],
            rack: None,
        },
        Registration {
            broker_id: -1,
            incarnation_id: 5,
            endpoints: vec![endpoint(3)],
            rack: None,
        },
        Registration {
            broker_id: 3,
            incarnation_id: 0,
            endpoints: vec![endpoint(3)],
            rack: None,
        },
        Registration {
            broker_id: 3,
            incarnation_id: 5,
            endpoints: vec![endpoint(3), endpoint(3)],
            rack: None,
        },
    ];
    for registration in registrations {
        let result = cluster
            .controller
            .register(&cluster.image, registration.clone(), 0);
        assert_eq!(
            result.unwrap_err().kind,
            ErrorKind::InvalidRequest,
            "{registration:?}"
        );
    }
}

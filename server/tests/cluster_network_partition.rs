//! Three brokers, each in its own network namespace. The active controller is cut off from
//! the other two (blackhole routes; the test still reaches every node): the majority elects a
//! new controller and keeps changing metadata, the cut-off node cannot change metadata, and
//! once the network heals it follows the majority's log (it serves the majority's topic and
//! never the one it was asked to create while alone).

mod common;

use std::time::Duration;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::{CreateTopicsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use common::broker::BrokerOptions;
use common::cluster::{Cluster, Place};
use common::netns::NetLab;
use common::wait::wait_until;

const BROKERS: usize = 3;
const CLIENT_PORT: u16 = 19_092;
const CONTROLLER_PORT: u16 = 19_093;
const ELECTION_DEADLINE: Duration = Duration::from_secs(20);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
const FAST_FENCING: &str =
    "\"broker.session.timeout.ms\" = 3000\n\"broker.heartbeat.interval.ms\" = 500\n";

/// CreateTopics through one broker; the topic's error code.
fn create(cluster: &Cluster, index: usize, name: &str) -> i16 {
    let mut conn = cluster.brokers[index].connect();
    let request = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(name.to_string())))
            .with_num_partitions(3)
            .with_replication_factor(1)]);
    let response = conn.request(5, &request);
    response.topics[0].error_code
}

#[test]
fn a_cut_off_controller_cannot_change_metadata_and_follows_the_majority_after_healing() {
    let Some(lab) = NetLab::create(BROKERS) else {
        return;
    };
    let places = (0..BROKERS)
        .map(|node| Place {
            host: lab.node_ip(node),
            client_port: CLIENT_PORT,
            controller_port: CONTROLLER_PORT,
            prefix: lab.prefix(node),
        })
        .collect();
    let cluster = Cluster::start_at(places, BrokerOptions::default().config(FAST_FENCING));
    let old = cluster.metadata(0, &[]).controller_id.0;
    let alone = cluster
        .node_ids
        .iter()
        .position(|id| *id == old)
        .expect("controller is a node");
    let majority: Vec<usize> = (0..BROKERS).filter(|i| *i != alone).collect();

    lab.isolate(alone);
    let new = wait_until(
        "the majority to elect another controller",
        ELECTION_DEADLINE,
        || {
            let id = cluster.metadata(majority[0], &[]).controller_id.0;
            (id >= 0 && id != old).then_some(id)
        },
    );
    eprintln!("controller {old} cut off; the majority elected {new}");
    assert_eq!(create(&cluster, majority[1], "majority-topic"), 0);

    let refused = create(&cluster, alone, "minority-topic");
    assert_ne!(refused, 0, "the cut-off node changed metadata on its own");
    eprintln!("CreateTopics on the cut-off node: error {refused}");
    let meta = cluster.metadata(alone, &["majority-topic"]);
    assert_ne!(
        meta.topics[0].error_code, 0,
        "the cut-off node learned a topic without a quorum"
    );

    lab.heal(alone);
    wait_until(
        "the healed node to serve the majority's topic",
        METADATA_TIMEOUT,
        || {
            let meta = cluster.metadata(alone, &["majority-topic"]);
            (meta.topics[0].error_code == 0 && meta.topics[0].partitions.len() == 3).then_some(())
        },
    );
    for index in 0..BROKERS {
        let meta = cluster.metadata(index, &["minority-topic"]);
        assert_ne!(
            meta.topics[0].error_code, 0,
            "broker {index} serves a topic created without a quorum"
        );
        cluster.wait_for_brokers(index, BROKERS, METADATA_TIMEOUT);
    }
}

//! Producer ids in a cluster of three: every broker hands out ids from its own block, which
//! the controller allocated through the metadata log (AllocateProducerIds), so no two
//! InitProducerId answers in the cluster share an id. A broker killed with -9 and restarted
//! gets a fresh block past every block handed out before: no id is ever reused.

mod common;

use std::collections::BTreeSet;

use common::broker::BrokerOptions;
use common::cluster::Cluster;
use common::kafka::error_code;
use common::wire::KafkaConnection;
use kafka_protocol::messages::{InitProducerIdRequest, ProducerId};

const BROKERS: usize = 3;
const INITS_PER_BROKER: usize = 4;
/// Kafka's block size (`PRODUCER_ID_BLOCK_SIZE`).
const BLOCK_SIZE: i64 = 1000;

fn init_producer_id(conn: &mut KafkaConnection) -> i64 {
    let version = conn.version_for::<InitProducerIdRequest>(0, 4);
    let mut request = InitProducerIdRequest::default();
    request.transactional_id = None;
    request.transaction_timeout_ms = 60_000;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    let response = conn.request(version, &request);
    assert_eq!(response.error_code, error_code::NONE, "InitProducerId");
    assert_eq!(response.producer_epoch, 0);
    assert!(response.producer_id.0 >= 0);
    response.producer_id.0
}

fn ids_from(cluster: &Cluster, index: usize) -> Vec<i64> {
    let mut conn = cluster.brokers[index].connect();
    (0..INITS_PER_BROKER)
        .map(|_| init_producer_id(&mut conn))
        .collect()
}

#[test]
fn producer_ids_are_unique_across_brokers_and_restarts() {
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let mut seen = BTreeSet::new();
    let mut blocks = BTreeSet::new();
    for index in 0..BROKERS {
        let ids = ids_from(&cluster, index);
        let block = ids[0] / BLOCK_SIZE;
        for id in &ids {
            assert!(seen.insert(*id), "producer id {id} handed out twice");
            assert_eq!(
                id / BLOCK_SIZE,
                block,
                "one broker's first ids share its block"
            );
        }
        assert!(blocks.insert(block), "block {block} given to two brokers");
    }
    let highest = *seen.last().expect("ids were handed out");

    cluster.brokers[1].restart();
    let after = ids_from(&cluster, 1);
    for id in &after {
        assert!(
            *id / BLOCK_SIZE > highest / BLOCK_SIZE,
            "after a restart, id {id} comes from an old block (highest before: {highest})"
        );
        assert!(seen.insert(*id), "producer id {id} handed out twice");
    }
    for broker in &mut cluster.brokers {
        broker.assert_alive();
    }
}

//! Three brokers; `__transaction_state` and the data topic have replication factor 3. A
//! confluent-kafka producer commits a transaction; the broker coordinating its transactional
//! id (the leader of the id's `__transaction_state` partition) is killed with -9. A new
//! instance of the producer finds the new coordinator (an in-sync follower that took over the
//! partition and loaded its state), is fenced in above the old epoch, and commits again.
//! read_committed consumers see both transactions' records, each exactly once, and the new
//! coordinator describes the id as CompleteCommit with the bumped epoch.

mod common;

use std::time::Duration;

use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::kafka::create_replicated_topic;
use common::replicas::{replication_toml, REPLICATION_FACTOR};
use common::transactions::{numbered, run, values};
use common::wait::wait_until;

const BROKERS: usize = 3;
const TOPIC: &str = "transfers";
const PARTITIONS: i32 = 3;
const TXN_ID: &str = "failover-producer";
const RECORDS: usize = 30;
const REPLICA_LAG_MS: u64 = 3_000;
const COORDINATOR_TIMEOUT: Duration = Duration::from_secs(60);

fn find_coordinator(cluster: &Cluster, index: usize) -> Option<i32> {
    let mut conn = cluster.brokers[index].connect();
    let request = FindCoordinatorRequest::default()
        .with_key_type(1)
        .with_key(StrBytes::from_static_str(TXN_ID));
    let response: FindCoordinatorResponse = conn.request(3, &request);
    (response.error_code == 0).then_some(response.node_id.0)
}

fn describe(cluster: &Cluster, index: usize) -> Option<(String, i16)> {
    let mut conn = cluster.brokers[index].connect();
    let request = DescribeTransactionsRequest::default()
        .with_transactional_ids(vec![TransactionalId(StrBytes::from_static_str(TXN_ID))]);
    let response: DescribeTransactionsResponse = conn.request(0, &request);
    let state = response.transaction_states.first()?;
    (state.error_code == 0).then(|| (state.transaction_state.to_string(), state.producer_epoch))
}

#[test]
fn the_transaction_coordinator_moves_with_its_partition_leader() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let config = format!(
        "{}\"transaction.state.log.num.partitions\" = 5\n\
         \"transaction.state.log.replication.factor\" = {REPLICATION_FACTOR}\n",
        replication_toml(REPLICA_LAG_MS)
    );
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default().config(&config));
    let mut conn = cluster.brokers[0].connect();
    create_replicated_topic(&mut conn, TOPIC, PARTITIONS, REPLICATION_FACTOR, &[]);
    cluster.wait_for_leaders(0, TOPIC, PARTITIONS as usize);
    let partitions = PARTITIONS.to_string();
    let bootstrap = cluster.bootstrap();
    let fail = |why: &str| panic!("{why}");
    run(
        &python,
        &bootstrap,
        TOPIC,
        "session",
        &[TXN_ID, "before", &partitions],
        fail,
    );
    let old = find_coordinator(&cluster, 0).expect("a coordinator for the id");
    let (state, old_epoch) = wait_until(
        "the first transaction to complete",
        COORDINATOR_TIMEOUT,
        || describe(&cluster, cluster.index_of(old)).filter(|(state, _)| state == "CompleteCommit"),
    );
    assert_eq!(state, "CompleteCommit");
    let killed = cluster.index_of(old);
    cluster.brokers[killed].kill9();
    let survivor = (killed + 1) % BROKERS;
    let new = wait_until(
        "another broker to coordinate the id",
        COORDINATOR_TIMEOUT,
        || find_coordinator(&cluster, survivor).filter(|&node| node != old),
    );
    run(
        &python,
        &bootstrap,
        TOPIC,
        "session",
        &[TXN_ID, "after", &partitions],
        fail,
    );
    let (state, new_epoch) = wait_until(
        "the second transaction to complete",
        COORDINATOR_TIMEOUT,
        || describe(&cluster, cluster.index_of(new)).filter(|(state, _)| state == "CompleteCommit"),
    );
    assert_eq!(state, "CompleteCommit");
    assert!(
        new_epoch > old_epoch,
        "the new instance is fenced in above the old: {old_epoch} -> {new_epoch}"
    );
    let answer = run(
        &python,
        &bootstrap,
        TOPIC,
        "read",
        &[&partitions, "read_committed"],
        fail,
    );
    let mut seen = values(&answer, "values");
    seen.sort();
    let mut expected = numbered("before", RECORDS);
    expected.extend(numbered("after", RECORDS));
    expected.sort();
    assert_eq!(seen, expected, "each committed record exactly once");
}

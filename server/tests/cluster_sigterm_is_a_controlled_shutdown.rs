//! SIGTERM to a broker of three is a controlled shutdown: before it exits, the controller moves
//! its leaderships away (with one replica per partition: marks them offline), so the cluster
//! knows at once instead of after the 9 s session timeout. The broker exits cleanly, and a
//! restart leads its partitions again.

mod common;

use std::time::{Duration, Instant};

use common::broker::BrokerOptions;
use common::cluster::Cluster;
use common::kafka::create_topic;
use common::wait::wait_until;

const BROKERS: usize = 3;
const PARTITIONS: i32 = 6;
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `broker.session.timeout.ms`: without a controlled shutdown, the cluster would
/// learn of the stop only this long after it.
const SESSION_TIMEOUT: Duration = Duration::from_secs(9);
/// A committed change reaches a follower with the leader's next append or heartbeat (200 ms).
const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(2);

#[test]
fn sigterm_moves_leaderships_before_the_broker_stops() {
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let mut conn = cluster.brokers[0].connect();
    create_topic(&mut conn, "graceful", PARTITIONS);
    let leaders = cluster.wait_for_leaders(0, "graceful", PARTITIONS as usize);
    let controller = cluster.metadata(0, &[]).controller_id.0;
    let victim_node = *leaders
        .iter()
        .find(|l| **l != controller)
        .expect("a leader that is not the controller");
    let victim = cluster
        .node_ids
        .iter()
        .position(|id| *id == victim_node)
        .expect("a node");
    let survivor = (0..BROKERS).find(|i| *i != victim).expect("a survivor");
    let led: Vec<usize> = (0..PARTITIONS as usize)
        .filter(|p| leaders[*p] == victim_node)
        .collect();

    let stopping = Instant::now();
    let status = cluster.brokers[victim].terminate(EXIT_TIMEOUT);
    assert!(status.success(), "the broker exited with {status}");
    // Committed before it exits: the survivor applies it within a Raft heartbeat or two, with
    // no session timeout to wait out.
    wait_until(
        "the survivor to see the partitions offline",
        PROPAGATION_TIMEOUT,
        || {
            let meta = cluster.metadata(survivor, &["graceful"]);
            let partitions = &meta.topics.first()?.partitions;
            led.iter()
                .all(|p| partitions[*p].leader_id.0 == -1)
                .then_some(())
        },
    );
    assert!(
        stopping.elapsed() < SESSION_TIMEOUT,
        "the controlled shutdown took {:?}",
        stopping.elapsed()
    );

    cluster.brokers[victim].respawn();
    cluster.brokers[victim].wait_started();
    wait_until(
        "the restarted broker to lead its partitions again",
        METADATA_TIMEOUT,
        || {
            let meta = cluster.metadata(survivor, &["graceful"]);
            let partitions = &meta.topics.first()?.partitions;
            led.iter()
                .all(|p| partitions[*p].leader_id.0 == victim_node)
                .then_some(())
        },
    );
}

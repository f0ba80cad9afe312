//! Unclean leader election (`unclean.leader.election.enable`) and the leader recovery state
//! (KIP-704): an offline partition whose ISR has no active member elects an out-of-sync
//! replica only where allowed, alone in the ISR and `Recovering` until its leader says so.

use super::*;
use crate::controller::election::UNCLEAN_LEADER_ELECTION_ENABLE;
use crate::records::{LeaderRecoveryState, NO_LEADER};

/// Brokers 1..=3, topic "t" on [1, 2, 3] whose ISR is [1] alone, then broker 1 fenced: the
/// partition is offline, with 2 and 3 active but out of sync.
fn offline(cluster: &mut Cluster) {
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.alter_isr("t", 0, &[1]);
    cluster.fence_by_silence(1);
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    assert_eq!(
        cluster.isr("t", 0),
        vec![1],
        "KRaft keeps the last ISR member"
    );
}

fn set_topic_config(cluster: &mut Cluster, value: &str) {
    let configs = BTreeMap::from([(
        UNCLEAN_LEADER_ELECTION_ENABLE.to_string(),
        value.to_string(),
    )]);
    let batch = cluster
        .controller
        .set_topic_configs(&cluster.image, "t", configs, false)
        .unwrap();
    cluster.commit(batch);
}

#[test]
fn without_the_config_an_offline_partition_waits_for_its_isr() {
    let mut cluster = Cluster::with_brokers(3);
    offline(&mut cluster);
    for _ in 0..3 {
        cluster.heartbeat(2);
        cluster.heartbeat(3);
        cluster.tick();
    }
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    set_topic_config(&mut cluster, "false");
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
}

#[test]
fn switching_the_topic_config_on_elects_the_first_active_replica_recovering() {
    let mut cluster = Cluster::with_brokers(3);
    offline(&mut cluster);
    let before = cluster.partition("t", 0);
    set_topic_config(&mut cluster, "true");
    cluster.tick();
    let after = cluster.partition("t", 0);
    assert_eq!(after.leader, 2, "the first active replica in replica order");
    assert_eq!(after.isr, vec![2]);
    assert_eq!(after.leader_recovery_state, LeaderRecoveryState::Recovering);
    assert_eq!(after.leader_epoch, before.leader_epoch + 1);
    assert_eq!(after.partition_epoch, before.partition_epoch + 1);
}

#[test]
fn the_broker_default_allows_it_and_a_topic_override_forbids_it() {
    let mut config = config();
    config.unclean_leader_election_enable = true;
    let mut cluster = Cluster::with_config(config, 1);
    for broker_id in 1..=3 {
        cluster.start_broker(broker_id);
    }
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    set_topic_config(&mut cluster, "false");
    cluster.alter_isr("t", 0, &[1]);
    cluster.fence_by_silence(1);
    assert_eq!(cluster.leader("t", 0), NO_LEADER, "the topic override wins");
    set_topic_config(&mut cluster, "");
    let batch = cluster
        .controller
        .set_topic_configs(&cluster.image, "t", BTreeMap::new(), false)
        .unwrap();
    cluster.commit(batch);
    cluster.tick();
    assert_eq!(
        cluster.leader("t", 0),
        2,
        "the broker default applies again"
    );
    assert_eq!(
        cluster.partition("t", 0).leader_recovery_state,
        LeaderRecoveryState::Recovering
    );
}

#[test]
fn a_clean_candidate_is_always_preferred() {
    let mut config = config();
    config.unclean_leader_election_enable = true;
    let mut cluster = Cluster::with_config(config, 1);
    for broker_id in 1..=3 {
        cluster.start_broker(broker_id);
    }
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.alter_isr("t", 0, &[1, 3]);
    cluster.fence_by_silence(1);
    let partition = cluster.partition("t", 0);
    assert_eq!(
        partition.leader, 3,
        "an in-sync replica, not the first active one"
    );
    assert_eq!(
        partition.leader_recovery_state,
        LeaderRecoveryState::Recovered
    );
}

#[test]
fn a_recovering_leader_keeps_its_isr_alone_until_it_says_it_recovered() {
    let mut cluster = Cluster::with_brokers(3);
    offline(&mut cluster);
    set_topic_config(&mut cluster, "true");
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), 2);
    let mut grow_while_recovering = cluster.alter_request("t", 0, &[2, 3]);
    grow_while_recovering.leader_recovered = false;
    let refused = cluster.try_alter(grow_while_recovering).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidRequest);

    let mut still_recovering = cluster.alter_request("t", 0, &[2]);
    still_recovering.leader_recovered = false;
    let (batch, _) = cluster.try_alter(still_recovering).unwrap();
    assert!(batch.records.is_empty(), "nothing changes");

    let recovered = cluster.alter_request("t", 0, &[2]);
    let (_, reply) = cluster.try_alter(recovered).unwrap();
    let partition = cluster.partition("t", 0);
    assert_eq!(
        partition.leader_recovery_state,
        LeaderRecoveryState::Recovered
    );
    assert_eq!(reply.partition_epoch, partition.partition_epoch);
    assert_eq!(
        reply.leader_epoch, partition.leader_epoch,
        "no new leader epoch"
    );

    let mut back = cluster.alter_request("t", 0, &[2]);
    back.leader_recovered = false;
    let refused = cluster.try_alter(back).unwrap_err();
    assert_eq!(
        refused.kind,
        ErrorKind::InvalidRequest,
        "never back to recovering"
    );
    cluster.alter_isr("t", 0, &[2, 3]);
    assert_eq!(cluster.isr("t", 0), vec![2, 3]);
}

#[test]
fn no_active_replica_means_no_election_even_unclean() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.alter_isr("t", 0, &[1]);
    set_topic_config(&mut cluster, "true");
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(3);
    cluster.tick();
    assert!(cluster.is_fenced(1) && cluster.is_fenced(2));
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    cluster.start_broker(2);
    assert_eq!(
        cluster.leader("t", 0),
        2,
        "elected as soon as it is unfenced"
    );
    assert_eq!(cluster.isr("t", 0), vec![2]);
}

#[test]
fn the_cluster_wide_dynamic_default_counts_too() {
    let mut cluster = Cluster::with_brokers(3);
    offline(&mut cluster);
    let default = crate::records::MetadataRecord::Config {
        resource: crate::records::ConfigResource::Broker,
        resource_name: String::new(),
        name: UNCLEAN_LEADER_ELECTION_ENABLE.into(),
        value: Some("true".into()),
    };
    cluster.commit(RecordBatch {
        records: vec![default],
    });
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), 2);
    assert_eq!(cluster.isr("t", 0), vec![2]);
}

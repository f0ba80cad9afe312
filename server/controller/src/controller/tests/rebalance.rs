//! Auto leader rebalance: every `leader.imbalance.check.interval.seconds`, leaderships move
//! back to the preferred (first) replica where it is active and in the ISR.

use super::*;

/// Brokers 1 and 2, topic "t" on [1, 2]; broker 1 was fenced and came back, and the leader
/// (2) took it back into the ISR: 2 still leads, 1 is preferred.
fn imbalanced(config: ControllerConfig) -> Cluster {
    let mut cluster = Cluster::with_config(config, 1);
    cluster.start_broker(1);
    cluster.start_broker(2);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.fence_by_silence(1);
    cluster.start_broker(1);
    assert_eq!(cluster.leader("t", 0), 2, "1 is not in the ISR yet");
    cluster.alter_isr("t", 0, &[2, 1]);
    assert_eq!(cluster.leader("t", 0), 2);
    cluster
}

fn interval_config(interval_ms: u64) -> ControllerConfig {
    let mut config = config();
    config.leader_imbalance_check_interval_ms = interval_ms;
    config
}

#[test]
fn the_preferred_replica_leads_again_at_the_next_check() {
    let mut cluster = imbalanced(interval_config(60_000));
    // The controller was activated at 0 and the setup took SESSION_TIMEOUT_MS + 1.
    cluster.heartbeat(1);
    cluster.heartbeat(2);
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), 2, "not before the interval is up");
    cluster.advance(60_000 - cluster.now_ms);
    cluster.heartbeat(1);
    cluster.heartbeat(2);
    let before = cluster.partition("t", 0);
    cluster.tick();
    let after = cluster.partition("t", 0);
    assert_eq!(after.leader, 1);
    assert_eq!(after.isr, before.isr, "a leader change, not an ISR change");
    assert_eq!(after.leader_epoch, before.leader_epoch + 1);
}

#[test]
fn without_the_config_leaderships_stay() {
    let mut config = interval_config(1_000);
    config.auto_leader_rebalance_enable = false;
    let mut cluster = imbalanced(config);
    for _ in 0..5 {
        cluster.advance(1_000);
        cluster.heartbeat(1);
        cluster.heartbeat(2);
        cluster.tick();
    }
    assert_eq!(cluster.leader("t", 0), 2);
}

#[test]
fn a_preferred_replica_out_of_the_isr_does_not_lead() {
    let mut cluster = Cluster::with_config(interval_config(1_000), 1);
    cluster.start_broker(1);
    cluster.start_broker(2);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.fence_by_silence(1);
    cluster.start_broker(1);
    for _ in 0..3 {
        cluster.advance(1_000);
        cluster.heartbeat(1);
        cluster.heartbeat(2);
        cluster.tick();
    }
    assert_eq!(
        cluster.leader("t", 0),
        2,
        "1 has not caught up: not in the ISR"
    );
}

#[test]
fn one_pass_moves_at_most_its_limit() {
    use crate::controller::batch::BatchBuilder;
    use crate::controller::rebalance::rebalance_leaders;

    let mut cluster = Cluster::with_config(interval_config(1_000), 1);
    cluster.start_broker(1);
    cluster.start_broker(2);
    cluster.create_assigned("t", &[&[1, 2], &[1, 2], &[1, 2]]);
    cluster.fence_by_silence(1);
    cluster.start_broker(1);
    for partition in 0..3 {
        cluster.alter_isr("t", partition, &[2, 1]);
    }
    let mut batch = BatchBuilder::new(&cluster.image);
    assert_eq!(rebalance_leaders(&mut batch, 2), 2);
    cluster.commit(batch.finish());
    let leaders: Vec<i32> = (0..3).map(|p| cluster.leader("t", p)).collect();
    assert_eq!(leaders, vec![1, 1, 2], "the first two in partition order");
}

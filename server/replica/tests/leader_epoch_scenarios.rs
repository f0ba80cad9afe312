//! The acceptance scenarios of KIP-101 and KIP-279, scripted step by step against the
//! leader-epoch rules of `sluice-replica` (and, for contrast, against the high-watermark rule
//! KIP-101 replaced), plus an unclean election. `scripted/mod.rs` holds the replica model.

#![allow(clippy::unwrap_used)]

mod scripted;

use scripted::{Replica, Round};
use sluice_replica::{AcksAllState, Assignment, LeaderState};

const LAG_MS: u64 = 10_000;

fn assignment(replicas: &[i32], isr: &[i32], leader: i32, leader_epoch: i32) -> Assignment {
    Assignment {
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
        leader,
        leader_epoch,
        partition_epoch: 0,
    }
}

/// One fetch of `follower` (broker `id`) from `leader`, the way the broker serves it: the
/// divergence check first; otherwise the leader records the durable end the follower fetched
/// at, advances its high watermark with its own durable end, and the follower copies the data
/// with that high watermark and syncs.
fn replicate(state: &mut LeaderState, leader: &Replica, follower: &mut Replica, id: i32) -> Round {
    if !follower.diverges_from(leader) {
        let fetch_offset = follower.durable_end;
        state
            .on_follower_fetch(id, fetch_offset, leader.end(), 0)
            .unwrap();
        state.advance_high_watermark(leader.durable_end);
    }
    let round = follower.fetch(leader, state.high_watermark());
    follower.sync();
    round
}

/// KIP-101 scenario 1 up to the follower's restart: A leads epoch 0 over {A, B} and both have
/// m1 and m2 durably; B's last fetch moved A's high watermark to 2 (m2 is acknowledged), but
/// B crashed before the answer came, so B's own high watermark is still 1.
fn scenario_1_until_the_follower_restarts() -> (Replica, Replica) {
    let (mut a, mut b) = (Replica::default(), Replica::default());
    a.elect(0);
    let mut state = LeaderState::new(1, assignment(&[1, 2], &[1, 2], 1, 0), 1, LAG_MS, 0, 0, 0);
    a.write(0, &["m1"]);
    a.sync();
    assert_eq!(replicate(&mut state, &a, &mut b, 2), Round::Copied(1));
    a.write(0, &["m2"]);
    a.sync();
    assert_eq!(replicate(&mut state, &a, &mut b, 2), Round::Copied(1));
    assert_eq!(b.high_watermark, 1);
    // B's next fetch reaches A, whose high watermark moves to 2; the answer never reaches B.
    state
        .on_follower_fetch(2, b.durable_end, a.end(), 0)
        .unwrap();
    assert_eq!(state.advance_high_watermark(a.durable_end), Some(2));
    assert_eq!(
        state.acks_all_state(1),
        AcksAllState::Replicated,
        "m2 is acknowledged"
    );
    b.crash();
    (a, b)
}

#[test]
fn kip_101_scenario_1_a_restarted_follower_keeps_an_acknowledged_message() {
    // Before KIP-101: B truncates to its high watermark on restart, A dies before B fetches
    // again, and B, elected from the ISR, has lost m2.
    let (_, mut b_old) = scenario_1_until_the_follower_restarts();
    b_old.restart_truncating_to_high_watermark();
    assert_eq!(
        b_old.messages(),
        ["m1"],
        "the high-watermark rule loses acknowledged m2"
    );

    // With leader epochs a restart truncates nothing by itself: if A dies now, B leads with m2.
    let (a, mut b) = scenario_1_until_the_follower_restarts();
    let mut b_alone = b.clone();
    b_alone.elect(1);
    assert_eq!(b_alone.messages(), ["m1", "m2"]);
    // And if A is still there, B asks it where epoch 0 ends: nothing diverged, m2 stays.
    assert_eq!(b.catch_up(&a, 2), [Round::Copied(0)]);
    assert_eq!(b.messages(), ["m1", "m2"]);
}

/// KIP-101 scenario 2 up to the power failure's restarts: A leads epoch 0 and made m1, m2
/// durable (m3 not); B copied m1 and m2 but made only m1 durable. Before KIP-101 the high
/// watermark counted B's log end, not what B had made durable: A's was 2.
fn scenario_2_after_the_power_failure() -> (Replica, Replica) {
    let (mut a, mut b) = (Replica::default(), Replica::default());
    a.elect(0);
    a.write(0, &["m1"]);
    a.sync();
    assert_eq!(b.catch_up(&a, 0), [Round::Copied(1), Round::Copied(0)]);
    a.write(0, &["m2"]);
    a.sync();
    assert_eq!(b.fetch(&a, 1), Round::Copied(1));
    a.write(0, &["m3"]);
    a.high_watermark = 2;
    // Power failure: both lose what they had not made durable.
    a.crash();
    b.crash();
    assert_eq!(a.messages(), ["m1", "m2"]);
    assert_eq!(b.messages(), ["m1"]);
    // B comes back first and is elected; it takes m4 at offset 1.
    b.elect(1);
    b.write(1, &["m4"]);
    b.sync();
    (a, b)
}

#[test]
fn kip_101_scenario_2_replicas_that_both_lost_data_do_not_diverge() {
    // Before KIP-101: A truncates to its high watermark (2: nothing goes) and copies from its
    // end, which is B's end too. Offset 1 now holds m2 on A and m4 on B, for good.
    let (mut a_old, b) = scenario_2_after_the_power_failure();
    a_old.restart_truncating_to_high_watermark();
    assert_eq!(a_old.fetch_without_epochs(&b, 1), Round::Copied(0));
    assert_eq!(a_old.message_at(1), Some("m2"));
    assert_eq!(b.message_at(1), Some("m4"));

    // With leader epochs A asks where epoch 0 ends on B (offset 1), truncates m2 there and
    // copies m4: the logs are the same.
    let (mut a, b) = scenario_2_after_the_power_failure();
    let rounds = a.catch_up(&b, 1);
    let truncated = Round::Truncated {
        offset: 1,
        settled: true,
    };
    assert_eq!(rounds, [truncated, Round::Copied(1), Round::Copied(0)]);
    assert_eq!(a.entries, b.entries);
    assert_eq!(a.epochs, b.epochs);
}

#[test]
fn kip_279_a_follower_truncates_over_two_rounds_after_fast_leader_changes() {
    let (mut n1, mut n2, mut n3) = (Replica::default(), Replica::default(), Replica::default());
    // Epoch 0, leader 3: m0..m2 reach everyone (the high watermark is 3); m3 reaches 2 only.
    n3.elect(0);
    n3.write(0, &["m0", "m1", "m2"]);
    n3.sync();
    n1.catch_up(&n3, 3);
    n2.catch_up(&n3, 3);
    n3.write(0, &["m3"]);
    n3.sync();
    n2.catch_up(&n3, 3);
    // Epoch 1, leader 1 (from its end, 3): writes a0..a5, which nobody copies.
    n1.elect(1);
    n1.write(1, &["a0", "a1", "a2", "a3", "a4", "a5"]);
    n1.sync();
    // Epoch 2, leader 2 (from its end, 4): writes b0..b2, which 3 copies.
    n2.elect(2);
    n2.write(2, &["b0", "b1", "b2"]);
    n2.sync();
    assert_eq!(n3.catch_up(&n2, 3), [Round::Copied(3), Round::Copied(0)]);
    // Epoch 3, leader 1 again (from 9): it never had epoch 2.
    n1.elect(3);
    n1.write(3, &["c0"]);
    n1.sync();
    assert_eq!(n1.epochs, [(0, 0), (1, 3), (3, 9)]);
    assert_eq!(n3.epochs, [(0, 0), (2, 4)]);

    for follower in [&mut n2, &mut n3] {
        // Round 1: 1 answers its epoch 1, ending at 9, past the follower's end (7): only the
        // epoch tells that 4..7 diverged (KIP-101 alone kept them). The follower lacks epoch 1:
        // it cuts its epoch 2 (at 4) and asks again. Round 2: 1's epoch 0 ends at 3, before
        // the follower's: m3 goes. Then it copies a0..a5 and c0.
        let rounds = follower.catch_up(&n1, 3);
        let expected = [
            Round::Truncated {
                offset: 4,
                settled: false,
            },
            Round::Truncated {
                offset: 3,
                settled: true,
            },
            Round::Copied(7),
            Round::Copied(0),
        ];
        assert_eq!(rounds, expected);
        assert_eq!(follower.entries, n1.entries);
        assert_eq!(follower.epochs, n1.epochs);
        assert_eq!(
            follower.messages()[..3],
            ["m0", "m1", "m2"],
            "the committed prefix stays"
        );
    }
}

#[test]
fn an_unclean_election_converges_on_the_new_leader_whose_offsets_never_go_back() {
    let (mut n1, mut n2, mut n3) = (Replica::default(), Replica::default(), Replica::default());
    // Epoch 0, leader 1 over ISR {1, 2}: m0..m5 everywhere but on 3, which fell out after m1.
    n1.elect(0);
    n1.write(0, &["m0", "m1"]);
    n1.sync();
    n3.catch_up(&n1, 2);
    n1.write(0, &["m2", "m3", "m4", "m5"]);
    n1.sync();
    n2.catch_up(&n1, 6);
    // 1 and 2 are gone; 3 is made leader uncleanly (epoch 1, from its end 2).
    n3.elect(1);
    let replicas = [1, 2, 3];
    let mut state = LeaderState::new(
        3,
        assignment(&replicas, &[3], 3, 1),
        1,
        LAG_MS,
        n3.high_watermark,
        n3.end(),
        0,
    );
    n3.write(1, &["n0", "n1"]);
    n3.sync();
    let leader_before = n3.entries.clone();
    let mut high_watermarks = vec![state.high_watermark()];
    for (id, follower) in [(1, &mut n1), (2, &mut n2)] {
        // The first fetch diverges at epoch 0's end on 3 (offset 2); then it copies n0, n1.
        let mut rounds = Vec::new();
        loop {
            let round = replicate(&mut state, &n3, follower, id);
            high_watermarks.push(state.high_watermark());
            rounds.push(round);
            if round == Round::Copied(0) {
                break;
            }
        }
        let truncated = Round::Truncated {
            offset: 2,
            settled: true,
        };
        assert_eq!(rounds, [truncated, Round::Copied(2), Round::Copied(0)]);
        assert_eq!(
            follower.entries, n3.entries,
            "follower {id} converged on the new leader"
        );
    }
    assert_eq!(
        n3.entries, leader_before,
        "the new leader's log never went back"
    );
    assert!(
        high_watermarks.is_sorted(),
        "nor did its high watermark: {high_watermarks:?}"
    );
    assert_eq!(state.high_watermark(), 4);
    // The price of an unclean election: the acknowledged m2..m5 are gone.
    assert_eq!(n1.messages(), ["m0", "m1", "n0", "n1"]);
}

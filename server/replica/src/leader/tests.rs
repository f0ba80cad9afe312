//! In the spirit of Kafka's PartitionTest: the high watermark, ISR shrink and expansion, and
//! min.insync.replicas, driven with a manual clock.

#![allow(clippy::unwrap_used)]
use super::*;

const LAG_MS: u64 = 10_000;

fn assignment(isr: &[i32], partition_epoch: i32) -> Assignment {
    Assignment {
        replicas: vec![1, 2, 3],
        isr: isr.to_vec(),
        leader: 1,
        leader_epoch: 5,
        partition_epoch,
    }
}

fn leader(isr: &[i32], min_insync: usize) -> LeaderState {
    LeaderState::new(1, assignment(isr, 0), min_insync, LAG_MS, 0, 0, 0)
}

#[test]
fn the_high_watermark_is_the_minimum_durable_end_over_the_isr() {
    let mut state = leader(&[1, 2, 3], 2);
    state.on_follower_fetch(2, 10, 20, 1).unwrap();
    assert_eq!(state.advance_high_watermark(20), None, "3 never fetched");
    state.on_follower_fetch(3, 15, 20, 2).unwrap();
    assert_eq!(state.advance_high_watermark(20), Some(10));
    state.on_follower_fetch(2, 20, 20, 3).unwrap();
    assert_eq!(
        state.advance_high_watermark(12),
        Some(12),
        "the leader's own durable end"
    );
    assert_eq!(state.advance_high_watermark(20), Some(15));
}

#[test]
fn the_high_watermark_never_goes_back() {
    let mut state = leader(&[1, 2], 1);
    state.on_follower_fetch(2, 10, 10, 1).unwrap();
    assert_eq!(state.advance_high_watermark(10), Some(10));
    // A follower that truncated (a new incarnation) reports less.
    state.on_follower_fetch(2, 4, 10, 2).unwrap();
    assert_eq!(state.advance_high_watermark(10), None);
    assert_eq!(state.high_watermark(), 10);
}

#[test]
fn the_high_watermark_does_not_advance_while_the_isr_is_below_min_insync() {
    let mut state = leader(&[1], 2);
    assert_eq!(state.advance_high_watermark(10), None);
    assert!(!state.has_enough_replicas());
    assert_eq!(
        state.acks_all_state(3),
        AcksAllState::NotEnoughReplicasAfterAppend
    );
}

#[test]
fn acks_all_waits_for_the_isr_then_succeeds() {
    let mut state = leader(&[1, 2], 2);
    assert_eq!(state.acks_all_state(9), AcksAllState::Waiting);
    state.on_follower_fetch(2, 10, 10, 1).unwrap();
    state.advance_high_watermark(10);
    assert_eq!(state.acks_all_state(9), AcksAllState::Replicated);
    assert_eq!(state.acks_all_state(10), AcksAllState::Waiting);
}

#[test]
fn a_follower_joins_only_once_caught_up_to_the_epoch_start() {
    // Elected with log end 50: the epoch starts there.
    let mut state = LeaderState::new(1, assignment(&[1, 2], 0), 1, LAG_MS, 40, 50, 0);
    state.on_follower_fetch(2, 50, 60, 1).unwrap();
    state.advance_high_watermark(60);
    assert_eq!(state.high_watermark(), 50);
    state.on_follower_fetch(3, 45, 60, 2).unwrap();
    assert_eq!(
        state.isr_change(2),
        None,
        "3 is past nothing: below the epoch start"
    );
    state.on_follower_fetch(3, 50, 60, 3).unwrap();
    assert_eq!(state.isr_change(3), Some(vec![1, 2, 3]));
}

#[test]
fn a_follower_that_stops_catching_up_leaves_after_the_lag_time() {
    let mut state = leader(&[1, 2, 3], 1);
    state.on_follower_fetch(2, 0, 0, 0).unwrap();
    state.on_follower_fetch(3, 0, 0, 0).unwrap();
    // 2 keeps up; 3 keeps fetching but never reaches the leader's end.
    for t in 1..=12u64 {
        let end = t as i64 * 100;
        state.on_follower_fetch(2, end, end, t * 1_000).unwrap();
        state.on_follower_fetch(3, 1, end, t * 1_000).unwrap();
    }
    assert_eq!(state.isr_change(10_000), None);
    assert_eq!(state.isr_change(12_000), Some(vec![1, 2]));
}

#[test]
fn a_follower_behind_the_end_but_past_its_previous_fetch_is_caught_up() {
    let mut state = leader(&[1, 2], 1);
    state.on_follower_fetch(2, 0, 100, 1_000).unwrap();
    // Under steady load it always trails the end, but reaches where the end was before.
    for t in 2..=30u64 {
        let end = t as i64 * 100;
        state
            .on_follower_fetch(2, end - 100, end, t * 1_000)
            .unwrap();
    }
    assert_eq!(state.isr_change(30_000), None);
}

#[test]
fn one_proposal_at_a_time_and_a_proposed_member_counts_for_the_high_watermark() {
    let mut state = leader(&[1], 1);
    state.on_follower_fetch(2, 10, 10, 1).unwrap();
    state.advance_high_watermark(10);
    state.on_follower_fetch(2, 10, 20, 2).unwrap();
    let proposed = state.isr_change(2).expect("2 caught up");
    state.set_pending_isr(proposed);
    assert_eq!(state.isr_change(3), None);
    assert_eq!(state.maximal_isr(), vec![1, 2]);
    // The leader has 20 durable; 2 has 10: the maximal ISR holds the high watermark at 10.
    assert_eq!(state.advance_high_watermark(20), None);
    state.update_assignment(assignment(&[1, 2], 1), 1, LAG_MS, 3);
    assert!(!state.has_pending_isr());
}

#[test]
fn a_stranger_cannot_fetch_as_a_replica() {
    let mut state = leader(&[1, 2, 3], 1);
    assert_eq!(
        state.on_follower_fetch(9, 0, 0, 0),
        Err(FollowerRefusal::NotAReplica)
    );
}

#[test]
fn an_unanswered_expansion_holds_the_high_watermark_until_the_metadata_answers() {
    // Found by the replication simulation: a leader that cleared an expansion whose answer
    // was lost advanced its high watermark past the end of the member the controller had
    // added; that member was elected, and offsets below the old leader's high watermark
    // (readable by consumers) were truncated.
    let mut state = leader(&[1], 1);
    state.on_follower_fetch(2, 10, 10, 1).unwrap();
    state.advance_high_watermark(10);
    state.set_pending_isr(state.isr_change(1).expect("2 caught up"));
    // The answer is lost: the broker sends the same proposal again, which stays pending.
    assert_eq!(state.on_isr_answer(IsrAnswer::Lost), Some(vec![1, 2]));
    assert_eq!(state.pending_isr(), Some(&[1, 2][..]));
    assert_eq!(
        state.isr_change(2),
        None,
        "no second proposal while one is pending"
    );
    state.on_follower_fetch(2, 10, 30, 2).unwrap();
    assert_eq!(
        state.advance_high_watermark(30),
        None,
        "2 may be in the ISR: it holds the HW"
    );
    // The retry finds the partition epoch moved (INVALID_UPDATE_VERSION): still pending.
    assert_eq!(state.on_isr_answer(IsrAnswer::RefusedStale), None);
    assert_eq!(state.advance_high_watermark(30), None);
    // The metadata shows the change; 2 counts as a member now.
    state.update_assignment(assignment(&[1, 2], 1), 1, LAG_MS, 3);
    assert_eq!(state.pending_isr(), None);
    state.on_follower_fetch(2, 30, 30, 4).unwrap();
    assert_eq!(state.advance_high_watermark(30), Some(30));
}

#[test]
fn a_refusal_at_the_current_partition_epoch_clears_the_proposal() {
    let mut state = leader(&[1], 1);
    state.on_follower_fetch(2, 0, 0, 1).unwrap();
    state.set_pending_isr(state.isr_change(1).expect("2 caught up"));
    // INELIGIBLE_REPLICA: the ISR is unchanged, so the proposal can go.
    assert_eq!(state.on_isr_answer(IsrAnswer::RefusedUnchanged), None);
    assert_eq!(state.pending_isr(), None);
    assert_eq!(state.maximal_isr(), vec![1]);
    assert_eq!(state.isr_change(2), Some(vec![1, 2]));
}

#[test]
fn a_committed_proposal_stays_pending_until_the_metadata_shows_it() {
    let mut state = leader(&[1], 1);
    state.on_follower_fetch(2, 0, 0, 1).unwrap();
    state.set_pending_isr(state.isr_change(1).expect("2 caught up"));
    // The answer says committed, but the metadata has not arrived: 2 still counts.
    assert_eq!(state.on_isr_answer(IsrAnswer::Committed), None);
    assert_eq!(state.maximal_isr(), vec![1, 2]);
    state.update_assignment(assignment(&[1, 2], 1), 1, LAG_MS, 2);
    assert!(!state.has_pending_isr());
}

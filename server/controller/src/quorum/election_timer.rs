//! Election timeouts drawn from a seeded generator instead of raft-rs's thread RNG, so that a
//! simulation replays exactly from its seed.
//!
//! raft-rs 0.7 redraws `randomized_election_timeout` with `rand::thread_rng()` on every
//! `Raft::reset`, which `become_follower`, `become_candidate` and `become_leader` call. Each
//! such transition changes the term, the role or the known leader. So after every call into
//! raft-rs the quorum calls [`ElectionTimer::after_raft_call`]: if the (term, role, leader)
//! triple changed, or the timeout is not the one last drawn here, it draws a new timeout in
//! raft-rs's own range `[election_ticks, 2 * election_ticks)` and installs it with
//! `Raft::set_randomized_election_timeout`. raft-rs reads the timeout only on its next tick,
//! so its own draw is never used.

use raft::{Raft, StateRole, Storage};

/// A small, fast, seedable generator (SplitMix64): enough to spread election timeouts.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }

    /// Uniform enough in `[low, high)` for timeouts (`high - low` is tiny next to 2^64).
    pub fn below(&mut self, low: usize, high: usize) -> usize {
        assert!(low < high);
        low + (self.next_u64() % (high - low) as u64) as usize
    }
}

/// The seeded source of one node's election timeouts.
pub struct ElectionTimer {
    random: SplitMix64,
    timeout_ticks_min: usize,
    timeout_ticks_max: usize,
    /// (term, role, leader) when the timeout was last drawn.
    drawn_for: Option<(u64, StateRole, u64)>,
    timeout_ticks: usize,
}

impl ElectionTimer {
    /// Timeouts in `[timeout_ticks_min, timeout_ticks_max)`, which must be raft-rs's range.
    pub fn new(seed: u64, timeout_ticks_min: usize, timeout_ticks_max: usize) -> ElectionTimer {
        assert!(timeout_ticks_min < timeout_ticks_max);
        ElectionTimer {
            random: SplitMix64::new(seed),
            timeout_ticks_min,
            timeout_ticks_max,
            drawn_for: None,
            timeout_ticks: 0,
        }
    }

    /// Redraws the timeout if raft-rs reset its election timer during the last call.
    pub fn after_raft_call<T: Storage>(&mut self, raft: &mut Raft<T>) {
        let key = (raft.term, raft.state, raft.leader_id);
        if self.drawn_for == Some(key) && raft.randomized_election_timeout() == self.timeout_ticks {
            return;
        }
        self.timeout_ticks = self
            .random
            .below(self.timeout_ticks_min, self.timeout_ticks_max);
        raft.set_randomized_election_timeout(self.timeout_ticks);
        self.drawn_for = Some(key);
        assert_eq!(raft.randomized_election_timeout(), self.timeout_ticks);
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn same_seed_same_draws_within_bounds() {
        let mut first = SplitMix64::new(42);
        let mut second = SplitMix64::new(42);
        for _ in 0..1000 {
            let draw = first.below(10, 20);
            assert_eq!(draw, second.below(10, 20));
            assert!((10..20).contains(&draw));
        }
    }
}

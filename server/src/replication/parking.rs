//! The partitions of one replication stream that their leader refused for leadership or epoch,
//! each waiting to be asked for again. The leader is usually a few milliseconds behind on the
//! same metadata change, so the first wait is short (`REPLICA_METADATA_RETRY_FIRST_MS`); each
//! further refusal in a row doubles it, up to `replica.fetch.backoff.ms`. A park also ends
//! when this broker's metadata changes. While anything is parked, a round's long poll lasts
//! no longer than the earliest park.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::limits::REPLICA_METADATA_RETRY_FIRST_MS;

/// A partition: topic name and index.
pub(super) type Key = (String, i32);

pub(super) struct Parking {
    /// The longest wait (`replica.fetch.backoff.ms`).
    retry_max_ms: u64,
    /// Partition → the metadata version it was refused under, and until when it waits.
    parked: HashMap<Key, (u64, Instant)>,
    /// Partition → how many answers in a row refused it.
    refusals: HashMap<Key, u32>,
}

impl Parking {
    pub fn new(retry_max_ms: u64) -> Parking {
        Parking {
            retry_max_ms,
            parked: HashMap::new(),
            refusals: HashMap::new(),
        }
    }

    /// Ends the parks that are over, or were made under another metadata version.
    pub fn sweep(&mut self, version: u64, now: Instant) {
        self.parked
            .retain(|_, (at, until)| *at == version && *until > now);
    }

    pub fn is_parked(&self, key: &Key) -> bool {
        self.parked.contains_key(key)
    }

    /// Milliseconds until the earliest park ends (rounded up, so it is over by then).
    pub fn ends_ms(&self, now: Instant) -> Option<u64> {
        self.parked
            .values()
            .map(|(_, until)| until.saturating_duration_since(now).as_millis() as u64 + 1)
            .min()
    }

    /// How long a round's fetch may wait at the leader: `wait_max_ms`, but no longer than
    /// the earliest park.
    pub fn long_poll_ms(&self, wait_max_ms: u64, now: Instant) -> u64 {
        self.ends_ms(now)
            .map_or(wait_max_ms, |ms| ms.min(wait_max_ms))
    }

    /// The leader refused `key` (under metadata `version`): parks it for a wait that doubles
    /// with each refusal in a row.
    pub fn refuse(&mut self, key: Key, version: u64, now: Instant) {
        let refusals = self.refusals.entry(key.clone()).or_insert(0);
        *refusals = refusals.saturating_add(1);
        let wait_ms = retry_ms(*refusals, self.retry_max_ms);
        self.parked
            .insert(key, (version, now + Duration::from_millis(wait_ms)));
    }

    /// After an answer: a partition the round asked for (`asked`) and the answer did not
    /// refuse (an incremental answer leaves out partitions without news) counts afresh; one
    /// neither asked for nor parked is no longer followed and is forgotten.
    pub fn answered(&mut self, asked: impl Fn(&Key) -> bool, refused: &HashSet<Key>) {
        let parked = &self.parked;
        self.refusals
            .retain(|key, _| refused.contains(key) || (parked.contains_key(key) && !asked(key)));
    }
}

/// How long a partition refused `refusals` times in a row waits before it is asked again.
fn retry_ms(refusals: u32, retry_max_ms: u64) -> u64 {
    // 2^20 first waits is far past any sensible backoff: the cap only keeps the shift in range.
    let doublings = refusals.saturating_sub(1).min(20);
    REPLICA_METADATA_RETRY_FIRST_MS
        .saturating_mul(1u64 << doublings)
        .min(retry_max_ms)
}

#[cfg(test)]
#[path = "parking_tests.rs"]
mod tests;

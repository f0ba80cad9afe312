//! A replica for scripted scenarios: one record per batch, offsets dense from 0, the epoch
//! cache kept the way Kafka keeps it, and a fetch round done by hand, either with the leader-
//! epoch rules of `sluice-replica` (KIP-101, KIP-279) or with the rule they replaced (a
//! restarted follower truncates to its high watermark, then copies from its log end).

use sluice_replica::{diverging_epoch, truncation_offset, UNDEFINED_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub offset: i64,
    pub epoch: i32,
    pub message: &'static str,
}

/// What one fetch round did on the follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// The leader answered a diverging epoch; the follower truncated to `offset`. `settled` is
    /// false when the follower did not have the leader's epoch and must ask again.
    Truncated { offset: i64, settled: bool },
    /// The follower copied this many entries (perhaps none).
    Copied(usize),
}

#[derive(Debug, Clone, Default)]
pub struct Replica {
    pub entries: Vec<Entry>,
    /// (epoch, start offset), ascending.
    pub epochs: Vec<(i32, i64)>,
    pub durable_end: i64,
    pub high_watermark: i64,
}

impl Replica {
    pub fn end(&self) -> i64 {
        self.entries.len() as i64
    }

    pub fn messages(&self) -> Vec<&'static str> {
        self.entries.iter().map(|entry| entry.message).collect()
    }

    pub fn message_at(&self, offset: i64) -> Option<&'static str> {
        self.entries.get(offset as usize).map(|entry| entry.message)
    }

    fn last_epoch(&self) -> i32 {
        self.entries
            .last()
            .map_or(UNDEFINED_EPOCH, |entry| entry.epoch)
    }

    /// Elected leader of `epoch`: the epoch starts at the log end.
    pub fn elect(&mut self, epoch: i32) {
        assert!(self.epochs.last().is_none_or(|&(latest, _)| latest < epoch));
        let end = self.end();
        self.epochs.retain(|&(_, start)| start < end);
        self.epochs.push((epoch, end));
    }

    /// The leader of `epoch` appends `messages` (not yet durable).
    pub fn write(&mut self, epoch: i32, messages: &[&'static str]) {
        assert_eq!(self.epochs.last().map(|&(latest, _)| latest), Some(epoch));
        for &message in messages {
            let offset = self.end();
            self.entries.push(Entry {
                offset,
                epoch,
                message,
            });
        }
    }

    fn copy(&mut self, entry: Entry) {
        assert_eq!(entry.offset, self.end());
        assert!(entry.epoch >= self.last_epoch());
        if self.epochs.last().map(|&(latest, _)| latest) != Some(entry.epoch) {
            self.epochs.retain(|&(_, start)| start < entry.offset);
            self.epochs.push((entry.epoch, entry.offset));
        }
        self.entries.push(entry);
    }

    pub fn sync(&mut self) {
        self.durable_end = self.end();
    }

    /// A crash: the undurable tail is gone (the high watermark is what it checkpointed).
    pub fn crash(&mut self) {
        self.truncate_to(self.durable_end);
    }

    pub fn truncate_to(&mut self, offset: i64) {
        let offset = offset.min(self.end());
        self.entries.truncate(offset as usize);
        self.epochs.retain(|&(_, start)| start < offset);
        self.durable_end = self.durable_end.min(offset);
        self.high_watermark = self.high_watermark.min(offset);
    }

    /// One fetch round from `leader` (whose high watermark is `leader_high_watermark`) with
    /// the leader-epoch rules. The follower fetches from its durable end; what it copies is
    /// not durable until `sync`.
    pub fn fetch(&mut self, leader: &Replica, leader_high_watermark: i64) -> Round {
        assert_eq!(
            self.end(),
            self.durable_end,
            "a follower fetches what it made durable"
        );
        let fetch_offset = self.durable_end;
        let diverging = diverging_epoch(
            &leader.epochs,
            leader.end(),
            self.last_epoch(),
            fetch_offset,
        );
        if let Some(diverging) = diverging {
            let (offset, settled) =
                truncation_offset(&self.epochs, self.end(), self.high_watermark, diverging);
            self.truncate_to(offset);
            return Round::Truncated { offset, settled };
        }
        self.copy_from(leader, leader_high_watermark)
    }

    /// True when the leader would answer this follower's next fetch with a diverging epoch.
    pub fn diverges_from(&self, leader: &Replica) -> bool {
        diverging_epoch(
            &leader.epochs,
            leader.end(),
            self.last_epoch(),
            self.durable_end,
        )
        .is_some()
    }

    /// The rule before KIP-101: a restarted follower truncates to its high watermark, and then
    /// copies from its log end, no questions asked.
    pub fn restart_truncating_to_high_watermark(&mut self) {
        self.truncate_to(self.high_watermark);
    }

    pub fn fetch_without_epochs(&mut self, leader: &Replica, leader_high_watermark: i64) -> Round {
        self.copy_from(leader, leader_high_watermark)
    }

    fn copy_from(&mut self, leader: &Replica, leader_high_watermark: i64) -> Round {
        let from = self.end() as usize;
        let copied = leader.entries.get(from..).unwrap_or_default().to_vec();
        for &entry in &copied {
            self.copy(entry);
        }
        self.high_watermark = leader_high_watermark.min(self.end());
        Round::Copied(copied.len())
    }

    /// Fetches (and syncs) until a round copies nothing; the rounds, in order (bounded: it
    /// must settle).
    pub fn catch_up(&mut self, leader: &Replica, leader_high_watermark: i64) -> Vec<Round> {
        const ROUNDS_MAX: usize = 16;
        let mut rounds = Vec::new();
        for _ in 0..ROUNDS_MAX {
            let round = self.fetch(leader, leader_high_watermark);
            self.sync();
            rounds.push(round);
            if round == Round::Copied(0) {
                return rounds;
            }
        }
        panic!("no agreement after {ROUNDS_MAX} rounds: {rounds:?}");
    }
}

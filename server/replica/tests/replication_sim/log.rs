//! One replica's log as the simulation keeps it: batches in offset order, the leader-epoch
//! cache, and the durable end. Appends land in memory; `begin_sync` issues an fdatasync that
//! covers everything appended so far and `complete_sync` is its completion, a separate step, so
//! a crash can land in between and lose the undurable tail (`crash`). A truncation is durable
//! at once (a follower fetches again only after it), and it also clips a sync in flight, so
//! what is appended again after it is not mistaken for synced.

use sluice_replica::UNDEFINED_EPOCH;

/// A record batch as replication sees it: offsets, the leader epoch stamped in it by the
/// leader that appended it, and a payload id unique over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub offset_base: i64,
    pub offset_last: i64,
    pub epoch: i32,
    pub payload: u64,
}

impl Batch {
    pub fn end(&self) -> i64 {
        self.offset_last + 1
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReplicaLog {
    batches: Vec<Batch>,
    /// `prints[i]` fingerprints `batches[..=i]`, so two logs compare below an offset in O(log n).
    prints: Vec<u64>,
    /// Kafka's leader-epoch cache: (epoch, start offset), both strictly ascending.
    epochs: Vec<(i32, i64)>,
    durable_end: i64,
    /// The end an fdatasync in flight will make durable.
    sync_end: Option<i64>,
}

impl ReplicaLog {
    pub fn end(&self) -> i64 {
        self.batches.last().map_or(0, Batch::end)
    }

    pub fn durable_end(&self) -> i64 {
        self.durable_end
    }

    pub fn epochs(&self) -> &[(i32, i64)] {
        &self.epochs
    }

    /// The epoch of the last batch (a follower's `last_fetched_epoch`).
    pub fn last_batch_epoch(&self) -> i32 {
        self.batches
            .last()
            .map_or(UNDEFINED_EPOCH, |batch| batch.epoch)
    }

    pub fn sync_in_flight(&self) -> bool {
        self.sync_end.is_some()
    }

    /// Appends in memory. Offsets continue the log and epochs never go back along it.
    pub fn append(&mut self, batch: Batch) -> Result<(), String> {
        if batch.offset_base != self.end() || batch.offset_last < batch.offset_base {
            return Err(format!("append of {batch:?} at log end {}", self.end()));
        }
        if batch.epoch < self.last_batch_epoch() {
            return Err(format!(
                "append of {batch:?} after epoch {}",
                self.last_batch_epoch()
            ));
        }
        if self.epochs.last().map(|&(epoch, _)| epoch) != Some(batch.epoch) {
            self.assign_epoch(batch.epoch, batch.offset_base)?;
        }
        let previous = self.prints.last().copied().unwrap_or(0);
        self.prints.push(fingerprint(previous, &batch));
        self.batches.push(batch);
        Ok(())
    }

    /// Kafka's `LeaderEpochFileCache.assign`: entries starting at or after `start` go (an
    /// epoch a leader was elected in but never wrote), then `epoch` starts at `start` unless
    /// it is the latest already.
    pub fn assign_epoch(&mut self, epoch: i32, start: i64) -> Result<(), String> {
        assert!(start <= self.end());
        self.epochs.retain(|&(_, entry_start)| entry_start < start);
        match self.epochs.last() {
            Some(&(latest, _)) if latest == epoch => Ok(()),
            Some(&(latest, _)) if latest > epoch => Err(format!(
                "epoch {epoch} at {start} after epoch {latest}: {:?}",
                self.epochs
            )),
            _ => {
                self.epochs.push((epoch, start));
                Ok(())
            }
        }
    }

    /// Drops everything from `offset` on, which must be a batch boundary.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), String> {
        let keep = self
            .batches
            .partition_point(|batch| batch.offset_base < offset);
        let boundary = keep == 0 && offset == 0
            || keep > 0 && self.batches[keep - 1].end() == offset
            || offset >= self.end();
        if !boundary {
            return Err(format!("truncation to {offset}, inside a batch"));
        }
        self.batches.truncate(keep);
        self.prints.truncate(keep);
        let end = self.end();
        self.epochs.retain(|&(_, start)| start < end);
        self.durable_end = self.durable_end.min(end);
        self.sync_end = self.sync_end.map(|sync_end| sync_end.min(end));
        Ok(())
    }

    /// Issues an fdatasync of everything appended so far. False when one is in flight already.
    pub fn begin_sync(&mut self) -> bool {
        if self.sync_end.is_some() {
            return false;
        }
        self.sync_end = Some(self.end());
        true
    }

    /// The fdatasync completed.
    pub fn complete_sync(&mut self) {
        let sync_end = self.sync_end.take().expect("a sync in flight");
        assert!(sync_end <= self.end());
        self.durable_end = self.durable_end.max(sync_end);
    }

    /// A crash: what was not made durable is gone, and so is a sync in flight.
    pub fn crash(&mut self) -> Result<(), String> {
        self.sync_end = None;
        self.truncate_to(self.durable_end)
    }

    pub fn batch_at(&self, offset_base: i64) -> Option<&Batch> {
        let index = self
            .batches
            .binary_search_by_key(&offset_base, |batch| batch.offset_base)
            .ok()?;
        Some(&self.batches[index])
    }

    /// The fingerprint of everything below `offset`; None when `offset` is past the end or
    /// inside a batch.
    pub fn fingerprint_below(&self, offset: i64) -> Option<u64> {
        if offset == 0 {
            return Some(0);
        }
        let count = self
            .batches
            .partition_point(|batch| batch.offset_base < offset);
        let last = self.batches.get(count.checked_sub(1)?)?;
        (last.end() == offset).then(|| self.prints[count - 1])
    }

    /// Whole batches holding offsets from `from` on and ending at or below `below`, at most
    /// `count_max` of them.
    pub fn read(&self, from: i64, below: i64, count_max: usize) -> Vec<Batch> {
        let first = self
            .batches
            .partition_point(|batch| batch.offset_last < from);
        self.batches[first..]
            .iter()
            .take_while(|batch| batch.end() <= below)
            .take(count_max)
            .copied()
            .collect()
    }
}

fn fingerprint(previous: u64, batch: &Batch) -> u64 {
    let mut mixed = previous ^ 0x9e37_79b9_7f4a_7c15;
    for word in [
        batch.offset_base as u64,
        batch.offset_last as u64,
        batch.epoch as u64,
        batch.payload,
    ] {
        mixed = (mixed ^ word).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed ^= mixed >> 29;
    }
    mixed
}

//! Leader epochs: which offsets each leader wrote, and how a follower finds where its log
//! parted from the leader's (KIP-101, KIP-279). Both sides keep a leader-epoch cache: for each
//! epoch, the first offset written in it, ascending in both (the engine's `LeaderEpochCache`
//! entries, passed here as a slice).

use crate::{UNDEFINED_EPOCH, UNDEFINED_OFFSET};

/// An epoch and the offset its part of the log ends at (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEnd {
    pub epoch: i32,
    pub end_offset: i64,
}

impl EpochEnd {
    pub const UNDEFINED: EpochEnd = EpochEnd {
        epoch: UNDEFINED_EPOCH,
        end_offset: UNDEFINED_OFFSET,
    };
}

/// Kafka's `LeaderEpochFileCache.endOffsetFor`: the largest epoch <= `requested` this log
/// knows, and the offset where it ends (the start of the next higher epoch, or `log_end` for
/// the latest). A request below every epoch answers `requested` and the first epoch's start;
/// a request above every epoch (or of an empty cache, or of UNDEFINED) answers UNDEFINED.
pub fn end_offset_for(entries: &[(i32, i64)], requested: i32, log_end: i64) -> EpochEnd {
    debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
    debug_assert!(entries.windows(2).all(|w| w[0].1 <= w[1].1));
    if requested == UNDEFINED_EPOCH {
        return EpochEnd::UNDEFINED;
    }
    if entries.last().map(|&(epoch, _)| epoch) == Some(requested) {
        return EpochEnd {
            epoch: requested,
            end_offset: log_end,
        };
    }
    let higher = entries.partition_point(|&(epoch, _)| epoch <= requested);
    let Some(&(_, higher_start)) = entries.get(higher) else {
        return EpochEnd::UNDEFINED;
    };
    let epoch = if higher == 0 {
        requested
    } else {
        entries[higher - 1].0
    };
    EpochEnd {
        epoch,
        end_offset: higher_start,
    }
}

/// The leader's check of a follower's fetch (KIP-279): the follower's log ends at
/// `fetch_offset` with a batch of `last_fetched_epoch`. If the leader's log has that epoch
/// ending before `fetch_offset`, or does not have it at all, the logs diverged: the answer is
/// the leader's epoch and end offset for it, the follower truncates (see
/// [`truncation_offset`]) and fetches again, and no data is returned this time.
/// `last_fetched_epoch` < 0: the follower has no batch yet, nothing can diverge.
pub fn diverging_epoch(
    leader_entries: &[(i32, i64)],
    leader_log_end: i64,
    last_fetched_epoch: i32,
    fetch_offset: i64,
) -> Option<EpochEnd> {
    if last_fetched_epoch < 0 {
        return None;
    }
    let end = end_offset_for(leader_entries, last_fetched_epoch, leader_log_end);
    let diverged = end.epoch < last_fetched_epoch || end.end_offset < fetch_offset;
    diverged.then_some(end)
}

/// Where a follower truncates its log after the leader answered `diverging` (Kafka's
/// `AbstractFetcherThread.getOffsetTruncationState`): the smaller of the leader's end for
/// that epoch and the follower's own end for it. The boolean is false when the follower does
/// not have the leader's epoch either: it truncates there and the next fetch checks again.
/// Only when the leader knows no offset at all does it fall back to the follower's high
/// watermark (Kafka's rule too; with epochs stamped in every batch it does not happen).
pub fn truncation_offset(
    local_entries: &[(i32, i64)],
    local_log_end: i64,
    local_high_watermark: i64,
    diverging: EpochEnd,
) -> (i64, bool) {
    assert!(local_high_watermark <= local_log_end);
    if diverging.end_offset == UNDEFINED_OFFSET {
        return (local_high_watermark.min(local_log_end), true);
    }
    if diverging.epoch == UNDEFINED_EPOCH {
        return (diverging.end_offset.min(local_log_end), true);
    }
    let local = end_offset_for(local_entries, diverging.epoch, local_log_end);
    if local.epoch == UNDEFINED_EPOCH {
        return (local_high_watermark.min(local_log_end), true);
    }
    let offset = local
        .end_offset
        .min(diverging.end_offset)
        .min(local_log_end);
    (offset, local.epoch == diverging.epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Kafka's LeaderEpochFileCacheTest, end offset cases.
    const CACHE: [(i32, i64); 3] = [(2, 6), (3, 8), (5, 12)];

    fn at(epoch: i32, end_offset: i64) -> EpochEnd {
        EpochEnd { epoch, end_offset }
    }

    #[test]
    fn the_latest_epoch_ends_at_the_log_end() {
        assert_eq!(end_offset_for(&CACHE, 5, 20), at(5, 20));
    }

    #[test]
    fn an_older_epoch_ends_where_the_next_begins() {
        assert_eq!(end_offset_for(&CACHE, 2, 20), at(2, 8));
        assert_eq!(end_offset_for(&CACHE, 3, 20), at(3, 12));
    }

    #[test]
    fn a_missing_epoch_answers_the_largest_below_it() {
        assert_eq!(end_offset_for(&CACHE, 4, 20), at(3, 12));
    }

    #[test]
    fn an_epoch_below_all_answers_the_first_start() {
        assert_eq!(end_offset_for(&CACHE, 1, 20), at(1, 6));
    }

    #[test]
    fn an_epoch_above_all_or_an_empty_cache_is_undefined() {
        assert_eq!(end_offset_for(&CACHE, 6, 20), EpochEnd::UNDEFINED);
        assert_eq!(end_offset_for(&[], 0, 20), EpochEnd::UNDEFINED);
        assert_eq!(
            end_offset_for(&CACHE, UNDEFINED_EPOCH, 20),
            EpochEnd::UNDEFINED
        );
    }

    #[test]
    fn a_follower_on_the_leaders_log_does_not_diverge() {
        assert_eq!(diverging_epoch(&CACHE, 20, 5, 20), None);
        assert_eq!(diverging_epoch(&CACHE, 20, 3, 12), None);
        assert_eq!(diverging_epoch(&CACHE, 20, -1, 0), None);
    }

    #[test]
    fn a_follower_past_its_epochs_end_diverges() {
        // The follower wrote in epoch 3 up to 14; the leader's epoch 3 ended at 12.
        assert_eq!(diverging_epoch(&CACHE, 20, 3, 14), Some(at(3, 12)));
        // The follower has epoch 4, which the leader never had.
        assert_eq!(diverging_epoch(&CACHE, 20, 4, 13), Some(at(3, 12)));
    }

    #[test]
    fn kip_101_the_follower_truncates_to_the_smaller_end() {
        // Follower: epoch 3 from 8, epoch 4 from 10 (a deposed leader's writes), end 15.
        let follower = [(2, 6), (3, 8), (4, 10)];
        let (offset, done) = truncation_offset(&follower, 15, 7, at(3, 12));
        assert_eq!(offset, 10);
        assert!(done);
    }

    #[test]
    fn the_follower_without_the_leaders_epoch_truncates_and_asks_again() {
        let follower = [(2, 6), (4, 10)];
        let (offset, done) = truncation_offset(&follower, 15, 7, at(3, 12));
        assert_eq!(offset, 10);
        assert!(!done);
    }

    #[test]
    fn an_undefined_answer_falls_back_to_the_high_watermark() {
        let (offset, _) = truncation_offset(&CACHE, 15, 9, EpochEnd::UNDEFINED);
        assert_eq!(offset, 9);
    }
}

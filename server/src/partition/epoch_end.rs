//! Leader-epoch lookups on a partition's epoch entries (leader epoch → first offset written in
//! it, both ascending), exactly as Kafka's `LeaderEpochFileCache` answers them. Pure functions:
//! the leader uses them to answer OffsetForLeaderEpoch (consumers checking for truncation,
//! KIP-320; followers finding where to truncate, KIP-101/279) and ListOffsets (KIP-207), and a
//! follower can use them on its own entries.
//!
//! Entries come from the engine's `LeaderEpochCache::entries`. Kafka keeps two more rules in the
//! cache itself that the engine does not: it trims the cache when the log start moves, and a
//! new leader writes its epoch at the log end when elected. [`leader_entries`] applies both, so
//! a leader answers what Kafka's leader would.

use std::borrow::Cow;

/// Kafka's `endOffsetFor` and its answer live with the rest of the replication rules.
pub use sluice_replica::{end_offset_for, EpochEnd, UNDEFINED_EPOCH};
/// Kafka's `UNDEFINED_EPOCH_OFFSET`.
pub const UNDEFINED_EPOCH_OFFSET: i64 = sluice_replica::UNDEFINED_OFFSET;

/// Kafka's `LeaderEpochFileCache.epochForOffset`: the epoch `offset` was written in (the entry
/// starting at it, else the last one starting before it); None before the first entry.
pub fn epoch_for_offset(entries: &[(i32, i64)], offset: i64) -> Option<i32> {
    debug_assert!(
        is_ascending(entries),
        "epoch entries out of order: {entries:?}"
    );
    let at = entries.partition_point(|&(_, start)| start <= offset);
    at.checked_sub(1).map(|floor_at| entries[floor_at].0)
}

/// The first offset of `epoch`, if it has an entry.
pub fn start_offset_of(entries: &[(i32, i64)], epoch: i32) -> Option<i64> {
    entries
        .iter()
        .find(|(entry_epoch, _)| *entry_epoch == epoch)
        .map(|&(_, start)| start)
}

/// The entries Kafka's cache would hold on a leader at `leader_epoch`:
/// - trimmed at `log_start_offset` (Kafka's `truncateFromStart`: entries starting at or before
///   it go, and the last of them comes back starting at the log start), since the data before
///   the log start is gone;
/// - with `leader_epoch` starting at `log_end_offset` when no batch of it was appended yet
///   (Kafka records it at election; nothing was appended since, so the log end is where it
///   started). Without it, a consumer asking for the current epoch would get "undefined" and
///   reset its position.
pub fn leader_entries(
    entries: &[(i32, i64)],
    log_start_offset: i64,
    leader_epoch: i32,
    log_end_offset: i64,
) -> Cow<'_, [(i32, i64)]> {
    assert!(log_start_offset <= log_end_offset);
    debug_assert!(
        is_ascending(entries),
        "epoch entries out of order: {entries:?}"
    );
    // Kafka's truncateFromStart changes nothing when the log start is at or before the first
    // entry's start.
    let kept_from = entries.partition_point(|&(_, start)| start <= log_start_offset);
    let trimmed = match kept_from {
        0 => false,
        1 => entries[0].1 != log_start_offset,
        _ => true,
    };
    let missing_current = leader_epoch >= 0
        && entries
            .last()
            .is_none_or(|&(latest_epoch, _)| latest_epoch < leader_epoch);
    if !trimmed && !missing_current {
        return Cow::Borrowed(entries);
    }
    let mut view = Vec::with_capacity(entries.len() + 1);
    if let Some(floor_at) = kept_from.checked_sub(1) {
        view.push((entries[floor_at].0, log_start_offset));
    }
    view.extend_from_slice(&entries[kept_from..]);
    if missing_current {
        // Kafka's assign: an entry starting at or after the new one's start is dropped (here
        // only the trimmed entry of an empty log can start at the log end).
        while view
            .last()
            .is_some_and(|&(_, start)| start >= log_end_offset)
        {
            view.pop();
        }
        view.push((leader_epoch, log_end_offset));
    }
    debug_assert!(is_ascending(&view), "leader view out of order: {view:?}");
    Cow::Owned(view)
}

/// Epochs strictly ascending, start offsets not descending (Kafka's cache invariant).
fn is_ascending(entries: &[(i32, i64)]) -> bool {
    entries
        .windows(2)
        .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1)
}

#[cfg(test)]
#[path = "epoch_end_tests.rs"]
mod tests;

//! The current-leader-epoch check of requests that name the epoch the client believes the
//! partition is at (KIP-320: ListOffsets v4+, OffsetForLeaderEpoch v2+, Fetch v9+). Kafka's
//! `Partition.checkCurrentLeaderEpoch`: a client behind the partition has stale metadata and is
//! fenced; a client ahead of it knows of an election this broker has not applied yet.

use crate::error_code::{ResponseError, NONE};

/// What a request sends when it makes no claim about the epoch
/// (`RecordBatch.NO_PARTITION_LEADER_EPOCH`).
pub const NO_CURRENT_LEADER_EPOCH: i32 = -1;

/// NONE when `current_leader_epoch` (from the request) matches `partition_epoch` or is
/// [`NO_CURRENT_LEADER_EPOCH`]; FENCED_LEADER_EPOCH when it is older, UNKNOWN_LEADER_EPOCH when
/// it is newer. Both errors are retriable: the client refreshes its metadata.
pub fn check_current_leader_epoch(current_leader_epoch: i32, partition_epoch: i32) -> i16 {
    if current_leader_epoch == NO_CURRENT_LEADER_EPOCH {
        return NONE;
    }
    match current_leader_epoch.cmp(&partition_epoch) {
        std::cmp::Ordering::Less => ResponseError::FencedLeaderEpoch.code(),
        std::cmp::Ordering::Greater => ResponseError::UnknownLeaderEpoch.code(),
        std::cmp::Ordering::Equal => NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_claim_is_never_fenced() {
        assert_eq!(check_current_leader_epoch(NO_CURRENT_LEADER_EPOCH, 0), NONE);
        assert_eq!(check_current_leader_epoch(NO_CURRENT_LEADER_EPOCH, 7), NONE);
    }

    #[test]
    fn older_is_fenced_newer_is_unknown() {
        assert_eq!(check_current_leader_epoch(3, 3), NONE);
        assert_eq!(
            check_current_leader_epoch(2, 3),
            ResponseError::FencedLeaderEpoch.code()
        );
        assert_eq!(
            check_current_leader_epoch(4, 3),
            ResponseError::UnknownLeaderEpoch.code()
        );
        // Kafka checks any other value literally: -2 is older than every epoch.
        assert_eq!(
            check_current_leader_epoch(-2, 0),
            ResponseError::FencedLeaderEpoch.code()
        );
    }
}

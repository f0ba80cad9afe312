//! The leader side of a follower's fetch: the checks Kafka makes before serving a replica
//! (leader epoch, divergence, assignment), and recording the fetch as the follower's
//! acknowledgement of everything below its fetch offset.

use sluice_replica::{diverging_epoch, EpochEnd, FollowerRefusal};

use super::epoch_end::leader_entries;
use super::epoch_fence::check_current_leader_epoch;
use super::partition::Partition;
use crate::error_code::{ResponseError, NONE};

/// One partition of a follower's fetch.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaFetch {
    pub replica_id: i32,
    /// The follower's durable log end.
    pub fetch_offset: i64,
    /// The epoch of the follower's last batch (-1: none).
    pub last_fetched_epoch: i32,
    /// The leader epoch the follower believes current (-1: no check).
    pub current_leader_epoch: i32,
}

/// What to answer a follower's fetch of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaFetchCheck {
    /// The logs parted: answer this and no data; the follower truncates and asks again.
    Diverging(EpochEnd),
    /// Serve batches from the fetch offset up to the log end.
    Serve {
        /// True when the high watermark moved (wake acks=all producers and consumers).
        high_watermark_moved: bool,
        /// True when the follower has durably more than this leader has flushed: a flush here
        /// moves the high watermark.
        leader_flush_helps: bool,
    },
}

impl Partition {
    /// Kafka's checks of a replica fetch, in its order: leadership, the follower's idea of the
    /// current epoch (FENCED_LEADER_EPOCH when older, UNKNOWN_LEADER_EPOCH when newer: a stale
    /// or a future peer is refused), divergence by epoch, the offset range, then the fetch is
    /// recorded (`record`: only on the first read of a long poll).
    pub fn check_replica_fetch(
        &self,
        fetch: ReplicaFetch,
        record: bool,
        now_ms: u64,
    ) -> Result<ReplicaFetchCheck, i16> {
        if self.with_leader_state(|_| ()).is_none() {
            return Err(ResponseError::NotLeaderOrFollower.code());
        }
        let epoch = self.leader_epoch();
        let fenced = check_current_leader_epoch(fetch.current_leader_epoch, epoch);
        if fenced != NONE {
            return Err(fenced);
        }
        let end = self.log_end_offset();
        let cached = self.log().leader_epochs().entries;
        let entries = leader_entries(&cached, self.log_start_offset(), epoch, end);
        if let Some(diverging) =
            diverging_epoch(&entries, end, fetch.last_fetched_epoch, fetch.fetch_offset)
        {
            return Ok(ReplicaFetchCheck::Diverging(diverging));
        }
        if fetch.fetch_offset < self.log_start_offset() || fetch.fetch_offset > end {
            return Err(ResponseError::OffsetOutOfRange.code());
        }
        if !record {
            return Ok(ReplicaFetchCheck::Serve {
                high_watermark_moved: false,
                leader_flush_helps: false,
            });
        }
        let before = self.high_watermark();
        let recorded = self.with_leader_state(|state| {
            state.on_follower_fetch(fetch.replica_id, fetch.fetch_offset, end, now_ms)
        });
        match recorded {
            Some(Ok(())) => {}
            Some(Err(FollowerRefusal::NotAReplica)) => {
                return Err(ResponseError::ReplicaNotAvailable.code());
            }
            None => return Err(ResponseError::NotLeaderOrFollower.code()),
        }
        let after = self.high_watermark();
        assert!(after >= before, "the high watermark went back");
        Ok(ReplicaFetchCheck::Serve {
            high_watermark_moved: after > before,
            leader_flush_helps: fetch.fetch_offset > self.log().flushed_offset(),
        })
    }

    /// A client's read or offset lookup: only the leader serves it, and a client that names a
    /// leader epoch must name the current one (KIP-320: FENCED_LEADER_EPOCH when older,
    /// UNKNOWN_LEADER_EPOCH when newer; -1 skips the check).
    pub fn check_client_epoch(&self, current_leader_epoch: i32) -> Result<(), i16> {
        if !self.is_leader() {
            return Err(ResponseError::NotLeaderOrFollower.code());
        }
        match check_current_leader_epoch(current_leader_epoch, self.leader_epoch()) {
            NONE => Ok(()),
            fenced => Err(fenced),
        }
    }

    /// Reads whole batches from `offset` up to the log end (followers read past the high
    /// watermark: they must have data before it can count).
    pub async fn read_to_log_end(
        &self,
        offset: i64,
        max_bytes: u32,
    ) -> Result<sluice_engine::ReadResult, sluice_engine::ReadError> {
        let end = self.log_end_offset();
        self.log().read(offset, max_bytes, end).await
    }
}

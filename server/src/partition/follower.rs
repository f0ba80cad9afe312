//! The follower side of a `Partition`: where to fetch from next, taking the leader's batches
//! byte for byte, truncating a diverged tail by leader epoch (never blindly to the high
//! watermark), and following the leader's high watermark and log start.
//!
//! Durability: the fetch offset a follower sends is its durable log end (`fetch_position`
//! asks for a flushed log), so the leader counts only fdatasynced data towards the high
//! watermark.

use bytes::Bytes;
use sluice_engine::limits::APPEND_BATCHES_MAX;
use sluice_engine::{AppendError, AppendInfo, LogError};
use sluice_replica::{truncation_offset, EpochEnd};

use super::partition::Partition;
use super::producer_append;
use super::replica::ReplicaRole;

/// What a follower's next fetch of this partition carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPosition {
    pub leader: i32,
    pub leader_epoch: i32,
    /// The durable log end.
    pub fetch_offset: i64,
    /// The epoch of the last batch (or the latest epoch the log knows), -1 when none.
    pub last_fetched_epoch: i32,
    pub log_start_offset: i64,
}

/// Why a follower could not take the leader's batches.
#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    #[error("not following any more")]
    NotFollowing,
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Log(#[from] LogError),
}

impl Partition {
    /// The next fetch, when following and everything appended is durable (None otherwise: not
    /// a follower, or a flush is still owed).
    pub fn fetch_position(&self) -> Option<FetchPosition> {
        let view = self.follower_view()?;
        if self.log().needs_flush() {
            return None;
        }
        let fetch_offset = self.log().flushed_offset();
        assert_eq!(fetch_offset, self.log_end_offset());
        Some(FetchPosition {
            leader: view.leader,
            leader_epoch: view.leader_epoch,
            fetch_offset,
            last_fetched_epoch: self.log().leader_epochs().latest_epoch().unwrap_or(-1),
            log_start_offset: self.log_start_offset(),
        })
    }

    /// Appends the leader's batches (offsets and epochs as the leader wrote them) and records
    /// their producers and transactions (markers included, with the aborted-transaction
    /// index), so that a follower that becomes leader deduplicates retries and knows the open
    /// transactions. Not durable until `flush`.
    pub async fn append_from_leader(&self, batches: &[Bytes]) -> Result<AppendInfo, FollowerError> {
        if self.follower_view().is_none() {
            return Err(FollowerError::NotFollowing);
        }
        let end_before = self.log_end_offset();
        let mut appended: Option<AppendInfo> = None;
        // A fetch of small batches can hold more than one engine append takes.
        for part in batches.chunks(APPEND_BATCHES_MAX) {
            let info = self.log().append_replicated(part).await?;
            assert_eq!(self.log_end_offset(), info.last_offset + 1);
            let call = producer_append::call_batches(part);
            // Replicated markers end transactions here too (Kafka's AppendOrigin.REPLICATION:
            // no checks); aborted ones go into the index before the next fetch.
            let aborted =
                self.producers_mut(|states| producer_append::record(states, &call, &info));
            producer_append::record_aborted(self.log(), &aborted).await?;
            appended = Some(match appended {
                None => info,
                Some(first) => AppendInfo {
                    last_offset: info.last_offset,
                    max_timestamp_ms: first.max_timestamp_ms.max(info.max_timestamp_ms),
                    ..first
                },
            });
        }
        let Some(info) = appended else {
            return Err(FollowerError::Append(AppendError::InvalidBatch {
                batch_index: 0,
                reason: "no batch from the leader".to_string(),
            }));
        };
        assert_eq!(info.base_offset, end_before);
        Ok(info)
    }

    /// The leader answered that our log parted from its own at `diverging`: truncate to where
    /// both agree (KIP-101/KIP-279), rebuild the producer state, and return the new log end.
    pub async fn truncate_diverged(&self, diverging: EpochEnd) -> Result<i64, FollowerError> {
        let Some(view) = self.follower_view() else {
            return Err(FollowerError::NotFollowing);
        };
        let entries = self.log().leader_epochs().entries;
        let end = self.log_end_offset();
        let high_watermark = view.high_watermark.min(end);
        let (offset, _) = truncation_offset(&entries, end, high_watermark, diverging);
        if offset < high_watermark {
            // Only an unclean election takes back what was below the high watermark.
            tracing::warn!(topic = %self.topic(), partition = self.index(), offset, high_watermark, "truncating below the high watermark");
        }
        tracing::info!(topic = %self.topic(), partition = self.index(), from = end, to = offset, epoch = diverging.epoch, "truncating a diverged log");
        self.truncate_to(offset).await?;
        Ok(self.log_end_offset())
    }

    /// Our log ends before the leader's log start (it deleted what we lack): start over empty
    /// at `offset`.
    pub async fn restart_at(&self, offset: i64) -> Result<(), FollowerError> {
        if self.follower_view().is_none() {
            return Err(FollowerError::NotFollowing);
        }
        assert!(offset > self.log_end_offset());
        tracing::info!(topic = %self.topic(), partition = self.index(), offset, "restarting the log at the leader's log start");
        self.log().truncate_fully_and_start_at(offset).await?;
        self.reload_producers().await?;
        Ok(())
    }

    /// Takes the leader's high watermark (capped at our log end; never lowered: a new leader
    /// may still be catching up its own) and moves our log start up to the leader's.
    pub async fn follow_leader_marks(&self, leader_high_watermark: i64, leader_log_start: i64) {
        let end = self.log_end_offset();
        {
            let mut role = self.role.borrow_mut();
            if let ReplicaRole::Follower(view) = &mut *role {
                view.high_watermark = view.high_watermark.max(leader_high_watermark.min(end));
            }
        }
        let high_watermark = self.high_watermark();
        if leader_log_start > self.log_start_offset() && leader_log_start <= high_watermark {
            if let Err(err) = self.log().delete_records_before(leader_log_start).await {
                tracing::warn!(topic = %self.topic(), partition = self.index(), "cannot follow the leader's log start: {err}");
            }
        }
    }

    async fn truncate_to(&self, offset: i64) -> Result<(), FollowerError> {
        self.log().truncate_to(offset).await?;
        let end = self.log_end_offset();
        {
            let mut role = self.role.borrow_mut();
            if let ReplicaRole::Follower(view) = &mut *role {
                view.high_watermark = view.high_watermark.min(end);
            }
        }
        self.reload_producers().await?;
        Ok(())
    }

    /// Producer state after the log lost its tail: snapshots past the end are stale.
    async fn reload_producers(&self) -> Result<(), LogError> {
        let end = self.log_end_offset();
        for offset in self.log().producer_snapshot_offsets().await? {
            if offset > end {
                self.log().remove_producer_snapshot(offset).await?;
            }
        }
        let states = producer_append::load(self.log()).await?;
        self.producers_mut(|current| *current = states);
        Ok(())
    }
}

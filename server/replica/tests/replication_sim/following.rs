//! The follower side of a simulated broker: fetch with the durable log end and the epoch of
//! the last batch; on a divergence, truncate to `truncation_offset` and fetch again; otherwise
//! append what came, fdatasync, take min(leader's high watermark, own log end) as the high
//! watermark, and fetch again (after a short wait when nothing came: a long poll). Answers
//! from another leader, epoch or fetch offset than the current fetch are ignored.

use sluice_replica::truncation_offset;

use super::messages::{Endpoint, ErrorCode, FetchData, Message};
use super::node::{Effects, Node, Role};

/// A fetch with no answer after this long is sent again.
pub const FETCH_TIMEOUT_MS: u64 = 100;
/// After an empty answer the follower fetches again after this long (the leader's long poll).
pub const FETCH_WAIT_MS: u64 = 15;
/// After an error it backs off this long.
pub const FETCH_BACKOFF_MS: u64 = 30;

struct InFlight {
    request: u64,
    sent_ms: u64,
    fetch_offset: i64,
}

pub struct Following {
    pub leader: i32,
    pub leader_epoch: i32,
    fetch: Option<InFlight>,
    /// The leader's high watermark from the last answer, taken once the data is durable.
    leader_high_watermark: Option<i64>,
    /// Waiting out a long poll or a backoff.
    waiting: bool,
}

impl Following {
    pub fn new(leader: i32, leader_epoch: i32) -> Following {
        Following {
            leader,
            leader_epoch,
            fetch: None,
            leader_high_watermark: None,
            waiting: false,
        }
    }
}

impl Node {
    /// Sends the next fetch unless one is out, the follower is waiting, or the log has an
    /// undurable tail (then it fdatasyncs first: the fetch offset is what is durable).
    pub fn fetch_if_ready(&mut self, now_ms: u64, fx: &mut Effects) {
        let Role::Following(following) = &self.role else {
            return;
        };
        if following.fetch.is_some() || following.waiting || self.log.sync_in_flight() {
            return;
        }
        if self.log.end() > self.log.durable_end() {
            fx.sync_issued = self.log.begin_sync();
            return;
        }
        let request = self.request_id();
        let Role::Following(following) = &mut self.role else {
            unreachable!("checked above");
        };
        let fetch_offset = self.log.durable_end();
        following.fetch = Some(InFlight {
            request,
            sent_ms: now_ms,
            fetch_offset,
        });
        let message = Message::Fetch {
            request,
            leader_epoch: following.leader_epoch,
            fetch_offset,
            last_fetched_epoch: self.log.last_batch_epoch(),
        };
        fx.send(Endpoint::Node(following.leader), message);
    }

    pub fn on_fetch_answer(
        &mut self,
        now_ms: u64,
        request: u64,
        result: Result<FetchData, ErrorCode>,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let Role::Following(following) = &mut self.role else {
            return Ok(());
        };
        let Some(fetch) = following.fetch.take_if(|fetch| fetch.request == request) else {
            return Ok(());
        };
        assert_eq!(
            fetch.fetch_offset,
            self.log.end(),
            "the log moved under a fetch"
        );
        match result {
            Err(error) => {
                fx.note(|| format!("node {}: fetch refused: {error:?}", self.id));
                following.waiting = true;
                fx.fetch_again_ms = Some(FETCH_BACKOFF_MS);
            }
            Ok(FetchData::Diverging(diverging)) => {
                let end = self.log.end();
                let high_watermark = self.high_watermark.min(end);
                let (offset, _) =
                    truncation_offset(self.log.epochs(), end, high_watermark, diverging);
                fx.note(|| {
                    format!(
                        "node {}: diverging {diverging:?}, truncates to {offset}",
                        self.id
                    )
                });
                if offset < self.high_watermark {
                    return Err(format!(
                        "node {} truncates to {offset}, below its high watermark {}",
                        self.id, self.high_watermark
                    ));
                }
                self.log.truncate_to(offset)?;
                fx.truncated = true;
                self.fetch_if_ready(now_ms, fx);
            }
            Ok(FetchData::Batches {
                batches,
                high_watermark,
            }) => {
                following.leader_high_watermark = Some(high_watermark);
                if batches.is_empty() {
                    following.waiting = true;
                    fx.fetch_again_ms = Some(FETCH_WAIT_MS);
                    self.high_watermark = high_watermark.min(self.log.end());
                    return Ok(());
                }
                for batch in batches {
                    self.log.append(batch)?;
                    fx.appended.push((batch, false));
                }
                fx.sync_issued = self.log.begin_sync();
            }
        }
        Ok(())
    }

    /// The fdatasync after an append completed: the high watermark follows, then the next
    /// fetch goes out.
    pub fn on_follower_synced(&mut self, now_ms: u64, fx: &mut Effects) -> Result<(), String> {
        let Role::Following(following) = &self.role else {
            return Ok(());
        };
        if let Some(leader_high_watermark) = following.leader_high_watermark {
            self.high_watermark = leader_high_watermark.min(self.log.durable_end());
        }
        self.fetch_if_ready(now_ms, fx);
        Ok(())
    }

    /// The long poll or the backoff is over.
    pub fn on_fetch_again(&mut self, now_ms: u64, fx: &mut Effects) {
        if let Role::Following(following) = &mut self.role {
            following.waiting = false;
        }
        self.fetch_if_ready(now_ms, fx);
    }

    pub fn follower_tick(&mut self, now_ms: u64, fx: &mut Effects) {
        let Role::Following(following) = &mut self.role else {
            return;
        };
        let timed_out = following
            .fetch
            .as_ref()
            .is_some_and(|fetch| now_ms - fetch.sent_ms > FETCH_TIMEOUT_MS);
        if timed_out {
            following.fetch = None;
            self.fetch_if_ready(now_ms, fx);
        }
    }
}

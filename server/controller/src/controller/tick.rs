//! The periodic pass (every ~100 ms): fences brokers whose session expired, elects leaders for
//! offline partitions (uncleanly where a topic allows it, so switching the config on elects
//! within a tick), finishes reassignments whose target replicas are all in sync, and, every
//! `leader.imbalance.check.interval.seconds`, moves leaderships back to preferred replicas.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::election::{elect_offline_leaders, remove_broker_from_partitions};
use super::limits::LEADER_ELECTIONS_PER_REBALANCE_MAX;
use super::reassignment::complete_reassignments;
use super::rebalance::rebalance_leaders;
use super::Controller;
use crate::image::MetadataImage;
use crate::records::{MetadataRecord, RecordBatch};

impl Controller {
    /// A broker not heard from for more than `session_timeout_ms` is fenced: it leaves the ISRs
    /// where it is not the last member, and every partition it leads elects another active ISR
    /// member, in replica order, or goes offline. A registered broker without a session (one
    /// this controller has not heard of, e.g. `activate` was skipped) gets one from `now_ms`.
    pub fn tick(&mut self, image: &MetadataImage, now_ms: u64) -> RecordBatch {
        let timeout_ms = self.config.session_timeout_ms;
        let mut expired = BTreeSet::new();
        for broker in image.brokers.values().filter(|b| !b.fenced) {
            let (broker_id, broker_epoch) = (broker.broker_id, broker.broker_epoch);
            if !self.sessions.contains(broker_id, broker_epoch) {
                self.sessions.start(broker_id, broker_epoch, now_ms, false);
            }
            if !self
                .sessions
                .is_alive(broker_id, broker_epoch, now_ms, timeout_ms)
            {
                expired.insert(broker_id);
            }
        }
        let mut batch = BatchBuilder::new(image);
        for &broker_id in &expired {
            remove_broker_from_partitions(&mut batch, broker_id, &expired);
            let broker_epoch = image.brokers[&broker_id].broker_epoch;
            batch.push(MetadataRecord::FenceBroker {
                broker_id,
                broker_epoch,
            });
            if let Some(session) = self.sessions.get_mut(broker_id) {
                session.catch_up_offset = None;
            }
            tracing::warn!(broker_id, timeout_ms, "broker session expired: fenced");
        }
        elect_offline_leaders(&mut batch, self.config.unclean_leader_election_enable);
        complete_reassignments(&mut batch);
        self.maybe_rebalance(&mut batch, now_ms);
        if !batch.is_empty() {
            tracing::debug!(fenced = expired.len(), "tick produced records");
        }
        batch.finish()
    }

    /// Rebalances when the interval is up. A pass that hit its election limit leaves more to
    /// do: the next tick goes on at once rather than an interval later.
    fn maybe_rebalance(&mut self, batch: &mut BatchBuilder, now_ms: u64) {
        if !self.config.auto_leader_rebalance_enable {
            return;
        }
        let interval_ms = self.config.leader_imbalance_check_interval_ms;
        let due_ms = *self.next_rebalance_ms.get_or_insert(now_ms + interval_ms);
        if now_ms < due_ms {
            return;
        }
        let elections = rebalance_leaders(batch, LEADER_ELECTIONS_PER_REBALANCE_MAX);
        assert!(elections <= LEADER_ELECTIONS_PER_REBALANCE_MAX);
        let more = elections == LEADER_ELECTIONS_PER_REBALANCE_MAX;
        self.next_rebalance_ms = Some(if more { now_ms } else { now_ms + interval_ms });
        if elections > 0 {
            tracing::info!(elections, "leaderships moved back to preferred replicas");
        }
    }
}

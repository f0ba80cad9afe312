//! The periodic pass (every ~100 ms): fences brokers whose session expired, and elects leaders
//! for offline partitions that have an active ISR member.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::election::{elect_offline_leaders, remove_broker_from_partitions};
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
        elect_offline_leaders(&mut batch);
        if !batch.is_empty() {
            tracing::debug!(fenced = expired.len(), "tick produced records");
        }
        batch.finish()
    }
}

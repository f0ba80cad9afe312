//! Broker heartbeats (Kafka's `BrokerHeartbeatManager` and `processBrokerHeartbeat`).
//!
//! **Catch-up rule.** A broker is caught up once its metadata offset reaches a target fixed at
//! its first heartbeat of a session: the offset of the image that heartbeat is checked against.
//! That image holds the broker's registration (the heartbeat names the registered epoch), so
//! this is at or past the RegisterBroker record, Kafka's target. A broker fenced for missing
//! heartbeats gets a new target at its next heartbeat: it must have seen everything that
//! happened while it was away before it leads again.
//!
//! **States.** Fenced and caught up: unfenced, then the offline partitions it can lead get a
//! leader, and the partitions it is the preferred replica of come back to it. Wanting to shut
//! down: a fenced broker may stop at once; an unfenced one that leads partitions enters
//! controlled shutdown (its leaderships move, it leaves the ISRs where it is not the last
//! member) and is told to stop at a later heartbeat, once the image shows it leading nothing;
//! when it stops it is fenced (Kafka's SHUTDOWN_NOW), so its restart registers at once.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::election::{
    elect_offline_leaders, elect_preferred_leader, remove_broker_from_partitions,
};
use super::error::{ControllerError, ErrorKind};
use super::{Controller, Heartbeat, HeartbeatReply};
use crate::image::{BrokerImage, MetadataImage};
use crate::records::{MetadataRecord, RecordBatch};

impl Controller {
    pub fn heartbeat(
        &mut self,
        image: &MetadataImage,
        heartbeat: Heartbeat,
        now_ms: u64,
    ) -> Result<(HeartbeatReply, RecordBatch), ControllerError> {
        let broker_id = heartbeat.broker_id;
        let broker = image
            .broker(broker_id)
            .filter(|b| b.broker_epoch == heartbeat.broker_epoch)
            .ok_or_else(|| {
                let registered = image.broker(broker_id).map(|b| b.broker_epoch);
                ControllerError::new(
                    ErrorKind::StaleBrokerEpoch,
                    format!(
                        "broker {broker_id} heartbeats with epoch {}, registered: {registered:?}",
                        heartbeat.broker_epoch
                    ),
                )
            })?;
        let session = self.sessions.touch(broker_id, broker.broker_epoch, now_ms);
        let catch_up_offset = *session.catch_up_offset.get_or_insert(image.offset);
        let is_caught_up = heartbeat.metadata_offset >= catch_up_offset;

        let mut batch = BatchBuilder::new(image);
        let should_shutdown = if heartbeat.want_shutdown {
            shut_down(&mut batch, broker)
        } else {
            if broker.fenced && !broker.shutting_down && is_caught_up {
                unfence(
                    &mut batch,
                    broker,
                    self.config.unclean_leader_election_enable,
                );
            }
            false
        };
        let after = batch.image().broker(broker_id);
        let is_fenced = after.is_none_or(|b| b.fenced);
        assert!(
            !should_shutdown || is_fenced,
            "a broker told to stop stays fenced"
        );
        let reply = HeartbeatReply {
            is_caught_up,
            is_fenced,
            should_shutdown,
        };
        Ok((reply, batch.finish()))
    }
}

fn unfence(batch: &mut BatchBuilder, broker: &BrokerImage, unclean_default: bool) {
    batch.push(MetadataRecord::UnfenceBroker {
        broker_id: broker.broker_id,
        broker_epoch: broker.broker_epoch,
    });
    elect_offline_leaders(batch, unclean_default);
    elect_preferred_leader(batch, broker.broker_id);
    tracing::info!(broker_id = broker.broker_id, "broker caught up: unfenced");
}

/// Returns whether the broker may stop now.
fn shut_down(batch: &mut BatchBuilder, broker: &BrokerImage) -> bool {
    let broker_id = broker.broker_id;
    if broker.fenced {
        return true;
    }
    let leaving = BTreeSet::from([broker_id]);
    let leads_partitions = batch.image().partitions_led_by(broker_id).next().is_some();
    if leads_partitions {
        remove_broker_from_partitions(batch, broker_id, &leaving);
        if !broker.shutting_down {
            batch.push(MetadataRecord::BrokerShuttingDown {
                broker_id,
                broker_epoch: broker.broker_epoch,
            });
            tracing::info!(broker_id, "broker in controlled shutdown");
        }
        return false;
    }
    remove_broker_from_partitions(batch, broker_id, &leaving);
    batch.push(MetadataRecord::FenceBroker {
        broker_id,
        broker_epoch: broker.broker_epoch,
    });
    tracing::info!(broker_id, "broker leads nothing: shut down and fenced");
    true
}

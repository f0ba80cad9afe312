//! Broker records: registration and the fencing / shutdown state of a registration.

use super::apply::BrokerChange;
use super::{ApplyError, BrokerImage, MetadataImage};
use crate::records::Endpoint;

impl MetadataImage {
    /// A registration replaces any previous one of the same id: the new incarnation starts
    /// fenced and not shutting down. Its epoch must be above the previous registration's, so
    /// that a request or record carrying the old epoch is recognisably stale.
    pub(super) fn apply_register_broker(
        &mut self,
        broker_id: i32,
        incarnation_id: u128,
        broker_epoch: i64,
        endpoints: &[Endpoint],
        rack: &Option<String>,
    ) -> Result<(), ApplyError> {
        if broker_id < 0 {
            return Err(ApplyError::Inconsistent(format!(
                "broker id {broker_id} is negative"
            )));
        }
        if broker_epoch < 0 {
            return Err(ApplyError::Inconsistent(format!(
                "broker {broker_id} registers with the negative epoch {broker_epoch}"
            )));
        }
        if let Some(previous) = self.brokers.get(&broker_id) {
            if broker_epoch <= previous.broker_epoch {
                return Err(ApplyError::Inconsistent(format!(
                    "broker {broker_id} registers with epoch {broker_epoch}, not above its \
                     previous epoch {}",
                    previous.broker_epoch
                )));
            }
        }
        let registration = BrokerImage {
            broker_id,
            incarnation_id,
            broker_epoch,
            endpoints: endpoints.to_vec(),
            rack: rack.clone(),
            fenced: true,
            shutting_down: false,
        };
        self.brokers.insert(broker_id, registration);
        self.broker_epoch_max = self.broker_epoch_max.max(broker_epoch);
        Ok(())
    }

    /// A record for an older registration of the broker is stale and changes nothing: the
    /// controller may have decided it against a registration that a restart has since
    /// replaced, and the new incarnation's state must not inherit it. A record for an epoch
    /// above the current registration's cannot come from a correct controller.
    pub(super) fn apply_broker_change(
        &mut self,
        broker_id: i32,
        broker_epoch: i64,
        change: BrokerChange,
    ) -> Result<(), ApplyError> {
        let broker = self
            .brokers
            .get_mut(&broker_id)
            .ok_or(ApplyError::UnknownBroker(broker_id))?;
        if broker_epoch < broker.broker_epoch {
            tracing::debug!(
                broker_id,
                broker_epoch,
                current_epoch = broker.broker_epoch,
                ?change,
                "ignoring a stale broker record"
            );
            return Ok(());
        }
        if broker_epoch > broker.broker_epoch {
            return Err(ApplyError::Inconsistent(format!(
                "{change:?} of broker {broker_id} names epoch {broker_epoch}, above its \
                 registered epoch {}",
                broker.broker_epoch
            )));
        }
        match change {
            BrokerChange::Fence => broker.fenced = true,
            BrokerChange::Unfence => broker.fenced = false,
            BrokerChange::ShuttingDown => broker.shutting_down = true,
        }
        Ok(())
    }
}

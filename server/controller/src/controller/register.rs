//! Broker registration (Kafka's `ClusterControlManager.registerBroker`).
//!
//! - A registration with the incarnation id of the current one is a retry (the broker did not
//!   get the answer): the same epoch comes back and nothing is written, as long as it names the
//!   same listeners and rack. An incarnation is one process, whose listeners cannot change, so
//!   a retry that differs is refused as InvalidRequest (Kafka would amend the registration in
//!   place; our RegisterBroker record always starts fenced, so an amendment would fence it).
//! - A new incarnation is refused with DuplicateBrokerRegistration while the current one is
//!   unfenced and its session alive, heard from by this controller: two live processes claim
//!   the id. A session this controller only inherited at activation does not count, so a
//!   broker restarted together with the controller (a one-node cluster) registers at once. A fenced registration
//!   (crashed and fenced, or shut down cleanly) is replaced at once, as in Kafka. The broker
//!   retries; after a kill -9 it is accepted once the old session expires.
//! - A new incarnation means the old process is gone: before the RegisterBroker record, the old
//!   incarnation leaves the ISRs it was in (unless last member) and its leaderships move, as
//!   if it had been fenced. Its epoch is the image's largest epoch plus one: unique,
//!   increasing, and in the record, so every node agrees on it.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::election::remove_broker_from_partitions;
use super::error::{ControllerError, ErrorKind};
use super::limits::{ENDPOINTS_PER_BROKER_MAX, HOST_BYTES_MAX};
use super::{Controller, Registration};
use crate::image::{BrokerImage, MetadataImage};
use crate::records::{MetadataRecord, RecordBatch};

impl Controller {
    /// Returns the broker's epoch and the records to propose (none for a retry).
    pub fn register(
        &mut self,
        image: &MetadataImage,
        registration: Registration,
        now_ms: u64,
    ) -> Result<(i64, RecordBatch), ControllerError> {
        validate_registration(&registration)?;
        let broker_id = registration.broker_id;
        let existing = image.broker(broker_id);
        if let Some(existing) = existing {
            if existing.incarnation_id == registration.incarnation_id {
                return self.register_retry(existing, &registration, now_ms);
            }
            let timeout_ms = self.config.session_timeout_ms;
            let alive =
                self.sessions
                    .is_heard_alive(broker_id, existing.broker_epoch, now_ms, timeout_ms);
            if !existing.fenced && alive {
                return Err(ControllerError::new(
                    ErrorKind::DuplicateBrokerRegistration,
                    format!(
                        "broker {broker_id} is registered by another live process (epoch {}); \
                         retry after it stops heartbeating",
                        existing.broker_epoch
                    ),
                ));
            }
        }
        let broker_epoch = image.broker_epoch_max.checked_add(1).ok_or_else(|| {
            ControllerError::new(ErrorKind::InvalidRequest, "broker epochs are exhausted")
        })?;
        let mut batch = BatchBuilder::new(image);
        if existing.is_some() {
            remove_broker_from_partitions(&mut batch, broker_id, &BTreeSet::from([broker_id]));
        }
        batch.push(MetadataRecord::RegisterBroker {
            broker_id,
            incarnation_id: registration.incarnation_id,
            broker_epoch,
            endpoints: registration.endpoints,
            rack: registration.rack,
        });
        self.sessions.start(broker_id, broker_epoch, now_ms, true);
        tracing::info!(broker_id, broker_epoch, "broker registered");
        Ok((broker_epoch, batch.finish()))
    }

    fn register_retry(
        &mut self,
        existing: &BrokerImage,
        registration: &Registration,
        now_ms: u64,
    ) -> Result<(i64, RecordBatch), ControllerError> {
        if existing.endpoints != registration.endpoints || existing.rack != registration.rack {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "broker {} re-registers incarnation {:032x} with other listeners or rack; \
                     a process keeps its listeners",
                    existing.broker_id, existing.incarnation_id
                ),
            ));
        }
        self.sessions
            .touch(existing.broker_id, existing.broker_epoch, now_ms);
        Ok((existing.broker_epoch, RecordBatch::default()))
    }
}

fn validate_registration(registration: &Registration) -> Result<(), ControllerError> {
    let invalid = |why: String| Err(ControllerError::new(ErrorKind::InvalidRequest, why));
    let broker_id = registration.broker_id;
    if broker_id < 0 {
        return invalid(format!("broker id {broker_id} is negative"));
    }
    if registration.incarnation_id == 0 {
        return invalid(format!(
            "broker {broker_id} registers without an incarnation id"
        ));
    }
    let endpoints = &registration.endpoints;
    if endpoints.is_empty() || endpoints.len() > ENDPOINTS_PER_BROKER_MAX {
        return invalid(format!(
            "broker {broker_id} advertises {} listeners, not 1 ..= {ENDPOINTS_PER_BROKER_MAX}",
            endpoints.len()
        ));
    }
    let names: BTreeSet<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
    if names.len() != endpoints.len() {
        return invalid(format!(
            "broker {broker_id} advertises a listener name twice"
        ));
    }
    for endpoint in endpoints {
        let sizes = [
            endpoint.name.len(),
            endpoint.host.len(),
            endpoint.security_protocol.len(),
        ];
        if sizes.contains(&0) || sizes.iter().any(|size| *size > HOST_BYTES_MAX) {
            return invalid(format!(
                "broker {broker_id} advertises a malformed listener {endpoint:?}"
            ));
        }
    }
    if registration
        .rack
        .as_ref()
        .is_some_and(|rack| rack.is_empty() || rack.len() > HOST_BYTES_MAX)
    {
        return invalid(format!("broker {broker_id} names a malformed rack"));
    }
    Ok(())
}

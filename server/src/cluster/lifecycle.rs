//! The broker's life in the cluster: it registers with the active controller at start (a new
//! incarnation, a new broker epoch), heartbeats every `broker.heartbeat.interval.ms`, is
//! unfenced once it has caught up with the metadata log, and on shutdown asks the controller
//! to move its leaderships away before it stops (controlled shutdown).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::service::ClusterService;
use super::wire::{ControllerReply, ControllerRequest, WireEndpoint};
use crate::error_code::ResponseError;
use crate::limits::{CONTROLLED_SHUTDOWN_MS_MAX, CONTROLLER_RETRY_MS, FENCED_HEARTBEAT_MS};
use crate::shard::notify::Notify;

/// This broker as the controller last answered.
pub struct BrokerState {
    epoch: Cell<i64>,
    fenced: Cell<bool>,
    /// The metadata offset every shard of this broker has applied.
    applied_offset: Cell<u64>,
    changed: Notify,
}

impl Default for BrokerState {
    fn default() -> Self {
        BrokerState {
            epoch: Cell::new(-1),
            fenced: Cell::new(true),
            applied_offset: Cell::new(0),
            changed: Notify::default(),
        }
    }
}

impl BrokerState {
    pub fn epoch(&self) -> i64 {
        self.epoch.get()
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.get()
    }

    pub fn applied_offset(&self) -> u64 {
        self.applied_offset.get()
    }

    /// Called by the metadata subsystem once every shard applied the image at `offset`.
    pub fn set_applied_offset(&self, offset: u64) {
        if offset > self.applied_offset.get() {
            self.applied_offset.set(offset);
            self.changed.notify();
        }
    }

    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    /// Resolves once every shard has applied metadata up to `offset`, or after `limit`.
    pub async fn applied(&self, offset: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.applied_offset.get() < offset {
            let generation = self.changed.generation();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            futures_lite::future::or(self.changed.changed_since(generation), async {
                glommio::timer::sleep(left).await;
            })
            .await;
        }
        true
    }

    /// Resolves once the controller has unfenced this broker.
    pub async fn unfenced(&self) {
        while self.fenced.get() {
            let generation = self.changed.generation();
            self.changed.changed_since(generation).await;
        }
    }

    fn set(&self, epoch: i64, fenced: bool) {
        if self.epoch.get() != epoch || self.fenced.get() != fenced {
            self.epoch.set(epoch);
            self.fenced.set(fenced);
            self.changed.notify();
        }
    }
}

/// Registers and heartbeats until the process is asked to stop.
pub async fn run(cluster: Rc<ClusterService>) {
    let incarnation_id = incarnation_id();
    let settings = cluster.settings().clone();
    let state = cluster.broker().clone();
    let interval = Duration::from_millis(settings.heartbeat_interval_ms);
    while !crate::signals::shutdown_requested() {
        if state.epoch() < 0 {
            let request = ControllerRequest::RegisterBroker {
                broker_id: settings.node_id,
                incarnation_id,
                endpoints: registered_endpoints(&settings),
                rack: None,
            };
            match cluster.request(request).await {
                ControllerReply::Registered { broker_epoch } => {
                    tracing::info!(broker_epoch, "registered with the controller");
                    state.set(broker_epoch, true);
                    continue;
                }
                ControllerReply::Refused { code, message } => {
                    tracing::warn!(code, "broker registration refused: {message}");
                }
                other => tracing::warn!("unexpected answer to a registration: {other:?}"),
            }
            pause(Duration::from_millis(CONTROLLER_RETRY_MS * 10)).await;
            continue;
        }
        let was_fenced = state.is_fenced();
        if let Some((fenced, _)) = heartbeat(&cluster, &state, false).await {
            if fenced != was_fenced {
                tracing::info!(
                    fenced,
                    broker_epoch = state.epoch(),
                    "broker fencing changed"
                );
            }
        }
        // A fenced broker asks again soon: it is waiting to serve.
        let wait = if state.is_fenced() {
            Duration::from_millis(FENCED_HEARTBEAT_MS)
        } else {
            interval
        };
        pause(wait).await;
    }
}

/// Asks the controller to move this broker's leaderships away, for at most
/// `CONTROLLED_SHUTDOWN_MS_MAX`; returns whether the controller agreed it may stop.
pub async fn controlled_shutdown(cluster: &ClusterService) -> bool {
    let state = cluster.broker();
    if state.epoch() < 0 {
        return true;
    }
    let deadline = Instant::now() + Duration::from_millis(CONTROLLED_SHUTDOWN_MS_MAX);
    while Instant::now() < deadline {
        if let Some((_, true)) = heartbeat(cluster, state, true).await {
            tracing::info!("controlled shutdown: the controller moved this broker's leaderships");
            return true;
        }
        glommio::timer::sleep(Duration::from_millis(FENCED_HEARTBEAT_MS)).await;
    }
    tracing::warn!("controlled shutdown: no agreement from the controller in time; stopping");
    false
}

/// One heartbeat; Some((fenced, should_shutdown)) when the controller answered.
async fn heartbeat(
    cluster: &ClusterService,
    state: &BrokerState,
    want_shutdown: bool,
) -> Option<(bool, bool)> {
    let request = ControllerRequest::BrokerHeartbeat {
        broker_id: cluster.node_id(),
        broker_epoch: state.epoch(),
        metadata_offset: state.applied_offset(),
        want_shutdown,
    };
    match cluster.request(request).await {
        ControllerReply::Heartbeat {
            is_fenced,
            should_shutdown,
            ..
        } => {
            state.set(state.epoch(), is_fenced);
            Some((is_fenced, should_shutdown))
        }
        ControllerReply::Refused { code, message } => {
            if code == ResponseError::StaleBrokerEpoch.code() {
                tracing::warn!("controller no longer knows this broker epoch: registering again");
                state.set(-1, true);
            } else {
                tracing::debug!(code, "heartbeat refused: {message}");
            }
            None
        }
        other => {
            tracing::warn!("unexpected answer to a heartbeat: {other:?}");
            None
        }
    }
}

/// Sleeps `wait`, or less if the process is asked to stop.
async fn pause(wait: Duration) {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && !crate::signals::shutdown_requested() {
        let step = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(crate::limits::SHUTDOWN_POLL_MS));
        glommio::timer::sleep(step).await;
    }
}

/// A new id per process start, so that the controller tells a restart from a second process
/// claiming the same node id.
fn incarnation_id() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    (u128::from(hasher.finish()) << 64) | (nanos as u64 as u128) | 1
}

/// The inter-broker listener first (other brokers connect to the first endpoint), then every
/// other client listener.
fn registered_endpoints(settings: &super::ClusterSettings) -> Vec<WireEndpoint> {
    let mut endpoints = vec![WireEndpoint {
        name: settings.inter_broker_listener.clone(),
        host: settings.advertised_host.clone(),
        port: settings.advertised_port,
        security_protocol: settings.inter_broker_protocol.clone(),
    }];
    endpoints.extend(
        settings
            .other_listeners
            .iter()
            .map(|(name, host, port, protocol)| WireEndpoint {
                name: name.clone(),
                host: host.clone(),
                port: *port,
                security_protocol: protocol.clone(),
            }),
    );
    endpoints
}

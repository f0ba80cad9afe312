//! This node's member of the controller quorum, on the controller shard: drives the Raft
//! quorum (ticks, messages, the Ready loop with its disk writes on a blocking thread), applies
//! committed metadata records to the image, and, while it is the Raft leader, runs the
//! controller: one command at a time, each answered once its records are committed.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::sync::Semaphore;
use sluice_controller::active::{ActiveGate, Gate, ProposalOutcome};
use sluice_controller::controller::{
    Controller, ControllerError, CreateTopic, ErrorKind, Heartbeat, Registration,
};
use sluice_controller::image::MetadataImage;
use sluice_controller::quorum::{DiskWrite, FileDisk, Quorum, RaftDisk, Role};
use sluice_controller::records::{Endpoint, RecordBatch};

use super::peers::Peers;
use super::settings::ClusterSettings;
use super::space_reserve::SpaceReserve;
use super::wire::{ControllerReply, ControllerRequest};
use crate::error_code::ResponseError;
use crate::limits::{CONTROLLER_REQUEST_MS_MAX, METADATA_SNAPSHOT_ENTRIES, RAFT_TICK_MS};
use crate::shard::context::ShardContext;
use crate::shard::notify::Notify;

/// Where to send the outcome of a proposal waiting for its entry: the committed offset, or
/// None when another entry took its index (or its fate is unknown).
type Pending = flume::Sender<Option<u64>>;

pub struct RaftNode {
    ctx: Rc<ShardContext>,
    settings: Rc<ClusterSettings>,
    quorum: RefCell<Quorum>,
    /// None while a blocking thread writes with it.
    disk: RefCell<Option<FileDisk>>,
    disk_dir: std::path::PathBuf,
    space_reserve: SpaceReserve,
    /// Serialises disk writes: Raft's appends must reach the disk in order.
    disk_lock: Semaphore,
    image: RefCell<Arc<MetadataImage>>,
    image_changed: Notify,
    /// Something for the Ready loop: a message, a proposal.
    wake: Notify,
    controller: RefCell<Controller>,
    /// When the controller may decide, and what became of its proposals.
    gate: RefCell<ActiveGate>,
    pending: RefCell<BTreeMap<u64, Pending>>,
    peers: Option<Rc<Peers>>,
    known_leader: Cell<Option<i32>>,
    elections: Cell<u64>,
    snapshot_offset: Cell<u64>,
    controller_ticking: Cell<bool>,
    /// When each peer was last heard from (ms since the epoch).
    peer_contact_ms: RefCell<BTreeMap<i32, u64>>,
}

/// The quorum as the leader sees it (Kafka's DescribeQuorum).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QuorumView {
    pub leader: i32,
    pub term: u64,
    pub commit_index: u64,
    pub voters: Vec<VoterView>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VoterView {
    pub node_id: i32,
    /// Highest metadata offset known to match the leader's log.
    pub matched_offset: u64,
    /// Last message from it (the leader's own: now).
    pub last_contact_ms: Option<u64>,
}

impl RaftNode {
    /// Opens the metadata log from the data dir and replays it into the image.
    pub fn open(
        ctx: Rc<ShardContext>,
        settings: Rc<ClusterSettings>,
        peers: Option<Rc<Peers>>,
    ) -> Result<Rc<RaftNode>, String> {
        let dir = settings.data_dir.join(super::METADATA_LOG_DIR);
        let space_reserve = SpaceReserve::allocate(&dir);
        let mut disk = FileDisk::open(&dir)
            .map_err(|err| format!("cannot open the metadata log in {}: {err}", dir.display()))?;
        let (quorum, recovered) = Quorum::open(settings.quorum_config(), &mut disk)
            .map_err(|err| format!("cannot open the metadata log in {}: {err}", dir.display()))?;
        let mut image = match &recovered.snapshot {
            Some(snapshot) => serde_json::from_slice::<MetadataImage>(&snapshot.data)
                .map_err(|err| format!("metadata snapshot is unreadable: {err}"))?,
            None => MetadataImage::default(),
        };
        let snapshot_offset = image.offset;
        for entry in &recovered.committed {
            apply_entry(&mut image, entry.index, &entry.data)?;
        }
        tracing::info!(
            offset = image.offset,
            topics = image.topics.len(),
            brokers = image.brokers.len(),
            "metadata log replayed"
        );
        let controller = Controller::new(settings.controller_config(), seed());
        Ok(Rc::new(RaftNode {
            ctx,
            settings,
            quorum: RefCell::new(quorum),
            disk: RefCell::new(Some(disk)),
            disk_dir: dir,
            space_reserve,
            disk_lock: Semaphore::new(1),
            image: RefCell::new(Arc::new(image)),
            image_changed: Notify::default(),
            wake: Notify::default(),
            controller: RefCell::new(controller),
            gate: RefCell::new(ActiveGate::new()),
            pending: RefCell::new(BTreeMap::new()),
            peers,
            known_leader: Cell::new(None),
            elections: Cell::new(0),
            snapshot_offset: Cell::new(snapshot_offset),
            controller_ticking: Cell::new(false),
            peer_contact_ms: RefCell::new(BTreeMap::new()),
        }))
    }

    pub fn settings(&self) -> &Rc<ClusterSettings> {
        &self.settings
    }

    pub fn image(&self) -> Arc<MetadataImage> {
        self.image.borrow().clone()
    }

    pub fn image_changed(&self) -> &Notify {
        &self.image_changed
    }

    /// The active controller as this node knows it.
    pub fn leader(&self) -> Option<i32> {
        self.known_leader.get()
    }

    pub fn is_leader(&self) -> bool {
        self.quorum.borrow().status().role == Role::Leader
    }

    pub fn elections(&self) -> u64 {
        self.elections.get()
    }

    pub fn status(&self) -> sluice_controller::quorum::QuorumStatus {
        self.quorum.borrow().status()
    }

    /// A Raft message from voter `from`.
    pub fn step(&self, from: i32, message: &[u8]) -> Result<(), String> {
        self.quorum
            .borrow_mut()
            .step(from, message)
            .map_err(|err| err.to_string())?;
        self.peer_contact_ms
            .borrow_mut()
            .insert(from, crate::util::now_ms() as u64);
        self.wake.notify();
        Ok(())
    }

    /// The quorum's state, on the leader only (None elsewhere: ask the leader).
    pub fn describe(&self) -> Option<QuorumView> {
        let quorum = self.quorum.borrow();
        let status = quorum.status();
        if status.role != Role::Leader {
            return None;
        }
        let now_ms = crate::util::now_ms() as u64;
        let contact = self.peer_contact_ms.borrow();
        let voters = quorum
            .progress()
            .into_iter()
            .map(|(node_id, matched_offset)| VoterView {
                node_id,
                matched_offset,
                last_contact_ms: if node_id == self.settings.node_id {
                    Some(now_ms)
                } else {
                    contact.get(&node_id).copied()
                },
            })
            .collect();
        Some(QuorumView {
            leader: self.settings.node_id,
            term: status.term,
            commit_index: status.commit_index,
            voters,
        })
    }

    /// Runs the quorum until the shard stops.
    pub async fn run(self: Rc<Self>) {
        if self.settings.voters.len() == 1 {
            // A single voter need not wait an election timeout to lead.
            if let Err(err) = self.quorum.borrow_mut().campaign() {
                tracing::warn!("cannot start an election: {err}");
            }
        }
        let tick = Duration::from_millis(RAFT_TICK_MS);
        let mut next_tick = Instant::now() + tick;
        while !self.ctx.is_stopping() {
            let generation = self.wake.generation();
            if let Err(err) = self.process_ready().await {
                tracing::error!("metadata log: {err}; stopping the broker");
                crate::signals::request_shutdown();
                return;
            }
            self.note_leadership();
            let now = Instant::now();
            if now >= next_tick {
                self.quorum.borrow_mut().tick();
                next_tick = now + tick;
                if self.is_leader() {
                    self.spawn_controller_tick();
                }
                continue;
            }
            let wait = next_tick - now;
            futures_lite::future::or(
                async {
                    self.wake.changed_since(generation).await;
                },
                async {
                    glommio::timer::sleep(wait).await;
                },
            )
            .await;
        }
    }

    async fn process_ready(&self) -> Result<(), String> {
        loop {
            let Some(mut ready) = self.quorum.borrow_mut().ready() else {
                return Ok(());
            };
            self.send(std::mem::take(&mut ready.messages));
            let write = std::mem::take(&mut ready.write);
            self.write_disk(write).await?;
            let applied = self.quorum.borrow_mut().persisted(ready);
            self.send(applied.messages);
            let mut image = (*self.image()).clone();
            let mut changed = false;
            if let Some(snapshot) = applied.snapshot {
                image = serde_json::from_slice(&snapshot.data)
                    .map_err(|err| format!("metadata snapshot from the leader: {err}"))?;
                self.snapshot_offset.set(image.offset);
                let outcome = self.gate.borrow_mut().snapshot_loaded(image.offset);
                self.answer(outcome);
                changed = true;
            }
            for entry in &applied.committed {
                if entry.index <= image.offset {
                    continue;
                }
                apply_entry(&mut image, entry.index, &entry.data)?;
                changed = true;
                let outcome = self.gate.borrow_mut().applied(entry.index, entry.term);
                self.answer(outcome);
            }
            if changed {
                let offset = image.offset;
                *self.image.borrow_mut() = Arc::new(image);
                self.image_changed.notify();
                if offset >= self.snapshot_offset.get() + METADATA_SNAPSHOT_ENTRIES {
                    self.snapshot(offset).await?;
                }
            }
        }
    }

    async fn snapshot(&self, offset: u64) -> Result<(), String> {
        let image = self.image();
        let data = serde_json::to_vec(&*image)
            .map_err(|err| format!("cannot encode a metadata snapshot: {err}"))?;
        let write = self
            .quorum
            .borrow_mut()
            .compact(offset, data)
            .map_err(|err| format!("cannot compact the metadata log: {err}"))?;
        self.write_disk(write).await?;
        self.snapshot_offset.set(offset);
        tracing::debug!(offset, "metadata snapshot written");
        Ok(())
    }

    /// Writes on a blocking thread (it fdatasyncs) while the shard goes on. A full device
    /// does not stop the node: the space reserve is released and the write retried, and
    /// while the device stays full the write is retried (metadata makes no progress here).
    async fn write_disk(&self, write: DiskWrite) -> Result<(), String> {
        let _permit = self
            .disk_lock
            .acquire_permit(1)
            .await
            .map_err(|err| err.to_string())?;
        let write = std::sync::Arc::new(write);
        let mut reported_full = false;
        loop {
            let Some(disk) = self.disk.borrow_mut().take() else {
                return Err("metadata log disk is missing".to_string());
            };
            let attempt = write.clone();
            let dir = self.disk_dir.clone();
            let (disk, result) = glommio::executor()
                .spawn_blocking(move || {
                    let mut disk = disk;
                    match disk.write(&attempt) {
                        Ok(()) => (disk, Ok(())),
                        // A failed write leaves the file as the crash would: reopening repairs
                        // its tail, and the retry writes the whole of it again.
                        Err(err) => {
                            let reopened = FileDisk::open(&dir).unwrap_or(disk);
                            (reopened, Err(err))
                        }
                    }
                })
                .await;
            *self.disk.borrow_mut() = Some(disk);
            let err = match result {
                Ok(()) => {
                    if reported_full {
                        tracing::info!("metadata log written again after the device was full");
                    }
                    return Ok(());
                }
                Err(err) => err,
            };
            if !is_no_space(&err) || self.ctx.is_stopping() {
                return Err(format!("cannot write the metadata log: {err}"));
            }
            if self.space_reserve.release() {
                tracing::warn!("data dir full: released the metadata log's space reserve");
                continue;
            }
            if !reported_full {
                tracing::error!("data dir full: metadata changes wait for free space: {err}");
                reported_full = true;
            }
            glommio::timer::sleep(Duration::from_millis(crate::limits::CONTROLLER_RETRY_MS)).await;
        }
    }

    fn send(&self, messages: Vec<sluice_controller::quorum::OutMessage>) {
        let Some(peers) = &self.peers else {
            return;
        };
        for message in messages {
            peers.send(message.to, message.bytes);
        }
    }

    /// Tells the waiter of a proposal what became of it.
    fn answer(&self, outcome: Option<ProposalOutcome>) {
        let Some(outcome) = outcome else {
            return;
        };
        let (index, committed) = match outcome {
            ProposalOutcome::Committed { index } => (index, Some(index)),
            ProposalOutcome::Lost { index } | ProposalOutcome::Unknown { index } => (index, None),
        };
        if let Some(done) = self.pending.borrow_mut().remove(&index) {
            let _ = done.send(committed);
        }
    }

    fn note_leadership(&self) {
        let status = self.quorum.borrow().status();
        if status.leader != self.known_leader.get() {
            if status.leader.is_some() {
                self.elections.set(self.elections.get() + 1);
            }
            tracing::info!(
                leader = ?status.leader,
                term = status.term,
                "controller quorum leader changed"
            );
            self.known_leader.set(status.leader);
        }
        let outcome = self.gate.borrow_mut().observe(&status);
        self.answer(outcome);
    }

    fn spawn_controller_tick(self: &Rc<Self>) {
        if self.controller_ticking.replace(true) {
            return;
        }
        let node = self.clone();
        glommio::spawn_local(async move {
            let _ = node
                .run_command(|controller, image, now_ms| {
                    Ok((
                        ControllerReply::Committed {
                            offset: image.offset,
                        },
                        controller.tick(image, now_ms),
                    ))
                })
                .await;
            node.controller_ticking.set(false);
        })
        .detach();
    }

    /// Runs a controller request here; only the active controller accepts them.
    pub async fn execute(self: &Rc<Self>, request: ControllerRequest) -> ControllerReply {
        match request {
            ControllerRequest::DescribeQuorum => match self.describe() {
                Some(view) => ControllerReply::Quorum(view),
                None => ControllerReply::NotController {
                    leader: self.known_leader.get(),
                },
            },
            ControllerRequest::RegisterBroker {
                broker_id,
                incarnation_id,
                endpoints,
                rack,
            } => {
                let registration = Registration {
                    broker_id,
                    incarnation_id,
                    endpoints: endpoints
                        .into_iter()
                        .map(|e| Endpoint {
                            name: e.name,
                            host: e.host,
                            port: e.port,
                            security_protocol: e.security_protocol,
                        })
                        .collect(),
                    rack,
                };
                self.run_command(move |controller, image, now_ms| {
                    let (broker_epoch, batch) = controller.register(image, registration, now_ms)?;
                    Ok((ControllerReply::Registered { broker_epoch }, batch))
                })
                .await
            }
            ControllerRequest::BrokerHeartbeat {
                broker_id,
                broker_epoch,
                metadata_offset,
                want_shutdown,
            } => {
                let heartbeat = Heartbeat {
                    broker_id,
                    broker_epoch,
                    metadata_offset,
                    want_shutdown,
                };
                self.run_command(move |controller, image, now_ms| {
                    let (reply, batch) = controller.heartbeat(image, heartbeat, now_ms)?;
                    Ok((
                        ControllerReply::Heartbeat {
                            is_caught_up: reply.is_caught_up,
                            is_fenced: reply.is_fenced,
                            should_shutdown: reply.should_shutdown,
                        },
                        batch,
                    ))
                })
                .await
            }
            ControllerRequest::CreateTopic {
                name,
                partitions,
                replication_factor,
                assignments,
                configs,
                validate_only,
                internal,
            } => {
                let command = CreateTopic {
                    name,
                    partitions,
                    replication_factor,
                    assignments,
                    configs,
                    validate_only,
                    internal,
                };
                self.run_command(move |controller, image, _| {
                    let batch = controller.create_topic(image, command)?;
                    Ok((
                        ControllerReply::Committed {
                            offset: image.offset,
                        },
                        batch,
                    ))
                })
                .await
            }
            ControllerRequest::DeleteTopic { name } => {
                self.run_command(move |controller, image, _| {
                    let batch = controller.delete_topic(image, &name)?;
                    Ok((
                        ControllerReply::Committed {
                            offset: image.offset,
                        },
                        batch,
                    ))
                })
                .await
            }
            ControllerRequest::CreatePartitions {
                name,
                count,
                validate_only,
            } => {
                self.run_command(move |controller, image, _| {
                    let batch =
                        controller.create_partitions(image, &name, count, None, validate_only)?;
                    Ok((
                        ControllerReply::Committed {
                            offset: image.offset,
                        },
                        batch,
                    ))
                })
                .await
            }
            ControllerRequest::AllocateProducerIds {
                broker_id,
                broker_epoch,
            } => {
                self.run_command(move |controller, image, _| {
                    let (block, batch) =
                        controller.allocate_producer_ids(image, broker_id, broker_epoch)?;
                    Ok((
                        ControllerReply::ProducerIds {
                            first_producer_id: block.first_producer_id,
                            size: block.size,
                        },
                        batch,
                    ))
                })
                .await
            }
            ControllerRequest::AlterPartition { .. }
            | ControllerRequest::AlterPartitionReassignments { .. }
            | ControllerRequest::ListPartitionReassignments { .. } => {
                super::partition_commands::execute(self, request).await
            }
            ControllerRequest::AlterUserScramCredentials { .. }
            | ControllerRequest::CreateAcls { .. }
            | ControllerRequest::DeleteAcls { .. } => {
                super::security_commands::execute(self, request).await
            }
            ControllerRequest::SetTopicConfigs {
                name,
                configs,
                validate_only,
            } => {
                self.run_command(move |controller, image, _| {
                    let batch =
                        controller.set_topic_configs(image, &name, configs, validate_only)?;
                    Ok((
                        ControllerReply::Committed {
                            offset: image.offset,
                        },
                        batch,
                    ))
                })
                .await
            }
        }
    }

    /// One controller decision: computed on the current image once the gate opens, proposed,
    /// answered once committed (a reply that carries an offset gets the offset of its records:
    /// [`ControllerReply::committed_at`]).
    pub(super) async fn run_command<F>(self: &Rc<Self>, decide: F) -> ControllerReply
    where
        F: FnOnce(
            &mut Controller,
            &MetadataImage,
            u64,
        ) -> Result<(ControllerReply, RecordBatch), ControllerError>,
    {
        let deadline = Instant::now() + Duration::from_millis(CONTROLLER_REQUEST_MS_MAX);
        let not_controller = |leader| ControllerReply::NotController { leader };
        loop {
            self.note_leadership();
            let image = self.image();
            let status = self.quorum.borrow().status();
            let gate = self.gate.borrow().may_decide(&status, image.offset);
            match gate {
                Gate::NotLeader { leader } => return not_controller(leader),
                Gate::CatchingUp { .. } | Gate::Busy { .. } => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || self.ctx.is_stopping() {
                        return not_controller(self.known_leader.get());
                    }
                    let generation = self.image_changed.generation();
                    futures_lite::future::or(self.image_changed.changed_since(generation), async {
                        glommio::timer::sleep(left.min(Duration::from_millis(RAFT_TICK_MS))).await;
                    })
                    .await;
                }
                Gate::Open { activate } => {
                    return self
                        .decide_and_propose(decide, &image, activate, deadline)
                        .await;
                }
            }
        }
    }

    /// The open gate's part: no await from the decision to the proposal, so no other decision
    /// slips in between.
    async fn decide_and_propose<F>(
        self: &Rc<Self>,
        decide: F,
        image: &MetadataImage,
        activate: bool,
        deadline: Instant,
    ) -> ControllerReply
    where
        F: FnOnce(
            &mut Controller,
            &MetadataImage,
            u64,
        ) -> Result<(ControllerReply, RecordBatch), ControllerError>,
    {
        let now_ms = crate::util::now_ms() as u64;
        if activate {
            self.controller.borrow_mut().activate(image, now_ms);
            self.gate.borrow_mut().activated();
        }
        let decided = decide(&mut self.controller.borrow_mut(), image, now_ms);
        let (reply, batch) = match decided {
            Ok(decided) => decided,
            Err(err) => return refused(err),
        };
        if batch.records.is_empty() {
            return reply;
        }
        let data = match batch.encode() {
            Ok(data) => data,
            Err(err) => {
                return ControllerReply::Refused {
                    code: ResponseError::InvalidRequest.code(),
                    message: err.to_string(),
                }
            }
        };
        let proposed = self.quorum.borrow_mut().propose(data);
        let (index, term) = match proposed {
            Ok(proposed) => proposed,
            Err(_) => {
                return ControllerReply::NotController {
                    leader: self.known_leader.get(),
                }
            }
        };
        self.gate.borrow_mut().proposed(index, term);
        let (done, outcome) = flume::bounded(1);
        self.pending.borrow_mut().insert(index, done);
        self.wake.notify();
        let left = deadline.saturating_duration_since(Instant::now());
        let committed =
            futures_lite::future::or(async { outcome.recv_async().await.ok().flatten() }, async {
                glommio::timer::sleep(left).await;
                None
            })
            .await;
        // On a timeout the gate stays busy until the index is applied: the proposal may
        // still commit, and the next decision must see it.
        self.pending.borrow_mut().remove(&index);
        match committed {
            Some(offset) => reply.committed_at(offset),
            None => ControllerReply::NotController {
                leader: self.known_leader.get(),
            },
        }
    }
}

/// A refusal with its Kafka error code. NOT_CONTROLLER (the request is ahead of this
/// controller's image, so it is likely deposed) is answered as a redirect, which the sender
/// retries until a controller answers.
pub(super) fn refused(err: ControllerError) -> ControllerReply {
    if err.kind == ErrorKind::NotController {
        tracing::info!("refused as no longer the controller: {}", err.message);
        return ControllerReply::NotController { leader: None };
    }
    let code = match err.kind {
        ErrorKind::TopicAlreadyExists => ResponseError::TopicAlreadyExists,
        ErrorKind::InvalidTopic => ResponseError::InvalidTopicException,
        ErrorKind::InvalidPartitions => ResponseError::InvalidPartitions,
        ErrorKind::InvalidReplicationFactor => ResponseError::InvalidReplicationFactor,
        ErrorKind::InvalidReplicaAssignment => ResponseError::InvalidReplicaAssignment,
        ErrorKind::UnknownTopicOrPartition => ResponseError::UnknownTopicOrPartition,
        ErrorKind::StaleBrokerEpoch => ResponseError::StaleBrokerEpoch,
        ErrorKind::DuplicateBrokerRegistration => ResponseError::DuplicateBrokerRegistration,
        ErrorKind::BrokerNotAvailable => ResponseError::BrokerNotAvailable,
        ErrorKind::InvalidRequest => ResponseError::InvalidRequest,
        ErrorKind::UnknownServerError => ResponseError::UnknownServerError,
        ErrorKind::NotLeaderOrFollower => ResponseError::NotLeaderOrFollower,
        ErrorKind::FencedLeaderEpoch => ResponseError::FencedLeaderEpoch,
        ErrorKind::InvalidUpdateVersion => ResponseError::InvalidUpdateVersion,
        ErrorKind::IneligibleReplica => ResponseError::IneligibleReplica,
        ErrorKind::NotController => ResponseError::NotController,
        ErrorKind::NoReassignmentInProgress => ResponseError::NoReassignmentInProgress,
        ErrorKind::ResourceNotFound => ResponseError::ResourceNotFound,
        ErrorKind::DuplicateResource => ResponseError::DuplicateResource,
        ErrorKind::UnacceptableCredential => ResponseError::UnacceptableCredential,
        ErrorKind::UnsupportedSaslMechanism => ResponseError::UnsupportedSaslMechanism,
    };
    ControllerReply::Refused {
        code: code.code(),
        message: err.message,
    }
}

fn is_no_space(err: &sluice_controller::quorum::DiskError) -> bool {
    matches!(err, sluice_controller::quorum::DiskError::Io { source, .. }
        if matches!(source.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)))
}

/// Applies one committed entry; an empty one is Raft's own (a new leader's first entry).
/// An entry that cannot be applied is skipped (the image only takes its offset): every node
/// reads the same log and decides the same, so they stay identical, and the one error line
/// says what was skipped. An unreadable entry (a record type this version does not know)
/// stops the node instead: skipping it could diverge from newer nodes that apply it.
fn apply_entry(image: &mut MetadataImage, index: u64, data: &[u8]) -> Result<(), String> {
    let batch = if data.is_empty() {
        RecordBatch::default()
    } else {
        RecordBatch::decode(data)
            .map_err(|err| format!("metadata log entry {index} is unreadable: {err}"))?
    };
    if let Err(err) = image.apply(index, &batch) {
        tracing::error!(
            index,
            "skipping a metadata log entry that cannot be applied: {err}"
        );
        image
            .apply(index, &RecordBatch::default())
            .map_err(|err| format!("metadata log entry {index}: {err}"))?;
    }
    Ok(())
}

/// A seed for the controller's placement choices: differs per process, so that leaders of
/// new topics start at different brokers.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

//! One simulated voter as the server runs it: its durable `MemDisk`, its `Quorum` while it
//! runs, the disk writes queued behind one another, its `MetadataImage` (snapshots are the
//! image's JSON, as the server's), and the active-controller gate with the `Controller` that
//! decides when the gate is open.

use std::collections::{BTreeMap, VecDeque};

use sluice_controller::active::{ActiveGate, Gate, ProposalOutcome};
use sluice_controller::controller::{
    Controller, ControllerConfig, CreateTopic, ErrorKind, HeartbeatReply, Registration,
};
use sluice_controller::image::MetadataImage;
use sluice_controller::quorum::{
    DiskWrite, MemDisk, Quorum, QuorumConfig, QuorumError, Ready, SnapshotData,
};
use sluice_controller::records::{Endpoint, RecordBatch};

use super::checker::Expectation;
use super::clients::Command;

/// One write in the node's disk queue, applied in order.
pub enum DiskJob {
    Ready(Ready),
    Compaction(DiskWrite),
}

impl DiskJob {
    pub fn write(&self) -> &DiskWrite {
        match self {
            DiskJob::Ready(ready) => &ready.write,
            DiskJob::Compaction(write) => write,
        }
    }
}

/// The answer a decision gives its client, as the image will be once its records apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Registered {
        broker_epoch: i64,
    },
    Heartbeat(HeartbeatReply),
    Done,
    /// An AlterPartition's answer (its ISR is in the expectation).
    Isr {
        leader_epoch: i32,
        partition_epoch: i32,
    },
}

/// What the node did with a command.
pub enum Decision {
    NotLeader {
        leader: Option<i32>,
    },
    /// The gate is closed for now (catching up, or a decision in flight): ask again later.
    Wait,
    Refused {
        kind: ErrorKind,
    },
    /// Decided with nothing to propose: answered at once.
    Answered(Reply),
    Proposed {
        index: u64,
        term: u64,
    },
}

/// A decision in flight, waiting for its index to be applied.
pub struct Pending {
    /// The client and its request number, `None` for the controller's own tick.
    pub client: Option<(usize, u64)>,
    pub reply: Reply,
    pub expectation: Option<Expectation>,
}

/// The controller's settings in the simulation: short sessions, so that brokers the chaos
/// keeps away get fenced.
pub fn controller_config() -> ControllerConfig {
    ControllerConfig {
        session_timeout_ms: 3_000,
        default_partitions: 1,
        default_replication_factor: 1,
        partitions_per_topic_max: 8,
        unclean_leader_election_enable: false,
        auto_leader_rebalance_enable: true,
        leader_imbalance_check_interval_ms: 2_000,
    }
}

pub struct Voter {
    pub id: i32,
    pub config: QuorumConfig,
    pub disk: MemDisk,
    /// `None` while crashed.
    pub quorum: Option<Quorum>,
    /// Bumped at each crash, so that a disk completion of an earlier life is ignored.
    pub incarnation: u64,
    pub disk_queue: VecDeque<DiskJob>,
    /// A completion of the queue's front is scheduled.
    pub disk_busy: bool,
    pub image: MetadataImage,
    /// Image offset of the last compaction in this life.
    pub compacted_offset: u64,
    pub gate: ActiveGate,
    pub controller: Controller,
    /// The decision in flight, by index (the gate allows one).
    pub pending: BTreeMap<u64, Pending>,
}

impl Voter {
    /// `controller_seed`: drawn from the run's generator, not derived from the node id: the
    /// controller's SplitMix64 streams of seeds a fixed stride apart are shifted copies of
    /// one another, and would hand out the same topic ids.
    pub fn new(id: i32, config: QuorumConfig, controller_seed: u64) -> Voter {
        Voter {
            id,
            config,
            disk: MemDisk::new(),
            quorum: None,
            incarnation: 0,
            disk_queue: VecDeque::new(),
            disk_busy: false,
            image: MetadataImage::default(),
            compacted_offset: 0,
            gate: ActiveGate::new(),
            controller: Controller::new(controller_config(), controller_seed),
            pending: BTreeMap::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.quorum.is_some()
    }

    /// Forgets everything volatile: what a crash leaves is the disk. The next life's
    /// controller draws from `controller_seed`.
    pub fn crash(&mut self, controller_seed: u64) {
        self.quorum = None;
        self.incarnation += 1;
        self.disk_queue.clear();
        self.disk_busy = false;
        self.image = MetadataImage::default();
        self.gate = ActiveGate::new();
        self.pending.clear();
        self.controller = Controller::new(controller_config(), controller_seed);
    }

    /// Loads a snapshot's image (the JSON the server writes).
    pub fn load_snapshot(snapshot: &SnapshotData) -> Result<MetadataImage, String> {
        let image: MetadataImage = serde_json::from_slice(&snapshot.data)
            .map_err(|error| format!("snapshot at {} unreadable: {error}", snapshot.index))?;
        if image.offset != snapshot.index {
            return Err(format!(
                "snapshot at {} holds an image at offset {}",
                snapshot.index, image.offset
            ));
        }
        Ok(image)
    }

    /// Runs `command` if the gate lets the controller decide now.
    pub fn decide(&mut self, command: &Command, now_ms: u64) -> Result<Decision, String> {
        let Some(quorum) = self.quorum.as_mut() else {
            return Ok(Decision::NotLeader { leader: None });
        };
        let status = quorum.status();
        match self.gate.may_decide(&status, self.image.offset) {
            Gate::NotLeader { leader } => return Ok(Decision::NotLeader { leader }),
            Gate::CatchingUp { .. } | Gate::Busy { .. } => return Ok(Decision::Wait),
            Gate::Open { activate } => {
                if activate {
                    self.controller.activate(&self.image, now_ms);
                    self.gate.activated();
                }
            }
        }
        let (reply, batch) = match run(&mut self.controller, &self.image, command, now_ms) {
            Ok(decided) => decided,
            Err(kind) => return Ok(Decision::Refused { kind }),
        };
        if batch.records.is_empty() {
            return Ok(Decision::Answered(reply));
        }
        let expectation = Expectation::of(command, reply, &batch, &self.image);
        let data = batch
            .encode()
            .map_err(|error| format!("node {}: batch does not encode: {error}", self.id))?;
        match quorum.propose(data) {
            Ok((index, term)) => {
                self.gate.proposed(index, term);
                let pending = Pending {
                    client: None,
                    reply,
                    expectation,
                };
                assert!(self.pending.insert(index, pending).is_none());
                Ok(Decision::Proposed { index, term })
            }
            Err(QuorumError::NotLeader { leader }) => Ok(Decision::NotLeader { leader }),
            Err(QuorumError::ProposalDropped) => Ok(Decision::Wait),
            Err(error) => Err(format!("node {}: proposal failed: {error}", self.id)),
        }
    }

    /// The pending decision an outcome resolves.
    pub fn resolve(&mut self, outcome: ProposalOutcome) -> Option<Pending> {
        let index = match outcome {
            ProposalOutcome::Committed { index }
            | ProposalOutcome::Lost { index }
            | ProposalOutcome::Unknown { index } => index,
        };
        let pending = self.pending.remove(&index);
        assert!(pending.is_some(), "an outcome for no pending decision");
        pending
    }
}

/// The controller's call for one command, as `raft_node.rs` makes it.
fn run(
    controller: &mut Controller,
    image: &MetadataImage,
    command: &Command,
    now_ms: u64,
) -> Result<(Reply, RecordBatch), ErrorKind> {
    let refused = |error: sluice_controller::controller::ControllerError| error.kind;
    match command {
        Command::Tick => Ok((Reply::Done, controller.tick(image, now_ms))),
        Command::Register {
            broker_id,
            incarnation_id,
        } => {
            let registration = Registration {
                broker_id: *broker_id,
                incarnation_id: *incarnation_id,
                endpoints: vec![Endpoint {
                    name: "PLAINTEXT".into(),
                    host: format!("broker-{broker_id}"),
                    port: 9092,
                    security_protocol: "PLAINTEXT".into(),
                }],
                rack: None,
            };
            let (broker_epoch, batch) = controller
                .register(image, registration, now_ms)
                .map_err(refused)?;
            Ok((Reply::Registered { broker_epoch }, batch))
        }
        Command::Heartbeat(heartbeat) => {
            let (reply, batch) = controller
                .heartbeat(image, *heartbeat, now_ms)
                .map_err(refused)?;
            Ok((Reply::Heartbeat(reply), batch))
        }
        Command::CreateTopic {
            name,
            partitions,
            replication_factor,
        } => {
            let command = CreateTopic {
                name: name.clone(),
                partitions: *partitions,
                replication_factor: *replication_factor,
                assignments: None,
                configs: BTreeMap::new(),
                validate_only: false,
                internal: false,
            };
            let batch = controller.create_topic(image, command).map_err(refused)?;
            Ok((Reply::Done, batch))
        }
        Command::DeleteTopic { name } => {
            let batch = controller.delete_topic(image, name).map_err(refused)?;
            Ok((Reply::Done, batch))
        }
        Command::CreatePartitions { name, count } => {
            let batch = controller
                .create_partitions(image, name, *count, None, false)
                .map_err(refused)?;
            Ok((Reply::Done, batch))
        }
        Command::SetConfigs { name, configs } => {
            let batch = controller
                .set_topic_configs(image, name, configs.clone(), false)
                .map_err(refused)?;
            Ok((Reply::Done, batch))
        }
        Command::AlterPartition(alter) => {
            let (batch, reply) = controller
                .alter_partition(image, now_ms, alter.clone())
                .map_err(refused)?;
            let reply = Reply::Isr {
                leader_epoch: reply.leader_epoch,
                partition_epoch: reply.partition_epoch,
            };
            Ok((reply, batch))
        }
        Command::Reassign(entry) => {
            let (batch, mut results) = controller
                .alter_partition_reassignments(image, std::slice::from_ref(entry))
                .map_err(refused)?;
            assert_eq!(results.len(), 1);
            results.remove(0).map_err(refused)?;
            Ok((Reply::Done, batch))
        }
    }
}

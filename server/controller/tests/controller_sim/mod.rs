//! A deterministic simulation of the controller on top of the metadata quorum: N voters in
//! one process, each applying committed entries to its own `MetadataImage` and, while it
//! leads, running the active-controller gate and the `Controller` for simulated brokers and
//! admins. One seeded scheduler delays, reorders, drops and duplicates the voters' messages,
//! splits the network, crashes voters (sometimes in the middle of a disk write) and restarts
//! them from their `MemDisk`, restarts and pauses brokers; simulated time runs, so broker
//! sessions expire and brokers get fenced. After a chaos phase everything heals and the
//! cluster must make progress within a bound. `checker.rs` lists what is checked after every
//! event.
//!
//! Everything random comes from the seed (the quorum's election timeouts and the
//! controllers' placement too), and there is no clock but the scheduler's: a seed replays
//! exactly.

pub mod checker;
pub mod clients;
#[path = "../simulation/random.rs"]
pub mod random;
pub mod voter;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use sluice_controller::active::ProposalOutcome;
use sluice_controller::controller::ErrorKind;
use sluice_controller::image::MetadataImage;
use sluice_controller::quorum::{
    Committed, OutMessage, Quorum, QuorumConfig, RaftDisk, Role, TornWrite, ELECTION_TICKS_DEFAULT,
    HEARTBEAT_TICKS_DEFAULT,
};
use sluice_controller::records::RecordBatch;

use checker::Checker;
use clients::{fresh_incarnation, Broker, Client, Command, Outstanding};
use random::Random;
use voter::{Decision, DiskJob, Reply, Voter};

/// Simulated time is counted in units of 10 ms; the quorum ticks every 100 ms.
const UNIT_MS: u64 = 10;
const TICK_UNITS: u64 = 10;
/// A message takes 1 to this many units (so messages overtake one another).
const MESSAGE_DELAY_UNITS_MAX: u64 = 20;
/// A disk write takes 1 to this many units.
const DISK_DELAY_UNITS_MAX: u64 = 4;
/// How long faults are injected: 20 s, several broker session timeouts (3 s).
const CHAOS_UNITS: u64 = 2_000;
/// After the heal, the bound within which a command sent after it must commit and the
/// cluster settle: 40 election timeouts.
const LIVENESS_UNITS_MAX: u64 = 40 * ELECTION_TICKS_DEFAULT as u64 * TICK_UNITS;
/// How often a fault may strike during the chaos phase.
const FAULT_INTERVAL_UNITS: u64 = 60;
/// Events of one run; a run that needs more is a failure (it did not settle).
const EVENTS_MAX: u64 = 400_000;
/// Readies taken from one node in one go.
const READY_ROUNDS_MAX: usize = 64;
/// Every voter snapshots its image every this many offsets, small so that snapshots get
/// sent and installed often.
const COMPACT_EVERY_OFFSETS: u64 = 10;
/// Events kept for the failure report.
const TRACE_LINES_MAX: usize = 100;
/// Brokers and admins.
const BROKERS: usize = 4;
const ADMINS: usize = 2;
const _: () = assert!(BROKERS == clients::BROKERS_MAX);
/// A client gives up on a request after this long (the server's request deadline) and sends
/// it again elsewhere.
const REQUEST_UNITS_MAX: u64 = 300;
/// A broker heartbeats every 50 units (500 ms), a sixth of its session timeout.
const BROKER_HEARTBEAT_UNITS: u64 = 50;
/// A client that was told to wait or redirected asks again after up to this long.
const RETRY_UNITS_MAX: u64 = 8;

enum Event {
    Tick(usize),
    Deliver { from: i32, to: i32, bytes: Vec<u8> },
    DiskDone { node: usize, incarnation: u64 },
    Client { client: usize, generation: u64 },
    Fault,
    Restart(usize),
    Heal,
    EndChaos,
}

struct Scheduled {
    time: u64,
    sequence: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.sequence) == (other.time, other.sequence)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.sequence).cmp(&(other.time, other.sequence))
    }
}

/// What one run did, for the totals.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub events: u64,
    pub offset_max: u64,
    pub elections: u64,
    pub crashes: u64,
    pub partitions: u64,
    pub snapshots_installed: u64,
    pub acknowledged: u64,
    pub lost_proposals: u64,
    pub topics_created: u64,
    pub registrations: u64,
    pub fencings: u64,
    pub broker_faults: u64,
    /// Entries that changed an ISR by AlterPartition, completed a reassignment, or elected a
    /// leader uncleanly.
    pub isr_changes: u64,
    pub reassignments_completed: u64,
    pub unclean_elections: u64,
}

struct Simulation {
    random: Random,
    now: u64,
    sequence: u64,
    events: BinaryHeap<Reverse<Scheduled>>,
    nodes: Vec<Voter>,
    clients: Vec<Client>,
    /// The side of the split each node is on, while the network is split.
    sides: Option<Vec<bool>>,
    drop_per_mille: u64,
    duplicate_per_mille: u64,
    checker: Checker,
    trace: VecDeque<String>,
    trace_live: bool,
    /// Time of the heal; `None` during the chaos phase.
    healed_at: Option<u64>,
    /// A command sent after the heal committed.
    progress_after_heal: bool,
    /// (node, term) of the last leadership noted, for the trace and the count.
    leader_noted: Vec<Option<u64>>,
    summary: RunSummary,
}

/// Runs one seed with `voters` voters; `Err` holds the report of the first broken property.
pub fn run(voters: usize, seed: u64, trace_live: bool) -> Result<RunSummary, String> {
    let mut simulation = Simulation::new(voters, seed, trace_live);
    match simulation.run() {
        Ok(()) => Ok(simulation.summary),
        Err(failure) => Err(simulation.report(seed, voters, &failure)),
    }
}

impl Simulation {
    fn new(voters: usize, seed: u64, trace_live: bool) -> Simulation {
        let mut random = Random::new(seed);
        let voter_ids: Vec<i32> = (0..voters as i32).collect();
        let nodes = voter_ids
            .iter()
            .map(|id| {
                let config = QuorumConfig {
                    node_id: *id,
                    voters: voter_ids.clone(),
                    election_ticks: ELECTION_TICKS_DEFAULT,
                    heartbeat_ticks: HEARTBEAT_TICKS_DEFAULT,
                    election_seed: seed,
                };
                Voter::new(*id, config, random.next_u64())
            })
            .collect();
        let mut clients = Vec::new();
        for broker_id in 0..BROKERS {
            let broker = Broker {
                broker_id: broker_id as i32,
                home: broker_id % voters,
                incarnation_id: fresh_incarnation(&mut random),
                broker_epoch: None,
                paused_until: 0,
                stopping: false,
                registered: None,
                metadata_offset: 0,
            };
            clients.push(Client::new(clients::Role::Broker(broker)));
        }
        for _ in 0..ADMINS {
            clients.push(Client::new(clients::Role::Admin));
        }
        let drop_per_mille = random.range(50, 201);
        let duplicate_per_mille = random.range(0, 51);
        Simulation {
            random,
            now: 0,
            sequence: 0,
            events: BinaryHeap::new(),
            nodes,
            clients,
            sides: None,
            drop_per_mille,
            duplicate_per_mille,
            checker: Checker::default(),
            trace: VecDeque::new(),
            trace_live,
            healed_at: None,
            progress_after_heal: false,
            leader_noted: vec![None; voters],
            summary: RunSummary::default(),
        }
    }

    fn schedule(&mut self, delay_units: u64, event: Event) {
        self.sequence += 1;
        let scheduled = Scheduled {
            time: self.now + delay_units,
            sequence: self.sequence,
            event,
        };
        self.events.push(Reverse(scheduled));
    }

    fn note(&mut self, line: String) {
        if self.trace_live {
            eprintln!("{:>6} {line}", self.now);
        }
        if self.trace.len() == TRACE_LINES_MAX {
            self.trace.pop_front();
        }
        self.trace.push_back(format!("{:>6} {line}", self.now));
    }

    fn run(&mut self) -> Result<(), String> {
        self.note(format!(
            "drop {}‰, duplicate {}‰",
            self.drop_per_mille, self.duplicate_per_mille
        ));
        for node in 0..self.nodes.len() {
            self.restart(node)?;
            let phase = self.random.range(0, TICK_UNITS);
            self.schedule(phase, Event::Tick(node));
        }
        for client in 0..self.clients.len() {
            let delay = self.random.range(1, BROKER_HEARTBEAT_UNITS);
            self.wake_client(client, delay);
        }
        self.schedule(FAULT_INTERVAL_UNITS, Event::Fault);
        self.schedule(CHAOS_UNITS, Event::EndChaos);
        for _ in 0..EVENTS_MAX {
            let Some(Reverse(scheduled)) = self.events.pop() else {
                return Err("no events left".into());
            };
            assert!(scheduled.time >= self.now);
            self.now = scheduled.time;
            self.summary.events += 1;
            self.handle(scheduled.event)?;
            if let Some(healed_time) = self.healed_at {
                if self.settled() {
                    self.summary.offset_max = self.checker.offset_max();
                    self.summary.acknowledged = self.checker.acknowledged() as u64;
                    self.summary.topics_created = self.checker.topics_created() as u64;
                    self.summary.registrations = self.checker.registrations() as u64;
                    self.summary.fencings = self.checker.fencings() as u64;
                    let (isr, completed, unclean) = self.checker.partition_changes();
                    self.summary.isr_changes = isr;
                    self.summary.reassignments_completed = completed;
                    self.summary.unclean_elections = unclean;
                    return Ok(());
                }
                if self.now > healed_time + LIVENESS_UNITS_MAX {
                    return Err(format!(
                        "no progress within {LIVENESS_UNITS_MAX} units after the heal \
                         (a command committed after it: {})",
                        self.progress_after_heal
                    ));
                }
            }
        }
        Err(format!("still running after {EVENTS_MAX} events"))
    }

    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Tick(node) => {
                self.schedule(TICK_UNITS, Event::Tick(node));
                if let Some(quorum) = self.nodes[node].quorum.as_mut() {
                    quorum.tick();
                    self.pump(node)?;
                    self.controller_tick(node)?;
                }
            }
            Event::Deliver { from, to, bytes } => self.deliver(from, to, &bytes)?,
            Event::DiskDone { node, incarnation } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].is_up() {
                    self.disk_done(node)?;
                }
            }
            Event::Client { client, generation } => {
                if self.clients[client].wake_generation == generation {
                    self.client_acts(client)?;
                }
            }
            Event::Fault => self.fault()?,
            Event::Restart(node) => {
                if !self.nodes[node].is_up() {
                    self.restart(node)?;
                }
            }
            Event::Heal => {
                if self.sides.take().is_some() {
                    self.note("network heals".into());
                }
            }
            Event::EndChaos => self.end_chaos()?,
        }
        Ok(())
    }

    fn end_chaos(&mut self) -> Result<(), String> {
        self.note("chaos ends: heal, restart all, no more drops, brokers resume".into());
        self.sides = None;
        self.drop_per_mille = 0;
        self.duplicate_per_mille = 0;
        for node in 0..self.nodes.len() {
            if !self.nodes[node].is_up() {
                self.restart(node)?;
            }
        }
        for client in &mut self.clients {
            if let clients::Role::Broker(broker) = &mut client.role {
                broker.paused_until = 0;
            }
        }
        for client in 0..self.clients.len() {
            if self.clients[client].outstanding.is_none() {
                self.wake_client(client, 1);
            }
        }
        self.healed_at = Some(self.now);
        Ok(())
    }

    /// Takes every ready of `node`: its messages go out, its write joins the disk queue.
    /// Then the gate sees the role the quorum calls may have changed.
    fn pump(&mut self, node: usize) -> Result<(), String> {
        for _ in 0..READY_ROUNDS_MAX {
            let Some(quorum) = self.nodes[node].quorum.as_mut() else {
                return Ok(());
            };
            let Some(mut ready) = quorum.ready() else {
                break;
            };
            let messages = std::mem::take(&mut ready.messages);
            self.send(self.nodes[node].id, messages);
            self.enqueue_disk_job(node, DiskJob::Ready(ready));
        }
        self.observe_role(node)
    }

    fn observe_role(&mut self, node: usize) -> Result<(), String> {
        let Some(quorum) = self.nodes[node].quorum.as_ref() else {
            return Ok(());
        };
        let status = quorum.status();
        if let Some(outcome) = self.nodes[node].gate.observe(&status) {
            self.resolve(node, outcome)?;
        }
        let leading = (status.role == Role::Leader).then_some(status.term);
        if leading.is_some() && leading != self.leader_noted[node] {
            self.summary.elections += 1;
            self.note(format!(
                "node {node} leads term {} (log ends at {}, image at {})",
                status.term, status.last_index, self.nodes[node].image.offset
            ));
        }
        self.leader_noted[node] = leading;
        Ok(())
    }

    fn enqueue_disk_job(&mut self, node: usize, job: DiskJob) {
        self.nodes[node].disk_queue.push_back(job);
        self.schedule_disk(node);
    }

    /// The disk works on one job at a time: at most one completion is pending per node.
    fn schedule_disk(&mut self, node: usize) {
        if self.nodes[node].disk_busy || self.nodes[node].disk_queue.is_empty() {
            return;
        }
        self.nodes[node].disk_busy = true;
        let delay = self.random.range(1, DISK_DELAY_UNITS_MAX + 1);
        let incarnation = self.nodes[node].incarnation;
        self.schedule(delay, Event::DiskDone { node, incarnation });
    }

    fn send(&mut self, from: i32, messages: Vec<OutMessage>) {
        for message in messages {
            if self.random.chance(self.drop_per_mille) {
                continue;
            }
            let copies = if self.random.chance(self.duplicate_per_mille) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let delay = self.random.range(1, MESSAGE_DELAY_UNITS_MAX + 1);
                let bytes = message.bytes.clone();
                self.schedule(
                    delay,
                    Event::Deliver {
                        from,
                        to: message.to,
                        bytes,
                    },
                );
            }
        }
    }

    fn deliver(&mut self, from: i32, to: i32, bytes: &[u8]) -> Result<(), String> {
        if let Some(sides) = &self.sides {
            if sides[from as usize] != sides[to as usize] {
                return Ok(());
            }
        }
        let node = to as usize;
        let Some(quorum) = self.nodes[node].quorum.as_mut() else {
            return Ok(());
        };
        quorum
            .step(from, bytes)
            .map_err(|error| format!("node {to} refused a message: {error}"))?;
        self.pump(node)
    }

    /// The front of `node`'s disk queue lands; what it released is sent and applied.
    fn disk_done(&mut self, node: usize) -> Result<(), String> {
        self.nodes[node].disk_busy = false;
        let Some(job) = self.nodes[node].disk_queue.pop_front() else {
            return Err(format!("node {node}: disk completion with an empty queue"));
        };
        let id = self.nodes[node].id;
        self.nodes[node]
            .disk
            .write(job.write())
            .map_err(|error| format!("node {id}: disk write refused: {error}"))?;
        if let DiskJob::Ready(ready) = job {
            let Some(quorum) = self.nodes[node].quorum.as_mut() else {
                return Err(format!("node {id}: disk completion while down"));
            };
            let applied = quorum.persisted(ready);
            self.send(id, applied.messages);
            if let Some(snapshot) = &applied.snapshot {
                self.summary.snapshots_installed += 1;
                let image = Voter::load_snapshot(snapshot)?;
                self.note(format!(
                    "node {id} installs the snapshot at {}",
                    image.offset
                ));
                self.checker.observe_image(id, &image, false)?;
                self.nodes[node].compacted_offset = image.offset;
                self.nodes[node].image = image;
                if let Some(outcome) = self.nodes[node].gate.snapshot_loaded(snapshot.index) {
                    self.resolve(node, outcome)?;
                }
            }
            for committed in &applied.committed {
                self.apply(node, committed, false)?;
                if let Some(outcome) = self.nodes[node]
                    .gate
                    .applied(committed.index, committed.term)
                {
                    self.resolve(node, outcome)?;
                }
            }
            self.maybe_compact(node)?;
        }
        self.schedule_disk(node);
        self.pump(node)
    }

    /// Applies one committed entry to `node`'s image: it must apply cleanly (a decision that
    /// contradicts the log is what this catches), and the checker sees the result.
    fn apply(&mut self, node: usize, committed: &Committed, replaying: bool) -> Result<(), String> {
        let id = self.nodes[node].id;
        let index = committed.index;
        if index <= self.nodes[node].image.offset {
            return Ok(());
        }
        let batch = decode(id, committed)?;
        let before = &self.nodes[node].image;
        self.checker.observe_batch(id, before, index, &batch)?;
        let mut image = before.clone();
        image.apply(index, &batch).map_err(|error| {
            format!(
                "node {id}: committed entry {index} (term {}) does not apply: {error}: {batch:?}",
                committed.term
            )
        })?;
        self.checker.observe_image(id, &image, replaying)?;
        if !batch.records.is_empty() && self.trace_live {
            self.note(format!("node {id} applies {index}/{}", committed.term));
        }
        self.nodes[node].image = image;
        Ok(())
    }

    fn maybe_compact(&mut self, node: usize) -> Result<(), String> {
        let offset = self.nodes[node].image.offset;
        if offset < self.nodes[node].compacted_offset + COMPACT_EVERY_OFFSETS {
            return Ok(());
        }
        self.nodes[node].compacted_offset = offset;
        let data = serde_json::to_vec(&self.nodes[node].image)
            .map_err(|error| format!("node {node}: image does not encode: {error}"))?;
        let Some(quorum) = self.nodes[node].quorum.as_mut() else {
            return Ok(());
        };
        let write = quorum
            .compact(offset, data)
            .map_err(|error| format!("node {node}: compaction refused: {error}"))?;
        if !write.is_empty() {
            self.enqueue_disk_job(node, DiskJob::Compaction(write));
        }
        Ok(())
    }

    /// A decision of `node` was resolved: its client hears of it.
    fn resolve(&mut self, node: usize, outcome: ProposalOutcome) -> Result<(), String> {
        let Some(pending) = self.nodes[node].resolve(outcome) else {
            return Ok(());
        };
        self.note(format!("node {node}: {outcome:?}"));
        let committed = matches!(outcome, ProposalOutcome::Committed { .. });
        if committed {
            if let Some(expectation) = pending.expectation {
                let image = &self.nodes[node].image;
                self.checker
                    .acknowledge(image, expectation)
                    .map_err(|e| format!("node {node}: {e}"))?;
            }
        } else {
            self.summary.lost_proposals += 1;
        }
        let Some((client, request)) = pending.client else {
            return Ok(());
        };
        let current = self.clients[client]
            .outstanding
            .as_ref()
            .is_some_and(|outstanding| outstanding.request == request);
        if !current {
            return Ok(());
        }
        if committed {
            let outstanding = self.clients[client].outstanding.as_ref().expect("current");
            if outstanding.after_heal && is_admin(&outstanding.command) {
                self.progress_after_heal = true;
            }
            self.complete(client, Ok(pending.reply))
        } else {
            // Not known to have happened: send it again (as after a NotController reply).
            self.clients[client]
                .outstanding
                .as_mut()
                .expect("current")
                .proposed_at = None;
            let delay = self.random.range(1, RETRY_UNITS_MAX + 1);
            self.wake_client(client, delay);
            Ok(())
        }
    }

    /// The active controller's periodic pass on `node`, when its gate is open.
    fn controller_tick(&mut self, node: usize) -> Result<(), String> {
        let now_ms = self.now * UNIT_MS;
        let decision = self.nodes[node].decide(&Command::Tick, now_ms)?;
        if let Decision::Proposed { index, term } = decision {
            self.note(format!("node {node} ticks: proposes {index}/{term}"));
            self.pump(node)?;
        }
        Ok(())
    }

    fn wake_client(&mut self, client: usize, delay: u64) {
        self.clients[client].wake_generation += 1;
        let generation = self.clients[client].wake_generation;
        self.schedule(delay.max(1), Event::Client { client, generation });
    }

    /// A client sends its request (a new one if none is outstanding), or gives up on one
    /// that took too long.
    fn client_acts(&mut self, client: usize) -> Result<(), String> {
        self.refresh_broker(client);
        let now = self.now;
        if let Some(outstanding) = &self.clients[client].outstanding {
            if now >= outstanding.deadline {
                // The server's request deadline: the client hears NotController and tries
                // another node.
                self.clients[client].outstanding = None;
                self.clients[client].believed_leader = self.random.index(self.nodes.len());
            } else if outstanding.proposed_at.is_some() {
                let wait = outstanding.deadline - now;
                self.wake_client(client, wait);
                return Ok(());
            }
        }
        if self.clients[client].outstanding.is_none() {
            let home_image = match &self.clients[client].role {
                clients::Role::Broker(broker) if self.nodes[broker.home].is_up() => {
                    Some(&self.nodes[broker.home].image)
                }
                _ => None,
            };
            let command = self.clients[client].next_command(now, &mut self.random, home_image);
            let Some(command) = command else {
                self.wake_client(client, BROKER_HEARTBEAT_UNITS);
                return Ok(());
            };
            if self.healed_at.is_some() && self.progress_after_heal && is_admin(&command) {
                return Ok(()); // the admins stop once the liveness check is met
            }
            let entry = &mut self.clients[client];
            entry.requests += 1;
            entry.outstanding = Some(Outstanding {
                request: entry.requests,
                command,
                deadline: now + REQUEST_UNITS_MAX,
                after_heal: self.healed_at.is_some(),
                proposed_at: None,
            });
        }
        self.send_request(client)
    }

    fn send_request(&mut self, client: usize) -> Result<(), String> {
        let mut target = self.clients[client].believed_leader;
        if !self.nodes[target].is_up() {
            target = self.random.index(self.nodes.len());
        }
        let outstanding = self.clients[client]
            .outstanding
            .as_ref()
            .expect("a request");
        let (command, request) = (outstanding.command.clone(), outstanding.request);
        let decision = self.nodes[target].decide(&command, self.now * UNIT_MS)?;
        let retry = self.random.range(1, RETRY_UNITS_MAX + 1);
        match decision {
            Decision::NotLeader { leader } => {
                self.clients[client].believed_leader = match leader {
                    Some(leader) => leader as usize,
                    None => self.random.index(self.nodes.len()),
                };
                self.wake_client(client, retry);
            }
            Decision::Wait => self.wake_client(client, retry),
            Decision::Refused { kind } => return self.complete(client, Err(kind)),
            Decision::Answered(reply) => return self.complete(client, Ok(reply)),
            Decision::Proposed { index, term } => {
                self.note(format!(
                    "node {target} proposes {command:?} at {index}/{term}"
                ));
                let pending = self.nodes[target].pending.get_mut(&index).expect("pending");
                pending.client = Some((client, request));
                let outstanding = self.clients[client].outstanding.as_mut().expect("request");
                outstanding.proposed_at = Some(target);
                let wait = outstanding.deadline - self.now;
                self.wake_client(client, wait);
                self.pump(target)?;
            }
        }
        Ok(())
    }

    /// The client got its answer.
    fn complete(&mut self, client: usize, reply: Result<Reply, ErrorKind>) -> Result<(), String> {
        let outstanding = self.clients[client].outstanding.take().expect("a request");
        let mut next = self.random.range(20, 100);
        if let clients::Role::Broker(broker) = &mut self.clients[client].role {
            next = BROKER_HEARTBEAT_UNITS;
            match (&outstanding.command, reply) {
                (Command::Register { .. }, Ok(Reply::Registered { broker_epoch })) => {
                    let incarnation = broker.incarnation_id;
                    let fits = match broker.registered {
                        None => true,
                        Some((epoch, same)) if same == incarnation => epoch == broker_epoch,
                        Some((epoch, _)) => broker_epoch > epoch,
                    };
                    if !fits {
                        return Err(format!(
                            "broker {} (incarnation {incarnation:032x}) registered with epoch \
                             {broker_epoch} after {:?}",
                            broker.broker_id, broker.registered
                        ));
                    }
                    broker.registered = Some((broker_epoch, incarnation));
                    broker.broker_epoch = Some(broker_epoch);
                    next = 1;
                }
                (Command::Heartbeat(_), Ok(Reply::Heartbeat(reply))) => {
                    if reply.should_shutdown {
                        broker.restart(&mut self.random);
                        self.summary.broker_faults += 1;
                        next = self.random.range(1, 100);
                    }
                }
                (Command::Heartbeat(heartbeat), Err(ErrorKind::StaleBrokerEpoch)) => {
                    // Its epoch was acknowledged (committed), and only its own restart
                    // registers the id again: a caught-up controller knows the epoch.
                    return Err(format!(
                        "broker {}'s acknowledged epoch {} refused as stale",
                        heartbeat.broker_id, heartbeat.broker_epoch
                    ));
                }
                (Command::AlterPartition(alter), Err(ErrorKind::StaleBrokerEpoch)) => {
                    return Err(format!(
                        "broker {}'s acknowledged epoch {} refused as stale in AlterPartition",
                        alter.broker_id, alter.broker_epoch
                    ));
                }
                (Command::AlterPartition(_), Ok(Reply::Isr { .. })) => next = 1,
                (_, Err(_)) => next = self.random.range(10, 100),
                (command, Ok(reply)) => {
                    return Err(format!("{command:?} answered with {reply:?}"));
                }
            }
        }
        self.wake_client(client, next);
        Ok(())
    }

    /// A broker reports the metadata offset of the voter it reads from.
    fn refresh_broker(&mut self, client: usize) {
        if let clients::Role::Broker(broker) = &mut self.clients[client].role {
            let home = &self.nodes[broker.home];
            if home.is_up() {
                broker.metadata_offset = home.image.offset;
            }
        }
    }

    fn fault(&mut self) -> Result<(), String> {
        if self.healed_at.is_some() {
            return Ok(());
        }
        self.schedule(FAULT_INTERVAL_UNITS, Event::Fault);
        let roll = self.random.range(0, 100);
        if roll < 12 {
            let node = self.random.index(self.nodes.len());
            if self.nodes[node].is_up() {
                self.crash(node)?;
                let delay = self.random.range(20, 600);
                self.schedule(delay, Event::Restart(node));
            }
        } else if roll < 22 && self.sides.is_none() {
            let sides: Vec<bool> = (0..self.nodes.len())
                .map(|_| self.random.chance(500))
                .collect();
            self.note(format!("network splits: {sides:?}"));
            self.sides = Some(sides);
            self.summary.partitions += 1;
            let delay = self.random.range(50, 800);
            self.schedule(delay, Event::Heal);
        } else if roll < 34 {
            self.broker_fault();
        }
        Ok(())
    }

    /// A broker restarts (a new incarnation), pauses past its session, or shuts down.
    fn broker_fault(&mut self) {
        let client = self.random.index(BROKERS);
        let kind = self.random.range(0, 3);
        let pause = self.random.range(200, 800);
        let clients::Role::Broker(broker) = &mut self.clients[client].role else {
            unreachable!("the first clients are the brokers");
        };
        let broker_id = broker.broker_id;
        let what = match kind {
            0 => {
                broker.restart(&mut self.random);
                self.clients[client].outstanding = None;
                "restarts"
            }
            1 => {
                broker.paused_until = self.now + pause;
                "pauses"
            }
            _ => {
                broker.stopping = true;
                "shuts down"
            }
        };
        self.summary.broker_faults += 1;
        self.note(format!("broker {broker_id} {what}"));
        self.wake_client(client, 1);
    }

    /// The node stops: its memory is gone, its disk keeps what was written, and a write in
    /// progress may leave a prefix.
    fn crash(&mut self, node: usize) -> Result<(), String> {
        self.summary.crashes += 1;
        let torn = if self.random.chance(500) {
            let entries = self.nodes[node]
                .disk_queue
                .front()
                .map_or(0, |job| job.write().entries.len());
            Some(TornWrite {
                snapshot_kept: self.random.chance(500),
                entries_kept: self.random.index(entries + 1),
            })
        } else {
            None
        };
        let controller_seed = self.random.next_u64();
        let voter = &mut self.nodes[node];
        if let (Some(torn), Some(job)) = (torn, voter.disk_queue.front()) {
            voter
                .disk
                .write_torn(job.write(), torn)
                .map_err(|error| format!("node {node}: torn write refused: {error}"))?;
        }
        voter.crash(controller_seed);
        self.leader_noted[node] = None;
        self.note(format!("node {node} crashes (torn write: {torn:?})"));
        Ok(())
    }

    fn restart(&mut self, node: usize) -> Result<(), String> {
        let voter = &mut self.nodes[node];
        let id = voter.id;
        let (quorum, recovered) = Quorum::open(voter.config.clone(), &mut voter.disk)
            .map_err(|error| format!("node {node}: reopen failed: {error}"))?;
        let image = match &recovered.snapshot {
            Some(snapshot) => Voter::load_snapshot(snapshot)?,
            None => MetadataImage::default(),
        };
        self.checker.observe_image(id, &image, true)?;
        voter.image = image;
        voter.compacted_offset = voter.image.offset;
        voter.quorum = Some(quorum);
        for committed in &recovered.committed {
            self.apply(node, committed, true)?;
        }
        self.checker.observe_history(id, &self.nodes[node].image)?;
        let offset = self.nodes[node].image.offset;
        self.note(format!("node {node} restarts at offset {offset}"));
        self.pump(node)
    }

    /// After the heal: a command sent after it committed, every voter applied the same,
    /// and every broker is registered with its current incarnation and unfenced.
    fn settled(&self) -> bool {
        if !self.progress_after_heal {
            return false;
        }
        let offset = self.checker.offset_max();
        let voters_equal = self
            .nodes
            .iter()
            .all(|node| node.is_up() && node.image.offset == offset);
        let image = &self.nodes[0].image;
        let brokers_serving = self.clients.iter().all(|client| match &client.role {
            clients::Role::Broker(broker) => image.broker(broker.broker_id).is_some_and(|b| {
                b.incarnation_id == broker.incarnation_id && !b.fenced && !b.shutting_down
            }),
            clients::Role::Admin => true,
        });
        voters_equal && brokers_serving
    }

    fn report(&self, seed: u64, voters: usize, failure: &str) -> String {
        let mut report = format!(
            "controller simulation failed: {voters} voters, seed {seed}, at unit {}: \
             {failure}\nreplay: SLUICE_SIM_SEED={seed} SLUICE_SIM_TRACE=1 cargo test -p \
             sluice-controller --test controller_simulation -- --nocapture\nlast events:\n",
            self.now
        );
        for line in &self.trace {
            report.push_str(line);
            report.push('\n');
        }
        for node in &self.nodes {
            let status = node.quorum.as_ref().map(|quorum| quorum.status());
            report.push_str(&format!(
                "node {}: {:?}, image at {}, gate {:?}\n",
                node.id, status, node.image.offset, node.gate
            ));
        }
        report
    }
}

fn is_admin(command: &Command) -> bool {
    !matches!(
        command,
        Command::Tick
            | Command::Register { .. }
            | Command::Heartbeat(_)
            | Command::AlterPartition(_)
    )
}

fn decode(node: i32, committed: &Committed) -> Result<RecordBatch, String> {
    if committed.data.is_empty() {
        return Ok(RecordBatch::default());
    }
    RecordBatch::decode(&committed.data).map_err(|error| {
        format!(
            "node {node}: committed entry {} is unreadable: {error}",
            committed.index
        )
    })
}

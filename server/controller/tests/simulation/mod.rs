//! A deterministic simulation of the metadata quorum: N voters in one process, driven by one
//! seeded scheduler that delays, reorders, drops and duplicates messages, splits the network,
//! crashes nodes (sometimes in the middle of a disk write) and restarts them from their
//! `MemDisk`, while clients propose to whoever they think leads. After a chaos phase
//! everything heals, and the cluster must make progress within a bound.
//!
//! Everything random comes from the seed (the quorum's election timeouts too, through
//! `QuorumConfig::election_seed`), and there is no clock but the scheduler's: a seed replays
//! exactly.

pub mod checker;
pub mod node;
pub mod random;
pub mod state_machine;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use sluice_controller::quorum::{
    OutMessage, Quorum, QuorumConfig, QuorumError, RaftDisk, TornWrite, ELECTION_TICKS_DEFAULT,
    HEARTBEAT_TICKS_DEFAULT,
};

use checker::{describe, Checker};
use node::{DiskJob, SimNode};
use random::Random;
use state_machine::AppliedLog;

/// Simulated time is counted in units of 10 ms; the quorum ticks every 100 ms.
const TICK_UNITS: u64 = 10;
/// A message takes 1 to this many units (so messages overtake one another).
const MESSAGE_DELAY_UNITS_MAX: u64 = 20;
/// A disk write takes 1 to this many units.
const DISK_DELAY_UNITS_MAX: u64 = 4;
/// How long faults are injected.
const CHAOS_UNITS: u64 = 2_000;
/// After the heal, the bound within which a leader must commit a new proposal and every node
/// must apply everything decided: 40 election timeouts.
const LIVENESS_UNITS_MAX: u64 = 40 * ELECTION_TICKS_DEFAULT as u64 * TICK_UNITS;
/// How often a fault may strike during the chaos phase.
const FAULT_INTERVAL_UNITS: u64 = 60;
/// Events of one run; a run that needs more is a failure (it did not settle).
const EVENTS_MAX: u64 = 400_000;
/// Readies taken from one node in one go.
const READY_ROUNDS_MAX: usize = 64;
/// The simulated state machine compacts the log every this many applied entries, small so
/// that snapshots get sent and installed often.
const COMPACT_EVERY_ENTRIES: u64 = 12;
/// Events kept for the failure report.
const TRACE_LINES_MAX: usize = 80;

enum Event {
    Tick(usize),
    Deliver { from: i32, to: i32, bytes: Vec<u8> },
    DiskDone { node: usize, incarnation: u64 },
    Propose,
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
    pub decided_index: u64,
    pub terms_with_leader: usize,
    pub crashes: u64,
    pub partitions: u64,
    pub snapshots_installed: u64,
}

struct Simulation {
    random: Random,
    now: u64,
    sequence: u64,
    events: BinaryHeap<Reverse<Scheduled>>,
    nodes: Vec<SimNode>,
    /// The side of the split each node is on, while the network is split.
    sides: Option<Vec<bool>>,
    drop_per_mille: u64,
    duplicate_per_mille: u64,
    checker: Checker,
    trace: VecDeque<String>,
    trace_live: bool,
    believed_leader: i32,
    proposals: u64,
    /// Decided index when the network healed; `None` during the chaos phase.
    healed_at: Option<(u64, u64)>,
    /// A payload proposed after the heal got decided.
    progress_after_heal: bool,
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
                SimNode::new(*id, config)
            })
            .collect();
        let drop_per_mille = random.range(50, 201);
        let duplicate_per_mille = random.range(0, 51);
        Simulation {
            random,
            now: 0,
            sequence: 0,
            events: BinaryHeap::new(),
            nodes,
            sides: None,
            drop_per_mille,
            duplicate_per_mille,
            checker: Checker::default(),
            trace: VecDeque::new(),
            trace_live,
            believed_leader: 0,
            proposals: 0,
            healed_at: None,
            progress_after_heal: false,
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
        self.schedule(1, Event::Propose);
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
            self.check()?;
            if let Some((healed_time, _)) = self.healed_at {
                if self.settled() {
                    self.summary.decided_index = self.checker.decided_index();
                    self.summary.terms_with_leader = self.checker.terms_with_leader();
                    return Ok(());
                }
                if self.now > healed_time + LIVENESS_UNITS_MAX {
                    return Err(format!(
                        "no progress within {LIVENESS_UNITS_MAX} units after the heal"
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
                }
            }
            Event::Deliver { from, to, bytes } => self.deliver(from, to, &bytes)?,
            Event::DiskDone { node, incarnation } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].is_up() {
                    self.disk_done(node)?;
                }
            }
            Event::Propose => self.propose()?,
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
            Event::EndChaos => {
                self.note("chaos ends: heal, restart all, no more drops".into());
                self.sides = None;
                self.drop_per_mille = 0;
                self.duplicate_per_mille = 0;
                for node in 0..self.nodes.len() {
                    if !self.nodes[node].is_up() {
                        self.restart(node)?;
                    }
                }
                self.healed_at = Some((self.now, self.checker.decided_index()));
            }
        }
        Ok(())
    }

    /// Takes every ready of `node`: its messages go out, its write joins the disk queue.
    fn pump(&mut self, node: usize) -> Result<(), String> {
        for _ in 0..READY_ROUNDS_MAX {
            let Some(quorum) = self.nodes[node].quorum.as_mut() else {
                return Ok(());
            };
            let Some(mut ready) = quorum.ready() else {
                return Ok(());
            };
            let messages = std::mem::take(&mut ready.messages);
            self.send(self.nodes[node].id, messages);
            self.enqueue_disk_job(node, DiskJob::Ready(ready));
        }
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
        if !self.nodes[node].is_up() {
            return Ok(());
        }
        if self.trace_live {
            self.note(format!("{from} -> {to}: {}", describe_message(bytes)));
        }
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
                self.note(format!(
                    "node {id} installs the snapshot at {}",
                    snapshot.index
                ));
                self.summary.snapshots_installed += 1;
                let loaded = AppliedLog::load(snapshot);
                if loaded.applied_index() < self.nodes[node].applied.applied_index() {
                    return Err(format!(
                        "node {id}: snapshot at {} goes back",
                        snapshot.index
                    ));
                }
                self.observe_log(node, &loaded)?;
                self.nodes[node].compacted_index = loaded.applied_index();
                self.nodes[node].applied = loaded;
            }
            for committed in &applied.committed {
                self.nodes[node].applied.apply(committed);
                let entry = (committed.term, committed.data.clone());
                self.checker.observe_applied(id, committed.index, &entry)?;
            }
            self.maybe_compact(node)?;
        }
        self.schedule_disk(node);
        self.pump(node)
    }

    fn maybe_compact(&mut self, node: usize) -> Result<(), String> {
        let applied_index = self.nodes[node].applied.applied_index();
        if applied_index < self.nodes[node].compacted_index + COMPACT_EVERY_ENTRIES {
            return Ok(());
        }
        self.nodes[node].compacted_index = applied_index;
        let data = self.nodes[node].applied.encode();
        let Some(quorum) = self.nodes[node].quorum.as_mut() else {
            return Ok(());
        };
        let write = quorum
            .compact(applied_index, data)
            .map_err(|error| format!("node {node}: compaction refused: {error}"))?;
        if !write.is_empty() {
            self.enqueue_disk_job(node, DiskJob::Compaction(write));
        }
        Ok(())
    }

    /// Checks every entry of a whole applied log (a snapshot, or a recovery) against what
    /// was decided.
    fn observe_log(&mut self, node: usize, log: &AppliedLog) -> Result<(), String> {
        let id = self.nodes[node].id;
        for (position, entry) in log.entries.iter().enumerate() {
            self.checker
                .observe_applied(id, position as u64 + 1, entry)?;
        }
        Ok(())
    }

    fn propose(&mut self) -> Result<(), String> {
        if self.healed_at.is_some() && self.progress_after_heal {
            return Ok(());
        }
        let delay = self.random.range(5, 40);
        self.schedule(delay, Event::Propose);
        let mut target = self.believed_leader as usize;
        if !self.nodes[target].is_up() {
            target = self.random.index(self.nodes.len());
        }
        let Some(quorum) = self.nodes[target].quorum.as_mut() else {
            return Ok(());
        };
        self.proposals += 1;
        let payload = format!(
            "p{}{}",
            self.proposals,
            if self.healed_at.is_some() { "h" } else { "" }
        );
        match quorum.propose(payload.clone().into_bytes()) {
            Ok((index, term)) => self.note(format!(
                "node {target} proposes {payload} at {index}/{term}"
            )),
            Err(QuorumError::NotLeader { leader }) => {
                self.believed_leader = match leader {
                    Some(leader) => leader,
                    None => self.random.index(self.nodes.len()) as i32,
                };
            }
            Err(QuorumError::ProposalDropped) => {}
            Err(error) => return Err(format!("node {target}: proposal failed: {error}")),
        }
        self.pump(target)
    }

    fn fault(&mut self) -> Result<(), String> {
        if self.healed_at.is_some() {
            return Ok(());
        }
        self.schedule(FAULT_INTERVAL_UNITS, Event::Fault);
        let roll = self.random.range(0, 100);
        if roll < 15 {
            let node = self.random.index(self.nodes.len());
            if self.nodes[node].is_up() {
                self.crash(node)?;
                let delay = self.random.range(20, 600);
                self.schedule(delay, Event::Restart(node));
            }
        } else if roll < 27 && self.sides.is_none() {
            let sides: Vec<bool> = (0..self.nodes.len())
                .map(|_| self.random.chance(500))
                .collect();
            self.note(format!("network splits: {sides:?}"));
            self.sides = Some(sides);
            self.summary.partitions += 1;
            let delay = self.random.range(50, 800);
            self.schedule(delay, Event::Heal);
        }
        Ok(())
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
        let simulated = &mut self.nodes[node];
        if let (Some(torn), Some(job)) = (torn, simulated.disk_queue.front()) {
            simulated
                .disk
                .write_torn(job.write(), torn)
                .map_err(|error| format!("node {node}: torn write refused: {error}"))?;
        }
        simulated.applied_index_at_crash = simulated.applied.applied_index();
        simulated.disk_queue.clear();
        simulated.disk_busy = false;
        simulated.quorum = None;
        simulated.incarnation += 1;
        simulated.applied = AppliedLog::default();
        self.note(format!("node {node} crashes (torn write: {torn:?})"));
        Ok(())
    }

    fn restart(&mut self, node: usize) -> Result<(), String> {
        let simulated = &mut self.nodes[node];
        let (quorum, recovered) = Quorum::open(simulated.config.clone(), &mut simulated.disk)
            .map_err(|error| format!("node {node}: reopen failed: {error}"))?;
        let mut applied = match &recovered.snapshot {
            Some(snapshot) => AppliedLog::load(snapshot),
            None => AppliedLog::default(),
        };
        for committed in &recovered.committed {
            applied.apply(committed);
        }
        if applied.applied_index() < simulated.applied_index_at_crash {
            return Err(format!(
                "node {node}: applied index went back across a restart: {} -> {}",
                simulated.applied_index_at_crash,
                applied.applied_index()
            ));
        }
        simulated.commit_index_seen = quorum.status().commit_index;
        simulated.quorum = Some(quorum);
        self.note(format!(
            "node {node} restarts at applied index {}",
            applied.applied_index()
        ));
        self.observe_log(node, &applied)?;
        self.nodes[node].compacted_index = applied.applied_index();
        self.nodes[node].applied = applied;
        self.pump(node)
    }

    /// The properties that hold after every event.
    fn check(&mut self) -> Result<(), String> {
        for node in 0..self.nodes.len() {
            let Some(quorum) = self.nodes[node].quorum.as_ref() else {
                continue;
            };
            let status = quorum.status();
            let id = self.nodes[node].id;
            self.checker.observe_status(id, &status)?;
            if status.commit_index < self.nodes[node].commit_index_seen {
                return Err(format!(
                    "node {id}: commit index went back from {} to {}",
                    self.nodes[node].commit_index_seen, status.commit_index
                ));
            }
            self.nodes[node].commit_index_seen = status.commit_index;
            let applied_index = self.nodes[node].applied.applied_index();
            if applied_index > status.commit_index {
                return Err(format!(
                    "node {id}: applied {applied_index} beyond commit {}",
                    status.commit_index
                ));
            }
        }
        Ok(())
    }

    /// After the heal: a payload proposed after it is decided, and every node applied all.
    fn settled(&mut self) -> bool {
        let Some((_, decided_at_heal)) = self.healed_at else {
            return false;
        };
        if !self.progress_after_heal {
            let decided = self.checker.decided_index();
            self.progress_after_heal = (decided_at_heal + 1..=decided).any(|index| {
                self.checker
                    .decided_at(index)
                    .is_some_and(|(_, data)| data.ends_with(b"h"))
            });
            if !self.progress_after_heal {
                return false;
            }
        }
        let decided = self.checker.decided_index();
        self.nodes
            .iter()
            .all(|node| node.is_up() && node.applied.applied_index() == decided)
    }

    fn report(&self, seed: u64, voters: usize, failure: &str) -> String {
        let mut report = format!(
            "simulation failed: {voters} voters, seed {seed}, at unit {}: {failure}\n\
             replay: SLUICE_SIM_SEED={seed} SLUICE_SIM_TRACE=1 cargo test -p sluice-controller \
             --test raft_quorum_simulation -- --nocapture\nlast events:\n",
            self.now
        );
        for line in &self.trace {
            report.push_str(line);
            report.push('\n');
        }
        for node in &self.nodes {
            let status = node.quorum.as_ref().map(|quorum| quorum.status());
            report.push_str(&format!(
                "node {}: {:?}, applied {}\n",
                node.id,
                status,
                node.applied.applied_index()
            ));
        }
        if let Some(entry) = self.checker.decided_at(self.checker.decided_index()) {
            report.push_str(&format!("last decided: {}\n", describe(entry)));
        }
        report
    }
}

/// A raft message in one line, for the live trace.
fn describe_message(bytes: &[u8]) -> String {
    use protobuf::Message as _;
    match raft::eraftpb::Message::parse_from_bytes(bytes) {
        Ok(message) => format!(
            "{:?} term {} index {} log_term {} entries {} commit {} reject {} hint {} snapshot {}",
            message.get_msg_type(),
            message.term,
            message.index,
            message.log_term,
            message.entries.len(),
            message.commit,
            message.reject,
            message.reject_hint,
            message.get_snapshot().get_metadata().index,
        ),
        Err(error) => format!("undecodable: {error}"),
    }
}

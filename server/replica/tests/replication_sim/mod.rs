//! A deterministic simulation of one partition replicated over three brokers with
//! `sluice-replica`, in one process: the brokers (`node.rs`, `leading.rs`, `following.rs`), a
//! controller (`controller.rs`), producers and consumers (`clients.rs`), a network
//! (`network.rs`), all driven by one seeded scheduler. For `CHAOS_MS` faults strike (crashes
//! that lose the undurable tail, pauses, network partitions, broken connections, lost
//! messages: `faults.rs`); then everything heals, a produce after the heal must be
//! acknowledged and every replica must converge within `SETTLE_MS_MAX`. The properties are in
//! `checker.rs`. There is no clock but the scheduler's and no randomness but the seed's: a
//! seed replays exactly.

pub mod checker;
pub mod clients;
pub mod controller;
pub mod faults;
pub mod following;
pub mod leading;
pub mod log;
pub mod messages;
pub mod network;
pub mod node;
pub mod random;
pub mod scheduler;
pub mod traffic;

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};

use checker::Checker;
use clients::{Consumer, Producer};
use controller::Controller;
use messages::{Endpoint, Message};
use network::Network;
use node::{Effects, Node, HEARTBEAT_MS, TICK_MS};
use random::Random;
use scheduler::Scheduler;

/// Brokers 1..=REPLICAS hold the partition.
pub const REPLICAS: i32 = 3;
pub const PRODUCERS: usize = 2;
pub const CONSUMERS: usize = 2;
/// How long faults strike.
pub const CHAOS_MS: u64 = 1_500;
/// After the heal, the bound within which a new produce is acknowledged and all converge.
pub const SETTLE_MS_MAX: u64 = 5_000;
/// The controller checks sessions this often.
pub const CONTROLLER_TICK_MS: u64 = 25;
/// An fdatasync takes 1 to this many ms.
pub const SYNC_MS_MAX: u64 = 5;
/// Events of one run at most; a run that needs more did not settle.
pub const EVENTS_MAX: u64 = 200_000;
/// Trace lines kept for a failure report.
pub const TRACE_LINES_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub min_insync: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    Off,
    /// Keep the last `TRACE_LINES_MAX` lines for the report.
    Ring,
    /// Print every line as it happens.
    Live,
}

#[derive(Debug)]
pub enum Event {
    Deliver {
        from: Endpoint,
        to: Endpoint,
        generation: u64,
        message: Message,
    },
    Tick {
        node: i32,
        incarnation: u64,
    },
    Heartbeat {
        node: i32,
        incarnation: u64,
    },
    SyncDone {
        node: i32,
        incarnation: u64,
    },
    FetchAgain {
        node: i32,
        incarnation: u64,
    },
    ControllerTick,
    ProducerTick(usize),
    ConsumerTick(usize),
    Fault,
    Restart(i32),
    Resume(i32),
    Heal(u64),
    EndChaos,
}

/// What one run did, summed over seeds for the report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub events: u64,
    pub acknowledged: u64,
    pub produce_errors: u64,
    pub batches_read: u64,
    pub committed: u64,
    pub leader_epochs: u64,
    pub truncations: u64,
    pub crashes: u64,
    pub pauses: u64,
    pub partitions: u64,
    /// Acknowledgements a leader sent after the controller had deposed it.
    pub acks_after_deposed: u64,
    pub log_end: u64,
    pub settle_ms: u64,
}

impl RunSummary {
    pub fn add(&mut self, run: &RunSummary) {
        self.events += run.events;
        self.acknowledged += run.acknowledged;
        self.produce_errors += run.produce_errors;
        self.batches_read += run.batches_read;
        self.committed += run.committed;
        self.leader_epochs += run.leader_epochs;
        self.truncations += run.truncations;
        self.crashes += run.crashes;
        self.pauses += run.pauses;
        self.partitions += run.partitions;
        self.acks_after_deposed += run.acks_after_deposed;
        self.log_end += run.log_end;
        self.settle_ms = self.settle_ms.max(run.settle_ms);
    }
}

/// The first broken property of a run, and the events before it.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub at_ms: u64,
    pub trace: Vec<String>,
}

pub struct Simulation {
    config: Config,
    random: Random,
    scheduler: Scheduler<Event>,
    network: Network,
    controller: Controller,
    nodes: Vec<Node>,
    /// Events for paused nodes, delivered when they resume.
    held: BTreeMap<i32, Vec<Event>>,
    producers: Vec<Producer>,
    consumers: Vec<Consumer>,
    checker: Checker,
    trace: Trace,
    trace_lines: VecDeque<String>,
    payload_next: u64,
    chaos: bool,
    partition_next: u64,
    /// When everything healed, and the first payload produced after it.
    healed: Option<(u64, u64)>,
    progress_after_heal: bool,
    summary: RunSummary,
}

/// Runs one seed.
pub fn run(config: Config, seed: u64, trace: Trace) -> Result<RunSummary, Failure> {
    let mut simulation = Simulation::new(config, seed, trace);
    match simulation.run() {
        Ok(()) => Ok(simulation.summary),
        Err(message) => Err(Failure {
            message,
            at_ms: simulation.scheduler.now_ms(),
            trace: simulation.trace_lines.into_iter().collect(),
        }),
    }
}

impl Simulation {
    fn new(config: Config, seed: u64, trace: Trace) -> Simulation {
        let mut random = Random::new(seed);
        let mut replicas: Vec<i32> = (1..=REPLICAS).collect();
        random.shuffle(&mut replicas);
        let controller = Controller::new(replicas);
        let nodes = (1..=REPLICAS)
            .map(|id| Node::new(id, config.min_insync))
            .collect();
        let leader = controller.partition().leader;
        let mut network = Network::default();
        network.loss_per_mille = random.range(0, 16);
        Simulation {
            config,
            random,
            scheduler: Scheduler::new(),
            network,
            controller,
            nodes,
            held: BTreeMap::new(),
            producers: (0..PRODUCERS).map(|_| Producer::new(leader)).collect(),
            consumers: (0..CONSUMERS).map(|_| Consumer::new(leader)).collect(),
            checker: Checker::default(),
            trace,
            trace_lines: VecDeque::new(),
            payload_next: 0,
            chaos: true,
            partition_next: 0,
            healed: None,
            progress_after_heal: false,
            summary: RunSummary::default(),
        }
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if self.trace == Trace::Off {
            return;
        }
        let line = format!("{:>6} {}", self.scheduler.now_ms(), line());
        if self.trace == Trace::Live {
            eprintln!("{line}");
        }
        if self.trace_lines.len() == TRACE_LINES_MAX {
            self.trace_lines.pop_front();
        }
        self.trace_lines.push_back(line);
    }

    fn run(&mut self) -> Result<(), String> {
        let loss = self.network.loss_per_mille;
        let replicas = self.controller.partition().replicas.clone();
        self.note(|| format!("loss {loss}‰, replicas {replicas:?}"));
        self.start()?;
        for _ in 0..EVENTS_MAX {
            let Some(event) = self.scheduler.pop() else {
                return Err("no events left".into());
            };
            self.summary.events += 1;
            let outcome = catch_unwind(AssertUnwindSafe(|| self.handle(event)));
            match outcome {
                Ok(result) => result?,
                Err(panic) => return Err(format!("panic: {}", panic_message(&panic))),
            }
            self.checker.after_event(&self.nodes, &self.controller)?;
            if let Some((healed_ms, _)) = self.healed {
                if self.settled()? {
                    self.summary.settle_ms = self.scheduler.now_ms() - healed_ms;
                    return Ok(());
                }
                if self.scheduler.now_ms() > healed_ms + SETTLE_MS_MAX {
                    return Err(format!("not settled {SETTLE_MS_MAX} ms after the heal"));
                }
            }
        }
        Err(format!("still running after {EVENTS_MAX} events"))
    }

    /// Time 0: every broker knows the first assignment; the clocks start.
    fn start(&mut self) -> Result<(), String> {
        let assignment = self.controller.partition().clone();
        for id in 1..=REPLICAS {
            let mut fx = Effects::new(self.trace != Trace::Off);
            self.node_mut(id)
                .on_metadata(0, assignment.clone(), &mut fx)?;
            self.apply(id, fx)?;
            self.start_node_clocks(id);
        }
        self.scheduler
            .after(CONTROLLER_TICK_MS, Event::ControllerTick);
        for producer in 0..PRODUCERS {
            self.scheduler.after(1, Event::ProducerTick(producer));
        }
        for consumer in 0..CONSUMERS {
            self.scheduler.after(1, Event::ConsumerTick(consumer));
        }
        self.scheduler
            .after(faults::FAULT_INTERVAL_MS, Event::Fault);
        self.scheduler.after(CHAOS_MS, Event::EndChaos);
        Ok(())
    }

    fn start_node_clocks(&mut self, id: i32) {
        let incarnation = self.node(id).incarnation;
        let phase = self.random.range(0, TICK_MS);
        self.scheduler.after(
            phase,
            Event::Tick {
                node: id,
                incarnation,
            },
        );
        self.scheduler.after(
            0,
            Event::Heartbeat {
                node: id,
                incarnation,
            },
        );
    }

    pub fn node(&self, id: i32) -> &Node {
        &self.nodes[(id - 1) as usize]
    }

    pub fn node_mut(&mut self, id: i32) -> &mut Node {
        &mut self.nodes[(id - 1) as usize]
    }

    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Deliver {
                from,
                to,
                generation,
                message,
            } => {
                if !self.network.delivers(from, to, generation) {
                    return Ok(());
                }
                match to {
                    Endpoint::Controller => self.controller_receives(from, message),
                    Endpoint::Node(id) => {
                        let event = Event::Deliver {
                            from,
                            to,
                            generation,
                            message,
                        };
                        self.node_event(id, event)
                    }
                    Endpoint::Producer(producer) => self.producer_receives(producer, message),
                    Endpoint::Consumer(consumer) => self.consumer_receives(consumer, message),
                }
            }
            Event::Tick { node, .. }
            | Event::Heartbeat { node, .. }
            | Event::SyncDone { node, .. }
            | Event::FetchAgain { node, .. } => self.node_event(node, event),
            Event::ControllerTick => {
                self.scheduler
                    .after(CONTROLLER_TICK_MS, Event::ControllerTick);
                let now_ms = self.scheduler.now_ms();
                if self.controller.expire_sessions(now_ms) {
                    let partition = self.controller.partition().clone();
                    self.note(|| format!("controller: sessions expired: {partition:?}"));
                    self.publish();
                }
                Ok(())
            }
            Event::ProducerTick(producer) => self.producer_tick(producer),
            Event::ConsumerTick(consumer) => self.consumer_tick(consumer),
            Event::Fault => self.fault(),
            Event::Restart(id) => self.restart(id),
            Event::Resume(id) => {
                self.resume(id);
                Ok(())
            }
            Event::Heal(partition) => {
                self.note(|| format!("partition {partition} heals"));
                self.network.heal(partition);
                Ok(())
            }
            Event::EndChaos => self.end_chaos(),
        }
    }

    /// An event for a broker: dropped when it is down or the event is from an earlier life,
    /// held while it is paused.
    fn node_event(&mut self, id: i32, event: Event) -> Result<(), String> {
        let node = self.node(id);
        let stale = match &event {
            Event::Tick { incarnation, .. }
            | Event::Heartbeat { incarnation, .. }
            | Event::SyncDone { incarnation, .. }
            | Event::FetchAgain { incarnation, .. } => *incarnation != node.incarnation,
            _ => false,
        };
        if !node.up || stale {
            return Ok(());
        }
        if node.paused {
            self.held.entry(id).or_default().push(event);
            return Ok(());
        }
        let now_ms = self.scheduler.now_ms();
        let incarnation = node.incarnation;
        let mut fx = Effects::new(self.trace != Trace::Off);
        match event {
            Event::Deliver { from, message, .. } => {
                self.note(|| format!("{from:?} -> {id}: {}", message.describe()));
                self.node_mut(id)
                    .on_message(now_ms, from, message, &mut fx)?;
            }
            Event::Tick { .. } => {
                self.scheduler.after(
                    TICK_MS,
                    Event::Tick {
                        node: id,
                        incarnation,
                    },
                );
                self.node_mut(id).on_tick(now_ms, &mut fx)?;
            }
            Event::Heartbeat { .. } => {
                self.scheduler.after(
                    HEARTBEAT_MS,
                    Event::Heartbeat {
                        node: id,
                        incarnation,
                    },
                );
                fx.send(Endpoint::Controller, Message::Heartbeat { incarnation });
            }
            Event::SyncDone { .. } => self.node_mut(id).on_sync_done(now_ms, &mut fx)?,
            Event::FetchAgain { .. } => self.node_mut(id).on_fetch_again(now_ms, &mut fx),
            other => unreachable!("not a node event: {other:?}"),
        }
        self.apply(id, fx)
    }

    /// Carries out what a broker asked for.
    fn apply(&mut self, id: i32, fx: Effects) -> Result<(), String> {
        let incarnation = self.node(id).incarnation;
        for line in fx.notes {
            self.note(|| line);
        }
        for (to, message) in fx.sends {
            self.send(Endpoint::Node(id), to, message);
        }
        if fx.sync_issued {
            let delay_ms = self.random.range(1, SYNC_MS_MAX + 1);
            self.scheduler.after(
                delay_ms,
                Event::SyncDone {
                    node: id,
                    incarnation,
                },
            );
        }
        if let Some(delay_ms) = fx.fetch_again_ms {
            self.scheduler.after(
                delay_ms,
                Event::FetchAgain {
                    node: id,
                    incarnation,
                },
            );
        }
        for (batch, as_leader) in fx.appended {
            self.checker.written(id, batch, as_leader)?;
        }
        if fx.truncated {
            self.summary.truncations += 1;
            self.checker.data_removed();
        }
        let current_epoch = self.controller.partition().leader_epoch;
        for epoch in fx.acknowledged_epochs {
            if epoch < current_epoch {
                self.summary.acks_after_deposed += 1;
            }
        }
        Ok(())
    }

    pub fn send(&mut self, from: Endpoint, to: Endpoint, message: Message) {
        let now_ms = self.scheduler.now_ms();
        let Some(in_flight) = self.network.send(now_ms, from, to, &mut self.random) else {
            return;
        };
        let event = Event::Deliver {
            from,
            to,
            generation: in_flight.generation,
            message,
        };
        self.scheduler.at(in_flight.arrival_ms, event);
    }

    fn controller_receives(&mut self, from: Endpoint, message: Message) -> Result<(), String> {
        let Endpoint::Node(broker) = from else {
            return Err(format!("the controller got {message:?} from {from:?}"));
        };
        let now_ms = self.scheduler.now_ms();
        match message {
            Message::Heartbeat { incarnation } => {
                let changed = self.controller.heartbeat(now_ms, broker, incarnation);
                let answer = Message::HeartbeatAnswer {
                    incarnation,
                    assignment: self.controller.partition().clone(),
                };
                self.send(Endpoint::Controller, from, answer);
                if changed {
                    let partition = self.controller.partition().clone();
                    self.note(|| format!("controller: {broker} registers/unfences: {partition:?}"));
                    self.publish();
                }
            }
            Message::AlterPartition {
                request,
                leader_epoch,
                partition_epoch,
                isr,
            } => {
                let result =
                    self.controller
                        .alter_partition(broker, leader_epoch, partition_epoch, &isr);
                self.note(|| {
                    format!("controller: AlterPartition {isr:?} from {broker}: {result:?}")
                });
                let committed = result.is_ok();
                self.send(
                    Endpoint::Controller,
                    from,
                    Message::AlterPartitionAnswer { request, result },
                );
                if committed {
                    self.publish();
                }
            }
            other => return Err(format!("the controller got {other:?}")),
        }
        Ok(())
    }

    /// The controller publishes the partition to every broker.
    fn publish(&mut self) {
        let partition = self.controller.partition().clone();
        for id in 1..=REPLICAS {
            self.send(
                Endpoint::Controller,
                Endpoint::Node(id),
                Message::Metadata(partition.clone()),
            );
        }
    }

    /// After the heal: a produce made after it was acknowledged, everyone is up and in sync,
    /// all logs are durable and equal, and the leader's high watermark is at its end. Then the
    /// final checks run.
    fn settled(&mut self) -> Result<bool, String> {
        if !self.progress_after_heal {
            return Ok(false);
        }
        let partition = self.controller.partition();
        if partition.leader < 0 || partition.isr.len() != REPLICAS as usize {
            return Ok(false);
        }
        let leader = self.node(partition.leader);
        let Some(state) = leader.leader_state() else {
            return Ok(false);
        };
        let end = leader.log.end();
        let leader_ready = state.leader_epoch() == partition.leader_epoch
            && !state.has_pending_isr()
            && state.assignment() == partition
            && state.high_watermark() == end;
        let all_in_sync = self.nodes.iter().all(|node| {
            node.up && !node.paused && node.log.end() == end && node.log.durable_end() == end
        });
        if !leader_ready || !all_in_sync {
            return Ok(false);
        }
        let leader_id = partition.leader;
        self.checker.settled(&self.nodes, leader_id)?;
        self.summary.committed = self.checker.committed_count() as u64;
        self.summary.leader_epochs = partition.leader_epoch as u64;
        self.summary.log_end = end as u64;
        Ok(true)
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    if let Some(text) = panic.downcast_ref::<String>() {
        return text.clone();
    }
    "(no message)".to_string()
}

//! The faults of the chaos phase, one chance every `FAULT_INTERVAL_MS`:
//!
//! - a crash (the undurable tail, all memory and all connections lost) and a restart later,
//!   as a new incarnation that knows nothing until the controller answers its heartbeat;
//! - a pause (a GC pause, a stopped VM): the node keeps its stale view, and what arrives
//!   for it meanwhile is handled when it resumes, in order;
//! - a network partition: one broker cut from some of the other brokers, the controller
//!   and/or the clients, until it heals;
//! - a broken connection between two processes (what is in flight on it is lost).
//!
//! At the end of the phase everything heals: links, lost messages, paused and crashed nodes.

use super::messages::Endpoint;
use super::{Event, Simulation, CONSUMERS, PRODUCERS, REPLICAS};

/// A fault may strike this often.
pub const FAULT_INTERVAL_MS: u64 = 50;
/// A crashed node restarts after 20 ms to this long.
pub const DOWN_MS_MAX: u64 = 400;
/// A pause lasts 20 ms to this long (often past the session timeout).
pub const PAUSE_MS_MAX: u64 = 700;
/// A partition lasts 30 ms to this long.
pub const PARTITION_MS_MAX: u64 = 600;

impl Simulation {
    pub(super) fn fault(&mut self) -> Result<(), String> {
        if !self.chaos {
            return Ok(());
        }
        self.scheduler.after(FAULT_INTERVAL_MS, Event::Fault);
        // Half the faults strike the leader: leader changes are where logs diverge.
        let leader = self.controller.partition().leader;
        let id = if leader > 0 && self.random.chance(500) {
            leader
        } else {
            self.random.range(1, REPLICAS as u64 + 1) as i32
        };
        let roll = self.random.range(0, 100);
        if roll < 10 {
            if self.node(id).up {
                self.crash(id)?;
                let down_ms = self.random.range(20, DOWN_MS_MAX);
                self.scheduler.after(down_ms, Event::Restart(id));
            }
        } else if roll < 20 {
            if self.node(id).up && !self.node(id).paused {
                self.summary.pauses += 1;
                self.node_mut(id).paused = true;
                let pause_ms = self.random.range(20, PAUSE_MS_MAX);
                self.note(|| format!("node {id} pauses for {pause_ms} ms"));
                self.scheduler.after(pause_ms, Event::Resume(id));
            }
        } else if roll < 35 {
            self.partition(id);
        } else if roll < 50 {
            let other = self.random_peer(id);
            self.note(|| format!("connection {id} <-> {other:?} breaks"));
            self.network.break_connection(Endpoint::Node(id), other);
        }
        Ok(())
    }

    fn random_peer(&mut self, id: i32) -> Endpoint {
        let peer = self.random.range(0, REPLICAS as u64) as i32;
        if peer == 0 {
            Endpoint::Controller
        } else {
            // Another broker: the peer numbers 1..REPLICAS map onto the ids other than `id`.
            Endpoint::Node(if peer >= id { peer + 1 } else { peer })
        }
    }

    fn partition(&mut self, id: i32) {
        self.partition_next += 1;
        let partition = self.partition_next;
        let mut cut_from = Vec::new();
        for other in (1..=REPLICAS).filter(|&other| other != id) {
            if self.random.chance(500) {
                cut_from.push(Endpoint::Node(other));
            }
        }
        if self.random.chance(500) {
            cut_from.push(Endpoint::Controller);
        }
        if self.random.chance(300) {
            cut_from.extend((0..PRODUCERS).map(Endpoint::Producer));
            cut_from.extend((0..CONSUMERS).map(Endpoint::Consumer));
        }
        if cut_from.is_empty() {
            cut_from.push(Endpoint::Controller);
        }
        for &other in &cut_from {
            self.network.cut(Endpoint::Node(id), other, partition);
        }
        self.summary.partitions += 1;
        let heal_ms = self.random.range(30, PARTITION_MS_MAX);
        self.note(|| {
            format!("partition {partition}: node {id} cut from {cut_from:?} for {heal_ms} ms")
        });
        self.scheduler.after(heal_ms, Event::Heal(partition));
    }

    pub(super) fn crash(&mut self, id: i32) -> Result<(), String> {
        self.summary.crashes += 1;
        self.held.remove(&id);
        // A process that dies closes its connections: what was in flight to or from it is lost.
        let peers = [Endpoint::Controller]
            .into_iter()
            .chain(
                (1..=REPLICAS)
                    .filter(|&peer| peer != id)
                    .map(Endpoint::Node),
            )
            .chain((0..PRODUCERS).map(Endpoint::Producer))
            .chain((0..CONSUMERS).map(Endpoint::Consumer));
        for peer in peers {
            self.network.break_connection(Endpoint::Node(id), peer);
        }
        self.node_mut(id).crash()?;
        self.checker.data_removed();
        let log = &self.node(id).log;
        let (end, epochs) = (log.end(), log.epochs().to_vec());
        self.note(|| format!("node {id} crashes; its log ends at {end}, epochs {epochs:?}"));
        Ok(())
    }

    pub(super) fn restart(&mut self, id: i32) -> Result<(), String> {
        if self.node(id).up {
            return Ok(());
        }
        self.node_mut(id).restart();
        self.note(|| format!("node {id} restarts"));
        self.start_node_clocks(id);
        Ok(())
    }

    pub(super) fn resume(&mut self, id: i32) {
        if !self.node(id).paused {
            return;
        }
        self.node_mut(id).paused = false;
        let held = self.held.remove(&id).unwrap_or_default();
        let count = held.len();
        self.note(|| format!("node {id} resumes with {count} events held"));
        for event in held {
            self.scheduler.after(0, event);
        }
    }

    /// The end of the chaos: every fault is lifted at once.
    pub(super) fn end_chaos(&mut self) -> Result<(), String> {
        self.chaos = false;
        self.network.heal_all();
        self.network.loss_per_mille = 0;
        for id in 1..=REPLICAS {
            self.restart(id)?;
            self.resume(id);
        }
        let now_ms = self.scheduler.now_ms();
        self.healed = Some((now_ms, self.payload_next));
        self.note(|| "everything heals".to_string());
        Ok(())
    }
}

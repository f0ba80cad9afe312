//! The properties of replication, checked after every event (each as cheaply as it can be) and
//! once more, in full, when a run has settled:
//!
//! 1. Every acknowledged batch is at its acknowledged offset on every ISR member (the
//!    controller's ISR: the one an election picks from), so on every leader to come; and when
//!    its acknowledgement arrives it is durable on at least min.insync.replicas replicas.
//! 2. No offset is observed by a consumer with two payloads, and whatever a consumer observed
//!    stays, like an acknowledged batch (both are "committed" here).
//! 3. The ISR members' logs are identical below the current leader's high watermark.
//! 4. A leader's high watermark never goes back (per node, incarnation and leader epoch), and
//!    never exceeds its durable end.
//! 5. The controller keeps leader ∈ ISR ⊆ replicas; leader and partition epochs only grow and
//!    an epoch has one leader; a broker's view of them never goes back within a life; only an
//!    epoch's leader writes batches stamped with it, and a batch is the same on every log.

use std::collections::BTreeMap;

use sluice_replica::Assignment;

use super::controller::Controller;
use super::log::{Batch, ReplicaLog};
use super::node::Node;

#[derive(Default)]
pub struct Checker {
    /// Committed batches (acknowledged or observed) by base offset; they never overlap.
    committed: BTreeMap<i64, Batch>,
    /// Committed batches not yet checked on the ISR.
    committed_new: Vec<Batch>,
    /// Every batch ever appended, by payload.
    written: BTreeMap<u64, Batch>,
    /// The leader of each leader epoch the controller published.
    epoch_leaders: BTreeMap<i32, i32>,
    controller_last: Option<Assignment>,
    /// Per node: (incarnation, leader epoch, partition epoch) last known.
    known_last: BTreeMap<i32, (u64, i32, i32)>,
    /// Per node: (incarnation, leader epoch, high watermark) while it leads.
    leader_high_watermarks: BTreeMap<i32, (u64, i32, i64)>,
    /// Something may have removed data: check all committed batches on the ISR.
    recheck: bool,
}

impl Checker {
    pub fn committed_count(&self) -> usize {
        self.committed.len()
    }

    /// A node appended `batch` (as the leader of its epoch, or copied from one).
    pub fn written(&mut self, node: i32, batch: Batch, as_leader: bool) -> Result<(), String> {
        if as_leader && self.epoch_leaders.get(&batch.epoch) != Some(&node) {
            return Err(format!(
                "node {node} wrote {batch:?}, but epoch {} is led by {:?}",
                batch.epoch,
                self.epoch_leaders.get(&batch.epoch)
            ));
        }
        match self.written.get(&batch.payload) {
            None if as_leader => {
                self.written.insert(batch.payload, batch);
                Ok(())
            }
            Some(first) if *first == batch && !as_leader => Ok(()),
            first => Err(format!(
                "node {node} appended {batch:?}; first written as {first:?}"
            )),
        }
    }

    /// The batch `payload` was first written as (by its leader).
    pub fn batch_written(&self, payload: u64) -> Option<Batch> {
        self.written.get(&payload).copied()
    }

    /// `batch` is committed: a producer got its acknowledgement, or a consumer read it.
    pub fn committed(&mut self, batch: Batch, how: &str) -> Result<(), String> {
        let written = self.written.get(&batch.payload);
        if written != Some(&batch) {
            return Err(format!(
                "{how} {batch:?}, but it was written as {written:?}"
            ));
        }
        let overlapping = self
            .committed
            .range(..=batch.offset_last)
            .next_back()
            .filter(|(_, known)| known.offset_last >= batch.offset_base);
        match overlapping {
            Some((_, known)) if *known == batch => Ok(()),
            Some((_, known)) => Err(format!(
                "{how} {batch:?}, but {known:?} was committed over the same offsets"
            )),
            None => {
                self.committed.insert(batch.offset_base, batch);
                self.committed_new.push(batch);
                Ok(())
            }
        }
    }

    /// acks=all: an acknowledged batch is durable, at its offset, on at least
    /// min.insync.replicas replicas.
    pub fn acknowledged(
        &self,
        batch: Batch,
        nodes: &[Node],
        min_insync: usize,
    ) -> Result<(), String> {
        let durable_on: Vec<i32> = nodes
            .iter()
            .filter(|node| {
                node.log.batch_at(batch.offset_base) == Some(&batch)
                    && node.log.durable_end() >= batch.end()
            })
            .map(|node| node.id)
            .collect();
        if durable_on.len() < min_insync {
            return Err(format!(
                "acknowledged {batch:?} is durable on {durable_on:?} only (min.insync {min_insync})"
            ));
        }
        Ok(())
    }

    /// A log lost data (a truncation or a crash): everything committed is checked again.
    pub fn data_removed(&mut self) {
        self.recheck = true;
    }

    pub fn after_event(&mut self, nodes: &[Node], controller: &Controller) -> Result<(), String> {
        self.check_controller(controller.partition())?;
        for node in nodes {
            self.check_node(node)?;
        }
        let partition = controller.partition();
        let isr_logs: Vec<(i32, &ReplicaLog)> = partition
            .isr
            .iter()
            .map(|&member| (member, &node_of(nodes, member).log))
            .collect();
        if self.recheck {
            self.recheck = false;
            self.committed_new.clear();
            for batch in self.committed.values() {
                committed_on(batch, &isr_logs)?;
            }
        }
        for batch in self.committed_new.drain(..) {
            committed_on(&batch, &isr_logs)?;
        }
        self.check_isr_below_high_watermark(nodes, partition)
    }

    fn check_controller(&mut self, partition: &Assignment) -> Result<(), String> {
        let leader_ok = partition.leader < 0 || partition.isr.contains(&partition.leader);
        let isr_ok = partition
            .isr
            .iter()
            .all(|member| partition.replicas.contains(member));
        if !leader_ok || !isr_ok || partition.isr.is_empty() {
            return Err(format!("controller: {partition:?}"));
        }
        if let Some(last) = &self.controller_last {
            if last == partition {
                return Ok(());
            }
            let grew = partition.partition_epoch > last.partition_epoch
                && partition.leader_epoch >= last.leader_epoch
                && (partition.leader == last.leader || partition.leader_epoch > last.leader_epoch);
            if !grew {
                return Err(format!("controller went from {last:?} to {partition:?}"));
            }
        }
        if partition.leader >= 0 {
            let leader = *self
                .epoch_leaders
                .entry(partition.leader_epoch)
                .or_insert(partition.leader);
            if leader != partition.leader {
                return Err(format!(
                    "epoch {} led by {leader} and {partition:?}",
                    leader
                ));
            }
        }
        self.controller_last = Some(partition.clone());
        Ok(())
    }

    fn check_node(&mut self, node: &Node) -> Result<(), String> {
        let id = node.id;
        if let Some(known) = &node.known {
            let now = (node.incarnation, known.leader_epoch, known.partition_epoch);
            let last = self.known_last.insert(id, now);
            if last.is_some_and(|last| last.0 == now.0 && (last.1, last.2) > (now.1, now.2)) {
                return Err(format!(
                    "node {id}: metadata went back from {last:?} to {now:?}"
                ));
            }
        }
        if node.high_watermark > node.log.end() {
            return Err(format!("node {id}: high watermark past the log end"));
        }
        let Some(state) = node.leader_state() else {
            self.leader_high_watermarks.remove(&id);
            return Ok(());
        };
        let known = node.known.as_ref().expect("a leader knows its assignment");
        if known.leader != id || known.leader_epoch != state.leader_epoch() {
            return Err(format!(
                "node {id} leads epoch {} but knows {known:?}",
                state.leader_epoch()
            ));
        }
        let high_watermark = state.high_watermark();
        if high_watermark > node.log.durable_end() {
            return Err(format!(
                "node {id}: high watermark {high_watermark} past its durable end {}",
                node.log.durable_end()
            ));
        }
        let now = (node.incarnation, state.leader_epoch(), high_watermark);
        if let Some(last) = self.leader_high_watermarks.insert(id, now) {
            if (last.0, last.1) == (now.0, now.1) && last.2 > now.2 {
                return Err(format!(
                    "node {id}: leader high watermark went back: {last:?} -> {now:?}"
                ));
            }
        }
        Ok(())
    }

    /// Property 3, against the leader the controller names, once it has taken the role.
    fn check_isr_below_high_watermark(
        &self,
        nodes: &[Node],
        partition: &Assignment,
    ) -> Result<(), String> {
        if partition.leader < 0 {
            return Ok(());
        }
        let leader = node_of(nodes, partition.leader);
        let Some(state) = leader.leader_state() else {
            return Ok(());
        };
        if state.leader_epoch() != partition.leader_epoch {
            return Ok(());
        }
        let high_watermark = state.high_watermark();
        let expected = leader.log.fingerprint_below(high_watermark);
        if expected.is_none() {
            return Err(format!(
                "leader {}: high watermark {high_watermark} inside a batch",
                leader.id
            ));
        }
        for &member in &partition.isr {
            let log = &node_of(nodes, member).log;
            if log.fingerprint_below(high_watermark) != expected {
                return Err(format!(
                    "ISR member {member} differs from leader {} below the high watermark \
                     {high_watermark} (its log ends at {}, durable {})",
                    leader.id,
                    log.end(),
                    log.durable_end()
                ));
            }
        }
        Ok(())
    }

    /// The end of a run: every committed batch on every replica (all in sync by now), and all
    /// logs the same up to their end.
    pub fn settled(&self, nodes: &[Node], leader: i32) -> Result<(), String> {
        let leader_log = &node_of(nodes, leader).log;
        let logs: Vec<(i32, &ReplicaLog)> = nodes.iter().map(|node| (node.id, &node.log)).collect();
        for batch in self.committed.values() {
            committed_on(batch, &logs)?;
        }
        for node in nodes {
            let same = node.log.end() == leader_log.end()
                && node.log.fingerprint_below(leader_log.end())
                    == leader_log.fingerprint_below(leader_log.end());
            if !same {
                return Err(format!(
                    "node {} did not converge on leader {leader}",
                    node.id
                ));
            }
        }
        Ok(())
    }
}

fn node_of(nodes: &[Node], id: i32) -> &Node {
    nodes
        .iter()
        .find(|node| node.id == id)
        .expect("a known node")
}

fn committed_on(batch: &Batch, logs: &[(i32, &ReplicaLog)]) -> Result<(), String> {
    for (id, log) in logs {
        let found = log.batch_at(batch.offset_base);
        if found != Some(batch) {
            return Err(format!(
                "committed {batch:?} is not on ISR member {id} (it has {found:?}, log end {}, \
                 durable {})",
                log.end(),
                log.durable_end()
            ));
        }
    }
    Ok(())
}

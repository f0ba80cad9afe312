//! The coordinator on a live shard: owns the shard's `GroupCoordinator`, delivers its replies to
//! parked requests, runs its timers, and persists its records through the engine (append, then
//! fdatasync, then answer). Lives in `Shard::groups`, on exactly one shard; not `Send`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crate::partition::Partition;

use super::config::GroupConfig;
use super::coordinator::{Action, GroupCoordinator, Reply, Ticket};
use super::offsets::{CommitPlan, CommitRequest};
use super::persist::{JobDone, PersistJob};
use super::records::OffsetsRecord;
use super::service::GroupService;
use super::service::PartitionResults;
use super::txn_offsets::TxnCommitRequest;

/// Longest sleep of the timer loop: timers fire at most this late.
pub const TIMER_TICK_MS_MAX: u64 = 100;

pub struct GroupRuntime {
    coord: RefCell<GroupCoordinator>,
    waiters: RefCell<HashMap<Ticket, flume::Sender<Reply>>>,
    /// Replies produced in the same call that parked their request, before `wait` registered.
    early: RefCell<HashMap<Ticket, Reply>>,
    /// This shard's open `__consumer_offsets` partitions, by index.
    pub(super) logs: RefCell<HashMap<i32, Rc<Partition>>>,
    /// Offsets partitions of this shard that this broker leads.
    pub(super) led: RefCell<std::collections::BTreeSet<i32>>,
    jobs_tx: flume::Sender<PersistJob>,
    jobs_rx: flume::Receiver<PersistJob>,
    started: Cell<bool>,
}

impl GroupRuntime {
    pub fn new(shard_id: usize, config: GroupConfig) -> GroupRuntime {
        let seed =
            (crate::util::now_ms() as u64) ^ ((shard_id as u64) << 48) ^ std::process::id() as u64;
        let (jobs_tx, jobs_rx) = flume::unbounded();
        GroupRuntime {
            coord: RefCell::new(GroupCoordinator::new(config, seed)),
            waiters: RefCell::new(HashMap::new()),
            early: RefCell::new(HashMap::new()),
            logs: RefCell::new(HashMap::new()),
            led: RefCell::new(std::collections::BTreeSet::new()),
            jobs_tx,
            jobs_rx,
            started: Cell::new(false),
        }
    }

    pub fn config(&self) -> GroupConfig {
        self.coord.borrow().config().clone()
    }

    /// (group, topic, partition, offset) of every committed offset held here; for the metrics
    /// scrape only (empty if the coordinator is borrowed right now).
    pub fn committed_offsets(&self) -> Vec<(String, String, i32, i64)> {
        let Ok(coord) = self.coord.try_borrow() else {
            return Vec::new();
        };
        let dead = super::state::GroupState::Dead;
        let live = coord.groups.values().filter(|g| !g.is(dead));
        live.flat_map(|g| {
            let offsets = g.offsets.iter();
            offsets.map(|((topic, p), o)| (g.group_id.clone(), topic.clone(), *p, o.offset))
        })
        .collect()
    }

    /// Runs `f` on the coordinator, then carries out what it asked for.
    pub fn with<T>(&self, f: impl FnOnce(&mut GroupCoordinator) -> T) -> T {
        let out = f(&mut self.coord.borrow_mut());
        self.pump();
        out
    }

    /// Delivers replies and queues persists produced by the last coordinator call.
    fn pump(&self) {
        let actions = self.coord.borrow_mut().take_actions();
        for action in actions {
            match action {
                Action::Reply { ticket, reply } => self.deliver(ticket, reply),
                Action::Persist {
                    partition,
                    records,
                    replies,
                } => self.enqueue(PersistJob {
                    partition,
                    records,
                    producer: None,
                    done: JobDone::Replies(replies),
                }),
            }
        }
    }

    pub(super) fn deliver(&self, ticket: Ticket, reply: Reply) {
        match self.waiters.borrow_mut().remove(&ticket) {
            // The requester may have gone (connection closed): nothing to do then.
            Some(waiter) => drop(waiter.send(reply)),
            None => {
                self.early.borrow_mut().insert(ticket, reply);
            }
        }
    }

    pub(super) fn enqueue(&self, job: PersistJob) {
        // The receiver lives in `self`, so the channel never disconnects.
        self.jobs_tx.send(job).ok();
    }

    /// Waits for the reply to a parked request.
    /// Call right after the coordinator call that parked it (no await in between).
    pub async fn wait(&self, ticket: Ticket) -> Option<Reply> {
        if let Some(reply) = self.early.borrow_mut().remove(&ticket) {
            return Some(reply);
        }
        let (tx, rx) = flume::bounded(1);
        self.waiters.borrow_mut().insert(ticket, tx);
        rx.recv_async().await.ok()
    }

    /// OffsetCommit: validate, persist durably, then apply (in the persist worker, in the
    /// order the records were appended).
    pub async fn commit(&self, req: CommitRequest, now_ms: u64) -> PartitionResults {
        let plan = self.with(|c| c.prepare_commit(&req, now_ms));
        self.persist_commit(plan, &req).await
    }

    /// TxnOffsetCommit: validate, persist durably in a transactional batch of the producer,
    /// then hold the offsets pending until the transaction ends (`complete_txn`).
    pub async fn txn_commit(&self, req: TxnCommitRequest, now_ms: u64) -> PartitionResults {
        let plan = self.with(|c| c.prepare_txn_commit(&req, now_ms));
        self.persist_commit(plan, &req.commit).await
    }

    async fn persist_commit(&self, plan: CommitPlan, req: &CommitRequest) -> PartitionResults {
        if plan.records.is_empty() {
            return plan.results;
        }
        let (tx, rx) = flume::bounded(1);
        let partition = plan.partition;
        let records = plan.records.clone();
        let producer = plan.producer;
        self.enqueue(PersistJob {
            partition,
            records,
            producer,
            done: JobDone::Commit(Box::new(plan), tx),
        });
        match rx.recv_async().await {
            Ok(results) => results,
            Err(_) => req
                .entries
                .iter()
                .map(|e| {
                    (
                        e.topic.clone(),
                        e.partition,
                        Some(kafka_protocol::ResponseError::CoordinatorNotAvailable),
                    )
                })
                .collect(),
        }
    }

    /// Persists records and waits for the outcome (true: appended and flushed).
    pub async fn persist_and_wait(&self, partition: i32, records: Vec<OffsetsRecord>) -> bool {
        let (tx, rx) = flume::bounded(1);
        self.enqueue(PersistJob {
            partition,
            records,
            producer: None,
            done: JobDone::Notify(tx),
        });
        rx.recv_async().await.unwrap_or(false)
    }

    pub(super) fn coord(&self) -> std::cell::RefMut<'_, GroupCoordinator> {
        self.coord.borrow_mut()
    }

    pub(super) fn pump_after(&self) {
        self.pump();
    }

    pub(super) fn jobs(&self) -> flume::Receiver<PersistJob> {
        self.jobs_rx.clone()
    }
}

/// Starts the coordinator of `shard`: its timers and persist worker. Offsets partitions are
/// loaded as the metadata makes this broker their leader (`set_led_partitions`).
pub fn start(shard: &Rc<GroupService>) {
    let rt = shard.runtime();
    assert!(!rt.started.replace(true), "group runtime started twice");
    glommio::spawn_local(super::persist::worker(shard.clone())).detach();
    glommio::spawn_local(timer_loop(shard.clone())).detach();
}

/// The offsets partitions of this shard that this broker leads are now `led`: newly led ones
/// are opened and replayed (their groups answer COORDINATOR_LOAD_IN_PROGRESS meanwhile), and
/// the groups of the ones no longer led are forgotten (NOT_COORDINATOR), as Kafka's
/// coordinator does on election and resignation.
pub fn set_led_partitions(shard: &Rc<GroupService>, led: std::collections::BTreeSet<i32>) {
    let rt = shard.runtime();
    let previous = rt.led.replace(led.clone());
    for lost in previous.difference(&led) {
        tracing::info!(
            partition = lost,
            "no longer coordinating this offsets partition"
        );
        rt.coord().unload(*lost);
    }
    let gained: Vec<i32> = led.difference(&previous).copied().collect();
    if gained.is_empty() {
        return;
    }
    for p in &gained {
        rt.coord().begin_load(*p);
    }
    glommio::spawn_local(super::loader::load_all(shard.clone(), gained)).detach();
}

async fn timer_loop(shard: Rc<GroupService>) {
    let rt = shard.runtime();
    while !shard.ctx().is_stopping() {
        let now_ms = crate::util::now_ms() as u64;
        let next_ms = rt.coord().next_deadline_ms().unwrap_or(u64::MAX);
        if next_ms <= now_ms {
            rt.with(|c| c.tick(now_ms));
            continue;
        }
        let sleep_ms = (next_ms - now_ms).min(TIMER_TICK_MS_MAX);
        glommio::timer::sleep(Duration::from_millis(sleep_ms)).await;
    }
}

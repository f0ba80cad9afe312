//! The model: one `TxnCoordinator` driven as the broker glue drives it, a durable
//! `__transaction_state` log of encoded records, writes in flight that finish (or fail) in any
//! order across ids, marker writes, clients, timers and crashes, all from one seeded generator.
//!
//! Properties, checked at every durable append and after every step:
//! - persist before effect: the coordinator's metadata is the last durable record of each id
//!   (ignoring `last_producer_epoch`, which is not durable), nothing more, nothing less;
//! - epochs never go back: per id, a record with the same producer id never has a lower epoch,
//!   and a new producer id is one never used before, at epoch 0; every (producer id, epoch)
//!   answered to a client is the durable one and not older than any answered before;
//! - fencing: an add or end succeeds only with the durable producer id and epoch, which is the
//!   newest handed out; a producer whose epoch was bumped (by another instance, a fence or a
//!   timeout) gets errors only;
//! - markers before Complete*: a Prepare* record is followed by its own Complete* only (never
//!   overridden, a prepared commit is never aborted), and only once markers of that producer
//!   id, epoch and result were written to every partition of the transaction; markers are
//!   written only while the transaction is still in that Prepare* state;
//! - records round-trip through the codec; after a crash the replayed coordinator offers, by
//!   `markers_pending`, exactly the transactions whose last durable record is Prepare*;
//! - at most one write in flight per transactional id.

mod random;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sluice_txn::records::{decode_key, decode_value, encode_key, encode_value};
use sluice_txn::{
    EndOutcome, InitOutcome, MarkerJob, TopicPartition, Transition, TxnConfig, TxnCoordinator,
    TxnError, TxnMetadata, TxnState,
};

use random::Rng;

const IDS: [&str; 3] = ["txn-a", "txn-b", "txn-c"];
const INSTANCES_PER_ID: usize = 2;
const STEPS: usize = 1_500;
const TOPICS: [&str; 2] = ["orders", "payments"];
const PARTITIONS_PER_TOPIC: i32 = 3;
const WRITE_FAIL_PERCENT: u64 = 10;
const CRASH_PER_MILLE: u64 = 5;
const ANSWER_LOST_PERCENT: u64 = 20;
const JOB_DUPLICATE_PERCENT: u64 = 15;
const TRACE_LINES_MAX: usize = 60;
/// One id starts a few bumps short of an exhausted epoch, so that producer ids rotate.
const NEAR_EXHAUSTED_ID: &str = "txn-c";
const NEAR_EXHAUSTED_EPOCH: i16 = sluice_txn::PRODUCER_EPOCH_EXHAUSTED - 3;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub steps: u64,
    pub commits: u64,
    pub aborts: u64,
    pub fences: u64,
    pub timeouts: u64,
    pub expiries: u64,
    pub rotations: u64,
    pub crashes: u64,
    pub failed_writes: u64,
    pub fenced_requests: u64,
    pub kip360_answers: u64,
}

impl Summary {
    pub fn add(&mut self, other: &Summary) {
        self.steps += other.steps;
        self.commits += other.commits;
        self.aborts += other.aborts;
        self.fences += other.fences;
        self.timeouts += other.timeouts;
        self.expiries += other.expiries;
        self.rotations += other.rotations;
        self.crashes += other.crashes;
        self.failed_writes += other.failed_writes;
        self.fenced_requests += other.fenced_requests;
        self.kip360_answers += other.kip360_answers;
    }
}

pub struct Failure {
    pub message: String,
    pub trace: Vec<String>,
}

type Checked = Result<(), String>;

fn ensure(holds: bool, message: impl FnOnce() -> String) -> Checked {
    if holds {
        Ok(())
    } else {
        Err(message())
    }
}

/// What a write in flight answers when it finishes.
#[derive(Clone, Copy, Debug)]
enum Cause {
    Init { client: usize },
    Fence { client: usize },
    Add { client: usize },
    End { client: usize },
    Complete,
    Timeout,
    Expire,
}

struct Write {
    transition: Transition,
    cause: Cause,
}

struct Client {
    id: &'static str,
    known: Option<(i64, i16)>,
    busy: bool,
    /// Its InitProducerId got no answer: it retries it with what it has (KIP-360).
    retry_init: bool,
}

struct Sim {
    rng: Rng,
    now_ms: i64,
    config: TxnConfig,
    coordinator: TxnCoordinator,
    /// `__transaction_state`: key bytes and value bytes (None: tombstone), in log order.
    log: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The last durable record of each id, decoded.
    durable: BTreeMap<String, TxnMetadata>,
    /// Producer ids a record ever held, per id.
    producer_ids_used: BTreeSet<i64>,
    in_flight: Vec<Write>,
    markers: Vec<MarkerJob>,
    /// Markers written since the id's last Prepare* record: producer id, epoch, commit, where.
    markers_written: BTreeMap<String, (i64, i16, bool, BTreeSet<TopicPartition>)>,
    clients: Vec<Client>,
    /// The newest (producer id, epoch) answered per id.
    newest: BTreeMap<String, (i64, i16)>,
    /// Per id, the newest (producer id, epoch) a durable fence or timeout abort fenced.
    fenced: BTreeMap<String, (i64, i16)>,
    next_producer_id: i64,
    summary: Summary,
    trace: VecDeque<String>,
    trace_live: bool,
}

pub fn run(seed: u64, trace_live: bool) -> Result<Summary, Failure> {
    let mut sim = Sim::new(seed, trace_live);
    for step in 0..STEPS {
        sim.summary.steps += 1;
        if let Err(message) = sim.step().and_then(|()| sim.check_state()) {
            let message = format!("step {step} at {} ms: {message}", sim.now_ms);
            return Err(Failure {
                message,
                trace: sim.trace.into(),
            });
        }
    }
    Ok(sim.summary)
}

impl Sim {
    fn new(seed: u64, trace_live: bool) -> Sim {
        let config = TxnConfig {
            max_timeout_ms: 3_000,
            id_expiration_ms: 20_000,
            abort_timed_out_interval_ms: 1_000,
        };
        let clients = IDS
            .iter()
            .flat_map(|&id| (0..INSTANCES_PER_ID).map(move |_| id))
            .map(|id| Client {
                id,
                known: None,
                busy: false,
                retry_init: false,
            })
            .collect();
        let mut sim = Sim {
            rng: Rng::new(seed),
            now_ms: 0,
            coordinator: TxnCoordinator::new(config.clone()),
            config,
            log: Vec::new(),
            durable: BTreeMap::new(),
            producer_ids_used: BTreeSet::new(),
            in_flight: Vec::new(),
            markers: Vec::new(),
            markers_written: BTreeMap::new(),
            clients,
            newest: BTreeMap::new(),
            fenced: BTreeMap::new(),
            next_producer_id: 1_000,
            summary: Summary::default(),
            trace: VecDeque::new(),
            trace_live,
        };
        sim.seed_near_exhausted();
        sim
    }

    /// A durable Empty record for `NEAR_EXHAUSTED_ID`, loaded as a replay would.
    fn seed_near_exhausted(&mut self) {
        let metadata = TxnMetadata {
            transactional_id: NEAR_EXHAUSTED_ID.to_owned(),
            producer_id: 999,
            previous_producer_id: -1,
            next_producer_id: -1,
            producer_epoch: NEAR_EXHAUSTED_EPOCH,
            last_producer_epoch: -1,
            timeout_ms: 1_000,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            start_timestamp_ms: -1,
            last_update_timestamp_ms: 0,
        };
        self.producer_ids_used.insert(metadata.producer_id);
        self.log
            .push((encode_key(NEAR_EXHAUSTED_ID), Some(encode_value(&metadata))));
        self.coordinator
            .load(NEAR_EXHAUSTED_ID, Some(metadata.clone()));
        self.durable.insert(NEAR_EXHAUSTED_ID.to_owned(), metadata);
    }

    fn event(&mut self, line: String) {
        let line = format!("{:>7} ms {line}", self.now_ms);
        if self.trace_live {
            eprintln!("{line}");
        }
        if self.trace.len() == TRACE_LINES_MAX {
            self.trace.pop_front();
        }
        self.trace.push_back(line);
    }

    fn step(&mut self) -> Checked {
        self.now_ms += self.rng.below(60) as i64;
        if self
            .coordinator
            .next_deadline_ms()
            .is_some_and(|deadline_ms| deadline_ms <= self.now_ms)
        {
            self.timers();
        }
        match self.rng.below(100) {
            0..=44 => self.client_request(),
            45..=69 => self.finish_write(),
            70..=84 => self.write_markers(),
            85..=88 => {
                self.now_ms += self.rng.below(4_000) as i64;
                Ok(())
            }
            89 if self.rng.below(1_000) < CRASH_PER_MILLE * 100 => self.crash(),
            _ => Ok(()),
        }
    }

    fn timers(&mut self) {
        for transition in self.coordinator.timed_out(self.now_ms) {
            self.summary.timeouts += 1;
            self.event(format!("timeout {}", describe(&transition)));
            self.in_flight.push(Write {
                transition,
                cause: Cause::Timeout,
            });
        }
        for transition in self.coordinator.expired_ids(self.now_ms) {
            self.event(format!("expire {}", describe(&transition)));
            self.in_flight.push(Write {
                transition,
                cause: Cause::Expire,
            });
        }
    }

    fn finish_write(&mut self) -> Checked {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let index = self.rng.below(self.in_flight.len() as u64) as usize;
        let Write { transition, cause } = self.in_flight.swap_remove(index);
        let persisted = self.rng.below(100) >= WRITE_FAIL_PERCENT;
        self.event(format!(
            "write {} {cause:?}: {}",
            if persisted { "ok" } else { "FAILED" },
            describe(&transition)
        ));
        if persisted {
            if matches!(cause, Cause::Fence { .. } | Cause::Timeout) {
                self.fence(&transition)?;
            }
            self.append(&transition)?;
        } else {
            self.summary.failed_writes += 1;
        }
        let id = transition.transactional_id.clone();
        let job = self.coordinator.complete(&id, persisted);
        let owed = persisted && transition.target.state.is_prepare();
        ensure(job.is_some() == owed, || {
            format!("complete gave {job:?} for {transition:?}")
        })?;
        if let Some(job) = job {
            let target = &transition.target;
            ensure(job.producer_epoch == target.producer_epoch, || {
                "job epoch".into()
            })?;
            ensure(job.partitions.len() == target.partitions.len(), || {
                "job partitions".into()
            })?;
            self.markers.push(job);
        }
        match cause {
            Cause::Init { client } => {
                self.clients[client].busy = false;
                if persisted {
                    // Now and then the answer is lost: the client retries with what it had.
                    let delivered = self.rng.below(100) >= ANSWER_LOST_PERCENT;
                    let target = &transition.target;
                    self.answer(client, target.producer_id, target.producer_epoch, delivered)?;
                }
            }
            Cause::Fence { client } | Cause::Add { client } | Cause::End { client } => {
                self.clients[client].busy = false;
            }
            Cause::Complete if !persisted => {
                // The markers are durable; ask for the Complete* write again.
                if let Some(current) = self.durable.get(&id).filter(|m| m.state.is_prepare()) {
                    self.markers.push(job_of(current));
                }
            }
            Cause::Complete | Cause::Timeout | Cause::Expire => {}
        }
        Ok(())
    }

    /// A durable append of `transition`, checked against the previous record of its id.
    fn append(&mut self, transition: &Transition) -> Checked {
        let id = transition.transactional_id.clone();
        let target = &transition.target;
        let previous = self.durable.get(&id);
        if let Some(previous) = previous {
            if previous.state.is_prepare() {
                let want = if previous.state == TxnState::PrepareCommit {
                    TxnState::CompleteCommit
                } else {
                    TxnState::CompleteAbort
                };
                ensure(target.state == want, || {
                    format!("{id}: {:?} follows {:?}", target.state, previous.state)
                })?;
                let written = self.markers_written.get(&id);
                let all_written = written.is_some_and(|(pid, epoch, commit, partitions)| {
                    (*pid, *epoch) == (previous.producer_id, previous.producer_epoch)
                        && *commit == (want == TxnState::CompleteCommit)
                        && previous.partitions.is_subset(partitions)
                });
                ensure(all_written, || {
                    format!("{id}: {want:?} before its markers: {written:?}")
                })?;
            }
            if target.producer_id == previous.producer_id {
                ensure(target.producer_epoch >= previous.producer_epoch, || {
                    format!(
                        "{id}: epoch {} after {}",
                        target.producer_epoch, previous.producer_epoch
                    )
                })?;
            }
        } else {
            ensure(!target.state.is_complete(), || {
                format!("{id}: Complete* without Prepare*")
            })?;
        }
        if previous.is_none_or(|p| p.producer_id != target.producer_id) {
            let fresh = !self.producer_ids_used.contains(&target.producer_id);
            ensure(
                fresh && target.producer_epoch == 0 || target.state == TxnState::Dead,
                || {
                    format!(
                        "{id}: producer id {} reused or not at epoch 0",
                        target.producer_id
                    )
                },
            )?;
            if previous.is_some() && target.state != TxnState::Dead {
                self.summary.rotations += 1;
            }
            self.producer_ids_used.insert(target.producer_id);
        }
        if target.state == TxnState::Dead {
            self.summary.expiries += 1;
            self.durable.remove(&id);
            self.log.push((encode_key(&id), None));
            return Ok(());
        }
        let value = encode_value(target);
        let decoded = decode_value(&id, &value).map_err(|e| format!("{id}: decode: {e}"))?;
        ensure(decoded == durable_view(target), || {
            format!("{id}: codec changed {target:?}")
        })?;
        match target.state {
            TxnState::CompleteCommit => self.summary.commits += 1,
            TxnState::CompleteAbort => self.summary.aborts += 1,
            state if state.is_prepare() => {
                let commit = state == TxnState::PrepareCommit;
                let entry = (
                    target.producer_id,
                    target.producer_epoch,
                    commit,
                    BTreeSet::new(),
                );
                self.markers_written.insert(id.clone(), entry);
            }
            _ => {}
        }
        self.durable.insert(id.clone(), decoded);
        self.log.push((encode_key(&id), Some(value)));
        Ok(())
    }

    /// A fence or timeout abort is about to be durable: it bumps the epoch of the durable
    /// producer, which is fenced from now on.
    fn fence(&mut self, transition: &Transition) -> Checked {
        let id = &transition.transactional_id;
        let previous = self
            .durable
            .get(id)
            .ok_or_else(|| format!("{id}: fence of nothing"))?;
        let target = &transition.target;
        ensure(previous.state == TxnState::Ongoing, || {
            format!("{id}: fence of {previous:?}")
        })?;
        ensure(
            target.producer_id == previous.producer_id
                && target.producer_epoch > previous.producer_epoch,
            || {
                format!(
                    "{id}: fence to {}/{} does not bump {}/{}",
                    target.producer_id,
                    target.producer_epoch,
                    previous.producer_id,
                    previous.producer_epoch
                )
            },
        )?;
        self.fenced
            .insert(id.clone(), (previous.producer_id, previous.producer_epoch));
        Ok(())
    }

    fn write_markers(&mut self) -> Checked {
        if self.markers.is_empty() {
            return Ok(());
        }
        let index = self.rng.below(self.markers.len() as u64) as usize;
        // A marker sender may retry a job it already sent: now and then it stays queued.
        let job = if self.rng.below(100) < JOB_DUPLICATE_PERCENT {
            self.markers[index].clone()
        } else {
            self.markers.swap_remove(index)
        };
        let id = job.transactional_id.clone();
        // The glue's check before sending: the transaction is still in this Prepare*.
        let still_due = self.coordinator.is_marker_job_current(&job);
        self.event(format!(
            "markers {id} pid {} epoch {} commit {} due {still_due}",
            job.producer_id, job.producer_epoch, job.commit
        ));
        if !still_due {
            return Ok(());
        }
        let durable = self.durable.get(&id);
        let matches = durable.is_some_and(|m| m.state.is_prepare() && job_of(m) == job);
        ensure(matches, || {
            format!("{id}: markers {job:?} for durable {durable:?}")
        })?;
        let written = self
            .markers_written
            .get_mut(&id)
            .ok_or("markers for no Prepare*")?;
        written.3.extend(job.partitions.iter().cloned());
        let transition =
            self.coordinator
                .markers_written(&id, job.producer_id, job.producer_epoch, self.now_ms);
        if let Some(transition) = transition {
            self.in_flight.push(Write {
                transition,
                cause: Cause::Complete,
            });
        }
        Ok(())
    }

    fn client_request(&mut self) -> Checked {
        let client = self.rng.below(self.clients.len() as u64) as usize;
        if self.clients[client].busy {
            return Ok(());
        }
        let roll = self.rng.below(100);
        match self.clients[client].known {
            None => self.init(client),
            Some(_) if roll < 4 || self.clients[client].retry_init => self.init(client),
            Some(known) if roll < 55 => self.add(client, known),
            Some(known) if roll < 65 => self.verify(client, known),
            Some(known) => self.end(client, known, roll < 90),
        }
    }

    fn init(&mut self, client: usize) -> Checked {
        let id = self.clients[client].id;
        let retry = std::mem::take(&mut self.clients[client].retry_init);
        let expected = self.clients[client]
            .known
            .filter(|_| retry || self.rng.below(2) == 0);
        let timeout_ms = 500 + self.rng.below(2_500) as i32;
        let mut outcome =
            self.coordinator
                .init_producer_id(id, timeout_ms, expected, None, self.now_ms);
        if outcome == Ok(InitOutcome::NeedProducerId) {
            let fresh = self.next_producer_id;
            self.next_producer_id += 1;
            outcome = self.coordinator.init_producer_id(
                id,
                timeout_ms,
                expected,
                Some(fresh),
                self.now_ms,
            );
        }
        self.event(format!(
            "client {client} init {id} expected {expected:?}: {outcome:?}"
        ));
        match outcome {
            Ok(InitOutcome::Persist(transition)) => {
                self.clients[client].busy = true;
                self.in_flight.push(Write {
                    transition,
                    cause: Cause::Init { client },
                });
            }
            Ok(InitOutcome::FenceOngoing { fence }) => {
                self.summary.fences += 1;
                self.clients[client].busy = true;
                self.in_flight.push(Write {
                    transition: fence,
                    cause: Cause::Fence { client },
                });
            }
            Ok(InitOutcome::Answer {
                producer_id,
                producer_epoch,
            }) => {
                self.summary.kip360_answers += 1;
                self.answer(client, producer_id, producer_epoch, true)?;
            }
            Ok(InitOutcome::NeedProducerId) => return Err("NeedProducerId twice".into()),
            Err(TxnError::ProducerFenced) => {
                self.summary.fenced_requests += 1;
                self.clients[client].known = None;
            }
            Err(TxnError::ConcurrentTransactions) => {}
            Err(error) => return Err(format!("init {id}: unexpected {error}")),
        }
        Ok(())
    }

    fn add(&mut self, client: usize, (pid, epoch): (i64, i16)) -> Checked {
        let id = self.clients[client].id;
        let partitions = self.random_partitions();
        let result = self
            .coordinator
            .add_partitions(id, pid, epoch, &partitions, self.now_ms);
        self.event(format!(
            "client {client} add {id} {pid}/{epoch} {partitions:?}: {result:?}"
        ));
        self.check_request(client, result.is_ok())?;
        match result {
            Ok(Some(transition)) => {
                self.clients[client].busy = true;
                self.in_flight.push(Write {
                    transition,
                    cause: Cause::Add { client },
                });
            }
            Ok(None) | Err(TxnError::ConcurrentTransactions) => {}
            Err(error) => self.refused(client, error)?,
        }
        Ok(())
    }

    fn verify(&mut self, client: usize, (pid, epoch): (i64, i16)) -> Checked {
        let id = self.clients[client].id;
        let partitions = self.random_partitions();
        let results = self
            .coordinator
            .verify_partitions(id, pid, epoch, &partitions);
        for (partition, result) in results {
            let durable = self.durable.get(id);
            let in_txn = durable.is_some_and(|m| {
                m.state == TxnState::Ongoing
                    && (m.producer_id, m.producer_epoch) == (pid, epoch)
                    && m.partitions.contains(&partition)
            });
            ensure(result.is_ok() == in_txn, || {
                format!("verify {id} {pid}/{epoch} {partition:?}: {result:?}, durable {durable:?}")
            })?;
        }
        Ok(())
    }

    fn end(&mut self, client: usize, (pid, epoch): (i64, i16), commit: bool) -> Checked {
        let id = self.clients[client].id;
        let result = self
            .coordinator
            .end_txn(id, pid, epoch, commit, self.now_ms);
        self.event(format!(
            "client {client} end {id} {pid}/{epoch} commit {commit}: {result:?}"
        ));
        self.check_request(client, result.is_ok())?;
        match result {
            Ok(EndOutcome::Persist(transition)) => {
                self.clients[client].busy = true;
                self.in_flight.push(Write {
                    transition,
                    cause: Cause::End { client },
                });
            }
            Ok(EndOutcome::AlreadyDone)
            | Err(TxnError::ConcurrentTransactions | TxnError::InvalidTxnState) => {}
            Err(error) => self.refused(client, error)?,
        }
        Ok(())
    }

    /// A fenced or unknown producer: it must initialise again.
    fn refused(&mut self, client: usize, error: TxnError) -> Checked {
        match error {
            TxnError::ProducerFenced | TxnError::InvalidProducerIdMapping => {
                self.summary.fenced_requests += 1;
                self.clients[client].known = None;
                Ok(())
            }
            error => Err(format!("client {client}: unexpected {error}")),
        }
    }

    /// An add or end succeeds only with the durable producer id and epoch, the newest handed
    /// out.
    fn check_request(&self, client: usize, succeeded: bool) -> Checked {
        let Client { id, known, .. } = &self.clients[client];
        if !succeeded {
            return Ok(());
        }
        let durable = self
            .durable
            .get(*id)
            .map(|m| (m.producer_id, m.producer_epoch));
        ensure(*known == durable, || {
            format!("{id}: {known:?} accepted, durable {durable:?}")
        })?;
        let newest = self.newest.get(*id).copied();
        ensure(*known == newest, || {
            format!("{id}: {known:?} accepted, newest {newest:?}")
        })?;
        let fenced = self.fenced.get(*id).copied();
        let is_fenced =
            known
                .zip(fenced)
                .is_some_and(|((pid, epoch), (fenced_pid, fenced_epoch))| {
                    pid == fenced_pid && epoch <= fenced_epoch
                });
        ensure(!is_fenced, || {
            format!("{id}: {known:?} accepted, fenced at {fenced:?}")
        })
    }

    fn answer(
        &mut self,
        client: usize,
        producer_id: i64,
        producer_epoch: i16,
        delivered: bool,
    ) -> Checked {
        let id = self.clients[client].id;
        let durable = self
            .durable
            .get(id)
            .map(|m| (m.producer_id, m.producer_epoch));
        ensure(durable == Some((producer_id, producer_epoch)), || {
            format!("{id}: answered {producer_id}/{producer_epoch}, durable {durable:?}")
        })?;
        if let Some(&(newest_id, newest_epoch)) = self.newest.get(id) {
            let newer = producer_id > newest_id
                || producer_id == newest_id && producer_epoch >= newest_epoch;
            ensure(newer, || {
                format!(
                    "{id}: answered {producer_id}/{producer_epoch} after \
                    {newest_id}/{newest_epoch}"
                )
            })?;
        }
        self.newest
            .insert(id.to_owned(), (producer_id, producer_epoch));
        if delivered {
            self.clients[client].known = Some((producer_id, producer_epoch));
        } else {
            self.clients[client].retry_init = true;
        }
        Ok(())
    }

    fn random_partitions(&mut self) -> Vec<TopicPartition> {
        let count = 1 + self.rng.below(2);
        (0..count)
            .map(|_| {
                let topic = TOPICS[self.rng.below(TOPICS.len() as u64) as usize];
                let partition = self.rng.below(PARTITIONS_PER_TOPIC as u64) as i32;
                TopicPartition::new(topic, partition)
            })
            .collect()
    }

    /// The coordinator's process dies: writes in flight either made it to the log or not,
    /// queued markers and answers are lost; a new coordinator replays the (maybe compacted)
    /// log and resumes the markers it offers.
    fn crash(&mut self) -> Checked {
        self.summary.crashes += 1;
        let in_flight = std::mem::take(&mut self.in_flight);
        for write in &in_flight {
            if self.rng.below(2) == 0 {
                self.event(format!(
                    "crash: durable anyway: {}",
                    describe(&write.transition)
                ));
                if matches!(write.cause, Cause::Fence { .. } | Cause::Timeout) {
                    self.fence(&write.transition)?;
                }
                self.append(&write.transition)?;
            }
        }
        self.markers.clear();
        for client in &mut self.clients {
            client.busy = false;
        }
        for write in &in_flight {
            if let Cause::Init { client } = write.cause {
                self.clients[client].retry_init = true;
            }
        }
        if self.rng.below(2) == 0 {
            self.compact();
        }
        self.event(format!("crash: replaying {} records", self.log.len()));
        self.coordinator = TxnCoordinator::new(self.config.clone());
        for (key, value) in &self.log {
            let id = decode_key(key).map_err(|e| format!("replay key: {e}"))?;
            let metadata = match value {
                Some(value) => Some(decode_value(&id, value).map_err(|e| format!("replay: {e}"))?),
                None => None,
            };
            self.coordinator.load(&id, metadata);
        }
        self.check_state()?;
        let offered: BTreeSet<String> = self
            .coordinator
            .markers_pending()
            .into_iter()
            .map(|job| job.transactional_id)
            .collect();
        let prepared: BTreeSet<String> = self
            .durable
            .iter()
            .filter(|(_, m)| m.state.is_prepare())
            .map(|(id, _)| id.clone())
            .collect();
        ensure(offered == prepared, || {
            format!("markers_pending {offered:?}, Prepare* {prepared:?}")
        })?;
        self.markers = self.coordinator.markers_pending();
        Ok(())
    }

    /// Log compaction: the last record of each key, in log order; tombstones dropped.
    fn compact(&mut self) {
        let mut last: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        for (offset, (key, _)) in self.log.iter().enumerate() {
            last.insert(key.clone(), offset);
        }
        let keep: BTreeSet<usize> = last.into_values().collect();
        let log = std::mem::take(&mut self.log);
        self.log = log
            .into_iter()
            .enumerate()
            .filter(|(offset, (_, value))| keep.contains(offset) && value.is_some())
            .map(|(_, record)| record)
            .collect();
    }

    /// The coordinator holds exactly the durable records; one write in flight per id at most.
    fn check_state(&self) -> Checked {
        let current: BTreeMap<&str, TxnMetadata> = self
            .coordinator
            .list()
            .map(|m| (m.transactional_id.as_str(), durable_view(m)))
            .collect();
        let durable: BTreeMap<&str, TxnMetadata> = self
            .durable
            .iter()
            .map(|(id, m)| (id.as_str(), m.clone()))
            .collect();
        ensure(current == durable, || {
            format!("coordinator {current:#?}\ndurable {durable:#?}")
        })?;
        let mut ids = BTreeSet::new();
        for write in &self.in_flight {
            let id = &write.transition.transactional_id;
            ensure(ids.insert(id), || format!("{id}: two writes in flight"))?;
            let pending = self.coordinator.pending(id);
            ensure(pending == Some(&write.transition), || {
                format!("{id}: pending {pending:?}")
            })?;
        }
        Ok(())
    }
}

/// Metadata as a record holds it.
fn durable_view(metadata: &TxnMetadata) -> TxnMetadata {
    TxnMetadata {
        last_producer_epoch: -1,
        ..metadata.clone()
    }
}

fn job_of(metadata: &TxnMetadata) -> MarkerJob {
    MarkerJob {
        transactional_id: metadata.transactional_id.clone(),
        producer_id: metadata.producer_id,
        producer_epoch: metadata.producer_epoch,
        commit: metadata.state == TxnState::PrepareCommit,
        partitions: metadata.partitions.iter().cloned().collect(),
    }
}

fn describe(transition: &Transition) -> String {
    let t = &transition.target;
    format!(
        "{} → {:?} pid {} epoch {} partitions {}",
        transition.transactional_id,
        t.state,
        t.producer_id,
        t.producer_epoch,
        t.partitions.len()
    )
}

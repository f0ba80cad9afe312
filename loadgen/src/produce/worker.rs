//! One producer thread: generates records (as fast as possible, or at a fixed rate with
//! intended send times), batches them per partition, and writes pipelined produce requests
//! to each partition's leader. A transactional producer (`super::txn`) also adds each
//! partition to its transaction before sending it a batch, and ends a transaction once it
//! holds its records and all of them are acknowledged.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI16, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest};
use kafka_protocol::protocol::StrBytes;

use super::accumulator::{Accumulator, SealedBatch};
use super::link::{Link, ReaderContext};
use super::outcome::{LiveCounters, ProduceOutcome, Window};
use super::txn::TxnRun;
use super::ProduceSpec;
use crate::clock;
use crate::error::Result;
use crate::message::{ValueHeader, ValueTemplate};
use crate::murmur2::partition_for_key;
use sluice_kafka_client::{error_code, topic_name, Admin, TopicRoute};

/// How long to wait before reconnecting to a broker that dropped the connection.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
/// Records generated per loop turn in max-throughput mode, between housekeeping.
const GENERATE_CHUNK: u32 = 256;
/// How long the tail (final flush and acks) may take after the run ends.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Producer {
    producer_id: u64,
    spec: Arc<ProduceSpec>,
    window: Window,
    route: TopicRoute,
    admin: Admin,
    template: ValueTemplate,
    keys: Vec<(Vec<u8>, u32)>,
    acc: Accumulator,
    links: HashMap<i32, Link>,
    reader_ctx: ReaderContext,
    retry_rx: Receiver<SealedBatch>,
    outcome: ProduceOutcome,
    sticky_partition: u32,
    generated: u64,
    /// Transactional producers only.
    txn: Option<TxnRun>,
}

impl Producer {
    pub fn new(
        index: u32,
        producer_id: u64,
        spec: Arc<ProduceSpec>,
        window: Window,
        live: Arc<LiveCounters>,
    ) -> Result<Producer> {
        let mut admin = Admin::connect(&spec.bootstrap, &spec.connect)?;
        let route = admin.wait_for_leaders(&spec.topic, Duration::from_secs(30))?;
        let partitions = route.partition_count();
        let keys = (0..spec.key_count.max(1))
            .map(|k| {
                let key = format!("key-{k}").into_bytes();
                let p = partition_for_key(&key, partitions);
                (key, p)
            })
            .collect();
        let mut acc = Accumulator::new(partitions, spec.codec, spec.batch_bytes, spec.linger_us);
        let mut txn = None;
        if let Some(txn_spec) = &spec.transactions {
            let (run, (producer_id, producer_epoch)) = TxnRun::init(
                txn_spec,
                &spec.bootstrap,
                &spec.connect,
                &spec.topic,
                index,
                spec.message_bytes,
            )?;
            acc.set_producer(producer_id, producer_epoch);
            acc.begin_transaction(run.number);
            txn = Some(run);
        } else if spec.idempotent {
            let (producer_id, producer_epoch) = admin.init_producer_id()?;
            acc.set_producer(producer_id, producer_epoch);
        }
        let (retry_tx, retry_rx) = mpsc::channel();
        let reader_ctx = ReaderContext {
            producer_id,
            produce_version: admin.versions().of(ApiKey::Produce)?,
            window,
            record_history: spec.record_history,
            retries_max: spec.retries_max,
            live,
            retry_tx,
            refresh_metadata: Arc::new(AtomicBool::new(false)),
            writer: thread::current(),
            failed_batches: Arc::new(AtomicU64::new(0)),
            fatal_code: Arc::new(AtomicI16::new(0)),
        };
        Ok(Producer {
            producer_id,
            window,
            template: ValueTemplate::new(spec.message_bytes),
            keys,
            acc,
            links: HashMap::new(),
            reader_ctx,
            retry_rx,
            outcome: ProduceOutcome::new(),
            sticky_partition: (index * partitions) / spec.producers.max(1) % partitions,
            generated: 0,
            txn,
            route,
            admin,
            spec,
        })
    }

    /// Runs until the window ends, flushes, waits for the acks; returns what happened.
    pub fn run(mut self) -> Result<ProduceOutcome> {
        // Runs on its own thread: readers must unpark this one.
        self.reader_ctx.writer = thread::current();
        if self.spec.rate_per_producer.is_some() {
            tighten_timer_slack();
        }
        let interval_us = self.spec.rate_per_producer.map(|r| 1e6 / r);
        let mut intended_us = self.window.start_us as f64;
        loop {
            let now = clock::now_us();
            if now >= self.window.end_us {
                break;
            }
            self.take_retries()?;
            match interval_us {
                None => self.generate_chunk(now)?,
                Some(interval) => {
                    // Every record whose intended time has come, stamped with that time:
                    // a stall here shows up as latency (coordinated omission corrected).
                    // Records due while a transaction ends wait for the next one.
                    while intended_us <= now as f64 && self.txn_room() > 0 {
                        self.generate_one(intended_us as u64)?;
                        intended_us += interval;
                    }
                }
            }
            self.acc.seal_expired(now)?;
            self.add_to_transaction()?;
            self.send_ready(interval_us.is_none())?;
            if self.txn_room() == 0 {
                self.end_transaction()?;
            }
            if interval_us.is_some() {
                let next =
                    (intended_us as u64).min(self.acc.next_deadline_us().unwrap_or(u64::MAX));
                // Wake at most every pace_us: records due meanwhile go out together,
                // each still stamped with its own intended time.
                let next = next.max(now + self.spec.pace_us);
                pace_until(next.min(self.window.end_us));
            }
        }
        self.finish()
    }

    fn partition_for(&mut self, n: u64) -> (u32, Option<usize>) {
        if self.spec.keyed {
            let k = (n % self.keys.len() as u64) as usize;
            (self.keys[k].1, Some(k))
        } else {
            (self.sticky_partition, None)
        }
    }

    /// Records the open transaction may still take (unbounded without transactions).
    fn txn_room(&self) -> u32 {
        self.txn.as_ref().map_or(u32::MAX, TxnRun::room)
    }

    fn generate_one(&mut self, created_us: u64) -> Result<()> {
        let (partition, key_index) = self.partition_for(self.generated);
        self.generated += 1;
        if let Some(txn) = &mut self.txn {
            assert!(txn.room() > 0, "a record beyond the transaction's size");
            txn.records += 1;
        }
        let header = ValueHeader {
            producer_id: self.producer_id,
            sequence: self.acc.next_sequence(partition),
            send_time_unix_us: clock::to_unix_us(created_us),
        };
        let head = ValueTemplate::header_bytes(&header);
        let key = key_index.map(|k| self.keys[k].0.as_slice());
        let timestamp_ms = (header.send_time_unix_us / 1000) as i64;
        let sealed = self.acc.append(
            partition,
            created_us,
            timestamp_ms,
            key,
            &head,
            self.template.payload(),
        )?;
        if sealed && !self.spec.keyed {
            // Sticky partitioning (like the Java client): move on once a batch is full.
            self.sticky_partition = (self.sticky_partition + 1) % self.route.partition_count();
        }
        Ok(())
    }

    fn generate_chunk(&mut self, mut now: u64) -> Result<()> {
        for i in 0..GENERATE_CHUNK.min(self.txn_room()) {
            if i % 16 == 15 {
                now = clock::now_us();
            }
            self.generate_one(now)?;
            if self.acc.sealed.len() >= self.route.partition_count() as usize {
                break;
            }
        }
        Ok(())
    }

    /// AddPartitionsToTxn for the partitions of sealed batches that the open transaction does
    /// not have yet: a partition joins before its first batch is sent.
    fn add_to_transaction(&mut self) -> Result<()> {
        let Some(txn) = &mut self.txn else {
            return Ok(());
        };
        txn.add(self.acc.sealed.iter().map(|b| b.partition))
    }

    /// Seals, sends and waits for every batch of the open transaction, then ends it (commit,
    /// or abort if a batch failed or `--abort-every` says so) and begins the next one.
    fn end_transaction(&mut self) -> Result<()> {
        if self.txn.is_none() {
            return Ok(());
        }
        self.acc.seal_all()?;
        let deadline = clock::now_us() + DRAIN_TIMEOUT.as_micros() as u64;
        loop {
            self.take_retries()?;
            if self.acc.sealed.is_empty() && !self.any_in_flight() {
                break;
            }
            if clock::now_us() >= deadline {
                break;
            }
            self.add_to_transaction()?;
            self.send_ready(true)?;
            if self.any_in_flight() {
                thread::park_timeout(Duration::from_millis(1));
            }
        }
        let failed_batches = self.reader_ctx.failed_batches.load(Ordering::Acquire);
        let fatal_code = self.reader_ctx.fatal_code.load(Ordering::Acquire);
        // Batches never sent in time are this transaction's failures too.
        let unsent: u64 = self.acc.sealed.drain(..).map(|b| b.count as u64).sum();
        self.outcome.failed_msgs += unsent;
        let Some(txn) = &mut self.txn else {
            return Ok(());
        };
        if fatal_code != error_code::NONE {
            return Err(txn.fatal("Produce", fatal_code).into());
        }
        // A broken link's reader counts its lost batches only after it marks the link
        // broken: a broken link is a failure of this transaction whatever the count says.
        let broken = self
            .links
            .values()
            .any(|l| l.broken.load(Ordering::Acquire));
        let failed = unsent > 0 || broken || failed_batches != txn.failed_at_begin;
        if let Some((producer_id, producer_epoch)) = txn.end(failed, &self.window)? {
            self.acc.restart_sequences(producer_id, producer_epoch);
        }
        txn.failed_at_begin = failed_batches;
        self.acc.begin_transaction(txn.number);
        Ok(())
    }

    fn take_retries(&mut self) -> Result<()> {
        let mut retried = false;
        for mut batch in self.retry_rx.try_iter() {
            batch.attempts += 1;
            self.acc.sealed.push_front(batch);
            retried = true;
        }
        if retried
            && self
                .reader_ctx
                .refresh_metadata
                .swap(false, Ordering::AcqRel)
        {
            match self.admin.route(&self.spec.topic) {
                Ok(Some(route)) if route.partition_count() == self.route.partition_count() => {
                    self.route = route
                }
                _ => thread::sleep(RECONNECT_BACKOFF),
            }
        }
        Ok(())
    }

    /// Sends ready batches, one request per leader, at most one batch per partition per
    /// request (Kafka's rule for v2 batches). `block` waits for an in-flight slot when the
    /// ready queue is long, which is how max-throughput mode is paced.
    ///
    /// Each pass stops scanning once every partition has its batch or every leader's request
    /// is settled (full, or no slot), so a backlog behind a lagging broker costs nothing per
    /// turn: at a fixed rate the queue grows while the broker stalls, and scanning all of it
    /// for every request made the loadgen slower the further it fell behind, until it fell
    /// behind for good.
    fn send_ready(&mut self, block: bool) -> Result<()> {
        while !self.acc.sealed.is_empty() {
            // With every connection at its in-flight limit there is nothing to do; checking
            // first avoids rescanning a long backlog on every turn when the broker lags.
            let all_full = !self.links.is_empty()
                && self.links.len() == self.route.brokers.len()
                && self.links.values().all(|l| {
                    l.in_flight.load(Ordering::Acquire) >= self.spec.max_in_flight
                        && !l.broken.load(Ordering::Acquire)
                });
            if all_full && !block {
                return Ok(());
            }
            // Waiting for a slot only pays once a full request is ready; until then, keep
            // generating so that the next request carries many partitions' batches.
            let block = block && {
                let sealed_bytes: usize = self.acc.sealed.iter().map(|b| b.records.len()).sum();
                sealed_bytes >= self.spec.request_bytes_max
                    || self.acc.sealed.len() >= self.route.partition_count() as usize
            };
            let mut by_node: HashMap<i32, Vec<SealedBatch>> = HashMap::new();
            let mut bytes_by_node: HashMap<i32, usize> = HashMap::new();
            let mut used = PassPartitions::new(self.route.partition_count() as usize);
            let mut keep = VecDeque::new();
            let mut sent_any = false;
            // Leaders whose request of this pass is settled: full, or no slot free.
            let mut node_settled: Vec<i32> = Vec::new();
            let leaders = self.route.brokers.len();
            while let Some(batch) = self.acc.sealed.pop_front() {
                if used.all_taken() {
                    // Every partition has its batch of this pass (or stays behind).
                    self.acc.sealed.push_front(batch);
                    break;
                }
                // Once one batch of a partition stays behind, every later one of that
                // partition must stay too, or it would overtake it (reordering records).
                let p = batch.partition as usize;
                let Some((node, _)) = self.route.leader_addr(batch.partition) else {
                    used.take(p);
                    keep.push_back(batch);
                    continue;
                };
                let node_bytes = bytes_by_node.entry(node).or_default();
                let fits = *node_bytes == 0
                    || *node_bytes + batch.records.len() <= self.spec.request_bytes_max;
                let free = fits
                    && !used.is_taken(p)
                    && !node_settled.contains(&node)
                    && self.slot_free(node, block)?;
                if !free {
                    if !used.is_taken(p) && !node_settled.contains(&node) {
                        node_settled.push(node);
                    }
                    used.take(p);
                    keep.push_back(batch);
                    if node_settled.len() >= leaders {
                        // Nothing later can go in this pass: leave the rest queued, in order.
                        break;
                    }
                    continue;
                }
                used.take(p);
                *node_bytes += batch.records.len();
                by_node.entry(node).or_default().push(batch);
            }
            // The batches kept go back in front of the ones never looked at, in order.
            while let Some(batch) = keep.pop_back() {
                self.acc.sealed.push_front(batch);
            }
            for (node, batches) in by_node {
                sent_any = true;
                self.send_to(node, batches)?;
            }
            // At a fixed rate, one pass per turn: the next turn (pace_us later) sends what
            // was sealed meanwhile in the same request.
            if !sent_any || !block {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Whether `node` may take another request now; opens the link if needed.
    fn slot_free(&mut self, node: i32, block: bool) -> Result<bool> {
        if !self.ensure_link(node) {
            return Ok(false);
        }
        let Some(link) = self.links.get(&node) else {
            return Ok(false);
        };
        loop {
            if link.in_flight.load(Ordering::Acquire) < self.spec.max_in_flight {
                return Ok(true);
            }
            if !block || clock::now_us() >= self.window.end_us + DRAIN_TIMEOUT.as_micros() as u64 {
                return Ok(false);
            }
            thread::park_timeout(Duration::from_millis(1));
        }
    }

    /// Opens (or re-opens after a failure) the link to `node`; false if unreachable now.
    fn ensure_link(&mut self, node: i32) -> bool {
        if let Some(link) = self.links.get(&node) {
            if !link.broken.load(Ordering::Acquire) {
                return true;
            }
            if let Some(link) = self.links.remove(&node) {
                self.outcome.merge(link.close());
            }
            self.reader_ctx
                .refresh_metadata
                .store(true, Ordering::Release);
        }
        let Some(addr) = self.route.brokers.get(&node).cloned() else {
            return false;
        };
        let read_timeout =
            Duration::from_millis(self.spec.request_timeout_ms as u64) + Duration::from_secs(10);
        match Link::open(
            node,
            &addr,
            &self.spec.connect,
            self.spec.acks,
            read_timeout,
            self.reader_ctx.clone(),
        ) {
            Ok(link) => {
                self.links.insert(node, link);
                true
            }
            Err(_) => {
                thread::sleep(RECONNECT_BACKOFF);
                false
            }
        }
    }

    fn send_to(&mut self, node: i32, batches: Vec<SealedBatch>) -> Result<()> {
        let request = ProduceRequest::default()
            .with_acks(self.spec.acks)
            .with_timeout_ms(self.spec.request_timeout_ms)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic_name(&self.spec.topic))
                .with_partition_data(
                    batches
                        .iter()
                        .map(|b| {
                            PartitionProduceData::default()
                                .with_index(b.partition as i32)
                                .with_records(Some(b.records.clone()))
                        })
                        .collect(),
                )]);
        // A transactional producer names its transactional id in every produce request (the
        // partition leader verifies the transaction with its coordinator).
        let request = match &self.txn {
            Some(txn) => request.with_transactional_id(Some(
                StrBytes::from_string(txn.transactional_id().to_string()).into(),
            )),
            None => request,
        };
        let count: u64 = batches.iter().map(|b| b.count as u64).sum();
        let version = self.reader_ctx.produce_version;
        let Some(link) = self.links.get_mut(&node) else {
            return Ok(());
        };
        match link.send(&request, version, batches) {
            Ok(sent_unacknowledged) => {
                self.outcome.sent_msgs += count;
                let now = clock::now_us();
                for b in sent_unacknowledged {
                    // acks=0: "sent" is all we will ever know.
                    self.outcome.acked_msgs += b.count as u64;
                    self.outcome.acked_bytes += b.value_bytes;
                    self.reader_ctx
                        .live
                        .add_produced(b.count as u64, b.value_bytes);
                    if self.window.in_measurement(now) {
                        self.outcome.measured_msgs += b.count as u64;
                        self.outcome.measured_bytes += b.value_bytes;
                    }
                }
            }
            Err(_) => {
                // The request may or may not have reached the broker.
                self.outcome.indeterminate_msgs += count;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<ProduceOutcome> {
        // The open transaction ends like any other (its EndTxn answers after the window).
        self.end_transaction()?;
        self.acc.seal_all()?;
        let deadline = clock::now_us() + DRAIN_TIMEOUT.as_micros() as u64;
        while (!self.acc.sealed.is_empty() || self.any_in_flight()) && clock::now_us() < deadline {
            self.take_retries()?;
            self.send_ready(true)?;
            if self.any_in_flight() {
                thread::park_timeout(Duration::from_millis(1));
            }
        }
        for (_, link) in self.links.drain() {
            self.outcome.merge(link.close());
        }
        let unsent: u64 = self.acc.sealed.iter().map(|b| b.count as u64).sum::<u64>()
            + self
                .retry_rx
                .try_iter()
                .map(|b| b.count as u64)
                .sum::<u64>();
        self.outcome.failed_msgs += unsent;
        if let Some(txn) = &mut self.txn {
            txn.resolve_all(&mut self.outcome.history);
            self.outcome.transactions = txn.take_counts();
        }
        Ok(self.outcome)
    }

    fn any_in_flight(&self) -> bool {
        self.links
            .values()
            .any(|l| l.in_flight.load(Ordering::Acquire) > 0 && !l.broken.load(Ordering::Acquire))
    }
}

/// Sleeps until `deadline_us`. No spinning: it would burn a core the broker may need, and
/// with the tight timer slack a sleep overshoots by only a few microseconds (which still
/// counts as latency, since records carry their intended send times).
fn pace_until(deadline_us: u64) {
    let now = clock::now_us();
    if deadline_us > now {
        thread::sleep(Duration::from_micros(deadline_us - now));
    }
}

/// The default 50 µs timer slack would make every paced sleep overshoot; fixed-rate mode
/// wants wake-ups within a few microseconds of the intended send time.
fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only this thread.
    let rc = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    if rc != 0 {
        eprintln!("note: could not lower the timer slack; fixed-rate pacing will be coarser");
    }
}

/// The partitions that have their batch in one send pass, or must stay behind in it, and how
/// many: the pass ends once all have.
struct PassPartitions {
    taken: Vec<bool>,
    count: usize,
}

impl PassPartitions {
    fn new(partitions: usize) -> Self {
        PassPartitions {
            taken: vec![false; partitions],
            count: 0,
        }
    }

    fn is_taken(&self, partition: usize) -> bool {
        self.taken[partition]
    }

    fn take(&mut self, partition: usize) {
        if !self.taken[partition] {
            self.taken[partition] = true;
            self.count += 1;
        }
    }

    fn all_taken(&self) -> bool {
        self.count >= self.taken.len()
    }
}

//! The consume side: threads that fetch assigned partitions from their leaders, count
//! what they read, measure end-to-end latency from the send time in each value, and
//! (for --verify) keep every (offset, producer, sequence) they saw.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use hdrhistogram::Histogram;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, FetchRequest};

use crate::clock;
use crate::error::{Error, Result};
use crate::message::parse_value;
use crate::produce::outcome::{LiveCounters, Window};
use crate::stats::{self, new_latency_histogram};
use crate::verify::checker::{Observation, PartitionReads};
use sluice_kafka_client::error_code;
use sluice_kafka_client::{for_each_committed_record, for_each_record, AbortedTransactions};
use sluice_kafka_client::{topic_name, Admin, TopicRoute};
use sluice_kafka_client::{ConnectOptions, Connection};

const FETCH_MAX_WAIT_MS: i32 = 100;
const PARTITION_FETCH_BYTES_MAX: i32 = 1 << 20;
const FETCH_BYTES_MAX: i32 = 32 << 20;
/// Consecutive failed fetches tolerated before a consumer gives up.
const FETCH_FAILURES_MAX: u32 = 50;
/// How long a bounded read (`stop_at`) waits without progress before it concludes the
/// broker will not return the rest.
const STALL_US_MAX: u64 = 10_000_000;

#[derive(Debug, Clone)]
pub struct ConsumeSpec {
    pub bootstrap: String,
    /// How every connection is made (TLS, SASL).
    pub connect: ConnectOptions,
    pub topic: String,
    pub consumers: u32,
    /// Keep every observation (for --verify).
    pub collect: bool,
    /// Stop a partition once it reaches this offset (`None`: read until the window ends).
    pub stop_at: Option<Vec<i64>>,
    /// `isolation_level=read_committed`: data up to the last stable offset, without the
    /// batches of aborted transactions (Kafka's consumer rule, from each response's list).
    pub read_committed: bool,
}

pub struct ConsumeOutcome {
    pub msgs: u64,
    pub bytes: u64,
    pub measured_msgs: u64,
    pub measured_bytes: u64,
    pub e2e_latency_us: Histogram<u64>,
    /// Per partition, when `collect` was set.
    pub reads: Vec<PartitionReads>,
    pub errors: u64,
}

impl ConsumeOutcome {
    fn new(partitions: usize) -> Self {
        Self {
            msgs: 0,
            bytes: 0,
            measured_msgs: 0,
            measured_bytes: 0,
            e2e_latency_us: new_latency_histogram(),
            reads: vec![PartitionReads::default(); partitions],
            errors: 0,
        }
    }

    fn merge(&mut self, other: ConsumeOutcome) {
        self.msgs += other.msgs;
        self.bytes += other.bytes;
        self.measured_msgs += other.measured_msgs;
        self.measured_bytes += other.measured_bytes;
        self.errors += other.errors;
        if self.e2e_latency_us.add(&other.e2e_latency_us).is_err() {
            self.errors += 1;
        }
        for (mine, theirs) in self.reads.iter_mut().zip(other.reads) {
            if !theirs.observations.is_empty() || theirs.corrupt > 0 {
                mine.observations.extend(theirs.observations);
                mine.corrupt += theirs.corrupt;
            }
        }
    }
}

/// Reads partitions `start[p]..` split over `spec.consumers` threads until the window
/// ends (or every partition reaches `spec.stop_at`).
pub fn run(
    spec: &ConsumeSpec,
    route: &TopicRoute,
    start: Vec<i64>,
    window: Window,
    live: Arc<LiveCounters>,
) -> Result<ConsumeOutcome> {
    let partitions = route.partition_count();
    let consumers = spec.consumers.clamp(1, partitions);
    let mut handles = Vec::new();
    for c in 0..consumers {
        let assigned: Vec<u32> = (0..partitions).filter(|p| p % consumers == c).collect();
        let (spec, route, start, live) = (spec.clone(), route.clone(), start.clone(), live.clone());
        handles.push(
            thread::Builder::new()
                .name(format!("consumer-{c}"))
                .spawn(move || {
                    Consumer {
                        spec,
                        route,
                        assigned,
                        offsets: start,
                        window,
                        live,
                    }
                    .run()
                })?,
        );
    }
    let mut merged = ConsumeOutcome::new(partitions as usize);
    let mut first_error = None;
    for h in handles {
        match h.join() {
            Ok(Ok(o)) => merged.merge(o),
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(_) => {
                first_error =
                    first_error.or(Some(Error::Protocol("a consumer thread panicked".into())))
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(merged),
    }
}

struct Consumer {
    spec: ConsumeSpec,
    route: TopicRoute,
    assigned: Vec<u32>,
    offsets: Vec<i64>,
    window: Window,
    live: Arc<LiveCounters>,
}

impl Consumer {
    fn done(&self, p: u32) -> bool {
        match &self.spec.stop_at {
            Some(stop) => self.offsets[p as usize] >= stop[p as usize],
            None => false,
        }
    }

    fn run(mut self) -> Result<ConsumeOutcome> {
        let mut admin = Admin::connect(&self.spec.bootstrap, &self.spec.connect)?;
        let version = admin.versions().of(ApiKey::Fetch)?;
        let mut conns: HashMap<i32, Connection> = HashMap::new();
        let mut outcome = ConsumeOutcome::new(self.route.partition_count() as usize);
        let mut failures = 0u32;
        let mut progress_us = clock::now_us();
        while clock::now_us() < self.window.end_us {
            let msgs_before = outcome.msgs;
            let pending: Vec<u32> = self
                .assigned
                .iter()
                .copied()
                .filter(|p| !self.done(*p))
                .collect();
            if pending.is_empty() {
                break;
            }
            let mut by_node: HashMap<i32, Vec<u32>> = HashMap::new();
            for p in pending {
                if let Some((node, _)) = self.route.leader_addr(p) {
                    by_node.entry(node).or_default().push(p);
                }
            }
            let mut refresh = by_node.is_empty();
            for (node, partitions) in by_node {
                match self.fetch(&mut conns, node, &partitions, version, &mut outcome) {
                    Ok(needs_refresh) => {
                        failures = 0;
                        refresh |= needs_refresh;
                    }
                    Err(e) => {
                        conns.remove(&node);
                        outcome.errors += 1;
                        failures += 1;
                        if failures > FETCH_FAILURES_MAX {
                            return Err(e);
                        }
                        refresh = true;
                        thread::sleep(Duration::from_millis(100));
                    }
                }
            }
            if outcome.msgs != msgs_before {
                progress_us = clock::now_us();
            }
            if self.spec.stop_at.is_some() && clock::now_us() - progress_us > STALL_US_MAX {
                outcome.errors += 1;
                eprintln!("consumer: no progress towards the end offsets; stopping the read-back");
                break;
            }
            if refresh {
                if let Ok(Some(route)) = admin.route(&self.spec.topic) {
                    if route.partition_count() == self.route.partition_count() {
                        self.route = route;
                    }
                }
            }
        }
        Ok(outcome)
    }

    /// One fetch round trip to `node`; returns whether routing looked stale.
    fn fetch(
        &mut self,
        conns: &mut HashMap<i32, Connection>,
        node: i32,
        partitions: &[u32],
        version: i16,
        outcome: &mut ConsumeOutcome,
    ) -> Result<bool> {
        let conn = match conns.entry(node) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let addr = self
                    .route
                    .brokers
                    .get(&node)
                    .ok_or_else(|| Error::Protocol(format!("no address for {node}")))?;
                let mut conn = Connection::connect(addr, &self.spec.connect)?;
                conn.set_read_timeout(Some(Duration::from_secs(30)))?;
                e.insert(conn)
            }
        };
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(FETCH_MAX_WAIT_MS)
            .with_min_bytes(1)
            .with_max_bytes(FETCH_BYTES_MAX)
            .with_isolation_level(i8::from(self.spec.read_committed))
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic_name(&self.spec.topic))
                .with_partitions(
                    partitions
                        .iter()
                        .map(|p| {
                            FetchPartition::default()
                                .with_partition(*p as i32)
                                .with_current_leader_epoch(-1)
                                .with_fetch_offset(self.offsets[*p as usize])
                                .with_log_start_offset(-1)
                                .with_partition_max_bytes(PARTITION_FETCH_BYTES_MAX)
                        })
                        .collect(),
                )]);
        let response = conn.call(&request, version)?;
        if response.error_code != error_code::NONE {
            return Err(Error::Broker {
                what: "Fetch".into(),
                code: response.error_code,
            });
        }
        let mut stale = false;
        for topic in response.responses {
            for pd in topic.partitions {
                let p = pd.partition_index as u32;
                if p >= self.route.partition_count() {
                    continue;
                }
                match pd.error_code {
                    error_code::NONE => {}
                    code if error_code::needs_metadata_refresh(code) => {
                        stale = true;
                        continue;
                    }
                    code => {
                        return Err(Error::Broker {
                            what: format!("Fetch partition {p}"),
                            code,
                        })
                    }
                }
                let Some(records) = pd.records else { continue };
                let aborted = self.spec.read_committed.then(|| {
                    AbortedTransactions::new(
                        pd.aborted_transactions
                            .iter()
                            .flatten()
                            .map(|a| (a.producer_id.0, a.first_offset)),
                    )
                });
                self.absorb(p, &records, aborted, outcome)?;
            }
        }
        Ok(stale)
    }

    fn absorb(
        &mut self,
        p: u32,
        records: &bytes::Bytes,
        aborted: Option<AbortedTransactions>,
        outcome: &mut ConsumeOutcome,
    ) -> Result<()> {
        let now = clock::now_us();
        let measuring = self.window.in_measurement(now);
        let collect = self.spec.collect;
        let fetch_offset = self.offsets[p as usize];
        let (mut msgs, mut bytes) = (0u64, 0u64);
        let reads = &mut outcome.reads[p as usize];
        let hist = &mut outcome.e2e_latency_us;
        let warm_end = self.window.warm_end_us;
        let on_record = |r: &sluice_kafka_client::RecordView<'_>| {
            // Batches may start before the fetch offset: skip what was already read.
            if r.offset < fetch_offset {
                return;
            }
            let value = r.value.unwrap_or(&[]);
            msgs += 1;
            bytes += value.len() as u64;
            match parse_value(value, collect) {
                Ok(header) => {
                    let sent = clock::from_unix_us(header.send_time_unix_us);
                    if sent >= warm_end {
                        stats::record(hist, now.saturating_sub(sent));
                    }
                    if collect {
                        reads.observations.push(Observation {
                            offset: r.offset,
                            producer_id: header.producer_id,
                            sequence: header.sequence,
                        });
                    }
                }
                Err(_) if collect => reads.corrupt += 1,
                Err(_) => {
                    // Not a loadgen value (another producer wrote it): the record's own
                    // CreateTime still gives end-to-end latency, at millisecond resolution.
                    let sent = clock::from_unix_us((r.timestamp_ms.max(0) as u64) * 1000);
                    if sent >= warm_end {
                        stats::record(hist, now.saturating_sub(sent));
                    }
                }
            }
        };
        let summary = match aborted {
            Some(mut aborted) => {
                for_each_committed_record(records, collect, &mut aborted, on_record)?
            }
            None => for_each_record(records, collect, on_record)?,
        };
        reads.corrupt += summary.crc_failures;
        if let Some(next) = summary.next_offset {
            self.offsets[p as usize] = next.max(fetch_offset);
        }
        outcome.msgs += msgs;
        outcome.bytes += bytes;
        if measuring {
            outcome.measured_msgs += msgs;
            outcome.measured_bytes += bytes;
        }
        self.live.add_consumed(msgs, bytes);
        Ok(())
    }
}

//! One producer connection to one broker, pipelined: the producer thread writes requests,
//! a reader thread matches responses to them (in order, as Kafka guarantees per
//! connection), records acks, latencies and history, and hands retriable batches back.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI16, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use kafka_protocol::messages::ProduceRequest;

use super::accumulator::SealedBatch;
use super::outcome::{LiveCounters, ProduceOutcome, Window};
use crate::clock;
use crate::error::Result;
use crate::stats;
use crate::verify::checker::{AckedBatch, TxnMark};
use sluice_kafka_client::error_code;
use sluice_kafka_client::{decode_response, ConnectOptions, Connection, FrameReader};

/// A request on the wire, waiting for its response.
pub struct InFlight {
    pub correlation_id: i32,
    pub batches: Vec<SealedBatch>,
}

/// What the reader needs to know about the run.
#[derive(Clone)]
pub struct ReaderContext {
    pub producer_id: u64,
    pub produce_version: i16,
    pub window: Window,
    pub record_history: bool,
    pub retries_max: u32,
    pub live: Arc<LiveCounters>,
    pub retry_tx: Sender<SealedBatch>,
    pub refresh_metadata: Arc<AtomicBool>,
    pub writer: Thread,
    /// Batches that failed for good or whose fate is unknown (a transaction holding one
    /// cannot commit).
    pub failed_batches: Arc<AtomicU64>,
    /// The last produce answer a transactional producer cannot go on after (fenced, no
    /// transaction); 0 while there is none.
    pub fatal_code: Arc<AtomicI16>,
}

pub struct Link {
    pub conn: Connection,
    pub in_flight: Arc<AtomicUsize>,
    pub broken: Arc<AtomicBool>,
    in_flight_tx: Option<Sender<InFlight>>,
    reader: Option<JoinHandle<ProduceOutcome>>,
}

impl Link {
    /// Connects; with acks=0 there are no responses, so no reader thread.
    pub fn open(
        node: i32,
        addr: &str,
        connect: &ConnectOptions,
        acks: i16,
        read_timeout: Duration,
        ctx: ReaderContext,
    ) -> Result<Link> {
        let mut conn = Connection::connect(addr, connect)?;
        let in_flight = Arc::new(AtomicUsize::new(0));
        let broken = Arc::new(AtomicBool::new(false));
        let (in_flight_tx, reader) = if acks == 0 {
            (None, None)
        } else {
            conn.set_read_timeout(Some(read_timeout))?;
            let frames = conn.take_reader()?;
            let (tx, rx) = std::sync::mpsc::channel();
            let (in_flight2, broken2) = (in_flight.clone(), broken.clone());
            let handle = thread::Builder::new()
                .name(format!("produce-reader-{node}"))
                .spawn(move || read_responses(frames, rx, ctx, in_flight2, broken2))?;
            (Some(tx), Some(handle))
        };
        Ok(Link {
            conn,
            in_flight,
            broken,
            in_flight_tx,
            reader,
        })
    }

    /// Writes one produce request. The batches move to the reader (acks ≥ 1) or are
    /// returned to the caller as "sent" (acks = 0).
    pub fn send(
        &mut self,
        request: &ProduceRequest,
        version: i16,
        batches: Vec<SealedBatch>,
    ) -> Result<Vec<SealedBatch>> {
        // Registered before the write, so the reader always finds the entry.
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let correlation_id = match self.conn.send(request, version) {
            Ok(id) => id,
            Err(e) => {
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
                self.broken.store(true, Ordering::Release);
                return Err(e.into());
            }
        };
        match &self.in_flight_tx {
            Some(tx) => {
                // The reader only stops receiving after the channel closes, or when broken;
                // then these batches are indeterminate, which `close` accounts for.
                if tx
                    .send(InFlight {
                        correlation_id,
                        batches,
                    })
                    .is_err()
                {
                    self.broken.store(true, Ordering::Release);
                }
                Ok(Vec::new())
            }
            None => {
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
                Ok(batches)
            }
        }
    }

    /// Stops the reader after it has answered everything in flight; returns its outcome.
    pub fn close(mut self) -> ProduceOutcome {
        drop(self.in_flight_tx.take());
        if self.broken.load(Ordering::Acquire) {
            self.conn.shutdown();
        }
        match self.reader.take().map(|h| h.join()) {
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => {
                let mut o = ProduceOutcome::new();
                *o.error_codes.entry(-1).or_default() += 1;
                o
            }
            None => ProduceOutcome::new(),
        }
    }
}

fn read_responses(
    mut frames: FrameReader,
    rx: Receiver<InFlight>,
    ctx: ReaderContext,
    in_flight: Arc<AtomicUsize>,
    broken: Arc<AtomicBool>,
) -> ProduceOutcome {
    let mut outcome = ProduceOutcome::new();
    let mut pending: VecDeque<InFlight> = VecDeque::new();
    loop {
        let entry = match pending.pop_front() {
            Some(e) => e,
            None => match rx.recv() {
                Ok(e) => e,
                Err(_) => break, // writer closed the link and nothing is outstanding
            },
        };
        if broken.load(Ordering::Acquire) {
            mark_indeterminate(&ctx, &mut outcome, &entry);
            in_flight.fetch_sub(1, Ordering::AcqRel);
            ctx.writer.unpark();
            continue;
        }
        let response = frames
            .read_frame()
            .and_then(|frame| decode_response::<ProduceRequest>(frame, ctx.produce_version));
        match response {
            Ok((correlation_id, response)) if correlation_id == entry.correlation_id => {
                handle_response(&ctx, &mut outcome, entry, response);
            }
            _ => {
                // Connection lost, timed out, or out of sync: nothing on it is known.
                broken.store(true, Ordering::Release);
                mark_indeterminate(&ctx, &mut outcome, &entry);
            }
        }
        in_flight.fetch_sub(1, Ordering::AcqRel);
        ctx.writer.unpark();
        pending.extend(rx.try_iter());
    }
    outcome
}

fn mark_indeterminate(ctx: &ReaderContext, outcome: &mut ProduceOutcome, entry: &InFlight) {
    outcome.indeterminate_msgs += entry.batches.iter().map(|b| b.count as u64).sum::<u64>();
    ctx.failed_batches
        .fetch_add(entry.batches.len() as u64, Ordering::AcqRel);
}

fn handle_response(
    ctx: &ReaderContext,
    outcome: &mut ProduceOutcome,
    entry: InFlight,
    response: kafka_protocol::messages::ProduceResponse,
) {
    let acked_us = clock::now_us();
    let mut results: Vec<(i32, i16, i64)> = Vec::new();
    for topic in &response.responses {
        for p in &topic.partition_responses {
            results.push((p.index, p.error_code, p.base_offset));
        }
    }
    for batch in entry.batches {
        let found = results
            .iter()
            .find(|(index, _, _)| *index == batch.partition as i32);
        let (code, base_offset) = match found {
            Some(&(_, code, offset)) => (code, offset),
            None => (error_code::ResponseError::NetworkException.code(), -1), // missing from the answer: retry
        };
        if code == error_code::NONE {
            ack(ctx, outcome, &batch, acked_us, base_offset);
            continue;
        }
        *outcome.error_codes.entry(code).or_default() += 1;
        if batch.transaction.is_some() && sluice_kafka_client::txn::produce_is_fatal(code) {
            ctx.fatal_code.store(code, Ordering::Release);
        }
        if error_code::needs_metadata_refresh(code) {
            ctx.refresh_metadata.store(true, Ordering::Release);
        }
        if error_code::resend_may_succeed(code) && batch.attempts < ctx.retries_max {
            outcome.retried_batches += 1;
            if let Err(returned) = ctx.retry_tx.send(batch) {
                outcome.failed_msgs += returned.0.count as u64;
                ctx.failed_batches.fetch_add(1, Ordering::AcqRel);
            }
        } else {
            outcome.failed_msgs += batch.count as u64;
            ctx.failed_batches.fetch_add(1, Ordering::AcqRel);
        }
    }
}

fn ack(
    ctx: &ReaderContext,
    outcome: &mut ProduceOutcome,
    batch: &SealedBatch,
    acked_us: u64,
    base_offset: i64,
) {
    let count = batch.count as u64;
    outcome.acked_msgs += count;
    outcome.acked_bytes += batch.value_bytes;
    ctx.live.add_produced(count, batch.value_bytes);
    if ctx.window.in_measurement(acked_us) {
        outcome.measured_msgs += count;
        outcome.measured_bytes += batch.value_bytes;
    }
    for &created in &batch.created_us {
        if created >= ctx.window.warm_end_us {
            stats::record(&mut outcome.latency_us, acked_us.saturating_sub(created));
        }
    }
    if ctx.record_history {
        outcome.history.push(AckedBatch {
            partition: batch.partition,
            producer_id: ctx.producer_id,
            sequence_first: batch.sequence_first,
            count: batch.count,
            offset_first: (base_offset >= 0).then_some(base_offset),
            txn: batch.transaction.map_or(TxnMark::None, TxnMark::Pending),
        });
    }
}

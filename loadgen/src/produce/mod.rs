//! The produce side: `ProduceSpec` says what to send, `run` starts the producer threads.

pub mod accumulator;
pub mod link;
pub mod outcome;
pub mod txn;
pub mod worker;

use std::sync::Arc;
use std::thread;

use crate::clock;
use crate::error::{Error, Result};
use outcome::{LiveCounters, ProduceOutcome, Window};
use sluice_kafka_client::{Codec, ConnectOptions};

#[derive(Debug, Clone)]
pub struct ProduceSpec {
    pub bootstrap: String,
    /// How every connection is made (TLS, SASL).
    pub connect: ConnectOptions,
    pub topic: String,
    pub acks: i16,
    pub message_bytes: usize,
    pub batch_bytes: usize,
    pub linger_us: u64,
    pub codec: Codec,
    pub keyed: bool,
    pub key_count: u32,
    pub producers: u32,
    /// Messages per second for each producer; `None` is max-throughput mode.
    pub rate_per_producer: Option<f64>,
    pub max_in_flight: usize,
    /// Fixed-rate mode wakes at most this often (µs).
    pub pace_us: u64,
    pub request_bytes_max: usize,
    pub request_timeout_ms: i32,
    pub retries_max: u32,
    pub record_history: bool,
    /// Idempotent producers (InitProducerId, producer id and sequences in every batch).
    pub idempotent: bool,
    /// Transactional producers (idempotent ones, each with its transactional id).
    pub transactions: Option<txn::TxnSpec>,
}

/// A producer id unique to this run: wall-clock nanoseconds mixed with the process id,
/// so several runs against one topic (a crash loop) never share ids.
pub fn producer_id_base() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = (nanos ^ ((std::process::id() as u64) << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mixed & !0xffff // the low bits number the producers of this run
}

/// Runs `spec.producers` producer threads over `window`; returns the merged outcome.
pub fn run(spec: &ProduceSpec, window: Window, live: Arc<LiveCounters>) -> Result<ProduceOutcome> {
    let spec = Arc::new(spec.clone());
    let base = producer_id_base();
    let mut handles = Vec::new();
    for index in 0..spec.producers {
        let (spec, live) = (spec.clone(), live.clone());
        let handle = thread::Builder::new()
            .name(format!("producer-{index}"))
            .spawn(move || {
                worker::Producer::new(index, base + index as u64, spec, window, live)?.run()
            })?;
        handles.push(handle);
    }
    let mut merged = ProduceOutcome::new();
    let mut first_error = None;
    for handle in handles {
        match handle.join() {
            Ok(Ok(outcome)) => merged.merge(outcome),
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(_) => {
                first_error =
                    first_error.or(Some(Error::Protocol("a producer thread panicked".into())))
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(merged),
    }
}

/// The window for a run starting now.
pub fn window_from_now(warmup_s: f64, duration_s: f64) -> Window {
    let start_us = clock::now_us();
    let warm_end_us = start_us + (warmup_s * 1e6) as u64;
    Window {
        start_us,
        warm_end_us,
        end_us: warm_end_us + (duration_s * 1e6) as u64,
    }
}

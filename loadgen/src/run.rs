//! Runs the cells of a command: topic setup, warm-up and measurement, optional read-back
//! verification, and the per-cell result.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use crate::cli::{acks_name, CellParams, RunArgs};
use crate::clock;
use crate::consume::{self, ConsumeOutcome, ConsumeSpec};
use crate::error::{Error, Result};
use crate::produce::outcome::{LiveCounters, ProduceOutcome, Window};
use crate::produce::txn::TxnSpec;
use crate::produce::{self, window_from_now, ProduceSpec};
use crate::progress::Progress;
use crate::results::{CellResult, ProduceCounts, Throughput, TxnSummary};
use crate::stats::LatencySummary;
use crate::verify::{checker, collect, history};
use sluice_kafka_client::{
    Admin, ConnectOptions, TopicRoute, TIMESTAMP_EARLIEST, TIMESTAMP_LATEST,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Produce,
    Consume,
    E2e,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Produce => "produce",
            Mode::Consume => "consume",
            Mode::E2e => "e2e",
        }
    }
}

pub struct CellRunner<'a> {
    pub args: &'a RunArgs,
    pub mode: Mode,
    pub run_id: String,
    pub many_cells: bool,
    /// How every connection is made (TLS, SASL), from the security flags.
    pub connect: ConnectOptions,
}

impl CellRunner<'_> {
    fn topic_for(&self, cell: &CellParams) -> String {
        let suffix = format!(
            "a{}-p{}-m{}",
            acks_name(cell.acks),
            cell.partitions,
            cell.message_bytes
        );
        match (&self.args.topic, self.many_cells) {
            (Some(t), false) => t.clone(),
            (Some(t), true) => format!("{t}-{suffix}"),
            (None, _) => format!("loadgen-{}-{suffix}", self.run_id),
        }
    }

    fn produce_spec(
        &self,
        cell: &CellParams,
        topic: &str,
        record_history: bool,
    ) -> Result<ProduceSpec> {
        let a = self.args;
        Ok(ProduceSpec {
            bootstrap: a.bootstrap.clone(),
            connect: self.connect.clone(),
            topic: topic.to_string(),
            acks: cell.acks,
            message_bytes: cell.message_bytes,
            batch_bytes: a.batch_bytes,
            linger_us: a.linger_us,
            codec: a.codec()?,
            keyed: a.keyed,
            key_count: a.key_count,
            producers: a.producers,
            rate_per_producer: a.rate.map(|r| r / a.producers as f64),
            max_in_flight: a.max_in_flight,
            pace_us: a.pace_us,
            request_bytes_max: a.request_bytes_max,
            request_timeout_ms: a.request_timeout_ms,
            retries_max: a.retries,
            record_history,
            idempotent: a.idempotent || a.transactional,
            transactions: a.transactional.then(|| TxnSpec {
                id_prefix: format!(
                    "{}-{}-{}-{topic}",
                    a.transactional_id_prefix,
                    self.run_id,
                    std::process::id()
                ),
                records: a.transaction_records,
                timeout_ms: a.transaction_timeout_ms,
                abort_every: a.abort_every,
            }),
        })
    }

    pub fn run_cell(&self, cell: &CellParams, label: &str) -> Result<CellResult> {
        let topic = self.topic_for(cell);
        let mut admin = Admin::connect(&self.args.bootstrap, &self.connect)?;
        let route = admin.ensure_topic(&topic, cell.partitions, self.args.replication_factor)?;
        if route.partition_count() != cell.partitions {
            eprintln!(
                "note: topic {topic} exists with {} partitions (asked for {}); using it as is",
                route.partition_count(),
                cell.partitions
            );
        }
        let record_history =
            (self.args.verify || self.args.history_out.is_some()) && cell.acks != 0;
        let spec = self.produce_spec(cell, &topic, record_history)?;
        let mut result = CellResult {
            mode: self.mode.name().into(),
            topic: topic.clone(),
            acks: acks_name(cell.acks).into(),
            partitions: route.partition_count(),
            message_bytes: cell.message_bytes,
            rate: self.args.rate,
            produce: None,
            produce_counts: None,
            produce_latency: None,
            consume: None,
            e2e_latency: None,
            disk_ratio: None,
            net_ratio: None,
            limit_ratio: None,
            verify: None,
            client_cpu: None,
            transactions: None,
            error: None,
        };
        let (cpu_start_s, wall_start) = (crate::cpu::process_cpu_s(), std::time::Instant::now());
        let produced = match self.mode {
            Mode::Produce => Some(self.produce_only(&spec, label)?),
            Mode::E2e => {
                let (p, c) = self.e2e(&spec, &route, &mut admin, label)?;
                fill_consume(&mut result, &c, p.1.measured_s());
                Some(p)
            }
            Mode::Consume => {
                let c = self.consume_only(&spec, &route, &mut admin, label)?;
                fill_consume(&mut result, &c.0, c.1);
                None
            }
        };
        result.client_cpu = Some(crate::cpu::ClientCpu::between(cpu_start_s, wall_start));
        if let Some((outcome, window)) = produced {
            self.finish_produce(&mut result, outcome, window, &topic)?;
        }
        if self.args.delete_topics {
            // The cell's figures stand whatever happens to the clean-up.
            if let Err(e) = Admin::connect(&self.args.bootstrap, &self.connect)
                .and_then(|mut a| a.delete_topic(&topic))
            {
                eprintln!("warning: could not delete topic {topic}: {e}");
            }
        }
        Ok(result)
    }

    fn produce_only(&self, spec: &ProduceSpec, label: &str) -> Result<(ProduceOutcome, Window)> {
        let live = Arc::new(LiveCounters::default());
        let window = window_from_now(self.args.warmup_s, self.args.duration_s);
        let progress = Progress::start(label.to_string(), window, live.clone(), self.args.quiet);
        let outcome = produce::run(spec, window, live);
        progress.finish();
        Ok((outcome?, window))
    }

    fn e2e(
        &self,
        spec: &ProduceSpec,
        route: &TopicRoute,
        admin: &mut Admin,
        label: &str,
    ) -> Result<((ProduceOutcome, Window), ConsumeOutcome)> {
        let start = admin.list_offsets(route, TIMESTAMP_LATEST)?;
        let live = Arc::new(LiveCounters::default());
        let window = window_from_now(self.args.warmup_s, self.args.duration_s);
        let cspec = self.consume_spec(&spec.topic, None);
        let (route2, live2) = (route.clone(), live.clone());
        let consumer = thread::Builder::new()
            .name("consumers".into())
            .spawn(move || consume::run(&cspec, &route2, start, window, live2))?;
        let progress = Progress::start(label.to_string(), window, live.clone(), self.args.quiet);
        let produced = produce::run(spec, window, live);
        let consumed = consumer
            .join()
            .map_err(|_| Error::Protocol("consumer thread panicked".into()))?;
        progress.finish();
        Ok(((produced?, window), consumed?))
    }

    /// Reads the topic from its start. A new or empty topic is filled first (unmeasured).
    fn consume_only(
        &self,
        spec: &ProduceSpec,
        route: &TopicRoute,
        admin: &mut Admin,
        label: &str,
    ) -> Result<(ConsumeOutcome, f64)> {
        let mut start = admin.list_offsets(route, TIMESTAMP_EARLIEST)?;
        let mut end = admin.list_offsets(route, TIMESTAMP_LATEST)?;
        if start == end {
            let live = Arc::new(LiveCounters::default());
            let window = window_from_now(0.0, self.args.duration_s + self.args.warmup_s);
            let progress = Progress::start(
                format!("{label} (filling)"),
                window,
                live.clone(),
                self.args.quiet,
            );
            let filled = produce::run(spec, window, live);
            progress.finish();
            filled?;
            start = admin.list_offsets(route, TIMESTAMP_EARLIEST)?;
            end = admin.list_offsets(route, TIMESTAMP_LATEST)?;
        }
        let live = Arc::new(LiveCounters::default());
        let window = window_from_now(self.args.warmup_s, self.args.duration_s);
        let cspec = self.consume_spec(&spec.topic, Some(end));
        let progress = Progress::start(label.to_string(), window, live.clone(), self.args.quiet);
        let consumed = consume::run(&cspec, route, start, window, live);
        let finished = clock::now_us().min(window.end_us);
        progress.finish();
        let seconds = finished.saturating_sub(window.warm_end_us) as f64 / 1e6;
        Ok((consumed?, seconds))
    }

    fn consume_spec(&self, topic: &str, stop_at: Option<Vec<i64>>) -> ConsumeSpec {
        ConsumeSpec {
            bootstrap: self.args.bootstrap.clone(),
            connect: self.connect.clone(),
            topic: topic.to_string(),
            consumers: self.args.consumers,
            collect: false,
            stop_at,
            read_committed: self.args.transactional,
        }
    }

    fn finish_produce(
        &self,
        result: &mut CellResult,
        mut outcome: ProduceOutcome,
        window: Window,
        topic: &str,
    ) -> Result<()> {
        result.produce = Some(Throughput::of(
            outcome.measured_msgs,
            outcome.measured_bytes,
            window.measured_s(),
        ));
        result.produce_latency = LatencySummary::of(&outcome.latency_us);
        result.produce_counts = Some(ProduceCounts {
            sent_msgs: outcome.sent_msgs,
            acked_msgs: outcome.acked_msgs,
            failed_msgs: outcome.failed_msgs,
            indeterminate_msgs: outcome.indeterminate_msgs,
            retried_batches: outcome.retried_batches,
            error_codes: std::mem::take(&mut outcome.error_codes),
        });
        if self.args.transactional {
            result.transactions = Some(TxnSummary::of(&outcome.transactions, window.measured_s()));
        }
        if let Some(path) = &self.args.history_out {
            let path = if self.many_cells {
                with_suffix(path, topic)
            } else {
                path.clone()
            };
            history::write(&path, topic, &outcome.history)?;
        }
        if self.args.verify {
            let reads = collect::read_back(
                &self.args.bootstrap,
                &self.connect,
                topic,
                self.args.consumers,
                self.args.transactional,
            )?;
            let verdict = checker::check(&outcome.history, &reads);
            eprintln!("verify {topic}: {}", verdict.summary_line());
            for e in &verdict.examples {
                eprintln!("  {e}");
            }
            result.verify = Some(verdict);
        }
        Ok(())
    }
}

fn fill_consume(result: &mut CellResult, c: &ConsumeOutcome, seconds: f64) {
    result.e2e_latency = LatencySummary::of(&c.e2e_latency_us);
    result.consume = Some(Throughput::of(c.measured_msgs, c.measured_bytes, seconds));
}

fn with_suffix(path: &std::path::Path, topic: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{topic}"));
    PathBuf::from(s)
}

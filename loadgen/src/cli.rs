//! Command line. Scripts depend on this shape:
//! `sluice-loadgen produce|consume|e2e|sweep --bootstrap HOST:PORT [--topic T] --acks 0|1|all
//!  --partitions N --message-bytes N --duration-s S [--warmup-s S] [--rate N] [--json FILE] [--verify]`
//! (`sweep` takes comma lists for --acks, --partitions and --message-bytes).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::error::{Error, Result};
use sluice_kafka_client::Codec;

#[derive(Parser, Debug)]
#[command(
    name = "sluice-loadgen",
    version,
    about = "Kafka-protocol load generator and queue-invariant checker"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Produce only: throughput and produce→ack latency.
    Produce(RunArgs),
    /// Consume only: read a topic from its start (filling it first if it is new or empty).
    Consume(RunArgs),
    /// Produce and consume at once: end-to-end latency from the send time in each record.
    E2e(RunArgs),
    /// The cross product of --acks, --partitions and --message-bytes, one topic per cell.
    Sweep(RunArgs),
    /// Check a topic against acked-history files written by earlier runs (--history-out).
    Verify(VerifyArgs),
}

#[derive(Args, Debug, Clone, Serialize)]
pub struct RunArgs {
    /// A broker to bootstrap from.
    #[arg(long)]
    pub bootstrap: String,
    /// Topic to use (default: a fresh topic per run or sweep cell).
    #[arg(long)]
    pub topic: Option<String>,
    /// 0, 1 or all (comma list for sweep).
    #[arg(long, default_value = "1")]
    pub acks: String,
    /// Partitions of the topic (comma list for sweep).
    #[arg(long, default_value = "16")]
    pub partitions: String,
    /// Value size in bytes, at least 28 (comma list for sweep).
    #[arg(long, default_value = "1024")]
    pub message_bytes: String,
    /// Measured seconds (per sweep cell).
    #[arg(long, default_value_t = 10.0)]
    pub duration_s: f64,
    /// Unmeasured seconds before the measurement (per sweep cell).
    #[arg(long, default_value_t = 2.0)]
    pub warmup_s: f64,
    /// Fixed rate in messages per second over all producers (default: as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Write every figure and the configuration as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Read everything back after the run and check the queue invariants.
    #[arg(long)]
    pub verify: bool,
    /// Persist the acked history here (for `verify` later, e.g. across broker kills).
    #[arg(long)]
    pub history_out: Option<PathBuf>,
    /// Seal a partition's batch at this many bytes (uncompressed).
    #[arg(long, default_value_t = 65536)]
    pub batch_bytes: usize,
    /// Seal a batch this long after its first record.
    #[arg(long, default_value_t = 1000)]
    pub linger_us: u64,
    /// none, gzip, snappy, lz4 or zstd.
    #[arg(long, default_value = "none")]
    pub compression: String,
    /// Producer threads (each with its own connections).
    #[arg(long, default_value_t = 1)]
    pub producers: u32,
    /// Consumer threads (partitions are split between them).
    #[arg(long, default_value_t = 1)]
    pub consumers: u32,
    /// Keyed records (murmur2 partitioner, like the Java client) instead of null keys.
    #[arg(long)]
    pub keyed: bool,
    /// Distinct keys in keyed mode.
    #[arg(long, default_value_t = 10000)]
    pub key_count: u32,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 8)]
    pub max_in_flight: usize,
    /// Fixed-rate mode: the shortest sleep between generating rounds. Records due meanwhile
    /// are sent together, and their lateness counts as latency.
    #[arg(long, default_value_t = 100)]
    pub pace_us: u64,
    /// Largest produce request, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub request_bytes_max: usize,
    /// Produce request timeout (the broker's wait for acks=all).
    #[arg(long, default_value_t = 30000)]
    pub request_timeout_ms: i32,
    /// Retries of a batch the broker rejected with a retriable error.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Replication factor for topics loadgen creates.
    #[arg(long, default_value_t = 1)]
    pub replication_factor: i16,
    /// Measure the raw O_DIRECT sequential write rate of this directory in the same run, then
    /// the O_DIRECT read rate of what was written, and report throughput as a ratio to it (the
    /// read rate for `consume`, the write rate otherwise).
    #[arg(long)]
    pub baseline_disk: Option<PathBuf>,
    /// Seconds the disk baseline writes for.
    #[arg(long, default_value_t = 3.0)]
    pub baseline_disk_s: f64,
    /// Measure one raw TCP stream over loopback in the same run and report throughput as a
    /// ratio to it (and to min(disk, net) with --baseline-disk).
    #[arg(long)]
    pub baseline_net: bool,
    /// Seconds the network baseline streams for.
    #[arg(long, default_value_t = 3.0)]
    pub baseline_net_s: f64,
    /// Write report.md, results.json and SVG plots here.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Delete each cell's topic after the cell (keeps long sweeps within the disk).
    #[arg(long)]
    pub delete_topics: bool,
    /// Free text stored in the reports (e.g. "sluice --cores 1").
    #[arg(long)]
    pub label: Option<String>,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Idempotent producers: each gets a producer id (InitProducerId) and numbers its
    /// batches per partition, as `enable.idempotence=true` does. Needs --acks all and
    /// --max-in-flight 5 or less (the broker remembers a producer's last 5 batches). A
    /// throughput mode: the batches of a broken connection are not re-sent, so after a
    /// broker crash the next batches of those partitions get OUT_OF_ORDER_SEQUENCE_NUMBER.
    #[arg(long)]
    pub idempotent: bool,
    /// Transactional producers (Kafka's `transactional.id`): each producer finds its
    /// transaction coordinator, takes a producer id for its transactional id, and writes
    /// transactions of --transaction-records records, committing each once all its batches
    /// are acknowledged. Implies --idempotent's rules (--acks all, --max-in-flight 5 or
    /// less). `--verify` then reads read_committed.
    #[arg(long)]
    pub transactional: bool,
    /// Records per transaction.
    #[arg(long, default_value_t = 100)]
    pub transaction_records: u32,
    /// Transactional ids are PREFIX-RUN-PID-TOPIC-N (N: the producer), unique per run and
    /// producer.
    #[arg(long, default_value = "sluice-loadgen")]
    pub transactional_id_prefix: String,
    /// `transaction.timeout.ms` sent with InitProducerId.
    #[arg(long, default_value_t = 60000)]
    pub transaction_timeout_ms: i32,
    /// Abort every K-th transaction instead of committing it (0: never); `--verify` then
    /// checks that no aborted record is visible to a read_committed reader.
    #[arg(long, default_value_t = 0)]
    pub abort_every: u32,
    #[command(flatten)]
    pub security: SecurityArgs,
}

/// How every connection (produce, consume, verify, topic admin) is secured, with
/// librdkafka's property names as flags. `--client-config FILE` reads the same properties
/// from `key=value` lines; flags given as well override the file. The password is never
/// written to the reports.
#[derive(Args, Debug, Clone, Default, Serialize)]
pub struct SecurityArgs {
    /// PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL (`security.protocol`).
    #[arg(long, value_name = "PROTOCOL")]
    pub security_protocol: Option<String>,
    /// PEM file of the CA certificates that sign the brokers' (`ssl.ca.location`; default:
    /// the system's CA bundle).
    #[arg(long, value_name = "FILE")]
    pub ssl_ca_location: Option<String>,
    /// PEM client certificate chain, for brokers that require one (`ssl.certificate.location`).
    #[arg(long, value_name = "FILE")]
    pub ssl_certificate_location: Option<String>,
    /// PEM private key of that certificate (`ssl.key.location`).
    #[arg(long, value_name = "FILE")]
    pub ssl_key_location: Option<String>,
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (`sasl.mechanism`; default PLAIN).
    #[arg(long, value_name = "MECHANISM")]
    pub sasl_mechanism: Option<String>,
    /// `sasl.username`.
    #[arg(long, value_name = "USER")]
    pub sasl_username: Option<String>,
    /// `sasl.password` (visible in the process list: prefer --client-config).
    #[arg(long, value_name = "PASSWORD")]
    #[serde(skip)]
    pub sasl_password: Option<String>,
    /// `key=value` lines with the properties above (librdkafka's names; Java's
    /// `sasl.jaas.config` and `ssl.truststore.location` are understood too).
    #[arg(long, value_name = "FILE")]
    pub client_config: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    #[arg(long)]
    pub bootstrap: String,
    #[arg(long)]
    pub topic: String,
    /// History files from `--history-out` (comma list or repeated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub history: Vec<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub consumers: u32,
    /// Write the verdict as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub security: SecurityArgs,
}

/// acks as the wire value.
pub fn parse_acks(s: &str) -> Result<i16> {
    match s.trim() {
        "0" => Ok(0),
        "1" => Ok(1),
        "all" | "-1" => Ok(-1),
        other => Err(Error::Config(format!(
            "--acks {other}: expected 0, 1 or all"
        ))),
    }
}

pub fn acks_name(acks: i16) -> &'static str {
    match acks {
        0 => "0",
        1 => "1",
        _ => "all",
    }
}

fn parse_list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>> {
    s.split(',')
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|_| Error::Config(format!("--{flag}: cannot parse {v:?}")))
        })
        .collect()
}

/// The cells a command runs: one for produce/consume/e2e, the cross product for sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CellParams {
    pub acks: i16,
    pub partitions: u32,
    pub message_bytes: usize,
}

impl RunArgs {
    pub fn cells(&self, allow_lists: bool) -> Result<Vec<CellParams>> {
        let acks: Vec<i16> = self
            .acks
            .split(',')
            .map(parse_acks)
            .collect::<Result<_>>()?;
        let partitions: Vec<u32> = parse_list("partitions", &self.partitions)?;
        let sizes: Vec<usize> = parse_list("message-bytes", &self.message_bytes)?;
        if !allow_lists && (acks.len() > 1 || partitions.len() > 1 || sizes.len() > 1) {
            return Err(Error::Config("comma lists are for `sweep` only".into()));
        }
        if let Some(p) = partitions.iter().find(|p| **p == 0) {
            return Err(Error::Config(format!("--partitions {p}: need at least 1")));
        }
        if let Some(s) = sizes
            .iter()
            .find(|s| **s < crate::message::VALUE_HEADER_BYTES)
        {
            return Err(Error::Config(format!(
                "--message-bytes {s}: values carry a {}-byte header",
                crate::message::VALUE_HEADER_BYTES
            )));
        }
        let mut cells = Vec::new();
        for &a in &acks {
            for &p in &partitions {
                for &m in &sizes {
                    cells.push(CellParams {
                        acks: a,
                        partitions: p,
                        message_bytes: m,
                    });
                }
            }
        }
        Ok(cells)
    }

    pub fn codec(&self) -> Result<Codec> {
        Codec::parse(&self.compression).ok_or_else(|| {
            Error::Config(format!(
                "--compression {}: expected none|gzip|snappy|lz4|zstd",
                self.compression
            ))
        })
    }

    pub fn validate(&self) -> Result<()> {
        if self.duration_s <= 0.0 || self.warmup_s < 0.0 {
            return Err(Error::Config(
                "--duration-s must be > 0 and --warmup-s >= 0".into(),
            ));
        }
        if self.producers == 0 || self.consumers == 0 || self.max_in_flight == 0 {
            return Err(Error::Config(
                "--producers, --consumers and --max-in-flight must be >= 1".into(),
            ));
        }
        let acks_all = self.acks == "all" || self.acks == "-1";
        if self.idempotent && (!acks_all || self.max_in_flight > 5) {
            return Err(Error::Config(
                "--idempotent needs --acks all and --max-in-flight 5 or less".into(),
            ));
        }
        if self.transactional && (!acks_all || self.max_in_flight > 5) {
            return Err(Error::Config(
                "--transactional needs --acks all and --max-in-flight 5 or less".into(),
            ));
        }
        if self.transactional && (self.transaction_records == 0 || self.transaction_timeout_ms <= 0)
        {
            return Err(Error::Config(
                "--transaction-records and --transaction-timeout-ms must be >= 1".into(),
            ));
        }
        if !self.transactional && self.abort_every > 0 {
            return Err(Error::Config("--abort-every needs --transactional".into()));
        }
        if self.transactional && self.transactional_id_prefix.is_empty() {
            return Err(Error::Config(
                "--transactional-id-prefix must not be empty".into(),
            ));
        }
        if self.rate.is_some_and(|r| r <= 0.0) {
            return Err(Error::Config("--rate must be > 0".into()));
        }
        self.codec()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["sluice-loadgen", "sweep", "--bootstrap", "127.0.0.1:9092"];
        argv.extend_from_slice(extra);
        match Cli::parse_from(argv).command {
            Command::Sweep(a) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn sweep_is_the_cross_product() {
        let a = args(&[
            "--acks",
            "0,1,all",
            "--partitions",
            "1,16",
            "--message-bytes",
            "100,1024",
        ]);
        let cells = a.cells(true).expect("cells");
        assert_eq!(cells.len(), 12);
        assert_eq!(
            cells[0],
            CellParams {
                acks: 0,
                partitions: 1,
                message_bytes: 100
            }
        );
        assert_eq!(
            cells[11],
            CellParams {
                acks: -1,
                partitions: 16,
                message_bytes: 1024
            }
        );
        assert!(a.cells(false).is_err(), "lists are refused outside sweep");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(args(&["--acks", "2"]).cells(true).is_err());
        assert!(args(&["--message-bytes", "10"]).cells(true).is_err());
        assert!(args(&["--partitions", "0"]).cells(true).is_err());
        assert!(args(&["--compression", "brotli"]).validate().is_err());
    }

    #[test]
    fn transactional_takes_idempotent_rules() {
        let ok = args(&["--acks", "all", "--transactional", "--max-in-flight", "5"]);
        assert!(ok.validate().is_ok());
        assert_eq!(
            ok.transaction_records, 100,
            "Kafka-sized default transactions"
        );
        assert!(args(&["--acks", "1", "--transactional"])
            .validate()
            .is_err());
        let wide = args(&["--acks", "all", "--transactional", "--max-in-flight", "6"]);
        assert!(wide.validate().is_err());
        let empty = ["--acks", "all", "--transactional", "--max-in-flight", "5"];
        let mut zero = empty.to_vec();
        zero.extend(["--transaction-records", "0"]);
        assert!(args(&zero).validate().is_err());
        assert!(args(&["--acks", "all", "--abort-every", "2"])
            .validate()
            .is_err());
    }
}

//! The `sluice` command line: `sluice start` runs the broker; `tune`, `iotune`, `topic`,
//! `group`, `cluster`, `producers`, `txn`, `user` and `acl` are the operator's tools. `main.rs` only calls [`main`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{BrokerConfig, FlagOverrides};
use crate::{
    admin, broker, cluster_identity, data_dir_lock, logging, malloc_tuning, memlock, metrics,
    signals, uring_probe, util,
};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Sluice: a Kafka-compatible event-streaming broker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the broker.
    Start(StartArgs),
    /// Check or apply host tuning (sysctls, disk queue, IRQs, limits).
    Tune(sluice_tuning::cli::TuneArgs),
    /// Measure the data disk and write iotune.toml for the broker.
    Iotune(sluice_tuning::cli::IotuneArgs),
    /// Manage topics: create, delete, list, describe, alter-config.
    Topic(admin::TopicArgs),
    /// Inspect consumer groups: list, describe (with lag).
    Group(admin::GroupArgs),
    /// Show the cluster: id, controller, brokers, served APIs.
    Cluster(admin::ClusterArgs),
    /// Inspect idempotent and transactional producers: describe TOPIC PARTITION.
    Producers(admin::ProducersArgs),
    /// Inspect transactions: list (every coordinator), describe TRANSACTIONAL_ID.
    Txn(admin::TxnArgs),
    /// Manage SCRAM users: create, delete, list (AlterUserScramCredentials and
    /// DescribeUserScramCredentials).
    User(admin::UserArgs),
    /// Manage ACLs: add, list, remove (CreateAcls, DescribeAcls, DeleteAcls).
    Acl(admin::AclArgs),
}

#[derive(Args)]
struct StartArgs {
    /// Address to listen on for Kafka clients (the PLAINTEXT listener) [default: 127.0.0.1:9092]
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<SocketAddr>,
    /// This node's id (`node.id`) [default: 0]
    #[arg(long, value_name = "N")]
    node_id: Option<i32>,
    /// This node's controller listener, for its peers in the quorum (`controller.listener`)
    #[arg(long, value_name = "HOST:PORT")]
    controller_listen: Option<String>,
    /// The controller quorum (`controller.quorum.voters`) [default: this node alone]
    #[arg(long, value_name = "ID@HOST:PORT,...")]
    controller_voters: Option<String>,
    /// Directory for partition logs and topic metadata [default: ./data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Number of shards, one for each CPU the process may run on (online, and allowed by
    /// taskset or a cpuset), each pinned to its CPU unless --pin-shards false [default: all of
    /// them]
    #[arg(long, value_name = "N")]
    cores: Option<usize>,
    /// Pin each shard to its own CPU (`pin.shards`); false lets the kernel move shard threads
    /// between the allowed CPUs, for a shared host such as several brokers on fewer cores
    /// [default: true]
    #[arg(long, value_name = "true|false")]
    pin_shards: Option<bool>,
    /// Config file: TOML or Kafka's server.properties (Kafka setting names); flags override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics [default: 127.0.0.1:9644]
    #[arg(long, value_name = "HOST:PORT")]
    metrics_listen: Option<SocketAddr>,
    /// Log lines as human-readable text or as JSON objects (one per line)
    #[arg(long, value_enum, default_value = "text")]
    log_format: logging::LogFormat,
}

/// Parses the command line and runs the command; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(match &cli.command {
        Command::Start(args) => args.log_format,
        _ => logging::LogFormat::Text,
    });
    stop_on_panic();
    match cli.command {
        Command::Start(args) => {
            let log_format = args.log_format;
            match start(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    report_start_failure(&message, log_format);
                    ExitCode::FAILURE
                }
            }
        }
        Command::Tune(args) => sluice_tuning::cli::run_tune(args),
        Command::Iotune(args) => sluice_tuning::cli::run_iotune(args),
        Command::Topic(args) => admin::run_topic(args),
        Command::Group(args) => admin::run_group(args),
        Command::Cluster(args) => admin::run_cluster(args),
        Command::Producers(args) => admin::run_producers(args),
        Command::Txn(args) => admin::run_txn(args),
        Command::User(args) => admin::run_user(args),
        Command::Acl(args) => admin::run_acl(args),
    }
}

fn start(args: StartArgs) -> Result<(), String> {
    // Before any thread exists, so every thread inherits the mask and only the signal thread
    // (started once the shards are up) receives SIGTERM/SIGINT.
    signals::block_stop_signals().map_err(|e| format!("cannot block signals: {e}"))?;
    let malloc = malloc_tuning::apply()?;
    let flags = FlagOverrides {
        listen: args.listen,
        data_dir: args.data_dir,
        cores: args.cores,
        pin_shards: args.pin_shards,
        metrics_listen: args.metrics_listen,
        node_id: args.node_id,
        controller_listen: args.controller_listen,
        controller_voters: args.controller_voters,
    };
    let mut config =
        BrokerConfig::resolve(args.config.as_deref(), &flags).map_err(|e| e.to_string())?;
    let cpus = crate::shard::cpus::shard_cpus(config.cores)?;
    let budget = memlock::budget(cpus.len()).map_err(|e| e.to_string())?;
    broker::refuse_taken_client_ports(&config)?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    let _lock = data_dir_lock::lock(&config.data_dir)?;
    // Before anything reads or writes the data dir: it must be this cluster's and this node's.
    let identity = cluster_identity::ensure(
        &config.data_dir,
        config.node_id,
        config.cluster_id_configured.as_deref(),
        config.quorum.voters(),
    )
    .map_err(|e| e.to_string())?;
    config.cluster_id = identity.cluster_id;
    apply_io_properties(&mut config);
    let config = Arc::new(config);
    metrics::start_endpoint(config.metrics_listen)?;
    let placement = crate::shard::cpus::ShardPlacement::new(cpus, config.pin_shards);
    let shards = broker::start(config.clone(), &placement, budget.io_memory_per_shard_bytes)?;
    tracing::info!(
        "sluice node {} of cluster {} listening on {} | data dir {} | {placement} | memlock {} | io_uring: {} | malloc: {malloc}",
        config.node_id,
        config.cluster_id,
        config.listen,
        config.data_dir.display(),
        budget,
        uring_probe::describe(),
    );
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(wait_for_signals)
        .map_err(|e| format!("cannot start signal thread: {e}"))?;
    let result = shards.join();
    if result.is_ok() {
        tracing::info!("sluice stopped: logs flushed and closed");
    }
    result
}

/// The reason `sluice start` failed, as one line on stderr (a refusal to start is the
/// command's answer, like any CLI error); also in the JSON log for log shippers.
fn report_start_failure(message: &str, log_format: logging::LogFormat) {
    // Some errors (TOML's) span lines; the refusal stays one line.
    let line = message
        .lines()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if log_format == logging::LogFormat::Json {
        tracing::error!("{line}");
    }
    eprintln!("sluice: {line}");
}

/// `sluice iotune` leaves its measurements of the data disk in `<data>/iotune.toml`. When it
/// is there, the engine's appenders write chunks of the measured best size with the measured
/// queue depth, and the shard's write-buffer pool holds at least one appender's write-behind.
/// Without it (or if it is unreadable) the engine's defaults stand.
fn apply_io_properties(config: &mut BrokerConfig) {
    // The most write-behind a tuning can use: double-buffered chunks in flight, at their limits.
    const WRITE_POOL_BYTES_TUNED_MAX: usize = sluice_engine::limits::CHUNK_BYTES_TUNED_MAX
        * sluice_engine::limits::CHUNKS_IN_FLIGHT_TUNED_MAX
        * 2;
    let io = match sluice_tuning::IoProperties::load_from_data_dir(&config.data_dir) {
        Ok(Some(io)) => io,
        Ok(None) => {
            tracing::info!(
                "iotune: no iotune.toml in the data dir; defaults (run `sluice iotune`)"
            );
            return;
        }
        Err(e) => {
            tracing::warn!("iotune: {e}; defaults");
            return;
        }
    };
    let recommended = &io.recommended;
    config.write_tuning = sluice_engine::WriteTuning::clamped(
        recommended.write_chunk_bytes,
        u64::from(recommended.flush_concurrency),
    );
    let write_behind_bytes = usize::try_from(recommended.write_behind_bytes).unwrap_or(usize::MAX);
    config.write_buffer_pool_bytes_max = config
        .write_buffer_pool_bytes_max
        .max(write_behind_bytes.min(WRITE_POOL_BYTES_TUNED_MAX));
    tracing::info!(
        "iotune: using {} (write chunk {} KiB, {} chunk writes in flight per segment, write pool {} MiB)",
        io.dir.display(),
        config.write_tuning.chunk_bytes_max / 1024,
        config.write_tuning.chunks_in_flight_max,
        config.write_buffer_pool_bytes_max / (1024 * 1024),
    );
}

/// A panic is a bug (bad input must never panic the broker); when one happens on a shard, the
/// other shards stop cleanly, flushing their logs, and the process exits with an error.
fn stop_on_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if util::panicking_in_decoder() {
            tracing::warn!("request decoder panicked: {info}");
            return;
        }
        default_hook(info);
        signals::request_shutdown();
    }));
}

/// First SIGTERM/SIGINT: graceful stop. Second: immediate exit.
fn wait_for_signals() {
    match signals::wait_for_stop_signal() {
        Ok(signal) => tracing::info!(
            signal,
            "stopping: finishing requests in flight, flushing logs"
        ),
        Err(err) => tracing::error!("waiting for signals failed: {err}; stopping"),
    }
    signals::request_shutdown();
    if signals::wait_for_stop_signal().is_ok() {
        tracing::warn!("second stop signal: exiting without waiting");
        std::process::exit(130);
    }
}

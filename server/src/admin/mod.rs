//! The admin CLI: `sluice topic|group|cluster|producers|txn ...`, like `rpk topic`, talking the Kafka
//! protocol to any broker (Sluice or Kafka) through the blocking `sluice-kafka-client`.
//!
//! Owns: request building, the request versions it handles, and rendering of admin
//! responses. Talking Kafka (connections, version negotiation) is `sluice-kafka-client`'s.
//! Never: runs on a shard, or touches broker state except through Kafka requests.
//!
//! The binary wires [`TopicArgs`], [`GroupArgs`] and [`ClusterArgs`] as subcommands and calls
//! [`run_topic`], [`run_group`] and [`run_cluster`].

pub mod cluster;
pub mod dirty_ratio;
pub mod error;
pub mod group;
pub mod pool;
pub mod producers;
pub mod reassign;
pub mod render;
#[cfg(test)]
mod scripted_broker_tests;
pub mod topic;
pub mod txn;
pub mod versions;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

pub use cluster::ClusterArgs;
pub use error::AdminError;
pub use group::GroupArgs;
pub use producers::ProducersArgs;
pub use topic::TopicArgs;
pub use txn::TxnArgs;

use pool::BrokerPool;

/// Which broker to talk to.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Broker address `host:port`.
    #[arg(long, global = true, default_value = "127.0.0.1:9092")]
    pub bootstrap: String,
    /// Connect, read and write timeout per request.
    #[arg(long, global = true, default_value_t = 10_000)]
    pub timeout_ms: u64,
}

/// Pause between attempts while a coordinator is loading.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Connects, runs `execute` (again, within the timeout, while the broker answers with a
/// transient coordinator error, as Kafka's admin client does), prints its output or a
/// one-line error; non-zero exit on failure.
fn run(
    what: &str,
    connect: &ConnectArgs,
    mut execute: impl FnMut(&mut BrokerPool) -> Result<String, AdminError>,
) -> ExitCode {
    let timeout = Duration::from_millis(connect.timeout_ms);
    let deadline = Instant::now() + timeout;
    let result = BrokerPool::connect(&connect.bootstrap, timeout).and_then(|mut pool| loop {
        match execute(&mut pool) {
            Err(e) if e.is_transient() && Instant::now() + RETRY_PAUSE < deadline => {
                std::thread::sleep(RETRY_PAUSE);
            }
            other => break other,
        }
    });
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sluice {what}: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn run_topic(args: TopicArgs) -> ExitCode {
    if let Err(e) = args.command.validate() {
        eprintln!("sluice topic: {e}");
        return ExitCode::from(2);
    }
    run("topic", &args.connect, |pool| {
        topic::execute(pool, &args.command)
    })
}

pub fn run_group(args: GroupArgs) -> ExitCode {
    run("group", &args.connect, |pool| {
        group::execute(pool, &args.command)
    })
}

pub fn run_cluster(args: ClusterArgs) -> ExitCode {
    run("cluster", &args.connect, |pool| {
        cluster::execute(pool, &args.command)
    })
}

pub fn run_txn(args: TxnArgs) -> ExitCode {
    if let Err(e) = args.command.validate() {
        eprintln!("sluice txn: {e}");
        return ExitCode::from(2);
    }
    run("txn", &args.connect, |pool| {
        txn::execute(pool, &args.command)
    })
}

pub fn run_producers(args: ProducersArgs) -> ExitCode {
    match args.command {
        producers::ProducersCommand::Describe { topic, partition } => {
            run("producers describe", &args.connect, |pool| {
                producers::describe(pool, &topic, partition)
            })
        }
    }
}

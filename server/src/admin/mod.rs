//! The admin CLI: `sluice topic|group|cluster ...`, like `rpk topic`, talking the Kafka
//! protocol to any broker (Sluice or Kafka) over a plain blocking TCP connection.
//!
//! Owns: request building, version negotiation, and rendering of admin responses.
//! Never: runs on a shard, or touches broker state except through Kafka requests.
//!
//! The binary wires [`TopicArgs`], [`GroupArgs`] and [`ClusterArgs`] as subcommands and calls
//! [`run_topic`], [`run_group`] and [`run_cluster`].

pub mod client;
pub mod cluster;
pub mod error;
pub mod group;
pub mod pool;
pub mod render;
#[cfg(test)]
mod scripted_broker_tests;
pub mod topic;
pub mod versions;

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

pub use cluster::ClusterArgs;
pub use error::AdminError;
pub use group::GroupArgs;
pub use topic::TopicArgs;

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

/// Connects, runs `execute`, prints its output or a one-line error; non-zero exit on failure.
fn run(
    what: &str,
    connect: &ConnectArgs,
    execute: impl FnOnce(&mut BrokerPool) -> Result<String, AdminError>,
) -> ExitCode {
    let result = BrokerPool::connect(
        &connect.bootstrap,
        Duration::from_millis(connect.timeout_ms),
    )
    .and_then(|mut pool| execute(&mut pool));
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

//! The admin CLI: `sluice topic|group|cluster|producers|txn|user|acl ...`, like `rpk topic`,
//! talking the Kafka protocol to any broker (Sluice or Kafka) through the blocking
//! `sluice-kafka-client`, over TLS and SASL when `--command-config FILE` says so.
//!
//! Owns: request building, the request versions it handles, and rendering of admin
//! responses. Talking Kafka (connections, version negotiation) is `sluice-kafka-client`'s.
//! Never: runs on a shard, or touches broker state except through Kafka requests.
//!
//! The binary wires [`TopicArgs`], [`GroupArgs`], [`ClusterArgs`], [`ProducersArgs`],
//! [`TxnArgs`], [`UserArgs`] and [`AclArgs`] as subcommands and calls their `run_*`.

pub mod acl;
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
#[cfg(test)]
mod scripted_security_tests;
pub mod topic;
pub mod txn;
pub mod user;
pub mod versions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use sluice_kafka_client::{ClientSecurity, SecurityConfig, SecurityProtocol};

pub use acl::AclArgs;
pub use cluster::ClusterArgs;
pub use error::AdminError;
pub use group::GroupArgs;
pub use producers::ProducersArgs;
pub use topic::TopicArgs;
pub use txn::TxnArgs;
pub use user::UserArgs;

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
    /// Client properties, `key=value` lines as for Kafka's tools: `security.protocol`,
    /// `sasl.mechanism`, `sasl.username`, `sasl.password` (or `sasl.jaas.config`),
    /// `ssl.ca.location` or `ssl.truststore.location` (PEM), `ssl.certificate.location` and
    /// `ssl.key.location` (or a PEM `ssl.keystore.location`).
    #[arg(long, global = true, value_name = "FILE")]
    pub command_config: Option<PathBuf>,
}

impl ConnectArgs {
    /// TLS and SASL from `--command-config`; `None` for PLAINTEXT. Properties that are not
    /// about security (Kafka's tools accept any client property) are named and ignored.
    pub fn security(&self) -> Result<Option<Arc<ClientSecurity>>, AdminError> {
        let Some(path) = &self.command_config else {
            return Ok(None);
        };
        let (config, ignored) = SecurityConfig::from_properties_file(path)
            .map_err(|e| AdminError::Usage(format!("--command-config: {e}")))?;
        for key in ignored {
            eprintln!(
                "note: {}: {key} is ignored (not a security property)",
                path.display()
            );
        }
        if config.protocol == SecurityProtocol::Plaintext {
            return Ok(None);
        }
        let security = config
            .build()
            .map_err(|e| AdminError::Usage(format!("--command-config: {e}")))?;
        Ok(Some(Arc::new(security)))
    }
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
    let result = connect
        .security()
        .and_then(|security| BrokerPool::connect_secured(&connect.bootstrap, timeout, security));
    let result = result.and_then(|mut pool| loop {
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

pub fn run_user(args: UserArgs) -> ExitCode {
    // Reads --password-file and draws the salts once, before any broker is asked.
    let prepared = match args.command.prepare() {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("sluice user: {e}");
            return ExitCode::from(2);
        }
    };
    run("user", &args.connect, |pool| user::execute(pool, &prepared))
}

pub fn run_acl(args: AclArgs) -> ExitCode {
    let prepared = match args.command.prepare() {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("sluice acl: {e}");
            return ExitCode::from(2);
        }
    };
    run("acl", &args.connect, |pool| acl::execute(pool, &prepared))
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

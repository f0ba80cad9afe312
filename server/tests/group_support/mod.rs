//! Shared by the `group_*` scenario tests: a broker tuned for fast group tests, and a runner
//! for `clients/python/group_scenarios.py` that requires its `VERIFIED` line.
#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use super::common::broker::{Broker, BrokerOptions};
use super::common::clients;
use super::common::process::run_with_timeout;

/// Hard limit for one scenario run (the scripts' own waits are 90 s per step).
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// Broker settings for group tests: a short initial rebalance delay (Kafka's default of 3 s
/// only slows the first join of each group down).
pub const GROUP_BROKER_TOML: &str = "\"group.initial.rebalance.delay.ms\" = 300\n";

pub fn start_broker(cores: usize) -> Broker {
    Broker::start(
        BrokerOptions::default()
            .cores(cores)
            .config(GROUP_BROKER_TOML),
    )
}

/// The Python that has both clients, or None after the harness's loud skip.
pub fn python() -> Option<std::path::PathBuf> {
    let python = clients::python_with("confluent_kafka")?;
    clients::python_with("kafka")?;
    Some(python)
}

/// Runs one scenario with one client; fails the test (with the broker log) unless the script
/// printed `VERIFIED scenario=<scenario> client=<client>`.
pub fn run_scenario(
    broker: &mut Broker,
    python: &std::path::Path,
    client: &str,
    scenario: &str,
    prefix: &str,
) {
    let work = tempfile::Builder::new()
        .prefix("sluice-group-scenario-")
        .tempdir()
        .expect("temp dir for member logs");
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("group_scenarios.py")
        .args(["--bootstrap", &broker.bootstrap()])
        .args([
            "--client",
            client,
            "--scenario",
            scenario,
            "--prefix",
            prefix,
        ])
        .arg("--work-dir")
        .arg(work.path());
    let what = format!("{scenario} with {client}");
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, &what);
    let wanted = format!("VERIFIED scenario={scenario} client={client}");
    let verified = finished.status.success() && finished.stdout.lines().any(|l| l == wanted);
    if !verified {
        broker.fail(&format!("{what} failed\n{}", finished.transcript()));
    }
    eprintln!("{}", finished.stdout);
    broker.assert_alive();
}

//! Where the real Kafka clients are, as installed by `./.ci/test`.
//!
//! Environment (all optional; `.ci/test` exports them):
//! - `SLUICE_TEST_KCAT`: the kcat binary (default: `kcat` on PATH).
//! - `SLUICE_TEST_PYTHON`: a Python with confluent-kafka and kafka-python
//!   (default: `target/test-clients/venv/bin/python` in the workspace).
//! - `SLUICE_TEST_NODE`: the node binary (default: `node` on PATH).
//! - `SLUICE_TEST_NODE_DIR`: the folder with kafkajs in node_modules
//!   (default: `server/tests/clients/node`).
//!
//! A missing client fails the test under `CI=true`. Elsewhere the test prints a loud SKIP
//! and returns, so `cargo nextest run` works before the clients are installed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::process::run_with_timeout;

/// How long `--version`-style probes of a client may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

pub fn under_ci() -> bool {
    matches!(
        std::env::var("CI").as_deref(),
        Ok("true") | Ok("1") | Ok("TRUE")
    )
}

/// `None` after a loud skip message, or a panic under CI.
fn missing<T>(client: &str, why: &str) -> Option<T> {
    let message = format!("{client} is not available: {why}. `./.ci/test` installs it.");
    if under_ci() {
        panic!("CI=true and {message}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    None
}

fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ sits in the workspace")
        .to_path_buf()
}

/// The folder of the Python client scripts.
pub fn python_scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python")
}

fn probe(program: &str, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args);
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_with_timeout(&mut command, PROBE_TIMEOUT, program)
    }))
    .map_err(|_| format!("`{program}` could not be run"))?;
    if finished.status.success() {
        Ok(finished.stdout + &finished.stderr)
    } else {
        Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            finished.transcript()
        ))
    }
}

/// The kcat binary, checked with `kcat -V`.
pub fn kcat() -> Option<PathBuf> {
    let program = std::env::var("SLUICE_TEST_KCAT").unwrap_or_else(|_| "kcat".to_string());
    match probe(&program, &["-V"]) {
        Ok(_) => Some(PathBuf::from(program)),
        Err(why) => missing("kcat", &why),
    }
}

/// A Python interpreter that can `import module`.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let program = std::env::var("SLUICE_TEST_PYTHON").unwrap_or_else(|_| {
        workspace_dir()
            .join("target/test-clients/venv/bin/python")
            .to_string_lossy()
            .into_owned()
    });
    match probe(&program, &["-c", &format!("import {module}")]) {
        Ok(_) => Some(PathBuf::from(program)),
        Err(why) => missing(&format!("Python module {module}"), &why),
    }
}

/// Node and the folder holding kafkajs (its scripts and node_modules).
pub struct NodeClient {
    pub node: PathBuf,
    pub dir: PathBuf,
}

pub fn kafkajs() -> Option<NodeClient> {
    let node = std::env::var("SLUICE_TEST_NODE").unwrap_or_else(|_| "node".to_string());
    let dir = std::env::var("SLUICE_TEST_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/node"));
    if !dir.join("node_modules/kafkajs/package.json").is_file() {
        return missing(
            "kafkajs",
            &format!(
                "{} has no node_modules/kafkajs (run npm ci there)",
                dir.display()
            ),
        );
    }
    match probe(&node, &["--version"]) {
        Ok(_) => Some(NodeClient {
            node: PathBuf::from(node),
            dir,
        }),
        Err(why) => missing("node", &why),
    }
}

/// Checks a round-trip script's report: it must have succeeded and printed
/// `VERIFIED codec=C messages=N ...` for every codec asked for.
pub fn assert_round_trip_verified(
    finished: &super::process::Finished,
    codecs: &[&str],
    messages: usize,
) {
    assert!(
        finished.status.success(),
        "client round trip failed\n{}",
        finished.transcript()
    );
    for codec in codecs {
        let wanted = format!("VERIFIED codec={codec} messages={messages} ");
        assert!(
            finished.stdout.lines().any(|l| l.starts_with(&wanted)),
            "no `{wanted}` line in the client's report\n{}",
            finished.transcript()
        );
    }
    eprintln!("{}", finished.stdout);
}

/// Every codec the round-trip scripts exercise.
pub const ALL_CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];
/// Messages per codec in the client round trips.
pub const ROUND_TRIP_MESSAGES: usize = 10_000;
/// Partitions of each round-trip topic.
pub const ROUND_TRIP_PARTITIONS: usize = 6;
/// Hard limit for one client round-trip run (all codecs), well under nextest's.
pub const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(600);

/// Arguments every round-trip script takes.
pub fn round_trip_args(
    broker: &super::broker::Broker,
    topic_prefix: &str,
    codecs: &[&str],
) -> Vec<String> {
    vec![
        "--bootstrap".into(),
        broker.bootstrap(),
        "--topic-prefix".into(),
        topic_prefix.into(),
        "--codecs".into(),
        codecs.join(","),
        "--messages".into(),
        ROUND_TRIP_MESSAGES.to_string(),
        "--partitions".into(),
        ROUND_TRIP_PARTITIONS.to_string(),
    ]
}

/// Run a round-trip script against `broker` and require its VERIFIED report for every
/// codec; on failure the client's transcript and the broker log are printed.
pub fn run_round_trip(
    broker: &mut super::broker::Broker,
    command: &mut Command,
    what: &str,
    codecs: &[&str],
) {
    let finished = run_with_timeout(command, ROUND_TRIP_TIMEOUT, what);
    if !finished.status.success() {
        broker.fail(&format!("{what} failed\n{}", finished.transcript()));
    }
    assert_round_trip_verified(&finished, codecs, ROUND_TRIP_MESSAGES);
    broker.assert_alive();
}

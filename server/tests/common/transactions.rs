//! The confluent-kafka transaction scenarios (`clients/python/transactions.py`): run a mode
//! with a hard timeout and read the JSON object it prints last.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::clients;
use super::process::{run_with_timeout, ChildGuard};

/// Longest a scenario may take (it waits at most 60 s for any one client call).
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(150);

/// Runs `mode` with `args` after the bootstrap and topic; the test fails (with the broker's
/// log) if the script fails.
pub fn run(
    python: &Path,
    bootstrap: &str,
    topic: &str,
    mode: &str,
    args: &[&str],
    on_failure: impl Fn(&str),
) -> serde_json::Value {
    let mut command = Command::new(python);
    command
        .arg(clients::python_scripts_dir().join("transactions.py"))
        .arg(mode)
        .arg(bootstrap)
        .arg(topic)
        .args(args);
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, mode);
    let failed = |why: String| -> ! {
        on_failure(&why);
        panic!("{why}");
    };
    if !finished.status.success() {
        failed(format!("transactions.py {mode}\n{}", finished.transcript()));
    }
    let last = finished.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| {
        failed(format!(
            "{mode}: no JSON answer ({e}): {}",
            finished.transcript()
        ))
    })
}

/// Starts `mode` in the background (for scenarios that wait to be killed); it says how far it
/// got through a file it is given.
pub fn spawn(python: &Path, bootstrap: &str, topic: &str, mode: &str, args: &[&str]) -> ChildGuard {
    let child = Command::new(python)
        .arg(clients::python_scripts_dir().join("transactions.py"))
        .arg(mode)
        .arg(bootstrap)
        .arg(topic)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start transactions.py {mode}: {e}"));
    ChildGuard::new(child)
}

/// The values of `answer[key]`: a list of strings, or of records with a "value".
pub fn values(answer: &serde_json::Value, key: &str) -> Vec<String> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not a list in {answer}"))
        .iter()
        .map(|v| {
            let value = v.get("value").unwrap_or(v);
            value.as_str().expect("a string value").to_string()
        })
        .collect()
}

/// (partition, offset, value) of the records in `answer[key]`.
pub fn records(answer: &serde_json::Value, key: &str) -> Vec<(i64, i64, String)> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not a list in {answer}"))
        .iter()
        .map(|r| {
            let partition = r["partition"].as_i64().expect("a partition");
            let offset = r["offset"].as_i64().expect("an offset");
            let value = r["value"].as_str().expect("a value").to_string();
            (partition, offset, value)
        })
        .collect()
}

/// `prefix-0` .. `prefix-{count-1}`, as the scenarios write them.
pub fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i}")).collect()
}

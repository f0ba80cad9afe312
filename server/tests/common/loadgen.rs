//! The `sluice-loadgen` binary for the tests that drive the broker with it (crash loop, cluster
//! chaos): where it is, and starting it with its output in a log file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::process::ChildGuard;

/// `target/<profile>/sluice-loadgen` next to `sluice` (built by `cargo nextest run
/// --workspace`), or SLUICE_TEST_LOADGEN; None when neither exists.
pub fn loadgen_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SLUICE_TEST_LOADGEN") {
        return Some(PathBuf::from(path));
    }
    let path = Path::new(env!("CARGO_BIN_EXE_sluice")).with_file_name("sluice-loadgen");
    path.exists().then_some(path)
}

/// [`loadgen_binary`], or None after a loud skip (a failure under CI).
pub fn loadgen_or_skip() -> Option<PathBuf> {
    let found = loadgen_binary();
    if found.is_none() {
        let why = "sluice-loadgen is not built (cargo build -p sluice-loadgen)";
        assert!(!super::clients::under_ci(), "{why}");
        eprintln!("\n!!!!!!!! SKIPPED: {why} !!!!!!!!\n");
    }
    found
}

/// Starts loadgen with `args`, stdout and stderr into `log`; killed when the guard drops.
pub fn spawn_loadgen(loadgen: &Path, args: &[String], log: &Path) -> ChildGuard {
    let out = std::fs::File::create(log).expect("loadgen log");
    let err = out.try_clone().expect("clone log fd");
    let child = Command::new(loadgen)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", loadgen.display()));
    ChildGuard::new(child)
}

/// `produce` arguments for an acks=all run at a fixed rate into an existing topic, writing its
/// acknowledged history to `history` (for [`verify`] later) and its figures next to it
/// (`<history>.json`, see [`produce_counts`]). Retries are generous: a batch
/// refused while leadership moves is sent again. Records are keyed (murmur2 over the key
/// space), so every partition gets writes: unkeyed, loadgen's sticky partitioner moves on
/// only when a batch fills, which at a modest fixed rate never happens, and every record
/// would go to partition 0.
pub fn acks_all_produce_args(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    duration_s: f64,
    rate_msgs_per_s: u32,
    history: &Path,
) -> Vec<String> {
    [
        "produce",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--acks",
        "all",
        "--partitions",
        &partitions.to_string(),
        "--message-bytes",
        "100",
        "--duration-s",
        &duration_s.to_string(),
        "--warmup-s",
        "0",
        "--rate",
        &rate_msgs_per_s.to_string(),
        "--quiet",
        "--retries",
        "20",
        "--keyed",
        "--history-out",
        history.to_str().expect("utf-8 path"),
        "--json",
        history.with_extension("json").to_str().expect("utf-8 path"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// What a produce run of [`acks_all_produce_args`] counted: messages sent, acknowledged,
/// failed and indeterminate, batches retried, and the error codes the broker answered (by
/// name). For the test's output: a duplicate or a failure is read against these.
pub fn produce_counts(history: &Path) -> String {
    let path = history.with_extension("json");
    let Some(json) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
    else {
        return format!("no figures in {}", path.display());
    };
    let counts = &json["cells"][0]["produce_counts"];
    let errors: Vec<String> = counts["error_codes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, n)| {
            let name = code
                .parse()
                .map_or_else(|_| code.clone(), super::kafka::error_code::name);
            format!("{name} x{n}")
        })
        .collect();
    format!(
        "sent {} acked {} failed {} indeterminate {} retried batches {} errors [{}]",
        counts["sent_msgs"],
        counts["acked_msgs"],
        counts["failed_msgs"],
        counts["indeterminate_msgs"],
        counts["retried_batches"],
        errors.join(", ")
    )
}

/// How long `sluice-loadgen verify` may take.
pub const VERIFY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// What `sluice-loadgen verify` concluded, and its log.
pub struct Verdict {
    pub json: serde_json::Value,
    pub log: String,
}

impl Verdict {
    pub fn count(&self, name: &str) -> u64 {
        self.json[name]
            .as_u64()
            .unwrap_or_else(|| panic!("verdict.{name}: {}", self.json))
    }

    /// One line of counts, for the test's output.
    pub fn summary(&self) -> String {
        [
            "acked",
            "observed",
            "lost",
            "inconsistent_offsets",
            "non_monotonic",
            "corrupt",
            "duplicates",
            "reordered",
            "unacked_present",
        ]
        .iter()
        .map(|name| format!("{name} {}", self.count(name)))
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// Something was acknowledged, and no acknowledged message was lost, no offset held two
    /// values, no read went backwards, nothing was corrupt. Duplicates and reorderings from
    /// the retries of a non-idempotent producer are reported, not failed.
    pub fn assert_safe(&self) {
        eprintln!("verify: {}", self.summary());
        for example in self.json["examples"]
            .as_array()
            .into_iter()
            .flatten()
            .take(10)
        {
            eprintln!("  {example}");
        }
        assert!(
            self.count("acked") > 0,
            "nothing was acknowledged\n{}",
            self.log
        );
        for name in ["lost", "inconsistent_offsets", "non_monotonic", "corrupt"] {
            assert_eq!(self.count(name), 0, "{name} in the verdict\n{}", self.log);
        }
    }
}

/// Runs `sluice-loadgen verify` of `topic` against the acknowledged `histories`; its files go
/// in `dir`.
pub fn verify(
    loadgen: &Path,
    bootstrap: &str,
    topic: &str,
    histories: &[PathBuf],
    dir: &Path,
) -> Verdict {
    let verdict_path = dir.join(format!("{topic}-verdict.json"));
    let histories: Vec<&str> = histories
        .iter()
        .map(|h| h.to_str().expect("utf-8 path"))
        .collect();
    let args: Vec<String> = [
        "verify",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--history",
        &histories.join(","),
        "--json",
        verdict_path.to_str().expect("utf-8 path"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let log_path = dir.join(format!("{topic}-verify.log"));
    let status = spawn_loadgen(loadgen, &args, &log_path).wait(VERIFY_TIMEOUT, "loadgen verify");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let json = std::fs::read_to_string(&verdict_path)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| panic!("verify ({status}) wrote no verdict\n{log}"));
    Verdict { json, log }
}

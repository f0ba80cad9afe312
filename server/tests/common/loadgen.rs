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

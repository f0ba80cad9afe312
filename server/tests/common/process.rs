//! Run a client program with a hard timeout, capturing its output to files (no pipe can
//! fill up and stall it). The child is killed if the test panics while it runs.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// What a finished client run left behind.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Both streams, for failure messages.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}, after {:.1}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// Kills and reaps the child on drop, so no client outlives its test.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            if let Err(e) = child.kill() {
                eprintln!("kill client: {e}");
            }
            if let Err(e) = child.wait() {
                eprintln!("reap client: {e}");
            }
        }
    }
}

/// Runs `command` to completion or panics after `timeout` (having killed it).
pub fn run_with_timeout(command: &mut Command, timeout: Duration, what: &str) -> Finished {
    let out = tempfile::tempfile().expect("temp file for client stdout");
    let err = tempfile::tempfile().expect("temp file for client stderr");
    let mut out_reader = out.try_clone().expect("clone stdout file");
    let mut err_reader = err.try_clone().expect("clone stderr file");
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut guard = ChildGuard(Some(child));
    let status = loop {
        let child = guard.0.as_mut().expect("child present until reaped");
        match child.try_wait() {
            Ok(Some(status)) => {
                guard.0 = None;
                break Some(status);
            }
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => thread::sleep(POLL_INTERVAL),
            Err(e) => panic!("wait for {what}: {e}"),
        }
    };
    drop(guard);
    let stdout = read_all(&mut out_reader);
    let stderr = read_all(&mut err_reader);
    let elapsed = started.elapsed();
    match status {
        Some(status) => Finished {
            status,
            stdout,
            stderr,
            elapsed,
        },
        None => panic!(
            "{what} did not finish within {timeout:?}; killed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
}

fn read_all(file: &mut std::fs::File) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    if let Err(e) = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
    {
        return format!("<could not read captured output: {e}>");
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

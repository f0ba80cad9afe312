//! Run a client program with a hard timeout, capturing its output to files (no pipe can
//! fill up and stall it). The child is killed if the test panics while it runs.

use std::fs::File;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::wait::wait_until;

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

/// The running child and its captured output. On drop the child is killed and reaped, so no
/// client outlives its test; if the test is failing (a timeout, say), its output is printed.
struct Running {
    child: Option<Child>,
    what: String,
    stdout: File,
    stderr: File,
}

impl Running {
    /// The exit status once the child has exited (it is reaped then).
    fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let status = child
            .try_wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.what))?;
        self.child = None;
        Some(status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Err(e) = child.kill() {
                eprintln!("kill {}: {e}", self.what);
            }
            if let Err(e) = child.wait() {
                eprintln!("reap {}: {e}", self.what);
            }
            if thread::panicking() {
                eprintln!(
                    "{} killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.what,
                    read_all(&mut self.stdout),
                    read_all(&mut self.stderr)
                );
            }
        }
    }
}

/// Runs `command` to completion or panics after `timeout` (having killed it).
pub fn run_with_timeout(command: &mut Command, timeout: Duration, what: &str) -> Finished {
    let out = tempfile::tempfile().expect("temp file for client stdout");
    let err = tempfile::tempfile().expect("temp file for client stderr");
    let stdout = out.try_clone().expect("clone stdout file");
    let stderr = err.try_clone().expect("clone stderr file");
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut running = Running {
        child: Some(child),
        what: what.to_string(),
        stdout,
        stderr,
    };
    let status = wait_until(&format!("{what} to finish"), timeout, || running.exited());
    let elapsed = started.elapsed();
    Finished {
        status,
        stdout: read_all(&mut running.stdout),
        stderr: read_all(&mut running.stderr),
        elapsed,
    }
}

fn read_all(file: &mut File) -> String {
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

/// A child process a test started and must not leave behind: `wait` reaps it within a
/// deadline, and dropping the guard (a failed assertion, a timeout) kills it.
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard(Some(child))
    }

    /// Waits up to `timeout` for the child to exit and returns its status.
    pub fn wait(&mut self, timeout: Duration, what: &str) -> ExitStatus {
        let status = wait_until(&format!("{what} to finish"), timeout, || {
            let child = self.0.as_mut().expect("child until reaped");
            child
                .try_wait()
                .unwrap_or_else(|e| panic!("wait for {what}: {e}"))
        });
        self.0 = None;
        status
    }
}

impl ChildGuard {
    /// The child's exit status if it has exited (reaping it), else `None`.
    pub fn try_status(&mut self, what: &str) -> Option<ExitStatus> {
        let child = self.0.as_mut()?;
        let status = child
            .try_wait()
            .unwrap_or_else(|e| panic!("wait for {what}: {e}"))?;
        self.0 = None;
        Some(status)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            // Already exited or reaped: nothing left to stop.
            child.kill().ok();
            child.wait().ok();
        }
    }
}

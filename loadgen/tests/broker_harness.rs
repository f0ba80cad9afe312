//! Starts a real `sluice` broker for loadgen's integration tests and kills it on drop.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Broker {
    child: Child,
    pub addr: String,
    pub data_dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Already exited is fine; the point is that it is gone.
        let _already_exited = self.child.kill();
        let _reaped = self.child.wait();
    }
}

/// The broker binary: built by the same `cargo build`/`nextest run --workspace` as loadgen,
/// so it sits next to the loadgen binary.
pub fn sluice_binary() -> PathBuf {
    let loadgen = Path::new(env!("CARGO_BIN_EXE_sluice-loadgen"));
    let sluice = loadgen.with_file_name("sluice");
    assert!(
        sluice.exists(),
        "{} is missing: build the broker first (`cargo build -p sluice-server`), \
         or run the whole workspace (`cargo nextest run --workspace`)",
        sluice.display()
    );
    sluice
}

fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local addr").port()
}

impl Broker {
    pub fn start() -> Broker {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let port = free_loopback_port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(data_dir.path().join("broker.log")).expect("broker log");
        let log2 = log.try_clone().expect("clone log");
        let child = Command::new(sluice_binary())
            .args(["start", "--listen", &addr, "--cores", "1", "--data-dir"])
            .arg(data_dir.path().join("data"))
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .expect("spawn sluice");
        let mut broker = Broker {
            child,
            addr,
            data_dir,
        };
        broker.wait_until_listening();
        broker
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "sluice exited during startup with {status}:\n{}",
                    self.log()
                );
            }
            if TcpStream::connect(&self.addr).is_ok() {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        panic!(
            "sluice did not listen on {} within {:?}:\n{}",
            self.addr,
            STARTUP_TIMEOUT,
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("broker.log")).unwrap_or_default()
    }
}

/// Runs loadgen with `args`, killing it if it outlives `timeout`.
pub fn loadgen(args: &[&str], timeout: Duration) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sluice-loadgen");
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("poll loadgen").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _already_exited = child.kill();
            let out: Output = child.wait_with_output().expect("collect output");
            panic!(
                "loadgen timed out after {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("collect output");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

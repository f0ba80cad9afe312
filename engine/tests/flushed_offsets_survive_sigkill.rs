//! Durability under a real crash: a child process appends and flushes in a loop, printing each
//! flushed offset; it is killed with SIGKILL at random times (24 rounds). After every kill the
//! log reopens, every offset reported flushed is present, and every surviving batch is intact
//! (contents are a function of the base offset, checked byte for byte).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use sluice_engine::{batch, LogConfig, LogManager};

const ROUNDS: usize = 24;

/// Kills the child when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shape(base_offset: i64) -> (i32, usize) {
    (
        (base_offset % 4) as i32 + 1,
        50 + (base_offset as usize * 37) % 3000,
    )
}

/// Runs one child until killed after `run_for`; returns the largest flushed offset it printed.
fn run_child_and_kill(dir: &std::path::Path, seed: u64, run_for: Duration) -> i64 {
    let child = Command::new(env!("CARGO_BIN_EXE_engine-crash-child"))
        .arg(dir)
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let mut guard = ChildGuard(child);
    let stdout = guard.0.stdout.take().expect("stdout");
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut flushed = -1;
    let ready_deadline = Instant::now() + Duration::from_secs(20);
    let mut ready_at = None;
    loop {
        let now = Instant::now();
        let deadline = match ready_at {
            Some(at) => at + run_for,
            None => ready_deadline,
        };
        if now >= deadline {
            assert!(ready_at.is_some(), "child never became ready");
            break;
        }
        match receiver.recv_timeout(deadline - now) {
            Ok(line) if line.starts_with("READY") => ready_at = Some(Instant::now()),
            Ok(line) => {
                if let Some(offset) = line.strip_prefix("FLUSHED ") {
                    flushed = flushed.max(offset.trim().parse::<i64>().expect("offset"));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("child exited on its own"),
        }
    }
    guard.0.kill().expect("SIGKILL");
    guard.0.wait().expect("wait");
    // Lines already printed before the kill count as reported.
    reader.join().expect("reader thread");
    while let Ok(line) = receiver.try_recv() {
        if let Some(offset) = line.strip_prefix("FLUSHED ") {
            flushed = flushed.max(offset.trim().parse::<i64>().expect("offset"));
        }
    }
    flushed
}

#[test]
fn every_reported_flushed_offset_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Xorshift(0x5eed);
    let mut flushed_max = 0i64;
    for round in 0..ROUNDS {
        let run_for = Duration::from_millis(20 + rng.below(150));
        let flushed = run_child_and_kill(dir.path(), rng.next(), run_for);
        flushed_max = flushed_max.max(flushed);
        let path = dir.path().to_path_buf();
        let (end, batches) = run(move || async move {
            let manager = LogManager::new(shard_config(&path));
            let config = LogConfig {
                segment_bytes: 64 * 1024,
                index_interval_bytes: 1024,
                ..LogConfig::default()
            };
            let log = manager
                .open_log("k", 0, config)
                .await
                .expect("reopen after SIGKILL");
            let batches = read_all(&log).await;
            let end = log.log_end_offset();
            drop(log);
            drop(manager); // no close: leave the files as the crash left them (after recovery)
            (end, batches)
        });
        assert!(
            end >= flushed_max,
            "round {round}: log end {end} < reported flushed {flushed_max}"
        );
        let mut expected_base = 0;
        for (base, bytes) in &batches {
            assert_eq!(*base, expected_base, "round {round}: gap or overlap");
            let (records, value_len) = shape(*base);
            let value: Vec<u8> = (0..value_len)
                .map(|i| (*base as usize * 31 + i * 7) as u8)
                .collect();
            let mut want = batch::build_batch(0, *base, records, &value).to_vec();
            batch::set_base_offset(&mut want, *base);
            assert_eq!(
                payload(bytes),
                payload(&want),
                "round {round}: batch {base} corrupted"
            );
            expected_base = base + records as i64;
        }
        assert_eq!(expected_base, end);
        eprintln!(
            "round {round}: flushed {flushed_max}, log end {end}, {} batches",
            batches.len()
        );
    }
    assert!(flushed_max > 0, "the child never reported a flush");
}

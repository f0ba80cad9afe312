//! Through the storage seam: the process dies at every mutating step of a cleaner pass (the
//! `.cleaned` writes and sync, the commit rename, each removal, the final rename, the syncs,
//! index files, the checkpoint), the power is cut (only what was synced survives), and the log
//! reopens with every key's latest value at its offset and nothing that was not written.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use common::crash_storage::{CrashPoint, CrashingStorage};
use common::keyed::*;
use common::*;
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::storage::{MemStorage, Storage};
use sluice_engine::{CompactionConfig, LogConfig, LogManager};

/// More steps than a pass over this log takes; the loop ends when a pass completes.
const CRASH_POINTS_MAX: u64 = 400;
/// Passes the reopened log needs at most (dirty section, then the due tombstone).
const PASSES_AFTER_REOPEN_MAX: usize = 3;

fn config() -> LogConfig {
    let compaction = CompactionConfig {
        delete_retention_ms: 0,
        ..CompactionConfig::default()
    };
    LogConfig {
        segment_ms: 1,
        ..compacted_log_config(16 * 1024, compaction)
    }
}

/// Writes the log (flushed), returns what was written.
async fn write_log(mem: &Rc<MemStorage>, data_dir: &Path) -> Vec<(i64, Put)> {
    let storage: Rc<dyn Storage> = mem.clone();
    let manager = LogManager::with_storage(shard_config(data_dir), storage);
    let log = manager.open_log("s", 0, config()).await.expect("open");
    let mut history = Vec::new();
    for round in 0..6i64 {
        for chunk in 0..4 {
            let mut puts: Vec<Put> = (chunk * 4..chunk * 4 + 4)
                .map(|key| put(&format!("k{key}"), &format!("{round}")))
                .collect();
            if round == 3 && chunk == 1 {
                puts.push(tombstone("k0"));
            }
            // One append per millisecond: segment.ms = 1 rolls every batch.
            append_keyed(
                &log,
                &mut history,
                &puts,
                (chunk % 5) as i16,
                round * 10 + chunk as i64,
            )
            .await;
        }
    }
    append_keyed(&log, &mut history, &[put("tail", "x")], 0, 100).await;
    manager.close_all().await.expect("close");
    history
}

fn check(served: &[Served], history: &[(i64, Put)]) {
    let written: BTreeMap<i64, &Put> = history.iter().map(|(o, p)| (*o, p)).collect();
    for record in served {
        let put = written
            .get(&record.offset)
            .expect("served offsets were written");
        assert_eq!(record.key, put.key);
        assert_eq!(record.value, put.value);
    }
    for (key, (offset, value)) in latest_per_key(history) {
        let found = served.iter().rev().find(|r| r.key.as_ref() == Some(&key));
        match (found, &value) {
            (Some(found), _) => assert_eq!((found.offset, &found.value), (offset, &value)),
            (None, None) => {} // a tombstone past its horizon, with every value before it
            (None, Some(_)) => panic!("key {key:?} lost its latest value"),
        }
    }
}

#[test]
fn a_crash_at_every_step_of_a_pass_reopens_with_every_latest_value() {
    let data_dir = Path::new("/data");
    run(move || async move {
        let mut completed = false;
        for operations_allowed in 0..CRASH_POINTS_MAX {
            let mem = Rc::new(MemStorage::new());
            let history = write_log(&mem, data_dir).await;
            let point = Rc::new(CrashPoint::default());
            let storage: Rc<dyn Storage> = Rc::new(CrashingStorage {
                inner: mem.clone(),
                point: point.clone(),
            });
            let manager = LogManager::with_storage(shard_config(data_dir), storage);
            let log = manager.open_log("s", 0, config()).await.expect("open");
            point.arm(operations_allowed);
            let cleaner = Cleaner::new(CleanerConfig::default());
            let result = cleaner.clean(&log, 10_000, i64::MAX).await;
            assert_eq!(
                result.is_err(),
                point.crashed.get(),
                "errors only from the crash"
            );
            if !point.crashed.get() {
                result.expect("clean").expect("dirty");
                check(&served_records(&log).await, &history);
                completed = true;
            }
            drop(log);
            drop(manager);
            mem.crash();
            let reopened = LogManager::with_storage(shard_config(data_dir), mem.clone());
            let log = reopened.open_log("s", 0, config()).await.expect("reopen");
            check(&served_records(&log).await, &history);
            let leftovers: Vec<_> = mem
                .file_paths()
                .into_iter()
                .filter(|p| {
                    let name = p.to_string_lossy();
                    name.ends_with(".cleaned") || name.ends_with(".swap")
                })
                .collect();
            assert!(leftovers.is_empty(), "recovery resolved {leftovers:?}");
            // The reopened log cleans to the end.
            let cleaner = Cleaner::new(CleanerConfig::default());
            let mut passes = 0;
            while cleaner
                .clean(&log, 20_000, i64::MAX)
                .await
                .expect("clean")
                .is_some()
            {
                passes += 1;
                assert!(passes <= PASSES_AFTER_REOPEN_MAX, "cleaning converges");
            }
            check(&served_records(&log).await, &history);
            reopened.close_all().await.expect("close");
            if completed {
                assert!(operations_allowed > 10, "the pass took many steps");
                return;
            }
        }
        panic!("no pass completed within {CRASH_POINTS_MAX} steps");
    });
}

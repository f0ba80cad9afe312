//! A pass never swaps in segments the log no longer has: when a truncation (a follower taking
//! a new leader's log) or DeleteRecords lands while the cleaner is still syncing its
//! `.cleaned` file, the swap is abandoned. The `.cleaned` file goes, the log serves exactly
//! what the change left, and the next pass cleans it.

mod common;

use std::time::Duration;

use common::gated_storage::{gated_manager, SyncGate};
use common::keyed::*;
use common::*;
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{CompactionConfig, PartitionLog};

const KEYS: usize = 30;
const ROUNDS: usize = 12;
/// How long the test waits for the cleaner to reach its held fdatasync.
const HELD_WAIT: Duration = Duration::from_secs(20);
const NOW_MS: i64 = 100_000;

/// A record as compared here: offset, key, value.
type OffsetKeyValue = (i64, Option<Vec<u8>>, Option<Vec<u8>>);

/// The change made while the pass is held.
#[derive(Clone, Copy)]
enum Change {
    Truncate,
    DeleteRecords,
}

#[test]
fn a_truncation_during_a_pass_abandons_its_swap() {
    abandons_the_swap(Change::Truncate);
}

#[test]
fn delete_records_during_a_pass_abandons_its_swap() {
    abandons_the_swap(Change::DeleteRecords);
}

/// Waits (woken by the gate, bounded by HELD_WAIT) for the cleaner's held fdatasync.
async fn wait_until_held(gate: &SyncGate) {
    let held = glommio::timer::timeout(HELD_WAIT, async {
        gate.until_held().await;
        Ok(())
    })
    .await;
    assert!(
        held.is_ok(),
        "the cleaner never reached the held fdatasync of its .cleaned file"
    );
}

/// Writes ROUNDS values of every key across several segments; returns (offset, put) history
/// and the base offset of every batch.
async fn write_log(log: &PartitionLog) -> (Vec<(i64, Put)>, Vec<i64>) {
    let mut history = Vec::new();
    let mut bases = Vec::new();
    let value = "v".repeat(200);
    for round in 0..ROUNDS {
        for chunk in 0..KEYS / 5 {
            let puts: Vec<Put> = (chunk * 5..chunk * 5 + 5)
                .map(|key| put(&format!("k{key}"), &format!("{round}-{value}")))
                .collect();
            bases.push(log.log_end_offset());
            append_keyed(log, &mut history, &puts, 0, 1000 + round as i64).await;
        }
    }
    log.flush().await.expect("flush");
    (history, bases)
}

fn abandons_the_swap(change: Change) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let (manager, gate) = gated_manager(&path);
        let config = compacted_log_config(8 * 1024, CompactionConfig::default());
        let log = manager.open_log("a", 0, config).await.expect("open");
        let (history, bases) = write_log(&log).await;
        assert!(log.segment_count() > 4, "the log spans segments");
        let partition_dir = log.dir().to_path_buf();

        gate.hold_next();
        let cleaner = Cleaner::new(CleanerConfig::default());
        let pass = glommio::spawn_local({
            let (cleaner, log) = (cleaner.clone(), log.clone());
            async move { cleaner.clean(&log, NOW_MS, i64::MAX).await }
        });
        wait_until_held(&gate).await;
        assert_eq!(
            files_with_suffix(&partition_dir, ".cleaned").len(),
            1,
            "the held sync is the pass's .cleaned file"
        );

        // A batch boundary a third into the log: inside the first group the pass cleans.
        let cut = bases[bases.len() / 3];
        match change {
            Change::Truncate => log.truncate_to(cut).await.expect("truncate"),
            Change::DeleteRecords => log.delete_records_before(cut).await.expect("delete"),
        }
        let (low, high) = match change {
            Change::Truncate => (i64::MIN, cut),
            Change::DeleteRecords => (cut, i64::MAX),
        };
        let left: Vec<(i64, Put)> = history
            .into_iter()
            .filter(|(offset, _)| (low..high).contains(offset))
            .collect();
        gate.release();

        let outcome = pass
            .await
            .expect("the pass completes")
            .expect("the log was dirty");
        assert_eq!(
            outcome.segments_swapped, 0,
            "nothing swapped in: {outcome:?}"
        );
        assert!(
            outcome.groups_skipped >= 1,
            "the group was abandoned: {outcome:?}"
        );
        assert!(files_with_suffix(&partition_dir, ".cleaned").is_empty());
        assert!(files_with_suffix(&partition_dir, ".swap").is_empty());
        let served = served_records(&log).await;
        let expected: Vec<OffsetKeyValue> = left
            .iter()
            .map(|(offset, put)| (*offset, put.key.clone(), put.value.clone()))
            .collect();
        let got: Vec<OffsetKeyValue> = served
            .iter()
            .map(|s| (s.offset, s.key.clone(), s.value.clone()))
            .collect();
        assert_eq!(got, expected, "the log serves exactly what the change left");

        // The next pass (nothing held) cleans what is left; every key keeps its latest value.
        let outcome = cleaner
            .clean(&log, NOW_MS, i64::MAX)
            .await
            .expect("clean")
            .expect("still dirty");
        assert!(outcome.segments_swapped >= 1, "{outcome:?}");
        assert!(outcome.records_removed > 0, "{outcome:?}");
        let served = served_records(&log).await;
        assert!(served.len() < left.len());
        for (key, (offset, value)) in latest_per_key(&left) {
            let last = served
                .iter()
                .rev()
                .find(|s| s.key.as_deref() == Some(key.as_slice()))
                .expect("every key keeps a record");
            assert_eq!((last.offset, &last.value), (offset, &value));
        }
        drop(log);
        manager.close_all().await.expect("close");
    });
}

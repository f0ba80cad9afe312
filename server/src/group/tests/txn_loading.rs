//! Replaying transactional offsets: records of a transactional batch stay pending until their
//! producer's marker in the same partition, an aborted transaction never shows, one without a
//! marker stays open.

use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};
use kafka_protocol::ResponseError;
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};

use super::harness::*;
use crate::group::coordinator::GroupCoordinator;
use crate::group::offsets::FetchedOffset;
use crate::group::runtime::GroupRuntime;
use crate::partition::Partition;

const ALL: &[i32] = &[0, 1, 2, 3];

fn rows(coord: &GroupCoordinator, group: &str, require_stable: bool) -> Vec<FetchedOffset> {
    let topics = vec![("t".to_string(), ALL.to_vec())];
    coord
        .fetch_offsets(group, Some(&topics), require_stable)
        .expect("fetch")
}

fn offsets(coord: &GroupCoordinator, group: &str) -> Vec<i64> {
    rows(coord, group, false).iter().map(|r| r.offset).collect()
}

/// Both see the same committed offsets, the same unstable partitions and open producers.
fn assert_same_state(live: &GroupCoordinator, reloaded: &GroupCoordinator, groups: &[&str]) {
    for group in groups {
        assert_eq!(
            rows(live, group, true),
            rows(reloaded, group, true),
            "{group}"
        );
        assert_eq!(
            rows(live, group, false),
            rows(reloaded, group, false),
            "{group}"
        );
    }
    for p in 0..config().offsets_partitions {
        assert_eq!(live.open_txn_producers(p), reloaded.open_txn_producers(p));
    }
}

/// A log with a committed, an aborted and an open transaction, plus plain commits around them.
fn mixed_history(h: &mut Harness) -> i32 {
    let p = h.coord.partition_of("g");
    h.commit("g", "", -1, &[("t", 0, 1), ("t", 1, 1)]);
    h.txn_commit("g", "", -1, 7, &[("t", 0, 10)]);
    h.txn_commit("g", "", -1, 8, &[("t", 1, 20), ("t", 2, 20)]);
    h.txn_commit("g", "", -1, 9, &[("t", 3, 30)]);
    h.commit("g", "", -1, &[("t", 1, 2)]);
    h.end_txn(p, 7, true);
    h.end_txn(p, 8, true);
    h.txn_commit("g", "", -1, 8, &[("t", 2, 21)]);
    h.end_txn(p, 8, false);
    p
}

#[test]
fn replay_ends_transactions_at_their_markers_and_keeps_open_ones_pending() {
    let mut h = Harness::new();
    let p = mixed_history(&mut h);
    // t-0: committed by 7; t-1: the plain commit of 2 came after 8's record; t-2: 8's first
    // transaction committed 20, its second was aborted; t-3: 9 is still open.
    assert_eq!(offsets(&h.coord, "g"), vec![10, 2, 20, -1]);
    let reloaded = h.reload(h.now_ms);
    assert_same_state(&h.coord, &reloaded, &["g"]);
    assert_eq!(reloaded.open_txn_producers(p), vec![9]);
    assert_eq!(
        rows(&reloaded, "g", true)[3].error,
        Some(ResponseError::UnstableOffsetCommit)
    );

    // The open transaction commits after the reload exactly as it would have live.
    let mut reloaded = reloaded;
    h.end_txn(p, 9, true);
    reloaded.complete_txn(p, 9, true).expect("served here");
    assert_same_state(&h.coord, &reloaded, &["g"]);
    assert_eq!(offsets(&reloaded, "g"), vec![10, 2, 20, 30]);
}

#[test]
fn an_aborted_transaction_never_shows_after_replay() {
    let mut h = Harness::new();
    let p = h.coord.partition_of("g");
    h.txn_commit("g", "", -1, 5, &[("t", 0, 99)]);
    h.end_txn(p, 5, false);
    let reloaded = h.reload(h.now_ms);
    assert_eq!(offsets(&reloaded, "g"), vec![-1, -1, -1, -1]);
    assert!(reloaded.open_txn_producers(p).is_empty());
    assert!(
        reloaded.find_group("g").is_none(),
        "a group with nothing but an aborted offset is gone"
    );
}

/// Runs `make`'s future on a fresh glommio executor, with a deadline.
fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let (done, finished) = std::sync::mpsc::channel();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("txn-replay-test")
        .io_memory(2 << 20)
        .spawn(move || async move {
            make().await;
            done.send(()).expect("the test thread waits");
        })
        .expect("spawn executor");
    finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the test finished in time");
    handle.join().expect("executor thread");
}

#[test]
fn the_loader_replays_transactional_batches_and_markers_from_a_real_log() {
    let mut h = Harness::new();
    let p = mixed_history(&mut h);
    let batches = h.partition_batches(p);
    let expected_end = h.next_offset(p);
    let live = offsets(&h.coord, "g");
    let live_stable = rows(&h.coord, "g", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = LogManager::new(ShardEngineConfig {
            data_dir: path,
            batch_cache_bytes_max: 1 << 20,
            write_buffer_pool_bytes_max: 4 << 20,
        });
        let log = logs
            .open_log("__consumer_offsets", p, LogConfig::default())
            .await
            .expect("open log");
        // Straight into the engine: the coordinator's and the markers' batches as written.
        let info = log.append(&batches, 0).await.expect("append");
        assert_eq!(info.last_offset + 1, expected_end);
        log.flush().await.expect("flush");
        let partition = Partition::new(log);
        let rt = GroupRuntime::new(0, config());
        rt.coord().begin_load(p);
        let replayed = crate::group::loader::replay(&rt, p, &partition)
            .await
            .expect("replay");
        assert_eq!(replayed, expected_end as u64, "every record and marker");
        rt.coord().finish_load(p, 0);
        let coord = rt.coord();
        assert_eq!(offsets(&coord, "g"), live);
        assert_eq!(rows(&coord, "g", true), live_stable);
        assert_eq!(coord.open_txn_producers(p), vec![9]);
    });
}

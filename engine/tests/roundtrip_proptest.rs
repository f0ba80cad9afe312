//! Property: any sequence of valid batches appended (with flushes and segment rolls in between)
//! reads back byte-exact from every offset, before and after a clean reopen.

mod common;

use common::*;
use proptest::prelude::*;
use sluice_engine::{batch, LogManager};

#[derive(Debug, Clone)]
struct Step {
    records: i32,
    value_len: usize,
    flush_after: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (1i32..8, 0usize..3000, prop::bool::weighted(0.2)).prop_map(
        |(records, value_len, flush_after)| Step {
            records,
            value_len,
            flush_after,
        },
    )
}

/// Checks that a read at every offset starts with the batch containing it and is byte-exact.
async fn check_every_offset(log: &sluice_engine::PartitionLog, expected: &[(i64, i64, Vec<u8>)]) {
    for (i, (base, last, _)) in expected.iter().enumerate() {
        for offset in *base..=*last {
            let result = log.read(offset, 2048, i64::MAX).await.expect("read");
            let got = split_batches(&read_bytes(&result).await);
            assert!(!got.is_empty(), "offset {offset}: empty read");
            for (j, (got_base, got_bytes)) in got.iter().enumerate() {
                let (want_base, _, want_bytes) = &expected[i + j];
                assert_eq!(got_base, want_base);
                assert_eq!(
                    got_bytes, want_bytes,
                    "offset {offset}: batch {want_base} differs"
                );
            }
        }
    }
}

fn round_trip(steps: Vec<Step>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let config = log_config(16 * 1024);
        let log = manager
            .open_log("p", 3, config.clone())
            .await
            .expect("open");
        let mut expected = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let sent = batch_of(step.records, step.value_len, i as u64, 10_000 + i as i64);
            let info = log
                .append(std::slice::from_ref(&sent), 0)
                .await
                .expect("append");
            let mut stored = sent.to_vec();
            batch::set_base_offset(&mut stored, info.base_offset);
            batch::set_partition_leader_epoch(&mut stored, 0);
            expected.push((info.base_offset, info.last_offset, stored));
            if step.flush_after {
                log.flush().await.expect("flush");
            }
        }
        check_every_offset(&log, &expected).await;
        manager.close_all().await.expect("close");
        drop(log);
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("p", 3, config).await.expect("reopen");
        check_every_offset(&log, &expected).await;
        manager.close_all().await.expect("close");
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_read_back_byte_exact_at_every_offset(steps in prop::collection::vec(step(), 1..45)) {
        round_trip(steps);
    }
}

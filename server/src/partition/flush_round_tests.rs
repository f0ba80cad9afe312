//! The shard's flush rounds over real logs: many waiters on many partitions share one round,
//! and every batch appended before a waiter joined is durable when its round returns.

use std::rc::Rc;

use sluice_engine::batch::build_batch;
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};

use super::registry::Partitions;
use super::AppendOrigin;

const PARTITIONS: i32 = 16;

#[test]
fn concurrent_waiters_on_many_partitions_share_one_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_path_buf();
    super::test_support::run("flush-round-test", move || async move {
        let logs = LogManager::new(ShardEngineConfig {
            data_dir,
            batch_cache_bytes_max: 1 << 20,
            write_buffer_pool_bytes_max: 4 << 20,
        });
        let partitions = Rc::new(Partitions::new(logs));
        for index in 0..PARTITIONS {
            let partition = partitions
                .open("t", index, LogConfig::default())
                .await
                .expect("open partition");
            let batch = build_batch(0, 1_000, 1, &[index as u8; 100]);
            let origin = AppendOrigin::Client { verification: None };
            partition
                .append(&[batch], origin, 1_000)
                .await
                .expect("append");
            assert!(partition.has_unflushed_data());
        }
        // One waiter per partition, as sixteen acks=all requests arriving together would.
        let waiters: Vec<_> = (0..PARTITIONS)
            .map(|_| {
                let partitions = partitions.clone();
                glommio::spawn_local(async move { partitions.flush_round().await })
            })
            .collect();
        for waiter in waiters {
            waiter.await.expect("the round flushed");
        }
        for partition in partitions.all() {
            assert!(!partition.has_unflushed_data());
            assert_eq!(partition.flushed_offset(), partition.log_end_offset());
        }
        // One round each would be sixteen; the driver may start round 1 before the last
        // waiters joined, and those share round 2.
        let rounds = partitions.flush_rounds_run();
        assert!(rounds <= 2, "{rounds} rounds for {PARTITIONS} waiters");
        // Nothing dirty: a round still runs (a waiter cannot know) and returns at once.
        partitions.flush_round().await.expect("an empty round");
        assert_eq!(partitions.flush_rounds_run(), rounds + 1);
    });
}

//! LogAppendTime topics: batches get the broker's append time as max timestamp (with the
//! timestamp-type attribute and a recomputed CRC); ListOffsets-style lookups use it.

mod common;

use common::*;
use sluice_engine::{batch, LogConfig, LogManager, TimestampType};

#[test]
fn log_append_time_rewrites_timestamps_and_keeps_batches_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = LogConfig {
            timestamp_type: TimestampType::LogAppendTime,
            ..log_config(1 << 20)
        };
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("lat", 0, config).await.expect("open");
        let first = log
            .append(&[batch_of(2, 10, 1, 5)], 70_000)
            .await
            .expect("append");
        assert_eq!(first.log_append_time_ms, 70_000);
        let second = log
            .append(&[batch_of(2, 10, 2, 6)], 80_000)
            .await
            .expect("append");
        let stored = read_all(&log).await;
        for (_, bytes) in &stored {
            let header =
                batch::validate(bytes, batch::CountRule::Producer).expect("valid after rewrite");
            assert_ne!(header.attributes & batch::ATTRIBUTE_LOG_APPEND_TIME, 0);
        }
        assert_eq!(
            log.max_timestamp_and_offset(),
            Some((80_000, second.base_offset))
        );
        assert_eq!(
            log.offset_for_timestamp(75_000).await.expect("lookup"),
            Some((second.base_offset, 80_000))
        );
        assert_eq!(
            log.offset_for_timestamp(0).await.expect("lookup"),
            Some((first.base_offset, 70_000))
        );
        manager.close_all().await.expect("close");
    });
}

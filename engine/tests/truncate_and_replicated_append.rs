//! Follower path: `append_replicated` keeps leader-assigned offsets and epochs and refuses
//! non-contiguous batches; the leader-epoch checkpoint records epoch starts; `truncate_to`
//! removes the tail (across segments), drops later epochs, and the log continues from there,
//! also after a reopen.

mod common;

use common::*;
use sluice_engine::{batch, AppendError, LogManager};

fn leader_batch(base: i64, records: i32, epoch: i32) -> bytes::Bytes {
    let mut data = batch_of(records, 300, base as u64, base).to_vec();
    batch::set_base_offset(&mut data, base);
    batch::set_partition_leader_epoch(&mut data, epoch);
    bytes::Bytes::from(data)
}

#[test]
fn replicated_appends_keep_offsets_and_epochs_and_truncation_rewinds_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("f", 0, config.clone())
            .await
            .expect("open");
        let mut sent = Vec::new();
        let mut base = 0i64;
        for i in 0..120 {
            let epoch = if i < 40 {
                1
            } else if i < 80 {
                3
            } else {
                4
            };
            let records = (i % 3) + 1;
            let data = leader_batch(base, records, epoch);
            let info = log
                .append_replicated(std::slice::from_ref(&data))
                .await
                .expect("replicated append");
            assert_eq!(info.base_offset, base);
            sent.push((base, data.to_vec()));
            base += records as i64;
        }
        let epochs = log.leader_epochs().entries;
        assert_eq!(epochs.len(), 3);
        assert_eq!(epochs[0], (1, 0));
        assert_eq!(epochs[1].0, 3);
        assert_eq!(epochs[2].0, 4);
        let gap = leader_batch(base + 5, 1, 4);
        match log.append_replicated(&[gap]).await {
            Err(AppendError::NonContiguous { expected, got }) => {
                assert_eq!(expected, base);
                assert_eq!(got, base + 5);
            }
            other => panic!("expected NonContiguous, got {other:?}"),
        }
        assert_eq!(read_all(&log).await, sent);

        // Truncate into the middle of epoch 3 (a batch boundary), crossing segments.
        let cut = sent[60].0;
        let segments_before = log.segment_count();
        log.truncate_to(cut).await.expect("truncate");
        assert_eq!(log.log_end_offset(), cut);
        assert!(log.segment_count() < segments_before);
        assert_eq!(read_all(&log).await, sent[..60].to_vec());
        let epochs = log.leader_epochs().entries;
        assert_eq!(
            epochs.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
            vec![1, 3]
        );
        // Truncating inside a batch removes the whole batch.
        let inside = sent[59].0 + 1;
        let last_records = sent[59].1.len();
        assert!(last_records > 0);
        if batch::parse_header(&sent[59].1)
            .expect("header")
            .last_offset_delta
            > 0
        {
            log.truncate_to(inside)
                .await
                .expect("truncate inside a batch");
            assert_eq!(log.log_end_offset(), sent[59].0);
            sent.truncate(59);
        } else {
            sent.truncate(60);
        }
        // The log continues (leader appends) from the new end.
        log.set_leader_epoch(5);
        let more = fill(&log, 10, 200).await;
        let mut expected: Vec<_> = sent.clone();
        for (base, mut bytes) in more {
            batch::set_partition_leader_epoch(&mut bytes, 5);
            expected.push((base, bytes));
        }
        assert_eq!(read_all(&log).await, expected);
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("f", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        let epochs = log.leader_epochs();
        assert_eq!(epochs.latest_epoch(), Some(5));
        assert_eq!(
            epochs
                .end_offset_for(3, log.log_end_offset())
                .map(|(e, _)| e),
            Some(3)
        );
        // Truncating to (or below) the log start empties the log and restarts it there.
        log.truncate_to(0).await.expect("truncate all");
        assert_eq!(log.log_end_offset(), 0);
        assert!(read_all(&log).await.is_empty());
        manager.close_all().await.expect("close");
    });
}

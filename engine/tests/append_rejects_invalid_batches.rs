//! Invalid batches get typed errors and leave the log unchanged (all-or-nothing per call):
//! bad CRC, wrong magic, length mismatch, inconsistent counts, too large, empty call.

mod common;

use bytes::Bytes;
use common::*;
use sluice_engine::{batch, AppendError, LogConfig, LogManager};

fn mutate(good: &Bytes, f: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut data = good.to_vec();
    f(&mut data);
    Bytes::from(data)
}

#[test]
fn invalid_batches_are_refused_with_typed_errors_and_nothing_is_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = LogConfig {
            max_message_bytes: 4096,
            ..log_config(1 << 20)
        };
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("v", 0, config).await.expect("open");
        let good = batch_of(3, 100, 1, 1000);
        let before = fill(&log, 2, 50).await;
        let end = log.log_end_offset();

        let bad_crc = mutate(&good, |d| {
            let last = d.len() - 1;
            d[last] ^= 0xff;
        });
        let bad_magic = mutate(&good, |d| d[batch::MAGIC_AT] = 1);
        let bad_length = mutate(&good, |d| d.truncate(d.len() - 1));
        let bad_count = mutate(&good, |d| {
            d[batch::RECORDS_COUNT_AT..batch::RECORDS_COUNT_AT + 4]
                .copy_from_slice(&7i32.to_be_bytes());
            let crc = batch::compute_crc(d);
            d[batch::CRC_AT..batch::CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        });
        let too_large = batch_of(1, 5000, 2, 1000);
        let short = Bytes::from_static(b"short");

        let cases: Vec<(&str, Vec<Bytes>)> = vec![
            ("crc", vec![good.clone(), bad_crc]),
            ("magic", vec![bad_magic]),
            ("length", vec![bad_length]),
            ("count", vec![bad_count]),
            ("too large", vec![too_large]),
            ("short", vec![short]),
            ("empty", vec![]),
        ];
        for (name, batches) in cases {
            let err = log.append(&batches, 0).await.expect_err(name);
            let ok = match name {
                "crc" => matches!(err, AppendError::Corrupt { batch_index: 1, .. }),
                "too large" => matches!(err, AppendError::TooLarge { .. }),
                _ => matches!(err, AppendError::InvalidBatch { .. }),
            };
            assert!(ok, "{name}: {err:?}");
            assert_eq!(log.log_end_offset(), end, "{name}: nothing appended");
        }
        assert_eq!(read_all(&log).await, before);
        let info = log
            .append(&[good], 0)
            .await
            .expect("valid batch still accepted");
        assert_eq!(info.base_offset, end);
        manager.close_all().await.expect("close");
    });
}

//! Kafka's LogCleanerTest, on real files: after a pass, the sealed segments hold only the
//! latest record of each key, at its original offset, with its timestamp and its batch's codec
//! and producer fields; batches that lose nothing are copied byte for byte; a producer's last
//! batch survives empty; the cleaned log reopens the same.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::keyed::*;
use common::*;
use sluice_engine::batch::{self, CountRule};
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{CleanupPolicy, CompactionConfig, LogConfig, LogManager};

const KEYS: usize = 40;
const CODECS: [i16; 5] = [0, 1, 2, 3, 4];

pub fn compacted_config() -> LogConfig {
    LogConfig {
        cleanup_policy: CleanupPolicy {
            delete: false,
            compact: Some(CompactionConfig::default()),
        },
        ..log_config(16 * 1024)
    }
}

/// 80 hex digits from an LCG seeded by key and round: values that barely compress, so the
/// log spans several segments.
fn value_of(key: usize, round: usize) -> String {
    let mut state = (key as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ round as u64;
    (0..5)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            format!("{state:016x}")
        })
        .collect()
}

#[test]
fn only_the_latest_record_per_key_stays_at_its_original_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("c", 0, compacted_config())
            .await
            .expect("open");
        let mut history: Vec<(i64, Put)> = Vec::new();
        let mut codec_at: HashMap<i64, i16> = HashMap::new();
        let mut stamp_at: HashMap<i64, i64> = HashMap::new();
        // Producers 7 and 8 write early batches that later batches supersede entirely.
        let producer_batches = [(7i64, 0i32, "p7"), (8, 0, "p8a"), (8, 3, "p8b")];
        let mut producer_bases = Vec::new();
        for (id, base_sequence, prefix) in producer_batches {
            let puts: Vec<Put> = (0..3)
                .map(|i| put(&format!("{prefix}-{i}"), "old"))
                .collect();
            let producer = Producer {
                id,
                epoch: 2,
                base_sequence,
            };
            let bytes = keyed_batch(&puts, 0, 500, producer);
            let info = log.append(&[bytes], 500).await.expect("append");
            producer_bases.push((id, base_sequence, info.base_offset));
            for (i, p) in puts.into_iter().enumerate() {
                history.push((info.base_offset + i as i64, p));
            }
            codec_at.insert(info.base_offset, 0);
        }
        let overwrite: Vec<Put> = producer_batches
            .iter()
            .flat_map(|(_, _, prefix)| (0..3).map(move |i| put(&format!("{prefix}-{i}"), "new")))
            .collect();
        codec_at.insert(log.log_end_offset(), 0);
        append_keyed(&log, &mut history, &overwrite, 0, 600).await;
        for round in 0..20 {
            for chunk in 0..(KEYS / 5) {
                let puts: Vec<Put> = (chunk * 5..chunk * 5 + 5)
                    .map(|key| put(&format!("k{key}"), &value_of(key, round)))
                    .collect();
                let codec_id = CODECS[(round + chunk) % CODECS.len()];
                let ts = 1000 * (round as i64 + 1) + chunk as i64 * 10;
                codec_at.insert(log.log_end_offset(), codec_id);
                for i in 0..puts.len() as i64 {
                    stamp_at.insert(log.log_end_offset() + i, ts + i);
                }
                append_keyed(&log, &mut history, &puts, codec_id, ts).await;
            }
        }
        assert!(log.segment_count() > 4, "the log spans segments");
        let before = batches_served(&log).await;
        let size_before = log.size_bytes();
        let segments_before = log.segment_count();

        let cleaner = Cleaner::new(CleanerConfig::default());
        let outcome = cleaner
            .clean(&log, 10_000, i64::MAX)
            .await
            .expect("clean")
            .expect("the log was dirty");
        assert!(outcome.records_removed > 0);
        assert!(outcome.bytes_written > 0 && outcome.bytes_written < outcome.bytes_read);
        assert!(log.size_bytes() < size_before, "cleaning shrank the log");
        assert!(
            log.segment_count() < segments_before,
            "small cleaned segments merged"
        );

        let stats = log.cleanable_stats(10_000, i64::MAX).expect("compacted");
        assert_eq!(stats.dirty_bytes, 0, "everything sealed was cleaned");
        check_cleaned(
            &log,
            &history,
            &codec_at,
            &stamp_at,
            stats.first_dirty_offset,
        )
        .await;
        check_verbatim_copies(
            &before,
            &batches_served(&log).await,
            stats.first_dirty_offset,
        );
        check_producer_batches(&log, &producer_bases).await;

        let served = served_records(&log).await;
        manager.close_all().await.expect("close");
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("c", 0, compacted_config())
            .await
            .expect("reopen");
        assert_eq!(
            served_records(&log).await,
            served,
            "the cleaned log reopens the same"
        );
        let again = cleaner
            .clean(&log, 10_000, i64::MAX)
            .await
            .expect("clean again");
        assert!(
            again.is_none(),
            "the checkpoint survived: nothing is dirty after reopen"
        );
        manager.close_all().await.expect("close");
    });
}

async fn check_cleaned(
    log: &sluice_engine::PartitionLog,
    history: &[(i64, Put)],
    codec_at: &HashMap<i64, i16>,
    stamp_at: &HashMap<i64, i64>,
    cleaned_end: i64,
) {
    let latest = latest_per_key(history);
    let cleaned: Vec<(i64, Put)> = history
        .iter()
        .filter(|(offset, _)| *offset < cleaned_end)
        .cloned()
        .collect();
    let latest_cleaned = latest_per_key(&cleaned);
    let written: BTreeMap<i64, &Put> = history.iter().map(|(o, p)| (*o, p)).collect();
    let served = served_records(log).await;
    let mut seen: BTreeMap<Key, i64> = BTreeMap::new();
    for record in &served {
        let original = written[&record.offset];
        assert_eq!(
            record.key, original.key,
            "offset {} keeps its record",
            record.offset
        );
        assert_eq!(record.value, original.value);
        assert_eq!(
            codec_at.get(&record.batch_base),
            Some(&record.codec),
            "codec kept"
        );
        let key = record.key.clone().expect("keyed");
        if record.offset < cleaned_end {
            let latest_below = latest_cleaned[&key].0;
            assert_eq!(
                latest_below, record.offset,
                "below the cleaned end only the latest"
            );
        }
        seen.insert(key, record.offset);
    }
    for (key, (offset, _)) in &latest {
        assert_eq!(
            seen.get(key),
            Some(offset),
            "key {key:?} has its latest record"
        );
    }
    for record in &served {
        if let Some(stamp) = stamp_at.get(&record.offset) {
            assert_eq!(
                record.timestamp, *stamp,
                "offset {} keeps its timestamp",
                record.offset
            );
        }
    }
}

/// Batches of the cleaned range that kept all their records are byte-identical to before.
fn check_verbatim_copies(before: &[Vec<u8>], after: &[Vec<u8>], cleaned_end: i64) {
    let before: HashMap<i64, &Vec<u8>> = before
        .iter()
        .map(|bytes| {
            (
                batch::parse_header(bytes).expect("header").base_offset,
                bytes,
            )
        })
        .collect();
    let mut verbatim = 0;
    for bytes in after {
        let header = batch::validate(bytes, CountRule::Compacted).expect("valid");
        let original = before[&header.base_offset];
        let original_header = batch::parse_header(original).expect("header");
        assert_eq!(header.last_offset_delta, original_header.last_offset_delta);
        assert_eq!(header.compression(), original_header.compression());
        assert_eq!(
            header.partition_leader_epoch,
            original_header.partition_leader_epoch
        );
        if header.records_count == original_header.records_count {
            assert_eq!(
                bytes, original,
                "a batch keeping every record is copied verbatim"
            );
            if header.base_offset < cleaned_end {
                verbatim += 1;
            }
        }
    }
    assert!(verbatim > 0, "the last round's batches were kept whole");
}

/// Producer 7's only batch and producer 8's last batch stay, empty; 8's first batch goes.
async fn check_producer_batches(log: &sluice_engine::PartitionLog, bases: &[(i64, i32, i64)]) {
    let served = batches_served(log).await;
    let by_base: HashMap<i64, batch::BatchHeader> = served
        .iter()
        .map(|bytes| {
            let header = batch::validate(bytes, CountRule::Compacted).expect("valid");
            (header.base_offset, header)
        })
        .collect();
    let (p7, p8a, p8b) = (bases[0], bases[1], bases[2]);
    for (id, sequence, base) in [p7, p8b] {
        let header = by_base.get(&base).expect("a producer's last batch is kept");
        assert_eq!(header.records_count, 0, "kept empty");
        assert_eq!(header.producer_id, id);
        assert_eq!(header.producer_epoch, 2);
        assert_eq!(header.base_sequence, sequence);
        assert_eq!(
            header.last_offset_delta, 2,
            "its last sequence is still base + 2"
        );
    }
    assert!(
        !by_base.contains_key(&p8a.2),
        "an earlier batch of producer 8 is dropped"
    );
}

#[test]
fn a_keyless_record_is_refused_and_nothing_of_its_call_is_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("k", 0, compacted_config())
            .await
            .expect("open");
        for codec_id in CODECS {
            let keyed = keyed_batch(&[put("a", "1")], codec_id, 1, NO_PRODUCER);
            let keyless = Put {
                key: None,
                value: Some(b"v".to_vec()),
            };
            let mixed = keyed_batch(&[put("b", "1"), keyless], codec_id, 1, NO_PRODUCER);
            let err = log
                .append(&[keyed, mixed], 1)
                .await
                .expect_err("keyless refused");
            assert!(
                matches!(
                    err,
                    sluice_engine::AppendError::InvalidBatch { batch_index: 1, .. }
                ),
                "codec {codec_id}: {err}"
            );
            assert_eq!(log.log_end_offset(), 0, "nothing of the call was appended");
        }
        let keyed = keyed_batch(&[put("a", "1"), tombstone("a")], 3, 1, NO_PRODUCER);
        log.append(&[keyed], 1)
            .await
            .expect("keyed records and tombstones are accepted");
        manager.close_all().await.expect("close");
    });
}

//! The write path writes each appended byte about once: full chunks once, and at each flush the
//! partial chunk once plus the partial tail block again with the next flush. Counted at the
//! storage seam over a produce-like pattern (many partitions, 16 KiB batches, a flush round
//! every few appends, as the broker's background group commit does).

mod common;

use common::gated_storage::gated_manager;
use common::*;
use sluice_engine::limits::BLOCK_BYTES;

const PARTITIONS: i32 = 8;
const BATCHES_PER_PARTITION: usize = 600;
const RECORDS_PER_BATCH: i32 = 16;
const VALUE_BYTES: usize = 1000;
/// A flush round after every this many batches on each partition.
const BATCHES_PER_FLUSH: usize = 7;

#[test]
fn bytes_written_stay_close_to_bytes_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let (manager, gate) = gated_manager(&path);
        let mut logs = Vec::new();
        for partition in 0..PARTITIONS {
            let log = manager
                .open_log("amp", partition, log_config(1 << 30))
                .await
                .expect("open");
            logs.push(log);
        }
        let mut appended_bytes = 0u64;
        let mut flush_rounds = 0u64;
        for i in 0..BATCHES_PER_PARTITION {
            for log in &logs {
                let batch = batch_of(RECORDS_PER_BATCH, VALUE_BYTES, i as u64, 0);
                appended_bytes += batch.len() as u64;
                log.append(&[batch], 0).await.expect("append");
            }
            if i % BATCHES_PER_FLUSH == BATCHES_PER_FLUSH - 1 {
                manager.flush_all().await.expect("flush round");
                flush_rounds += 1;
            }
        }
        manager.flush_all().await.expect("last flush round");
        flush_rounds += 1;
        let written = gate.written_bytes.get();
        // Each flush of each partition may write its partial tail block a second time, and
        // pad the end of the data to a block.
        let allowance = flush_rounds * PARTITIONS as u64 * 2 * BLOCK_BYTES;
        println!(
            "appended {appended_bytes} B, written {written} B in {} writes, {flush_rounds} flush rounds: {:.3}x",
            gate.writes.get(),
            written as f64 / appended_bytes as f64
        );
        assert!(written >= appended_bytes, "everything appended was written");
        assert!(
            written <= appended_bytes + allowance,
            "wrote {written} B for {appended_bytes} B appended (allowance {allowance} B for {flush_rounds} flush rounds)"
        );
        manager.close_all().await.expect("close");
    });
}

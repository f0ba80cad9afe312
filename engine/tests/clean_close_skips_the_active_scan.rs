//! After a clean close the active segment is not scanned again at open: its index files end
//! exactly at the recovery point, so open reads next to nothing of the segment. Once appends
//! resume those index files are gone, so a crash after the restart recovers by scanning and
//! keeps every flushed batch, including those appended after the restart.

mod common;

use std::path::Path;
use std::rc::Rc;

use common::gated_storage::{gated_manager, SyncGate};
use common::*;
use sluice_engine::{LogManager, PartitionLog};

const BATCHES: usize = 400;
/// What an open may read of a cleanly closed active segment: the partial last block and a
/// batch header for the index cross-check, far below the segment's size.
const OPEN_READ_BYTES_MAX: u64 = 64 * 1024;

async fn open_counted(path: &Path) -> (Rc<LogManager>, Rc<PartitionLog>, Rc<SyncGate>) {
    let (manager, gate) = gated_manager(path);
    let log = manager
        .open_log("clean", 0, log_config(1 << 30))
        .await
        .expect("open");
    (manager, log, gate)
}

#[test]
fn clean_close_skips_the_scan_and_a_later_crash_still_recovers_everything_flushed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let (manager, log, _) = open_counted(&path).await;
        for i in 0..BATCHES {
            log.append(&[batch_of(8, 1000, i as u64, 0)], 0)
                .await
                .expect("append");
        }
        let segment_bytes = log.size_bytes();
        let written = read_all(&log).await;
        drop(log);
        manager.close_all().await.expect("clean close");

        let (manager, log, gate) = open_counted(&path).await;
        assert!(
            gate.read_bytes.get() <= OPEN_READ_BYTES_MAX,
            "open after a clean close read {} B of a {segment_bytes} B segment",
            gate.read_bytes.get()
        );
        assert_eq!(
            read_all(&log).await,
            written,
            "same log after a clean restart"
        );

        // Appends resume; some are flushed; then a crash (no close).
        for i in 0..BATCHES / 4 {
            log.append(&[batch_of(8, 1000, 10_000 + i as u64, 0)], 0)
                .await
                .expect("append after restart");
        }
        let flushed = log.flush().await.expect("flush");
        let durable: Vec<_> = read_all(&log)
            .await
            .into_iter()
            .filter(|(base, _)| *base < flushed)
            .collect();
        drop(log);
        drop(manager);

        let (manager, log, gate) = open_counted(&path).await;
        assert!(
            gate.read_bytes.get() >= segment_bytes,
            "after a crash the active segment is scanned ({} B read)",
            gate.read_bytes.get()
        );
        assert_eq!(
            log.log_end_offset(),
            flushed,
            "every flushed batch recovered"
        );
        assert_eq!(read_all(&log).await, durable, "byte-exact after the crash");
        drop(log);
        manager.close_all().await.expect("close");
    });
}

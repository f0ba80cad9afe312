//! A crash between the steps of a segment deletion or a segment swap leaves files the next open
//! resolves by rule: `.deleted`, `.cleaned` and `.tmp` files are removed, orphan index files are
//! removed, and a committed `.swap` replaces the segments it covers.

mod common;

use std::path::Path;

use common::*;
use sluice_engine::LogManager;

fn rename_with_suffix(path: &Path, suffix: &str) {
    let target = format!("{}{suffix}", path.display());
    std::fs::rename(path, target).expect("rename");
}

#[test]
fn crash_between_delete_steps_leaves_a_log_that_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let expected = write_closed_log(&path, "d", 0, config.clone(), 90, 300).await;
        let partition_dir = path.join("d-0");
        let segments = files_with_suffix(&partition_dir, ".log");
        assert!(segments.len() >= 3);
        // Deletion of the oldest segment was committed (renamed) but its files not removed;
        // its index was not renamed yet. A checkpoint write was interrupted too.
        rename_with_suffix(&segments[0], ".deleted");
        std::fs::write(
            partition_dir.join("recovery-point.checkpoint.tmp"),
            b"partial",
        )
        .expect("tmp");

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("d", 0, config).await.expect("reopen");
        let second_base = expected.iter().position(|(base, _)| {
            let name = format!("{base:020}.log");
            segments[1].ends_with(name)
        });
        let second_base = second_base.expect("second segment base is a batch base");
        assert_eq!(log.log_start_offset(), expected[second_base].0);
        assert_eq!(read_all(&log).await, expected[second_base..].to_vec());
        let leftovers: Vec<_> = [".deleted", ".tmp"]
            .iter()
            .flat_map(|suffix| files_with_suffix(&partition_dir, suffix))
            .collect();
        assert!(leftovers.is_empty(), "leftovers: {leftovers:?}");
        let orphan = segments[0].with_extension("index");
        assert!(!orphan.exists(), "orphan index removed");
        manager.close_all().await.expect("close");
    });
}

#[test]
fn crash_during_segment_swap_is_completed_or_rolled_back_by_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let expected = write_closed_log(&path, "s", 0, config.clone(), 90, 300).await;
        let partition_dir = path.join("s-0");
        let segments = files_with_suffix(&partition_dir, ".log");
        assert!(segments.len() >= 4);
        // A "compaction" of the first two segments into one file (here: their concatenation,
        // so the expected content is unchanged) was committed as `.swap`; the crash came before
        // the old segments were deleted. A second, uncommitted output is still `.cleaned`.
        let mut merged = std::fs::read(&segments[0]).expect("read");
        merged.extend(std::fs::read(&segments[1]).expect("read"));
        std::fs::write(format!("{}.swap", segments[0].display()), &merged).expect("swap");
        std::fs::write(format!("{}.cleaned", segments[2].display()), b"uncommitted")
            .expect("cleaned");

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("s", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        assert!(!segments[1].exists(), "segment covered by the swap is gone");
        assert_eq!(std::fs::read(&segments[0]).expect("swapped in"), merged);
        assert!(files_with_suffix(&partition_dir, ".swap").is_empty());
        assert!(files_with_suffix(&partition_dir, ".cleaned").is_empty());
        manager.close_all().await.expect("close");
    });
}

//! Deleting logs: the rename to `<dir>.<unique>-delete` is the commit point, durable when
//! `delete_logs` returns; the files go in the background. A recreated partition starts empty,
//! other partitions are untouched, and directories of a deletion that a crash interrupted are
//! removed by `remove_deleted_dirs` at the next start.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use sluice_engine::deleted_dirs::is_deleted_dir;
use sluice_engine::LogManager;

/// Bound on waiting for background removal (a deadlock bound, not a performance figure).
const REMOVAL_POLLS_MAX: usize = 2_000;

fn deleted_dirs_in(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir)
        .expect("read data dir")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(is_deleted_dir))
        .count()
}

async fn until_no_deleted_dirs(data_dir: &Path) {
    for _ in 0..REMOVAL_POLLS_MAX {
        if deleted_dirs_in(data_dir) == 0 {
            return;
        }
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
    panic!("deleted directories still present after {REMOVAL_POLLS_MAX} polls");
}

#[test]
fn deleted_logs_are_gone_at_once_and_their_files_soon_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        for partition in 0..3 {
            let log = manager
                .open_log("doomed", partition, log_config(64 * 1024))
                .await
                .expect("open");
            fill(&log, 60, 2_000).await;
            log.flush().await.expect("flush");
        }
        let kept = read_all(&manager.get("doomed", 2).expect("open log")).await;

        manager
            .delete_logs(&[("doomed".to_string(), 0), ("doomed".to_string(), 1)])
            .await
            .expect("delete");
        assert!(!path.join("doomed-0").exists(), "renamed away at once");
        assert!(!path.join("doomed-1").exists(), "renamed away at once");
        assert!(manager.get("doomed", 0).is_none(), "no longer open");
        until_no_deleted_dirs(&path).await;

        let recreated = manager
            .open_log("doomed", 0, log_config(64 * 1024))
            .await
            .expect("recreate");
        assert_eq!(recreated.log_start_offset(), 0);
        assert_eq!(
            recreated.log_end_offset(),
            0,
            "a recreated partition starts empty"
        );
        assert_eq!(
            read_all(&manager.get("doomed", 2).expect("still open")).await,
            kept,
            "the other partition is untouched"
        );
        // Deleting a partition that has no directory is not an error.
        manager
            .delete_log("never-created", 7)
            .await
            .expect("delete of a missing partition");
        drop(recreated);
        manager.close_all().await.expect("close");
    });
}

#[test]
fn deletions_a_crash_interrupted_are_finished_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    // What a crash after the rename leaves: a committed-deleted directory full of files.
    let leftover = path.join("gone-3.17a2b3c4d5e6f-delete");
    std::fs::create_dir_all(&leftover).expect("mkdir");
    std::fs::write(
        leftover.join("00000000000000000000.log"),
        vec![7u8; 1 << 20],
    )
    .expect("write");
    std::fs::create_dir_all(path.join("alive-0")).expect("mkdir");
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        assert_eq!(manager.remove_deleted_dirs().await.expect("cleanup"), 1);
        until_no_deleted_dirs(&path).await;
        assert!(
            path.join("alive-0").exists(),
            "partition directories are left alone"
        );
        assert_eq!(manager.remove_deleted_dirs().await.expect("cleanup"), 0);
    });
}

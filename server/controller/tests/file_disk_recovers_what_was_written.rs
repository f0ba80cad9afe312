//! The file disk gives back, after a reopen, exactly what `write` made durable: entries, a
//! truncated suffix's replacement, a compaction, the hard state; and it cuts a torn tail but
//! refuses damage before the tail.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use sluice_controller::quorum::{
    DiskError, DiskState, DiskWrite, FileDisk, HardState, LogEntry, RaftDisk, SnapshotData,
};

fn entry(index: u64, term: u64) -> LogEntry {
    LogEntry {
        index,
        term,
        data: format!("entry {index} of term {term}").into_bytes(),
    }
}

fn entries(indexes: std::ops::RangeInclusive<u64>, term: u64) -> Vec<LogEntry> {
    indexes.map(|index| entry(index, term)).collect()
}

fn append(indexes: std::ops::RangeInclusive<u64>, term: u64) -> DiskWrite {
    DiskWrite {
        entries: entries(indexes, term),
        ..DiskWrite::default()
    }
}

fn reopened(directory: &Path) -> DiskState {
    let mut disk = FileDisk::open(directory).expect("reopen");
    disk.load().expect("load")
}

fn log_path(directory: &Path) -> std::path::PathBuf {
    directory.join("quorum.log")
}

#[test]
fn entries_and_hard_state_survive_a_reopen() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    assert_eq!(disk.load().expect("load"), DiskState::default());
    let hard_state = HardState {
        term: 3,
        voted_for: Some(0),
        commit_index: 2,
    };
    disk.write(&append(1..=3, 1)).expect("append");
    disk.write(&DiskWrite {
        hard_state: Some(hard_state),
        ..append(4..=5, 3)
    })
    .expect("append");
    drop(disk);
    let state = reopened(directory.path());
    let mut expected = entries(1..=3, 1);
    expected.extend(entries(4..=5, 3));
    assert_eq!(state.entries, expected);
    assert_eq!(state.hard_state, hard_state);
    assert_eq!(state.snapshot, None);
}

#[test]
fn a_conflicting_suffix_is_replaced_and_stays_replaced() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=5, 1)).expect("append");
    disk.write(&append(3..=4, 2)).expect("replace a suffix");
    disk.write(&append(5..=6, 2)).expect("extend");
    drop(disk);
    let mut expected = entries(1..=2, 1);
    expected.extend(entries(3..=6, 2));
    assert_eq!(reopened(directory.path()).entries, expected);
    // And the replay of the stale records is stable across further reopens and appends.
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(7..=7, 2)).expect("append");
    drop(disk);
    expected.push(entry(7, 2));
    assert_eq!(reopened(directory.path()).entries, expected);
}

#[test]
fn a_gap_or_an_append_below_the_snapshot_is_refused() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=2, 1)).expect("append");
    assert!(matches!(
        disk.write(&append(4..=4, 1)),
        Err(DiskError::Inconsistent(_))
    ));
}

#[test]
fn a_torn_tail_is_cut_and_the_log_goes_on_after_it() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=3, 1)).expect("append");
    let length_before = std::fs::metadata(log_path(directory.path()))
        .expect("stat")
        .len();
    disk.write(&append(4..=4, 1)).expect("append");
    drop(disk);
    // A crash halfway through the last record's write.
    let length_after = std::fs::metadata(log_path(directory.path()))
        .expect("stat")
        .len();
    let file = OpenOptions::new()
        .write(true)
        .open(log_path(directory.path()))
        .expect("open");
    file.set_len((length_before + length_after) / 2)
        .expect("truncate");
    drop(file);

    let mut disk = FileDisk::open(directory.path()).expect("open cuts the torn tail");
    assert_eq!(disk.load().expect("load").entries, entries(1..=3, 1));
    let cut_length = std::fs::metadata(log_path(directory.path()))
        .expect("stat")
        .len();
    assert_eq!(cut_length, length_before);
    disk.write(&append(4..=5, 2)).expect("append after the cut");
    drop(disk);
    let mut expected = entries(1..=3, 1);
    expected.extend(entries(4..=5, 2));
    assert_eq!(reopened(directory.path()).entries, expected);
}

#[test]
fn garbage_at_the_tail_is_cut_but_damage_before_the_tail_is_refused() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=3, 1)).expect("append");
    drop(disk);
    let mut file = OpenOptions::new()
        .append(true)
        .open(log_path(directory.path()))
        .expect("open");
    file.write_all(&[0xA5; 37]).expect("garbage");
    file.write_all(&[0; 4096]).expect("zeroes");
    drop(file);
    assert_eq!(reopened(directory.path()).entries, entries(1..=3, 1));

    // A flipped byte inside the first record: whole records follow it.
    let mut bytes = std::fs::read(log_path(directory.path())).expect("read");
    bytes[8 + 20] ^= 0xFF;
    std::fs::write(log_path(directory.path()), &bytes).expect("write");
    match FileDisk::open(directory.path()) {
        Err(DiskError::Corrupt { offset, .. }) => assert_eq!(offset, 8),
        other => panic!("expected corruption, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn compaction_drops_the_prefix_and_keeps_the_rest() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=10, 1)).expect("append");
    let snapshot = SnapshotData {
        index: 6,
        term: 1,
        data: b"state at 6".to_vec(),
    };
    disk.write(&DiskWrite {
        snapshot: Some(snapshot.clone()),
        ..DiskWrite::default()
    })
    .expect("compact");
    disk.write(&append(11..=12, 2))
        .expect("append after compaction");
    drop(disk);
    let state = reopened(directory.path());
    assert_eq!(state.snapshot, Some(snapshot));
    let mut expected = entries(7..=10, 1);
    expected.extend(entries(11..=12, 2));
    assert_eq!(state.entries, expected);
    let log_bytes = std::fs::metadata(log_path(directory.path()))
        .expect("stat")
        .len();
    let record_bytes: u64 = expected.iter().map(|e| 8 + 16 + e.data.len() as u64).sum();
    assert_eq!(
        log_bytes,
        8 + record_bytes,
        "the compacted records are gone from the file"
    );
}

#[test]
fn a_snapshot_from_another_history_drops_the_whole_log() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=4, 1)).expect("append");
    // The leader's snapshot at 6 (term 3): this log never held entry 6 of term 3.
    let snapshot = SnapshotData {
        index: 6,
        term: 3,
        data: b"leader state".to_vec(),
    };
    let install = DiskWrite {
        snapshot: Some(snapshot.clone()),
        hard_state: Some(HardState {
            term: 3,
            voted_for: None,
            commit_index: 6,
        }),
        ..DiskWrite::default()
    };
    disk.write(&install).expect("install");
    disk.write(&append(7..=7, 3))
        .expect("append after the snapshot");
    drop(disk);
    let state = reopened(directory.path());
    assert_eq!(state.snapshot, Some(snapshot));
    assert_eq!(state.entries, entries(7..=7, 3));
}

#[test]
fn a_compaction_interrupted_before_the_log_rewrite_is_finished_at_open() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    disk.write(&append(1..=5, 1)).expect("append");
    drop(disk);
    let old_log = std::fs::read(log_path(directory.path())).expect("read");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    let snapshot = SnapshotData {
        index: 3,
        term: 1,
        data: b"state at 3".to_vec(),
    };
    disk.write(&DiskWrite {
        snapshot: Some(snapshot.clone()),
        ..DiskWrite::default()
    })
    .expect("compact");
    drop(disk);
    // The crash came after the snapshot's rename and before the log's.
    std::fs::write(log_path(directory.path()), &old_log).expect("restore the old log");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    let state = disk.load().expect("load");
    assert_eq!(state.snapshot, Some(snapshot));
    assert_eq!(state.entries, entries(4..=5, 1));
    disk.write(&append(6..=6, 1)).expect("append");
    drop(disk);
    assert_eq!(reopened(directory.path()).entries, entries(4..=6, 1));
}

#[test]
fn a_leftover_temporary_file_is_ignored_and_removed() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut disk = FileDisk::open(directory.path()).expect("open");
    let hard_state = HardState {
        term: 2,
        voted_for: None,
        commit_index: 0,
    };
    disk.write(&DiskWrite {
        hard_state: Some(hard_state),
        ..DiskWrite::default()
    })
    .expect("hard state");
    drop(disk);
    let temporary = directory.path().join("quorum.state.tmp");
    std::fs::write(&temporary, b"half a hard state").expect("write");
    assert_eq!(reopened(directory.path()).hard_state, hard_state);
    assert!(!temporary.exists());
}

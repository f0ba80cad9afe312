//! `iotune` on a temp dir writes a results file that `IoProperties::load` (what the broker
//! calls at start) reads back, and `load` refuses files that would size buffers wrongly.

mod common;

use std::time::Duration;

use sluice_tuning::iotune::{self, IotuneConfig};
use sluice_tuning::{IoProperties, IoPropertiesError, IOTUNE_FILE_NAME};

const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Under the target dir, not /tmp: /tmp may be tmpfs, which has no O_DIRECT.
fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn quick_config(dir: &std::path::Path) -> IotuneConfig {
    let mut config = IotuneConfig::new(dir, Duration::from_millis(400));
    config.file_bytes = 8 * 1024 * 1024;
    config.queue_depths = vec![1, 4];
    config
}

#[test]
fn iotune_writes_a_file_the_broker_loads() {
    common::with_timeout(TEST_TIMEOUT, || {
        let dir = scratch_dir();
        let measured =
            iotune::run(&quick_config(dir.path())).unwrap_or_else(|e| panic!("iotune: {e}"));
        assert_eq!(measured.write.len(), 6);
        assert_eq!(measured.read.len(), 6);
        assert!(
            measured
                .write
                .iter()
                .all(|r| r.ops > 0 && r.bytes_per_s > 0),
            "{:?}",
            measured.write
        );
        assert!(measured.fdatasync.samples > 0);
        assert!(measured.fdatasync.p50_us <= measured.fdatasync.p99_us);
        let path = dir.path().join(IOTUNE_FILE_NAME);
        measured.save(&path).unwrap_or_else(|e| panic!("save: {e}"));
        let loaded = IoProperties::load(&path).unwrap_or_else(|e| panic!("load: {e}"));
        assert_eq!(loaded, measured);
        let r = &loaded.recommended;
        assert!(
            [4096, 65536, 1 << 20].contains(&r.write_chunk_bytes),
            "{r:?}"
        );
        assert!([1, 4].contains(&r.flush_concurrency), "{r:?}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(
            leftovers,
            [std::ffi::OsString::from(IOTUNE_FILE_NAME)],
            "scratch files removed"
        );
    });
}

#[test]
fn load_rejects_values_that_would_misconfigure_the_broker() {
    common::with_timeout(TEST_TIMEOUT, || {
        let dir = scratch_dir();
        let path = dir.path().join(IOTUNE_FILE_NAME);
        let measured =
            iotune::run(&quick_config(dir.path())).unwrap_or_else(|e| panic!("iotune: {e}"));

        let mut unaligned = measured.clone();
        unaligned.recommended.write_chunk_bytes = 1000;
        unaligned
            .save(&path)
            .unwrap_or_else(|e| panic!("save: {e}"));
        assert!(matches!(
            IoProperties::load(&path),
            Err(IoPropertiesError::Invalid { .. })
        ));

        let mut future = measured;
        future.schema_version = 99;
        future.save(&path).unwrap_or_else(|e| panic!("save: {e}"));
        assert!(matches!(
            IoProperties::load(&path),
            Err(IoPropertiesError::Invalid { .. })
        ));

        std::fs::write(&path, "schema_version = \"one\"").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            IoProperties::load(&path),
            Err(IoPropertiesError::Parse { .. })
        ));
        let missing = dir.path().join("absent.toml");
        assert!(matches!(
            IoProperties::load(&missing),
            Err(IoPropertiesError::Read { .. })
        ));
    });
}

#[test]
fn broker_start_finds_the_file_in_its_data_dir_or_runs_without_it() {
    common::with_timeout(TEST_TIMEOUT, || {
        let dir = scratch_dir();
        let absent = IoProperties::load_from_data_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(absent.is_none());
        let measured =
            iotune::run(&quick_config(dir.path())).unwrap_or_else(|e| panic!("iotune: {e}"));
        measured
            .save(&dir.path().join(IOTUNE_FILE_NAME))
            .unwrap_or_else(|e| panic!("save: {e}"));
        let present =
            IoProperties::load_from_data_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(present, Some(measured));
    });
}

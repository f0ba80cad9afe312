//! LogLoaderTest-style: index files overwritten with junk are detected and rebuilt.

mod common;

use common::*;
use sluice_engine::LogManager;

#[test]
fn junk_index_files_are_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let expected = write_closed_log(&path, "j", 0, config.clone(), 100, 250).await;
        let partition_dir = path.join("j-0");
        let mut rng = Xorshift(42);
        let mut junked = Vec::new();
        for suffix in [".index", ".timeindex"] {
            for file in files_with_suffix(&partition_dir, suffix) {
                let len = std::fs::metadata(&file).expect("metadata").len().max(64);
                let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                std::fs::write(&file, &junk).expect("junk");
                junked.push((file, junk));
            }
        }
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("j", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        for (i, (base, _)) in expected.iter().enumerate() {
            let found = log
                .offset_for_timestamp(1000 * (i as i64 + 1))
                .await
                .expect("lookup");
            assert_eq!(found.map(|(offset, _)| offset), Some(*base));
        }
        manager.close_all().await.expect("close");
        for (file, junk) in junked {
            let now = std::fs::read(&file).expect("index exists again");
            assert_ne!(now, junk, "{} was not rebuilt", file.display());
        }
    });
}

//! `MemStorage`'s durability model, rule by rule: file data survives a power loss only once
//! fdatasynced, names only once their directory is synced, a torn crash keeps the synced bytes
//! and each unsynced block whole (old or new), and misaligned O_DIRECT writes are refused.

mod common;

use std::path::Path;
use std::rc::Rc;

use common::run;
use sluice_engine::limits::BLOCK_BYTES;
use sluice_engine::storage::{MemStorage, SegmentFile, Storage};

const BLOCK: usize = BLOCK_BYTES as usize;

async fn write_blocks(file: &dyn SegmentFile, first_block: u64, fill: &[u8]) {
    let mut buf = file.alloc_buffer(fill.len() * BLOCK);
    for (i, byte) in fill.iter().enumerate() {
        buf.as_bytes_mut()[i * BLOCK..(i + 1) * BLOCK].fill(*byte);
    }
    let written = file
        .write_at(Rc::new(buf), first_block * BLOCK_BYTES)
        .await
        .expect("write");
    assert_eq!(written, fill.len() * BLOCK);
}

async fn contents(mem: &MemStorage, path: &Path) -> Option<Vec<u8>> {
    mem.read_file(path).await.expect("read_file")
}

#[test]
fn data_needs_fdatasync_and_names_need_a_directory_sync() {
    run(|| async {
        let mem = MemStorage::new();
        let dir = Path::new("/d");
        let (a, b) = (dir.join("a"), dir.join("b"));
        mem.create_dir_all(dir).await.expect("mkdir");

        let file = mem.open_segment(&a, true).await.expect("create");
        write_blocks(&*file, 0, &[1, 2]).await;
        file.fdatasync().await.expect("sync");
        mem.crash();
        assert_eq!(contents(&mem, &a).await, None, "name never synced");

        let file = mem.open_segment(&a, true).await.expect("create");
        write_blocks(&*file, 0, &[1, 2]).await;
        file.fdatasync().await.expect("sync");
        mem.sync_dir(dir).await.expect("sync dir");
        write_blocks(&*file, 2, &[3]).await;
        file.truncate(BLOCK_BYTES).await.expect("truncate");
        mem.crash();
        let survived = contents(&mem, &a).await.expect("synced file");
        assert_eq!(
            survived.len(),
            2 * BLOCK,
            "unsynced growth and truncate are lost"
        );
        assert!(survived[..BLOCK].iter().all(|&b| b == 1));
        assert!(survived[BLOCK..].iter().all(|&b| b == 2));

        mem.rename(&a, &b).await.expect("rename");
        assert_eq!(contents(&mem, &a).await, None);
        mem.crash();
        assert!(contents(&mem, &a).await.is_some(), "unsynced rename undone");
        assert_eq!(contents(&mem, &b).await, None);

        let (c, d) = (dir.join("c"), dir.join("d"));
        mem.write_file_atomic(&c, b"durable".to_vec(), true)
            .await
            .expect("atomic write");
        mem.write_file_atomic(&d, b"lost".to_vec(), false)
            .await
            .expect("atomic write");
        mem.sync_dir(dir).await.expect("sync dir");
        mem.crash();
        assert_eq!(contents(&mem, &c).await.as_deref(), Some(&b"durable"[..]));
        assert_eq!(
            contents(&mem, &d).await.as_deref(),
            Some(&b""[..]),
            "the name was synced, the data never was"
        );
    });
}

#[test]
fn torn_crash_keeps_synced_bytes_and_whole_blocks() {
    run(|| async {
        let dir = Path::new("/d");
        let path = dir.join("seg");
        let mut saw_new = false;
        let mut saw_old = false;
        for seed in 0..32 {
            let mem = MemStorage::new();
            mem.create_dir_all(dir).await.expect("mkdir");
            let file = mem.open_segment(&path, true).await.expect("create");
            file.preallocate(16 * BLOCK_BYTES).await.expect("fallocate");
            write_blocks(&*file, 0, &[1, 1]).await;
            file.fdatasync().await.expect("sync");
            mem.sync_dir(dir).await.expect("sync dir");
            write_blocks(&*file, 1, &[7, 7, 7]).await;
            mem.crash_torn(seed);
            let survived = contents(&mem, &path).await.expect("synced name");
            assert!(survived.len() >= 2 * BLOCK);
            assert!(
                survived[..BLOCK].iter().all(|&b| b == 1),
                "synced block kept"
            );
            for block in survived[BLOCK..].chunks(BLOCK) {
                assert_eq!(block.len(), BLOCK);
                let first = block[0];
                assert!(block.iter().all(|&b| b == first), "block torn inside");
                saw_new |= first == 7;
                saw_old |= first != 7;
            }
        }
        assert!(saw_new, "no seed kept an unsynced block");
        assert!(saw_old, "every seed kept every unsynced block");
    });
}

#[test]
fn misaligned_direct_writes_are_refused() {
    run(|| async {
        let mem = MemStorage::new();
        let dir = Path::new("/d");
        mem.create_dir_all(dir).await.expect("mkdir");
        let file = mem
            .open_segment(&dir.join("x"), true)
            .await
            .expect("create");
        for (position, len) in [(100u64, BLOCK), (0, 100)] {
            let buf = Rc::new(file.alloc_buffer(len));
            let write = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(file.write_at(buf, position));
            }));
            assert!(write.is_err(), "write of {len} at {position} accepted");
        }
    });
}

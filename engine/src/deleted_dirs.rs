//! Deleting a partition directory in two steps, as Kafka does with its `-delete` directories:
//! a rename to `<topic>-<partition>.<unique>-delete` is the commit point (a partition directory
//! name always ends in `-<digits>`, so the two can never be confused), and the files are removed
//! afterwards in the background. A DeleteTopics answer then waits for renames and one directory
//! sync instead of unlinking gigabytes, and the shard's reactor never does the unlinking.
//! Directories a crash or shutdown left behind are removed at the next start.

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::storage::Storage;

/// Suffix of a partition directory whose deletion is committed.
pub const DELETED_DIR_SUFFIX: &str = "-delete";

thread_local! {
    /// Makes names unique within a shard even when two deletions share a nanosecond.
    static DELETIONS: Cell<u64> = const { Cell::new(0) };
}

/// `<dir>.<unique>-delete`, next to `dir`.
pub(crate) fn deleted_name(dir: &Path) -> PathBuf {
    let sequence = DELETIONS.with(|count| {
        count.set(count.get() + 1);
        count.get()
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut name = dir.as_os_str().to_os_string();
    name.push(format!(
        ".{nanos:x}{sequence:x}{:x}{DELETED_DIR_SUFFIX}",
        std::process::id()
    ));
    PathBuf::from(name)
}

/// True for a directory name `deleted_name` produced.
pub fn is_deleted_dir(name: &str) -> bool {
    name.ends_with(DELETED_DIR_SUFFIX)
}

/// Removes a committed-deleted directory in a background task of this shard; a failure is
/// logged (the directory is retried at the next start).
pub(crate) fn remove_in_background(storage: Rc<dyn Storage>, dir: PathBuf) {
    glommio::spawn_local(async move {
        if let Err(err) = storage.remove_dir_all(&dir).await {
            tracing::warn!(dir = %dir.display(), "removing a deleted partition directory failed (retried at next start): {err}");
        }
    })
    .detach();
}

/// The committed-deleted directories directly under `data_dir`.
pub(crate) async fn list(storage: &dyn Storage, data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for path in storage.list_dir(data_dir).await? {
        let deleted = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(is_deleted_dir);
        if deleted {
            found.push(path);
        }
    }
    Ok(found)
}

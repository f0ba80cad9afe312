//! Shared test helpers: a timeout for every test, and a fake host tree builder.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `body` on a thread and fails the test if it takes longer than `limit`.
pub fn with_timeout<T: Send + 'static>(
    limit: Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        // The receiver may be gone after a timeout; then nobody needs the result.
        sender.send(body()).ok();
    });
    match receiver.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test exceeded its {limit:?} timeout"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("test body panicked (see above)"),
    }
}

/// A fake `/` in a temp dir, with helpers to lay out `/proc` and `/sys` files.
#[allow(dead_code)]
pub struct FakeHost {
    pub dir: tempfile::TempDir,
}

#[allow(dead_code)]
impl FakeHost {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Self { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, host_path: &str) -> PathBuf {
        self.root().join(host_path.trim_start_matches('/'))
    }

    pub fn file(&self, host_path: &str, text: &str) -> &Self {
        let path = self.path(host_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        std::fs::write(&path, format!("{text}\n"))
            .unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        self
    }

    pub fn dir(&self, host_path: &str) -> &Self {
        let path = self.path(host_path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {path:?}: {e}"));
        self
    }

    /// A symlink at `host_path` pointing to `target` (relative targets, like sysfs uses).
    pub fn link(&self, host_path: &str, target: &str) -> &Self {
        let path = self.path(host_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        std::os::unix::fs::symlink(target, &path)
            .unwrap_or_else(|e| panic!("symlink {path:?}: {e}"));
        self
    }

    pub fn read(&self, host_path: &str) -> String {
        let path = self.path(host_path);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {path:?}: {e}"))
            .trim()
            .to_string()
    }
}

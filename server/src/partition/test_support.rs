//! What the partition tests on real logs share: a glommio executor with a deadline, and a
//! fresh partition log in a directory.

use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};

use super::Partition;

/// Longest a partition test may run.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `make`'s future on a fresh executor named `name`; fails the test if it has not
/// finished within [`TEST_TIMEOUT`].
pub fn run<F, Fut>(name: &str, make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let (done, finished) = std::sync::mpsc::channel();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name(name)
        .io_memory(2 << 20)
        .spawn(move || async move {
            make().await;
            done.send(()).expect("the test thread waits");
        })
        .expect("spawn executor");
    finished
        .recv_timeout(TEST_TIMEOUT)
        .expect("the test finished in time");
    handle.join().expect("executor thread");
}

/// A partition `p`-0 over a log in `dir` (created, or reopened and recovered).
pub async fn open_partition(dir: &std::path::Path) -> Partition {
    let logs = LogManager::new(ShardEngineConfig {
        data_dir: dir.to_path_buf(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    });
    let log = logs
        .open_log("p", 0, LogConfig::default())
        .await
        .expect("open log");
    Partition::open(log).await.expect("open partition")
}

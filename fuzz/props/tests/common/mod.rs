//! Shared helpers of the stable-toolchain fuzz tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};

/// Hard bound on any single test body run on an executor.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `make()` on a fresh glommio executor with a small io_memory; panics after TEST_TIMEOUT.
pub fn run<G, F, T>(make: G) -> T
where
    G: FnOnce() -> F + Send + 'static,
    F: Future<Output = T> + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("fuzz-props-test")
        .io_memory(2 << 20)
        .spawn(move || async move {
            let result = make().await;
            let _ = sender.send(result);
        })
        .expect("spawn executor");
    match receiver.recv_timeout(TEST_TIMEOUT) {
        Ok(result) => {
            handle.join().expect("executor thread");
            result
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("test body panicked (see above)"),
        Err(err) => panic!("test body did not finish within {TEST_TIMEOUT:?}: {err}"),
    }
}

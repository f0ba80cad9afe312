//! Starting and joining the shard executors: one glommio executor per CPU, pinned, each running
//! the caller's shard main with its own `Send` setup. The runtime knows nothing of what a
//! shard serves; the broker (`crate::broker`) supplies the setups and the main.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement, PoolPlacement};

use crate::limits::{BLOCKING_THREADS_PER_SHARD, SHUTDOWN_POLL_MS};
use crate::shard::cpus::ShardPlacement;
use crate::signals;

/// How a shard tells `start` that it is serving (or why it cannot).
pub struct Ready(mpsc::Sender<Result<(), String>>);

impl Ready {
    pub fn serving(self) {
        // `start` may have returned already on another shard's failure.
        self.0.send(Ok(())).ok();
    }

    pub fn failed(self, reason: String) {
        self.0.send(Err(reason)).ok();
    }
}

/// A one-time meeting point of every shard (start-up and shutdown steps; never on the data
/// path, so polling an atomic is fine here).
#[derive(Clone)]
pub struct Barrier {
    arrived: Arc<AtomicUsize>,
    shards: usize,
}

impl Barrier {
    fn new(shards: usize) -> Barrier {
        Barrier {
            arrived: Arc::new(AtomicUsize::new(0)),
            shards,
        }
    }

    /// Waits until every shard arrived; false if `give_up()` turned true first (a shard
    /// failed during start-up and the process is stopping).
    pub async fn arrive_and_wait(&self, give_up: impl Fn() -> bool) -> bool {
        let arrived = self.arrived.fetch_add(1, Ordering::AcqRel) + 1;
        assert!(arrived <= self.shards, "more shards arrived than exist");
        poll_until(
            || self.arrived.load(Ordering::Acquire) >= self.shards,
            give_up,
        )
        .await
    }
}

/// Polls `done` every `SHUTDOWN_POLL_MS` until it holds (true) or `give_up()` does (false).
async fn poll_until(done: impl Fn() -> bool, give_up: impl Fn() -> bool) -> bool {
    while !done() {
        if give_up() {
            return false;
        }
        glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
    }
    true
}

/// Shards taking a start-up step one at a time, in shard order (binding listeners: a socket's
/// place in its port's reuseport group is the order of binding, and steering relies on shard
/// `i` being socket `i`).
#[derive(Clone)]
pub struct Turns {
    next: Arc<AtomicUsize>,
}

impl Turns {
    fn new() -> Turns {
        Turns {
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits for shard `shard`'s turn; false if `give_up()` turned true first.
    pub async fn wait_for(&self, shard: usize, give_up: impl Fn() -> bool) -> bool {
        poll_until(|| self.next.load(Ordering::Acquire) == shard, give_up).await
    }

    /// Ends shard `shard`'s turn (also after a failure: the others may still go on).
    pub fn done(&self, shard: usize) {
        let swapped =
            self.next
                .compare_exchange(shard, shard + 1, Ordering::AcqRel, Ordering::Acquire);
        assert!(
            swapped.is_ok(),
            "shard {shard} ended a turn it did not have"
        );
    }
}

/// The meeting points of a shard's life.
#[derive(Clone)]
pub struct Barriers {
    /// Every shard has opened its partitions: only then may any shard accept clients, or a
    /// request routed to a shard still opening would find no partition.
    pub opened: Barrier,
    /// Every shard has drained its connections: only then may a shard close its logs, which
    /// another shard's connection could still route a request to.
    pub drained: Barrier,
    /// Shards bind their client listeners one after another, in shard order.
    pub listen: Turns,
}

/// Running shards: join them after `signals::request_shutdown`.
pub struct Shards {
    handles: Vec<ExecutorJoinHandle<Result<(), String>>>,
}

impl Shards {
    /// Waits for every shard to finish; the first error wins.
    pub fn join(self) -> Result<(), String> {
        let mut first_error = None;
        for handle in self.handles {
            let outcome = match handle.join() {
                Ok(Ok(())) => continue,
                Ok(Err(err)) => err,
                Err(err) => format!("shard executor failed: {err}"),
            };
            signals::request_shutdown();
            first_error.get_or_insert(outcome);
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Starts one executor per entry of `setups` (shard `i` placed as `placement` says) running
/// `main(setup, ready, barriers)`, and waits until each reported `Ready` (or one failed).
pub fn start<S, F, Fut>(
    placement: &ShardPlacement,
    io_memory_bytes: usize,
    setups: Vec<S>,
    main: F,
) -> Result<Shards, String>
where
    S: Send + 'static,
    F: Fn(S, Ready, Barriers) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = Result<(), String>> + 'static,
{
    let shards = setups.len();
    assert!(shards > 0);
    assert_eq!(shards, placement.shards());
    let (ready, ready_rx) = mpsc::channel();
    let barriers = Barriers {
        opened: Barrier::new(shards),
        drained: Barrier::new(shards),
        listen: Turns::new(),
    };
    let mut handles = Vec::with_capacity(shards);
    for (id, setup) in setups.into_iter().enumerate() {
        let main = main.clone();
        let ready = Ready(ready.clone());
        let barriers = barriers.clone();
        let cpu = placement
            .pinned_cpu(id)
            .map_or(Placement::Unbound, Placement::Fixed);
        let handle = LocalExecutorBuilder::new(cpu)
            .name(&format!("shard-{id}"))
            .io_memory(io_memory_bytes)
            .blocking_thread_pool_placement(PoolPlacement::Unbound(BLOCKING_THREADS_PER_SHARD))
            .spawn(move || {
                match crate::iowq_workers::raise_bounded() {
                    Ok(previous) => tracing::debug!(
                        shard = id,
                        previous,
                        "io-wq bounded workers raised to {}",
                        crate::limits::IOWQ_BOUNDED_WORKERS_PER_SHARD
                    ),
                    // Only slower flush rounds follow; say so once per shard.
                    Err(err) => tracing::warn!(shard = id, "cannot raise io-wq workers: {err}"),
                }
                main(setup, ready, barriers)
            })
            .map_err(|err| format!("shard {id}: cannot start executor: {err}"))?;
        handles.push(handle);
    }
    drop(ready);
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                signals::request_shutdown();
                return Err(reason);
            }
            Err(_) => return Err("a shard exited during start-up".to_string()),
        }
    }
    Ok(Shards { handles })
}

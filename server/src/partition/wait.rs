//! Owner side of a fetch long poll: resolve when one of the watched partitions has readable
//! data past the fetch offset (below the high watermark, or the last stable offset for a
//! read_committed consumer: markers and high-watermark moves wake it), or at the deadline. Data appended but not yet flushed is not
//! readable (see `partition.rs`): the waiter asks for the flush itself instead of waiting for
//! the background one, so a tailing consumer waits one group commit, not a flush interval.

use std::time::{Duration, Instant};

use futures_lite::future;

use std::rc::Rc;

use super::messages::Watched;
use super::registry::Partitions;

enum Readiness {
    Readable,
    /// Appended past the offset, not yet flushed.
    NeedsFlush,
    Nothing,
}

fn readiness(partitions: &Rc<Partitions>, watched: &[Watched], read_committed: bool) -> Readiness {
    let mut needs_flush = false;
    for (topic, index, offset) in watched {
        let Some(partition) = partitions.get(topic, *index) else {
            // Deleted meanwhile: answer now, the read reports it.
            return Readiness::Readable;
        };
        if partition.readable_end(read_committed) > *offset {
            return Readiness::Readable;
        }
        // Only a local flush is ours to ask for; followers move the rest, and their fetches
        // wake us.
        needs_flush |= partition.log_end_offset() > *offset && partition.has_unflushed_data();
    }
    if needs_flush {
        Readiness::NeedsFlush
    } else {
        Readiness::Nothing
    }
}

pub async fn wait_for_data(
    partitions: &Rc<Partitions>,
    watched: &[Watched],
    read_committed: bool,
    wait_ms: u64,
    stopping: impl Fn() -> bool,
) {
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    loop {
        let mut generation = partitions.data_notify().generation();
        match readiness(partitions, watched, read_committed) {
            Readiness::Readable => return,
            _ if stopping() => return,
            Readiness::NeedsFlush => match partitions.flush_round().await {
                Ok(()) => continue,
                Err(err) => {
                    // Wait for the next append or flush instead of retrying at once.
                    tracing::warn!("flush for a waiting fetch failed: {err}");
                    generation = partitions.data_notify().generation();
                }
            },
            Readiness::Nothing => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let changed = partitions.data_notify().changed_since(generation);
        let timer = glommio::timer::sleep(deadline - now);
        future::or(changed, timer).await;
    }
}

/// A follower's long poll: resolve when one of the watched partitions has appended data past
/// the offset (durable or not: followers read up to the log end), or at the deadline.
pub async fn wait_for_append(
    partitions: &Rc<Partitions>,
    watched: &[Watched],
    wait_ms: u64,
    stopping: impl Fn() -> bool,
) {
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    loop {
        let generation = partitions.data_notify().generation();
        let appended = watched.iter().any(|(topic, index, offset)| {
            partitions
                .get(topic, *index)
                .is_none_or(|p| p.log_end_offset() > *offset || !p.is_leader())
        });
        let now = Instant::now();
        if appended || stopping() || now >= deadline {
            return;
        }
        let changed = partitions.data_notify().changed_since(generation);
        future::or(changed, glommio::timer::sleep(deadline - now)).await;
    }
}

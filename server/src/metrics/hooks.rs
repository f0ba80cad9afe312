//! The calls the data path makes into metrics. Each records into the calling shard's own
//! [`ShardMetrics`](super::shard_metrics::ShardMetrics) (single-writer atomics, no locks, no
//! allocation except boxing a deferred response future) and returns what it wrapped unchanged.

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;
use sluice_engine::{AppendInfo, ReadError, ReadResult};

use super::shard_metrics::{with_local, Stage};

/// A request frame of `frame_bytes` (size prefix excluded) arrived.
pub fn request_received(frame_bytes: usize) {
    with_local(|m| m.received_bytes.add(frame_bytes as u64 + 4));
}

/// A request of `api_key` was handed to its handler.
pub fn request_dispatched(api_key: i16) {
    with_local(|m| {
        if let Some(api) = m.api(api_key) {
            api.requests.add(1);
        }
    });
}

/// A request of `api_key` finished: answered after `elapsed` (`ok`), or it closed the
/// connection.
pub fn request_finished(api_key: i16, ok: bool, elapsed: std::time::Duration) {
    with_local(|m| {
        let Some(api) = m.api(api_key) else {
            return;
        };
        if ok {
            api.latency.observe(elapsed);
        } else {
            api.failures.add(1);
        }
    });
}

/// A connection on `listener` authenticated with `mechanism` (`TLS` for a client
/// certificate), or failed to.
pub fn authentication(listener: &str, mechanism: &str, ok: bool) {
    with_local(|m| m.security.record(listener, mechanism, ok));
}

/// The authorizer refused (part of) a request of `api_key`.
pub fn authorization_denied(api_key: i16) {
    with_local(|m| {
        if let Some(api) = m.api(api_key) {
            api.denials.add(1);
        }
    });
}

/// The connection writer is about to send a response of `bytes`.
pub fn response_sent(bytes: usize) {
    with_local(|m| m.sent_bytes.add(bytes as u64));
}

/// The owner shard starts serving a request sent at `sent_at`: records its queueing time as
/// `stage` (`ProduceQueue` or `FetchQueue`).
pub fn dequeued(stage: Stage, sent_at: Instant) {
    let queued = sent_at.elapsed();
    with_local(|m| m.stage(stage).observe(queued));
}

/// Times `future` as `stage` on this shard.
pub async fn timed<T>(stage: Stage, future: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let output = future.await;
    let elapsed = started.elapsed();
    with_local(|m| m.stage(stage).observe(elapsed));
    output
}

/// Times a fetch's long-poll wait, counting it in `fetch_long_polls_waiting` meanwhile (also
/// when the wait is dropped unfinished: its connection closed).
pub async fn long_poll<T>(wait: impl Future<Output = T>) -> T {
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            with_local(|m| m.fetch_long_polls_waiting.add(-1));
        }
    }
    with_local(|m| m.fetch_long_polls_waiting.add(1));
    let _waiting = Waiting;
    timed(Stage::FetchWait, wait).await
}

/// Times one partition's append and counts the bytes of `batches` once appended.
pub async fn append<E>(
    batches: &[Bytes],
    append: impl Future<Output = Result<AppendInfo, E>>,
) -> Result<AppendInfo, E> {
    let result = timed(Stage::ProduceAppend, append).await;
    if result.is_ok() {
        let bytes: usize = batches.iter().map(Bytes::len).sum();
        with_local(|m| m.appended_bytes.add(bytes as u64));
    }
    result
}

/// Times an acks=all request's wait for its flush (the shard's flush round).
pub async fn flush<T>(flush: impl Future<Output = T>) -> T {
    timed(Stage::ProduceFlush, flush).await
}

/// Times one flush round of the shard.
pub async fn flush_round<T>(round: impl Future<Output = T>) -> T {
    timed(Stage::StorageFlushRound, round).await
}

/// Times one partition's fetch read and counts the bytes it returns.
pub async fn read(
    read: impl Future<Output = Result<ReadResult, ReadError>>,
) -> Result<ReadResult, ReadError> {
    let result = timed(Stage::FetchRead, read).await;
    if let Ok(found) = &result {
        with_local(|m| m.read_bytes.add(u64::from(found.bytes)));
    }
    result
}

/// An acks=all batch is replicated (the high watermark passed it): records the time since
/// the owner started its acks=all wait (`started`, right after the append) and since its
/// local flush finished (`flushed`).
pub fn replicated(started: Instant, flushed: Instant) {
    assert!(flushed >= started);
    let now = Instant::now();
    with_local(|m| {
        m.stage(Stage::ReplicationSinceAppend)
            .observe(now.duration_since(started));
        m.stage(Stage::ReplicationSinceFlush)
            .observe(now.duration_since(flushed));
    });
}

/// This shard received a replica fetch as leader; `other_shard` when it named a partition
/// another shard owns.
pub fn replica_fetch_served(other_shard: bool) {
    with_local(|m| {
        m.replication.served.add(1);
        if other_shard {
            m.replication.served_other_shard.add(1);
        }
    });
}

/// This shard received a replica fetch that continued an incremental fetch session.
pub fn replica_fetch_incremental() {
    with_local(|m| m.replication.served_incremental.add(1));
}

/// A leader answered one of this shard's replica fetches.
pub fn replica_fetch_answered() {
    with_local(|m| m.replication.fetches.add(1));
}

/// One of this shard's replication streams dropped its fetch in flight to name a new
/// partition at once.
pub fn replica_fetch_abandoned() {
    with_local(|m| m.replication.abandoned.add(1));
}

/// A replica fetch brought `batches` record batches of `bytes` for one partition.
pub fn replica_batches_fetched(bytes: usize, batches: usize) {
    with_local(|m| {
        m.replication.bytes.add(bytes as u64);
        m.replication.batches.add(batches as u64);
    });
}

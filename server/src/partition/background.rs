//! Per-shard background work on partitions: the periodic flush round (`flush_rounds.rs`)
//! (`log.flush.interval.ms`, default 10 ms), which bounds how much acks=0/1 data a crash can
//! lose and how long it stays unreadable, and retention. The log cleaner has its own task
//! (`cleaner.rs`).

use std::rc::Rc;
use std::time::Duration;

use super::registry::Partitions;
use crate::shard::context::ShardContext;
use crate::util::now_ms;

pub fn spawn(
    ctx: &Rc<ShardContext>,
    partitions: &Rc<Partitions>,
    flush_interval_ms: u64,
    retention_check_interval_ms: u64,
) {
    let flush_interval = Duration::from_millis(flush_interval_ms);
    glommio::spawn_local(flush_loop(ctx.clone(), partitions.clone(), flush_interval)).detach();
    let retention_interval = Duration::from_millis(retention_check_interval_ms);
    glommio::spawn_local(retention_loop(
        ctx.clone(),
        partitions.clone(),
        retention_interval,
    ))
    .detach();
}

async fn flush_loop(ctx: Rc<ShardContext>, partitions: Rc<Partitions>, interval: Duration) {
    while !ctx.is_stopping() {
        glommio::timer::sleep(interval).await;
        match partitions.flush_round().await {
            Ok(()) => {}
            // The round logged the cause. What it did not make durable stays unreadable and
            // unacknowledged (the high watermark is the flushed offset), and the logs keep it
            // as unflushed: the next round, at the latest one interval from now, writes and
            // syncs it again.
            Err(failed) => {
                tracing::warn!(shard = ctx.id(), "periodic {failed}; retried next round")
            }
        }
    }
}

async fn retention_loop(ctx: Rc<ShardContext>, partitions: Rc<Partitions>, interval: Duration) {
    while !ctx.is_stopping() {
        glommio::timer::sleep(interval).await;
        match partitions.apply_retention(now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(shard = ctx.id(), deleted, "retention deleted segments"),
            Err(err) => tracing::error!(shard = ctx.id(), "retention failed: {err}"),
        }
    }
}

//! Per-shard background work: the periodic group-commit flush (`log.flush.interval.ms`, default
//! 10 ms), which bounds how much acks=0/1 data a crash can lose, and retention.

use std::rc::Rc;
use std::time::Duration;

use super::shard::Shard;
use crate::util::now_ms;

pub fn spawn(shard: &Rc<Shard>) {
    glommio::spawn_local(flush_loop(shard.clone())).detach();
    glommio::spawn_local(retention_loop(shard.clone())).detach();
}

async fn flush_loop(shard: Rc<Shard>) {
    let interval = Duration::from_millis(shard.config.flush_interval_ms);
    while !shard.is_stopping() {
        glommio::timer::sleep(interval).await;
        if let Err(err) = shard.logs.flush_all().await {
            tracing::error!(shard = shard.id, "background flush failed: {err}");
        }
    }
}

async fn retention_loop(shard: Rc<Shard>) {
    let interval = Duration::from_millis(shard.config.retention_check_interval_ms);
    while !shard.is_stopping() {
        glommio::timer::sleep(interval).await;
        match shard.logs.apply_retention(now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(shard = shard.id, deleted, "retention deleted segments"),
            Err(err) => tracing::error!(shard = shard.id, "retention failed: {err}"),
        }
    }
}

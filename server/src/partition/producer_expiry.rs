//! Per-shard expiry of idle producers (`producer.id.expiration.ms`, checked every
//! `producer.id.expiration.check.interval.ms`, Kafka's defaults 1 day and 10 minutes). It
//! bounds producer state by time; `PRODUCERS_PER_PARTITION_MAX` bounds it by count.

use std::rc::Rc;
use std::time::Duration;

use super::registry::Partitions;
use crate::shard::context::ShardContext;
use crate::util::now_ms;

pub fn spawn(
    ctx: &Rc<ShardContext>,
    partitions: &Rc<Partitions>,
    expiration_ms: u64,
    check_interval_ms: u64,
) {
    assert!(check_interval_ms > 0);
    let expiration_ms = i64::try_from(expiration_ms).unwrap_or(i64::MAX);
    let interval = Duration::from_millis(check_interval_ms);
    let (ctx, partitions) = (ctx.clone(), partitions.clone());
    glommio::spawn_local(async move {
        while !ctx.is_stopping() {
            glommio::timer::sleep(interval).await;
            let expired = partitions.expire_producers(now_ms(), expiration_ms);
            if expired > 0 {
                tracing::info!(shard = ctx.id(), expired, "expired idle producer ids");
            }
        }
    })
    .detach();
}

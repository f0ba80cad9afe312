//! The coordinator's timers on one shard: every
//! `transaction.abort.timed.out.transaction.cleanup.interval.ms` it aborts the transactions
//! past their `transaction.timeout.ms` (with the producer's epoch bumped, so the hung producer
//! is fenced: Kafka's `abortTimedOutTransactions`), and every
//! `transaction.remove.expired.transaction.cleanup.interval.ms` it removes transactional ids
//! idle for `transactional.id.expiration.ms` (a tombstone each).

use std::rc::Rc;
use std::time::Duration;

use sluice_txn::Transition;

use super::service::TxnService;

pub async fn run(service: Rc<TxnService>) {
    let settings = service.settings().clone();
    let abort_every = Duration::from_millis(settings.abort_check_interval_ms);
    let expire_every_ms = settings.expiry_check_interval_ms;
    let mut since_expiry_ms = 0u64;
    while !service.ctx().is_stopping() {
        futures_lite::future::or(glommio::timer::sleep(abort_every), service.ctx().stopping())
            .await;
        if service.ctx().is_stopping() {
            return;
        }
        let now_ms = crate::util::now_ms();
        let timed_out = service.runtime().with(|c| c.timed_out(now_ms));
        for transition in timed_out {
            tracing::info!(transactional_id = %transition.transactional_id, producer_epoch = transition.target.producer_epoch, "aborting a transaction past its timeout");
            spawn_write(&service, transition);
        }
        since_expiry_ms += settings.abort_check_interval_ms;
        if since_expiry_ms >= expire_every_ms {
            since_expiry_ms = 0;
            let expired = service.runtime().with(|c| c.expired_ids(now_ms));
            for transition in expired {
                tracing::debug!(transactional_id = %transition.transactional_id, "removing an expired transactional id");
                spawn_write(&service, transition);
            }
        }
    }
}

fn spawn_write(service: &Rc<TxnService>, transition: Transition) {
    let service = service.clone();
    glommio::spawn_local(async move {
        let id = transition.transactional_id.clone();
        if let Err(error) = super::persist::write(&service, transition).await {
            tracing::warn!(transactional_id = %id, "coordinator timer write failed: {error:?}");
        }
    })
    .detach();
}

//! Which `__transaction_state` partitions this shard coordinates, and loading them. The shard
//! watches role changes (the partition registry's `roles_notify`, fired after every metadata
//! change is applied): a partition this broker now leads, or leads at a new leader epoch, is
//! replayed from its log start to its log end into the coordinator (Kafka loads to the log end
//! too: a new leader's log is the partition's truth from its election on), then served, and
//! the markers of every transaction found in a Prepare state are written again. A partition
//! no longer led is forgotten (its ids answer NOT_COORDINATOR).

use std::collections::BTreeMap;
use std::rc::Rc;

use sluice_txn::records;

use crate::group::batch::{decode_batches, Loaded};
use crate::group::loader::read_whole_batches;
use crate::partition::Partition;
use crate::topics::TXN_TOPIC;

use super::runtime::LedPartition;
use super::service::TxnService;

pub async fn watch(service: Rc<TxnService>) {
    let notify = service.partitions().roles_notify();
    while !service.ctx().is_stopping() {
        let generation = notify.generation();
        refresh(&service);
        futures_lite::future::or(notify.changed_since(generation), service.ctx().stopping()).await;
    }
}

/// The partitions of this shard this broker leads, with their leader epochs.
fn wanted(service: &TxnService) -> BTreeMap<i32, i32> {
    let meta = service.meta().get();
    let node = service.settings().node_id;
    let Some(topic) = meta.topic(TXN_TOPIC) else {
        return BTreeMap::new();
    };
    (0..topic.partitions)
        .filter(|&p| service.ctx().owns(TXN_TOPIC, p))
        .filter_map(|p| topic.state(p).map(|state| (p, state)))
        .filter(|(_, state)| state.leader == node)
        .map(|(p, state)| (p, state.leader_epoch))
        .collect()
}

fn refresh(service: &Rc<TxnService>) {
    let rt = service.runtime();
    let wanted = wanted(service);
    let current = rt.led_partitions();
    let lost: Vec<i32> = current
        .iter()
        .filter(|(p, led)| wanted.get(p) != Some(&led.coordinator_epoch))
        .map(|(p, _)| *p)
        .collect();
    if !lost.is_empty() {
        tracing::info!(partitions = ?lost, "no longer coordinating these {TXN_TOPIC} partitions");
        rt.unload(&lost);
    }
    let current = rt.led_partitions();
    for (partition, epoch) in wanted {
        if current.contains_key(&partition) {
            continue;
        }
        let Some(log) = service.partitions().get(TXN_TOPIC, partition) else {
            // Not open yet: the metadata change that opens it notifies again.
            continue;
        };
        let led = LedPartition {
            log,
            coordinator_epoch: epoch,
            loaded: false,
        };
        rt.begin_load(partition, led.clone());
        glommio::spawn_local(load(service.clone(), partition, led)).detach();
    }
}

async fn load(service: Rc<TxnService>, partition: i32, led: LedPartition) {
    let started = std::time::Instant::now();
    let replayed = match replay(&service, &led.log).await {
        Ok(replayed) => replayed,
        Err(err) => {
            // The partition stays loading: its ids answer COORDINATOR_LOAD_IN_PROGRESS rather
            // than act on a partial state.
            tracing::error!(partition, "cannot load {TXN_TOPIC}-{partition}: {err}");
            return;
        }
    };
    let rt = service.runtime();
    if !rt.finish_load(partition, led.coordinator_epoch) {
        return;
    }
    let settings = rt.settings();
    let pending: Vec<_> = rt
        .with(|c| c.markers_pending())
        .into_iter()
        .filter(|job| settings.partition_of(&job.transactional_id) == partition)
        .collect();
    tracing::info!(
        partition,
        coordinator_epoch = led.coordinator_epoch,
        records = replayed,
        resumed_markers = pending.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "transaction coordinator loaded"
    );
    for job in pending {
        super::markers::spawn(&service, job);
    }
}

/// Feeds every record of the partition, in log order, to the coordinator.
async fn replay(service: &TxnService, log: &Partition) -> Result<u64, String> {
    let end = log.log_end_offset();
    let mut offset = log.log_start_offset();
    let mut replayed = 0u64;
    while offset < end {
        let Some((bytes, next)) = read_whole_batches(log, offset).await? else {
            break;
        };
        let loaded = decode_batches(bytes).map_err(|e| e.to_string())?;
        for item in loaded.into_iter().filter(|r| r.offset() >= offset) {
            // The coordinator writes no transactions of its own: no markers here.
            let Loaded::Record(record) = item else {
                continue;
            };
            if apply(service, record.key.as_deref(), record.value.as_deref()) {
                replayed += 1;
            } else {
                tracing::warn!(
                    offset = record.offset,
                    "skipping an unreadable {TXN_TOPIC} record"
                );
            }
        }
        offset = next;
    }
    Ok(replayed)
}

fn apply(service: &TxnService, key: Option<&[u8]>, value: Option<&[u8]>) -> bool {
    let Some(Ok(id)) = key.map(records::decode_key) else {
        return false;
    };
    let metadata = match value {
        None => None,
        Some(bytes) => match records::decode_value(&id, bytes) {
            Ok(metadata) => Some(metadata),
            Err(_) => return false,
        },
    };
    service.runtime().with(|c| c.load(&id, metadata));
    true
}

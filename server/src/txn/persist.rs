//! Making a coordinator transition durable: one `__transaction_state` record (Kafka's
//! `TransactionLogKey` / `TransactionLogValue`, a tombstone for a removed id), appended to the
//! id's partition and replicated with acks=all, then applied with `complete`. A Prepare*
//! state then starts its markers.
//!
//! A failed write drops the pending transition (the coordinator stays where it was) and
//! answers with Kafka's mapping of the append error (`TransactionStateManager.appendTransactionToLog`):
//! COORDINATOR_NOT_AVAILABLE for the retriable replication errors, NOT_COORDINATOR when this
//! broker lost the partition. The record may still survive (it was appended): a reload then
//! finds it, as in Kafka.

use std::rc::Rc;

use bytes::Bytes;
use sluice_txn::{records, Transition, TxnState};

use crate::error_code::{ResponseError, NONE};
use crate::group::batch::encode_batches;
use crate::group::records::OffsetsRecord;
use crate::partition::messages::ReplicatePart;
use crate::partition::AppendOrigin;
use crate::partition::replicate::replicate;
use crate::topics::TXN_TOPIC;

use super::config::TXN_LOG_WRITE_TIMEOUT_MS;
use super::service::TxnService;

/// Writes `transition` (pending in the coordinator) and applies it; on failure drops it. A
/// write that outlives this broker's coordinatorship of the partition (unloaded, or reloaded at
/// a newer epoch meanwhile) touches nothing: the coordinator it was meant for is gone.
pub async fn write(service: &Rc<TxnService>, transition: Transition) -> Result<(), ResponseError> {
    let id = transition.transactional_id.clone();
    let rt = service.runtime();
    let (partition, led) = match rt.ready(&id) {
        Ok(ready) => ready,
        Err(error) => {
            rt.with(|c| c.complete(&id, false));
            return Err(error);
        }
    };
    let written = append_and_replicate(service, partition, &led, &transition).await;
    if !rt.still_leads(partition, led.coordinator_epoch) {
        return Err(ResponseError::NotCoordinator);
    }
    match written {
        Ok(()) => {
            let job = rt.with(|c| c.complete(&id, true));
            if let Some(job) = job {
                super::markers::spawn(service, job);
            }
            Ok(())
        }
        Err(error) => {
            tracing::warn!(transactional_id = %id, state = transition.target.state.name(), "transaction state not written: {error:?}");
            let job = rt.with(|c| c.complete(&id, false));
            assert!(job.is_none(), "a dropped transition starts no markers");
            Err(error)
        }
    }
}

async fn append_and_replicate(
    service: &Rc<TxnService>,
    partition: i32,
    led: &super::runtime::LedPartition,
    transition: &Transition,
) -> Result<(), ResponseError> {
    let now_ms = crate::util::now_ms();
    let value = match transition.target.state {
        TxnState::Dead => None,
        _ => Some(Bytes::from(records::encode_value(&transition.target))),
    };
    let record = OffsetsRecord {
        key: Bytes::from(records::encode_key(&transition.transactional_id)),
        value,
    };
    let batches = encode_batches(std::slice::from_ref(&record), now_ms, None).map_err(|err| {
        tracing::error!("encoding a {TXN_TOPIC} record: {err}");
        ResponseError::UnknownServerError
    })?;
    let info = led.log.append(&batches, AppendOrigin::Coordinator, now_ms).await.map_err(|err| {
        tracing::warn!(partition, "appending to {TXN_TOPIC}: {err}");
        ResponseError::NotCoordinator
    })?;
    let part = ReplicatePart {
        topic: TXN_TOPIC.to_string(),
        partition,
        last_offset: info.last_offset,
    };
    let codes = replicate(service.partitions(), vec![part], TXN_LOG_WRITE_TIMEOUT_MS).await;
    let code = codes.first().copied().unwrap_or(NONE);
    if code != NONE {
        return Err(map_append_error(code));
    }
    Ok(())
}

/// Kafka's mapping of a `__transaction_state` append error to what the client is told.
fn map_append_error(code: i16) -> ResponseError {
    let retriable = [
        ResponseError::UnknownTopicOrPartition,
        ResponseError::NotEnoughReplicas,
        ResponseError::NotEnoughReplicasAfterAppend,
        ResponseError::RequestTimedOut,
    ];
    let moved = [
        ResponseError::NotLeaderOrFollower,
        ResponseError::KafkaStorageError,
    ];
    if retriable.iter().any(|e| e.code() == code) {
        ResponseError::CoordinatorNotAvailable
    } else if moved.iter().any(|e| e.code() == code) {
        ResponseError::NotCoordinator
    } else {
        ResponseError::UnknownServerError
    }
}

//! InitProducerId (key 22): a new producer id for an idempotent producer.
//!
//! Kafka's rules (`KafkaApis.handleInitProducerIdRequest`, `TransactionCoordinator`):
//! - No transactional id: always a new producer id with epoch 0, also when the client names
//!   its current id and epoch (v3+, KIP-360). A non-transactional producer has no state on the
//!   coordinator to bump, so its "bump" is a fresh id; the client then starts at sequence 0.
//! - A producer id without an epoch, or the reverse: INVALID_REQUEST.
//! - An empty transactional id: INVALID_REQUEST.
//! - A transactional id: COORDINATOR_NOT_AVAILABLE (retriable), until the transaction
//!   coordinator exists; FindCoordinator answers the same for transaction keys.

use std::rc::Rc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::protocol::VersionRange;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::partition::producer_state::{NO_PRODUCER_EPOCH, NO_PRODUCER_ID};
use crate::producer_ids::ProducerIdService;

/// v0–v4: what the Java client (3.x), librdkafka and kafka-python send. v5 (KIP-890) waits for
/// transactions.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// The epoch of a new producer id.
const EPOCH_INITIAL: i16 = 0;

pub async fn handle(
    producer_ids: &Rc<ProducerIdService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: InitProducerIdRequest = request.decode()?;
    let (error_code, producer_id) = match check(&body) {
        Err(error) => {
            tracing::debug!(
                transactional_id = ?body.transactional_id.as_ref().map(|t| t.0.to_string()),
                "InitProducerId refused: {error:?}"
            );
            (error.code(), NO_PRODUCER_ID)
        }
        Ok(()) => match producer_ids.generate().await {
            Ok(producer_id) => (NONE, producer_id),
            Err((code, message)) => {
                tracing::warn!(code, "no producer id for InitProducerId: {message}");
                (code, NO_PRODUCER_ID)
            }
        },
    };
    let mut response = InitProducerIdResponse::default();
    response.error_code = error_code;
    response.producer_id = ProducerId(producer_id);
    response.producer_epoch = if error_code == NONE {
        EPOCH_INITIAL
    } else {
        NO_PRODUCER_EPOCH
    };
    Ok(request.respond(&response)?.into())
}

fn check(body: &InitProducerIdRequest) -> Result<(), ResponseError> {
    let id_given = body.producer_id.0 != NO_PRODUCER_ID;
    let epoch_given = body.producer_epoch != NO_PRODUCER_EPOCH;
    if id_given != epoch_given {
        return Err(ResponseError::InvalidRequest);
    }
    match &body.transactional_id {
        None => Ok(()),
        Some(id) if id.0.is_empty() => Err(ResponseError::InvalidRequest),
        Some(_) => Err(ResponseError::CoordinatorNotAvailable),
    }
}

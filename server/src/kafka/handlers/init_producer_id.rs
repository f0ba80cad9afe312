//! InitProducerId (key 22): a producer id and epoch for an idempotent or transactional producer.
//!
//! Kafka's rules (`KafkaApis.handleInitProducerIdRequest`, `TransactionCoordinator`):
//! - No transactional id: always a new producer id with epoch 0, also when the client names
//!   its current id and epoch (v3+, KIP-360). A non-transactional producer has no state on the
//!   coordinator to bump, so its "bump" is a fresh id; the client then starts at sequence 0.
//! - A producer id without an epoch, or the reverse: INVALID_REQUEST.
//! - An empty transactional id: INVALID_REQUEST.
//! - A transactional id: the transaction coordinator of that id answers (`crate::txn`): the
//!   id's producer id with its epoch bumped (which fences older instances), after aborting a
//!   transaction the previous instance left open (the client is told CONCURRENT_TRANSACTIONS
//!   meanwhile and retries). Another broker's id: NOT_COORDINATOR.
//!
//! Authorization comes first: a transactional id needs WRITE on it
//! (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs IDEMPOTENT_WRITE on the
//! cluster (asked quietly) or WRITE on some topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.

use std::rc::Rc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::partition::producer_state::{NO_PRODUCER_EPOCH, NO_PRODUCER_ID};
use crate::producer_ids::ProducerIdService;
use crate::txn::{TxnAnswer, TxnOp, TxnService};

/// v0–v4: what the Java client (3.x), librdkafka and kafka-python send. v5 (KIP-890 part 2)
/// is not served.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// The first version that knows PRODUCER_FENCED.
const FENCED_VERSION_MIN: i16 = 4;

/// The epoch of a new producer id.
const EPOCH_INITIAL: i16 = 0;

pub async fn handle(
    producer_ids: &Rc<ProducerIdService>,
    txn: &Rc<TxnService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: InitProducerIdRequest = request.decode()?;
    let checked = match refusal(authz, &body) {
        Some(error) => Err(error),
        None => check(&body),
    };
    let answer = match checked {
        Err(error) => {
            tracing::debug!(
                transactional_id = ?body.transactional_id.as_ref().map(|t| t.0.to_string()),
                "InitProducerId refused: {error:?}"
            );
            Err(error.code())
        }
        Ok(None) => idempotent(producer_ids).await,
        Ok(Some(transactional_id)) => transactional(txn, &body, transactional_id).await,
    };
    let mut response = InitProducerIdResponse::default();
    match answer {
        Ok((producer_id, epoch)) => {
            response.error_code = NONE;
            response.producer_id = ProducerId(producer_id);
            response.producer_epoch = epoch;
        }
        Err(code) => {
            let version = request.version;
            response.error_code =
                crate::kafka::txn_codes::for_version(code, version, FENCED_VERSION_MIN);
            response.producer_id = ProducerId(NO_PRODUCER_ID);
            response.producer_epoch = NO_PRODUCER_EPOCH;
        }
    }
    Ok(request.respond(&response)?.into())
}

async fn idempotent(producer_ids: &Rc<ProducerIdService>) -> Result<(i64, i16), i16> {
    match producer_ids.generate().await {
        Ok(producer_id) => Ok((producer_id, EPOCH_INITIAL)),
        Err((code, message)) => {
            tracing::warn!(code, "no producer id for InitProducerId: {message}");
            Err(code)
        }
    }
}

async fn transactional(
    txn: &Rc<TxnService>,
    body: &InitProducerIdRequest,
    transactional_id: String,
) -> Result<(i64, i16), i16> {
    let expected =
        (body.producer_id.0 != NO_PRODUCER_ID).then_some((body.producer_id.0, body.producer_epoch));
    let op = TxnOp::Init {
        transactional_id: transactional_id.clone(),
        timeout_ms: body.transaction_timeout_ms,
        expected,
    };
    match txn.call(&transactional_id, op).await {
        TxnAnswer::Init(answer) => answer,
        TxnAnswer::Done(Err(code)) => Err(code),
        other => {
            tracing::error!("InitProducerId: unexpected coordinator answer {other:?}");
            Err(ResponseError::UnknownServerError.code())
        }
    }
}

/// Kafka's authorization of the request (`handleInitProducerIdRequest`).
fn refusal(authz: &Authz, body: &InitProducerIdRequest) -> Option<ResponseError> {
    match &body.transactional_id {
        Some(id) => {
            let allowed = authz.transactional_id(AclOperation::Write, id.0.as_str());
            (!allowed).then_some(ResponseError::TransactionalIdAuthorizationFailed)
        }
        None => {
            let on_cluster = authz.can_see(
                AclOperation::IdempotentWrite,
                ResourceType::Cluster,
                CLUSTER_NAME,
            );
            let allowed = on_cluster || authz.any_of_type(AclOperation::Write, ResourceType::Topic);
            (!allowed).then_some(ResponseError::ClusterAuthorizationFailed)
        }
    }
}

/// `Ok(None)`: idempotent only; `Ok(Some(id))`: transactional.
fn check(body: &InitProducerIdRequest) -> Result<Option<String>, ResponseError> {
    let id_given = body.producer_id.0 != NO_PRODUCER_ID;
    let epoch_given = body.producer_epoch != NO_PRODUCER_EPOCH;
    if id_given != epoch_given {
        return Err(ResponseError::InvalidRequest);
    }
    match &body.transactional_id {
        None => Ok(None),
        Some(id) if id.0.is_empty() => Err(ResponseError::InvalidRequest),
        Some(id) => Ok(Some(id.0.to_string())),
    }
}

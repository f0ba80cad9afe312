//! EndTxn (key 26): commit or abort the producer's ongoing transaction (Kafka's
//! `handleEndTxnRequest`). Answered once PrepareCommit/PrepareAbort is durable in
//! `__transaction_state`; the markers are written afterwards (`crate::txn::markers`), and the
//! transaction's partitions hold back read_committed consumers until they are. A retried
//! EndTxn of a transaction that has completed the same way succeeds. Needs WRITE on the
//! transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse, ProducerId};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::txn::{TxnAnswer, TxnOp, TxnService};

/// v0–v3. v4–v5 (KIP-890 part 2: TRANSACTION_ABORTABLE, an epoch bump per transaction) are not
/// served.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };

/// The first version that knows PRODUCER_FENCED.
const FENCED_VERSION_MIN: i16 = 2;

pub async fn handle(
    txn: &Rc<TxnService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: EndTxnRequest = request.decode()?;
    let transactional_id = body.transactional_id.0.to_string();
    let code = if authz.transactional_id(AclOperation::Write, &transactional_id) {
        let op = TxnOp::End {
            transactional_id: transactional_id.clone(),
            producer_id: body.producer_id.0,
            producer_epoch: body.producer_epoch,
            commit: body.committed,
        };
        match txn.call(&transactional_id, op).await {
            TxnAnswer::Done(Ok(())) => NONE,
            TxnAnswer::Done(Err(code)) => code,
            other => {
                tracing::error!("EndTxn: unexpected coordinator answer {other:?}");
                ResponseError::UnknownServerError.code()
            }
        }
    } else {
        ResponseError::TransactionalIdAuthorizationFailed.code()
    };
    if code != NONE {
        tracing::debug!(
            transactional_id,
            commit = body.committed,
            code,
            "EndTxn refused"
        );
    }
    let mut response = EndTxnResponse::default();
    response.error_code =
        crate::kafka::txn_codes::for_version(code, request.version, FENCED_VERSION_MIN);
    response.producer_id = ProducerId(-1);
    response.producer_epoch = -1;
    Ok(request.respond(&response)?.into())
}

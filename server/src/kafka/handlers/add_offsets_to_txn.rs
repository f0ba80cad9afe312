//! AddOffsetsToTxn (key 25): a transactional producer will commit a group's offsets in its
//! transaction (TxnOffsetCommit follows). The coordinator adds the group's `__consumer_offsets`
//! partition to the transaction, so that its markers reach the group coordinator too
//! (Kafka's `handleAddOffsetsToTxnRequest`). Needs WRITE on the transactional id
//! (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then READ on the group (GROUP_AUTHORIZATION_FAILED).

use std::rc::Rc;

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use kafka_protocol::protocol::VersionRange;
use sluice_txn::TopicPartition;

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::group::placement::offsets_partition;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::topics::OFFSETS_TOPIC;
use crate::txn::{TxnAnswer, TxnOp, TxnService};

/// v0–v3. v4 (KIP-890 part 2's TRANSACTION_ABORTABLE) is not served.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };

/// The first version that knows PRODUCER_FENCED.
const FENCED_VERSION_MIN: i16 = 2;

pub async fn handle(
    txn: &Rc<TxnService>,
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: AddOffsetsToTxnRequest = request.decode()?;
    let transactional_id = body.transactional_id.0.to_string();
    let code = if !authz.transactional_id(AclOperation::Write, &transactional_id) {
        ResponseError::TransactionalIdAuthorizationFailed.code()
    } else if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        ResponseError::GroupAuthorizationFailed.code()
    } else if body.group_id.0.is_empty() {
        ResponseError::InvalidGroupId.code()
    } else {
        let created = metadata.ensure_offsets_topic().await;
        if let Err((code, message)) = created {
            tracing::warn!(code, "cannot create {OFFSETS_TOPIC}: {message}");
        }
        let partitions = txn.settings().offsets_partitions;
        let offsets = TopicPartition {
            topic: OFFSETS_TOPIC.to_string(),
            partition: offsets_partition(body.group_id.0.as_str(), partitions),
        };
        let op = TxnOp::AddPartitions {
            transactional_id: transactional_id.clone(),
            producer_id: body.producer_id.0,
            producer_epoch: body.producer_epoch,
            partitions: vec![offsets],
        };
        match txn.call(&transactional_id, op).await {
            TxnAnswer::Done(Ok(())) => NONE,
            TxnAnswer::Done(Err(code)) => code,
            other => {
                tracing::error!("AddOffsetsToTxn: unexpected coordinator answer {other:?}");
                ResponseError::UnknownServerError.code()
            }
        }
    };
    let mut response = AddOffsetsToTxnResponse::default();
    response.error_code =
        crate::kafka::txn_codes::for_version(code, request.version, FENCED_VERSION_MIN);
    Ok(request.respond(&response)?.into())
}

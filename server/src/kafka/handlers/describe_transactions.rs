//! DescribeTransactions (key 65): the coordinator's view of transactional ids (Kafka's
//! `handleDescribeTransactionsRequest`): state, producer id and epoch, timeout, start time and
//! the partitions of the ongoing transaction. An id coordinated elsewhere gets NOT_COORDINATOR;
//! an unknown one TRANSACTIONAL_ID_NOT_FOUND.
//!
//! Authorization (Kafka's): DESCRIBE on each transactional id (else
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED for it); the transaction's partitions list only the
//! topics the principal may DESCRIBE (the others are left out quietly).

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::txn::{TxnAnswer, TxnOp, TxnService};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

/// Ids described per request: each is a coordinator call.
pub const IDS_PER_REQUEST_MAX: usize = 10_000;

pub async fn handle(
    txn: &Rc<TxnService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeTransactionsRequest = request.decode()?;
    let mut response = DescribeTransactionsResponse::default();
    for (index, id) in body.transactional_ids.iter().enumerate() {
        let mut state = TransactionState::default();
        state.transactional_id = id.clone();
        state.producer_id = ProducerId(-1);
        state.producer_epoch = -1;
        state.transaction_state = StrBytes::from_static_str("");
        if index >= IDS_PER_REQUEST_MAX {
            state.error_code = ResponseError::PolicyViolation.code();
            response.transaction_states.push(state);
            continue;
        }
        let key = id.0.to_string();
        if !authz.transactional_id(AclOperation::Describe, &key) {
            state.error_code = ResponseError::TransactionalIdAuthorizationFailed.code();
            response.transaction_states.push(state);
            continue;
        }
        let op = TxnOp::Describe {
            transactional_id: key.clone(),
        };
        match txn.call(&key, op).await {
            TxnAnswer::Describe(Ok(metadata)) => {
                state.error_code = NONE;
                state.transaction_state = StrBytes::from_static_str(metadata.state.name());
                state.transaction_timeout_ms = metadata.timeout_ms;
                state.transaction_start_time_ms = metadata.start_timestamp_ms;
                state.producer_id = ProducerId(metadata.producer_id);
                state.producer_epoch = metadata.producer_epoch;
                let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                let visible = metadata.partitions.into_iter().filter(|tp| {
                    authz.can_see(AclOperation::Describe, ResourceType::Topic, &tp.topic)
                });
                for tp in visible {
                    topics.entry(tp.topic).or_default().push(tp.partition);
                }
                state.topics = topics
                    .into_iter()
                    .map(|(topic, partitions)| {
                        let mut data = TopicData::default();
                        data.topic = TopicName(StrBytes::from_string(topic));
                        data.partitions = partitions;
                        data
                    })
                    .collect();
            }
            TxnAnswer::Describe(Err(code)) | TxnAnswer::Done(Err(code)) => state.error_code = code,
            other => {
                tracing::error!("DescribeTransactions: unexpected coordinator answer {other:?}");
                state.error_code = ResponseError::UnknownServerError.code();
            }
        }
        response.transaction_states.push(state);
    }
    Ok(request.respond(&response)?.into())
}

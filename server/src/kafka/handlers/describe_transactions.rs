//! DescribeTransactions (key 65): the coordinator's view of transactional ids (Kafka's
//! `handleDescribeTransactionsRequest`): state, producer id and epoch, timeout, start time and
//! the partitions of the ongoing transaction. An id coordinated elsewhere gets NOT_COORDINATOR;
//! an unknown one TRANSACTIONAL_ID_NOT_FOUND.

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::txn::{TxnAnswer, TxnOp, TxnService};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

/// Ids described per request: each is a coordinator call.
pub const IDS_PER_REQUEST_MAX: usize = 10_000;

pub async fn handle(txn: &Rc<TxnService>, request: Request) -> Result<Outcome, RequestError> {
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
                for tp in metadata.partitions {
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

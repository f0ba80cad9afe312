//! AddPartitionsToTxn (key 24): a transactional producer names the partitions it is about to
//! write, before it writes them (Kafka's `handleAddPartitionsToTransaction`).
//!
//! - v0–v3 (clients): one transaction. A partition the metadata does not have gets
//!   UNKNOWN_TOPIC_OR_PARTITION and every other one OPERATION_NOT_ATTEMPTED (nothing is
//!   added); otherwise the coordinator's answer applies to every partition.
//! - v4 (brokers, KIP-890): a batch of transactions; `verify_only` asks whether the
//!   partitions are in the producer's ongoing transaction without adding them. That is how a
//!   partition leader checks a producer's first transactional write.

use std::rc::Rc;

use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, TopicName};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_txn::TopicPartition;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::txn::{TxnAnswer, TxnOp, TxnService};

/// v0–v3 from clients, v4 between brokers. v5 (KIP-890 part 2's TRANSACTION_ABORTABLE) is not
/// served.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// The first version that knows PRODUCER_FENCED.
const FENCED_VERSION_MIN: i16 = 2;
/// The first version that batches transactions (inter-broker).
const BATCHED_VERSION_MIN: i16 = 4;

pub async fn handle(
    txn: &Rc<TxnService>,
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: AddPartitionsToTxnRequest = request.decode()?;
    let mut response = AddPartitionsToTxnResponse::default();
    if request.version >= BATCHED_VERSION_MIN {
        for transaction in &body.transactions {
            response
                .results_by_transaction
                .push(batched(txn, metadata, transaction).await);
        }
    } else {
        let answer = one(
            txn,
            metadata,
            body.v3_and_below_transactional_id.0.as_str(),
            body.v3_and_below_producer_id.0,
            body.v3_and_below_producer_epoch,
            false,
            &body.v3_and_below_topics,
        )
        .await;
        let version = request.version;
        let fenced = |code| crate::kafka::txn_codes::for_version(code, version, FENCED_VERSION_MIN);
        response.results_by_topic_v3_and_below = results(answer, fenced);
    }
    Ok(request.respond(&response)?.into())
}

async fn batched(
    txn: &Rc<TxnService>,
    metadata: &Rc<MetadataService>,
    transaction: &AddPartitionsToTxnTransaction,
) -> AddPartitionsToTxnResult {
    let answer = one(
        txn,
        metadata,
        transaction.transactional_id.0.as_str(),
        transaction.producer_id.0,
        transaction.producer_epoch,
        transaction.verify_only,
        &transaction.topics,
    )
    .await;
    let mut result = AddPartitionsToTxnResult::default();
    result.transactional_id = transaction.transactional_id.clone();
    result.topic_results = results(answer, |code| code);
    result
}

/// One transaction's partitions with their codes.
async fn one(
    txn: &Rc<TxnService>,
    metadata: &Rc<MetadataService>,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
) -> Vec<(TopicPartition, i16)> {
    let partitions: Vec<TopicPartition> = topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|&partition| TopicPartition {
                topic: topic.name.0.to_string(),
                partition,
            })
        })
        .collect();
    let meta = metadata.meta();
    let unknown: Vec<bool> = partitions
        .iter()
        .map(|tp| {
            !meta
                .topic(&tp.topic)
                .is_some_and(|t| (0..t.partitions).contains(&tp.partition))
        })
        .collect();
    if unknown.iter().any(|&u| u) {
        return partitions
            .into_iter()
            .zip(unknown)
            .map(|(tp, unknown)| {
                let code = if unknown {
                    ResponseError::UnknownTopicOrPartition.code()
                } else {
                    ResponseError::OperationNotAttempted.code()
                };
                (tp, code)
            })
            .collect();
    }
    let op = if verify_only {
        TxnOp::Verify {
            transactional_id: transactional_id.to_string(),
            producer_id,
            producer_epoch,
            partitions: partitions.clone(),
        }
    } else {
        TxnOp::AddPartitions {
            transactional_id: transactional_id.to_string(),
            producer_id,
            producer_epoch,
            partitions: partitions.clone(),
        }
    };
    let same_for_all = |code: i16| partitions.iter().map(|tp| (tp.clone(), code)).collect();
    match txn.call(transactional_id, op).await {
        TxnAnswer::Done(Ok(())) => same_for_all(NONE),
        TxnAnswer::Done(Err(code)) | TxnAnswer::Verify(Err(code)) => same_for_all(code),
        TxnAnswer::Verify(Ok(rows)) => rows,
        other => {
            tracing::error!("AddPartitionsToTxn: unexpected coordinator answer {other:?}");
            same_for_all(ResponseError::UnknownServerError.code())
        }
    }
}

/// Groups per-partition codes by topic, in request order.
fn results(
    rows: Vec<(TopicPartition, i16)>,
    map_code: impl Fn(i16) -> i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    let mut out: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
    for (tp, code) in rows {
        let mut partition = AddPartitionsToTxnPartitionResult::default();
        partition.partition_index = tp.partition;
        partition.partition_error_code = map_code(code);
        match out.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
            Some(topic) => topic.results_by_partition.push(partition),
            None => {
                let mut topic = AddPartitionsToTxnTopicResult::default();
                topic.name = TopicName(StrBytes::from_string(tp.topic));
                topic.results_by_partition.push(partition);
                out.push(topic);
            }
        }
    }
    out
}

//! AddPartitionsToTxn (key 24): a transactional producer names the partitions it is about to
//! write, before it writes them (Kafka's `handleAddPartitionsToTransaction`).
//!
//! - v0–v3 (clients): one transaction. A partition the metadata does not have gets
//!   UNKNOWN_TOPIC_OR_PARTITION and every other one OPERATION_NOT_ATTEMPTED (nothing is
//!   added); otherwise the coordinator's answer applies to every partition.
//! - v4 (brokers, KIP-890): a batch of transactions; `verify_only` asks whether the
//!   partitions are in the producer's ongoing transaction without adding them. That is how a
//!   partition leader checks a producer's first transactional write.
//!
//! Authorization (Kafka's): v4 needs CLUSTER_ACTION on the cluster (else
//! CLUSTER_AUTHORIZATION_FAILED at the top). v0–v3 need WRITE on the transactional id (else
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition) and WRITE on each topic (else
//! TOPIC_AUTHORIZATION_FAILED, before whether it exists; internal topics never pass, as in
//! Kafka), the other partitions then getting OPERATION_NOT_ATTEMPTED.

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

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
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
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: AddPartitionsToTxnRequest = request.decode()?;
    let mut response = AddPartitionsToTxnResponse::default();
    if request.version >= BATCHED_VERSION_MIN {
        if !authz.cluster(AclOperation::ClusterAction) {
            response.error_code = ResponseError::ClusterAuthorizationFailed.code();
            return Ok(request.respond(&response)?.into());
        }
        for transaction in &body.transactions {
            response
                .results_by_transaction
                .push(batched(txn, metadata, transaction).await);
        }
    } else {
        let transactional_id = body.v3_and_below_transactional_id.0.as_str();
        let answer = if authz.transactional_id(AclOperation::Write, transactional_id) {
            let writable = |topic: &str| {
                !crate::topics::is_internal(topic) && authz.topic(AclOperation::Write, topic)
            };
            let transaction = Transaction {
                transactional_id,
                producer_id: body.v3_and_below_producer_id.0,
                producer_epoch: body.v3_and_below_producer_epoch,
                verify_only: false,
            };
            one(
                txn,
                metadata,
                transaction,
                &body.v3_and_below_topics,
                writable,
            )
            .await
        } else {
            let refused = ResponseError::TransactionalIdAuthorizationFailed.code();
            partitions_of(&body.v3_and_below_topics)
                .into_iter()
                .map(|tp| (tp, refused))
                .collect()
        };
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
    let asked = Transaction {
        transactional_id: transaction.transactional_id.0.as_str(),
        producer_id: transaction.producer_id.0,
        producer_epoch: transaction.producer_epoch,
        verify_only: transaction.verify_only,
    };
    // Brokers (CLUSTER_ACTION, checked above) need no topic ACLs.
    let answer = one(txn, metadata, asked, &transaction.topics, |_| true).await;
    let mut result = AddPartitionsToTxnResult::default();
    result.transactional_id = transaction.transactional_id.clone();
    result.topic_results = results(answer, |code| code);
    result
}

/// The transaction one request (v0–v3) or one batch entry (v4) names.
struct Transaction<'a> {
    transactional_id: &'a str,
    producer_id: i64,
    producer_epoch: i16,
    verify_only: bool,
}

fn partitions_of(topics: &[AddPartitionsToTxnTopic]) -> Vec<TopicPartition> {
    topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|&partition| TopicPartition {
                topic: topic.name.0.to_string(),
                partition,
            })
        })
        .collect()
}

/// One transaction's partitions with their codes. A topic `writable` refuses gets
/// TOPIC_AUTHORIZATION_FAILED (asked once per topic), an unknown partition
/// UNKNOWN_TOPIC_OR_PARTITION, and then nothing is added: the others get
/// OPERATION_NOT_ATTEMPTED.
async fn one(
    txn: &Rc<TxnService>,
    metadata: &Rc<MetadataService>,
    transaction: Transaction<'_>,
    topics: &[AddPartitionsToTxnTopic],
    writable: impl Fn(&str) -> bool,
) -> Vec<(TopicPartition, i16)> {
    let Transaction {
        transactional_id,
        producer_id,
        producer_epoch,
        verify_only,
    } = transaction;
    let partitions = partitions_of(topics);
    let refused: std::collections::BTreeSet<&str> = topics
        .iter()
        .map(|topic| topic.name.0.as_str())
        .filter(|topic| !writable(topic))
        .collect();
    let meta = metadata.meta();
    let codes: Vec<i16> = partitions
        .iter()
        .map(|tp| {
            let known = meta
                .topic(&tp.topic)
                .is_some_and(|t| (0..t.partitions).contains(&tp.partition));
            if refused.contains(tp.topic.as_str()) {
                ResponseError::TopicAuthorizationFailed.code()
            } else if !known {
                ResponseError::UnknownTopicOrPartition.code()
            } else {
                NONE
            }
        })
        .collect();
    if codes.iter().any(|&code| code != NONE) {
        let not_attempted = ResponseError::OperationNotAttempted.code();
        return partitions
            .into_iter()
            .zip(codes)
            .map(|(tp, code)| (tp, if code == NONE { not_attempted } else { code }))
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

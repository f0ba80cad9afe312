//! KIP-890 part 1 on the produce path: before a partition leader accepts a producer's first
//! transactional batch (no ongoing transaction of that producer there yet), it asks the
//! transactional id's coordinator whether the partition is in the producer's ongoing
//! transaction. A write that arrives after its transaction ended (a delayed retry, a zombie)
//! is refused instead of opening a transaction nobody will end, which would hold back every
//! read_committed consumer of the partition (the "hanging transaction" Kafka and Jepsen found).
//!
//! The coordinator may be this broker (a mesh call to its shard) or another one
//! (AddPartitionsToTxn v4 with `verify_only`, as Kafka's `AddPartitionsToTxnManager` sends).
//! Coordinator errors the producer should retry through are answered as NOT_ENOUGH_REPLICAS,
//! which every producer retries (Kafka's mapping for the produce path).

use std::rc::Rc;
use std::time::Duration;

use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, ApiKey, ProducerId, TopicName,
    TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use sluice_txn::TopicPartition;

use crate::error_code::{ResponseError, NONE};

use super::service::{TxnAnswer, TxnOp, TxnService};

/// AddPartitionsToTxn version of the inter-broker verification.
const VERIFY_VERSION: i16 = 4;
/// Longest wait for a remote coordinator's verification answer.
const VERIFY_TIMEOUT_MS: u64 = 10_000;

impl TxnService {
    /// Is `topic`-`partition` in the ongoing transaction of (`producer_id`, `producer_epoch`)
    /// under `transactional_id`? `Err` carries the code the produce request gets.
    pub async fn verify(
        self: &Rc<Self>,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        topic: &str,
        partition: i32,
    ) -> Result<(), i16> {
        let tp = TopicPartition {
            topic: topic.to_string(),
            partition,
        };
        let code = match self.coordinator_node(transactional_id) {
            None => ResponseError::CoordinatorNotAvailable.code(),
            Some(node) if node == self.settings().node_id => {
                let op = TxnOp::Verify {
                    transactional_id: transactional_id.to_string(),
                    producer_id,
                    producer_epoch,
                    partitions: vec![tp.clone()],
                };
                match self.call(transactional_id, op).await {
                    TxnAnswer::Verify(Ok(rows)) => code_of(&rows, &tp),
                    TxnAnswer::Verify(Err(code)) | TxnAnswer::Done(Err(code)) => code,
                    _ => ResponseError::UnknownServerError.code(),
                }
            }
            Some(node) => {
                self.verify_remote(node, transactional_id, producer_id, producer_epoch, &tp)
                    .await
            }
        };
        if code == NONE {
            return Ok(());
        }
        tracing::debug!(
            transactional_id,
            producer_id,
            producer_epoch,
            topic,
            partition,
            code,
            "transactional write not verified"
        );
        Err(produce_code(code))
    }

    async fn verify_remote(
        &self,
        node: i32,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        tp: &TopicPartition,
    ) -> i16 {
        let mut topic = AddPartitionsToTxnTopic::default();
        topic.name = TopicName(StrBytes::from_string(tp.topic.clone()));
        topic.partitions = vec![tp.partition];
        let mut transaction = AddPartitionsToTxnTransaction::default();
        transaction.transactional_id =
            TransactionalId(StrBytes::from_string(transactional_id.to_string()));
        transaction.producer_id = ProducerId(producer_id);
        transaction.producer_epoch = producer_epoch;
        transaction.verify_only = true;
        transaction.topics = vec![topic];
        let mut request = AddPartitionsToTxnRequest::default();
        request.transactions = vec![transaction];
        let timeout = Duration::from_millis(VERIFY_TIMEOUT_MS);
        let answer: Result<AddPartitionsToTxnResponse, _> = self
            .peers()
            .call(
                self.meta(),
                node,
                ApiKey::AddPartitionsToTxn,
                &request,
                VERIFY_VERSION,
                timeout,
            )
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(node, "transaction verification failed: {err}");
                return ResponseError::CoordinatorNotAvailable.code();
            }
        };
        if response.error_code != NONE {
            return response.error_code;
        }
        let rows = response
            .results_by_transaction
            .iter()
            .flat_map(|result| result.topic_results.iter())
            .flat_map(|topic| {
                topic.results_by_partition.iter().map(|p| {
                    let tp = TopicPartition {
                        topic: topic.name.0.to_string(),
                        partition: p.partition_index,
                    };
                    (tp, p.partition_error_code)
                })
            })
            .collect::<Vec<_>>();
        code_of(&rows, tp)
    }
}

fn code_of(rows: &[(TopicPartition, i16)], tp: &TopicPartition) -> i16 {
    rows.iter()
        .find(|(row, _)| row == tp)
        .map_or(ResponseError::UnknownServerError.code(), |(_, code)| *code)
}

/// What a produce request is told when verification did not pass.
fn produce_code(code: i16) -> i16 {
    let retriable = [
        ResponseError::CoordinatorNotAvailable.code(),
        ResponseError::CoordinatorLoadInProgress.code(),
        ResponseError::NotCoordinator.code(),
        ResponseError::ConcurrentTransactions.code(),
    ];
    if retriable.contains(&code) {
        ResponseError::NotEnoughReplicas.code()
    } else {
        code
    }
}

//! A transactional producer's conversation with its transaction coordinator, in the Java
//! client's order: FindCoordinator (key type 1, the transactional id) → InitProducerId
//! (transactional id, `transaction.timeout.ms`) → per transaction, AddPartitionsToTxn for each
//! partition before its first batch → EndTxn (commit or abort).
//!
//! Contract of [`TxnCoordinator`]:
//! - every call blocks until the coordinator answered, retrying with backoff while the answer
//!   is retriable ([`TxnErrorKind::Retry`]: COORDINATOR_LOAD_IN_PROGRESS,
//!   CONCURRENT_TRANSACTIONS, ...) and finding the coordinator again when it moved
//!   ([`TxnErrorKind::Rediscover`]: NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a broken
//!   connection), for at most the operation timeout;
//! - anything else ends the call with [`Error::Transaction`], naming the code: PRODUCER_FENCED
//!   and INVALID_PRODUCER_EPOCH mean another instance took over the transactional id.
//!
//! The producer's own bookkeeping (which partitions the open transaction has) is
//! [`TxnPartitions`], pure state.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant};

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, ApiKey, EndTxnRequest,
    FindCoordinatorRequest, FindCoordinatorResponse, InitProducerIdRequest, ProducerId,
    TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

use crate::client::Client;
use crate::conn::ConnectOptions;
use crate::error::{Error, Result};
use crate::error_code::{self, ResponseError};
use crate::route::topic_name;

/// FindCoordinator key type of a transactional id (0 is a consumer group).
pub const COORDINATOR_KEY_TRANSACTION: i8 = 1;
/// FindCoordinator v4+ batches keys in `coordinator_keys`.
const FIND_COORDINATOR_BATCH_VERSION: i16 = 4;
/// The first pause after a retriable answer; doubled up to [`RETRY_BACKOFF_MAX`].
/// CONCURRENT_TRANSACTIONS right after an EndTxn clears within a few ms (markers written).
const RETRY_BACKOFF_MIN: Duration = Duration::from_millis(5);
const RETRY_BACKOFF_MAX: Duration = Duration::from_millis(500);

/// What a coordinator error code asks of the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnErrorKind {
    /// The same request, later, to the same coordinator.
    Retry,
    /// The same request, to the coordinator found again.
    Rediscover,
    /// The producer cannot go on (fenced, bad epoch, bad state, not allowed).
    Fatal,
}

/// Kafka's `TransactionManager` handling of coordinator answers.
pub fn classify(code: i16) -> TxnErrorKind {
    use ResponseError as E;
    match ResponseError::try_from_code(code) {
        Some(
            E::CoordinatorLoadInProgress
            | E::ConcurrentTransactions
            | E::UnknownTopicOrPartition
            | E::RequestTimedOut,
        ) => TxnErrorKind::Retry,
        Some(E::NotCoordinator | E::CoordinatorNotAvailable) => TxnErrorKind::Rediscover,
        _ => TxnErrorKind::Fatal,
    }
}

/// Produce answers after which a transactional producer cannot go on (Kafka's client makes
/// them fatal): it was fenced, or the broker says it has no transaction to write in.
pub fn produce_is_fatal(code: i16) -> bool {
    use ResponseError as E;
    matches!(
        ResponseError::try_from_code(code),
        Some(
            E::ProducerFenced
                | E::InvalidProducerEpoch
                | E::InvalidTxnState
                | E::TransactionalIdAuthorizationFailed
        )
    )
}

/// What a fatal code means for the operator, beyond its name.
pub fn fatal_hint(code: i16) -> &'static str {
    use ResponseError as E;
    match ResponseError::try_from_code(code) {
        Some(E::ProducerFenced | E::InvalidProducerEpoch) => {
            "another producer with this transactional.id fenced this one"
        }
        Some(E::InvalidTxnState) => "the broker's transaction state does not allow it",
        Some(E::InvalidTransactionTimeout) => {
            "transaction.timeout.ms exceeds the broker's transaction.max.timeout.ms"
        }
        Some(E::TransactionalIdAuthorizationFailed) => "not authorized for this transactional.id",
        _ => "not retriable",
    }
}

/// The partitions of the open transaction: which were added (AddPartitionsToTxn answered)
/// and which are about to be written and must be added first.
#[derive(Debug, Clone, Default)]
pub struct TxnPartitions {
    added: BTreeSet<u32>,
}

impl TxnPartitions {
    /// Of `wanted`, the partitions not yet in the transaction, sorted, without repeats.
    pub fn missing(&self, wanted: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let missing: BTreeSet<u32> = wanted
            .into_iter()
            .filter(|p| !self.added.contains(p))
            .collect();
        missing.into_iter().collect()
    }

    pub fn added(&mut self, partitions: &[u32]) {
        self.added.extend(partitions.iter().copied());
    }

    pub fn contains(&self, partition: u32) -> bool {
        self.added.contains(&partition)
    }

    pub fn len(&self) -> usize {
        self.added.len()
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }

    /// The transaction ended (EndTxn answered): the next one starts with no partition.
    pub fn clear(&mut self) {
        self.added.clear();
    }
}

pub fn find_coordinator_request(version: i16, transactional_id: &str) -> FindCoordinatorRequest {
    let key = StrBytes::from_string(transactional_id.to_string());
    let request = FindCoordinatorRequest::default().with_key_type(COORDINATOR_KEY_TRANSACTION);
    if version >= FIND_COORDINATOR_BATCH_VERSION {
        request.with_coordinator_keys(vec![key])
    } else {
        request.with_key(key)
    }
}

/// (node, `host:port`) from either FindCoordinator layout, or the error code.
pub fn coordinator_of(
    response: &FindCoordinatorResponse,
) -> std::result::Result<(i32, String), i16> {
    let (code, node, host, port) = match response.coordinators.first() {
        Some(c) => (c.error_code, c.node_id.0, &c.host, c.port),
        None => (
            response.error_code,
            response.node_id.0,
            &response.host,
            response.port,
        ),
    };
    if code != error_code::NONE {
        return Err(code);
    }
    Ok((node, format!("{}:{}", host.as_str(), port)))
}

fn transactional_id(id: &str) -> TransactionalId {
    StrBytes::from_string(id.to_string()).into()
}

/// AddPartitionsToTxn as a client sends it (v0–v3: one transaction, top-level fields).
pub fn add_partitions_request(
    transactional: &str,
    producer: (i64, i16),
    topic: &str,
    partitions: &[u32],
) -> AddPartitionsToTxnRequest {
    assert!(!partitions.is_empty(), "adding no partition");
    AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(transactional_id(transactional))
        .with_v3_and_below_producer_id(ProducerId(producer.0))
        .with_v3_and_below_producer_epoch(producer.1)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(partitions.iter().map(|p| *p as i32).collect())])
}

/// The code that decides an AddPartitionsToTxn answer: the first partition error that is not
/// OPERATION_NOT_ATTEMPTED (which only says another partition failed), else NONE.
pub fn add_partitions_code(response: &AddPartitionsToTxnResponse) -> i16 {
    let not_attempted = ResponseError::OperationNotAttempted.code();
    let codes = response
        .results_by_topic_v3_and_below
        .iter()
        .flat_map(|t| &t.results_by_partition)
        .map(|p| p.partition_error_code);
    let mut worst = error_code::NONE;
    for code in codes {
        if code != error_code::NONE && code != not_attempted {
            return code;
        }
        if code == not_attempted {
            worst = code;
        }
    }
    if response.error_code != error_code::NONE {
        return response.error_code;
    }
    worst
}

pub fn end_txn_request(transactional: &str, producer: (i64, i16), commit: bool) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(transactional_id(transactional))
        .with_producer_id(ProducerId(producer.0))
        .with_producer_epoch(producer.1)
        .with_committed(commit)
}

/// One transactional id's coordinator connection and producer id. Not thread-safe: one per
/// producer thread.
pub struct TxnCoordinator {
    bootstrap: String,
    options: ConnectOptions,
    transactional_id: String,
    transaction_timeout_ms: i32,
    /// How long one operation may keep retrying.
    operation_timeout: Duration,
    coordinator: Option<Client>,
    producer: Option<(i64, i16)>,
    /// Retriable answers met so far (all operations).
    pub retries: u64,
}

impl TxnCoordinator {
    pub fn new(
        bootstrap: &str,
        options: &ConnectOptions,
        transactional_id: &str,
        transaction_timeout_ms: i32,
        operation_timeout: Duration,
    ) -> Self {
        assert!(
            !transactional_id.is_empty(),
            "Kafka refuses an empty transactional.id"
        );
        assert!(transaction_timeout_ms > 0);
        Self {
            bootstrap: bootstrap.to_string(),
            options: ConnectOptions {
                read_timeout: Some(operation_timeout),
                ..options.clone()
            },
            transactional_id: transactional_id.to_string(),
            transaction_timeout_ms,
            operation_timeout,
            coordinator: None,
            producer: None,
            retries: 0,
        }
    }

    pub fn transactional_id(&self) -> &str {
        &self.transactional_id
    }

    /// (producer id, epoch) from the last InitProducerId.
    pub fn producer(&self) -> Option<(i64, i16)> {
        self.producer
    }

    fn find(&mut self) -> Result<Client> {
        let mut bootstrap = Client::connect(&self.bootstrap, &self.options)?;
        let version = bootstrap.versions().of(ApiKey::FindCoordinator)?;
        let request = find_coordinator_request(version, &self.transactional_id);
        let response = bootstrap.connection().call(&request, version)?;
        let (_, addr) = coordinator_of(&response).map_err(|code| Error::Broker {
            what: format!(
                "FindCoordinator of transactional id {}",
                self.transactional_id
            ),
            code,
        })?;
        if addr == self.bootstrap {
            return Ok(bootstrap);
        }
        Client::connect(&addr, &self.options)
    }

    /// Runs `call` on the coordinator until it answers with something other than a retriable
    /// code; returns its value, or the fatal code as [`Error::Transaction`].
    fn retrying<T>(
        &mut self,
        op: &'static str,
        mut call: impl FnMut(&mut Client, &str) -> Result<std::result::Result<T, i16>>,
    ) -> Result<T> {
        let deadline = Instant::now() + self.operation_timeout;
        let mut backoff = RETRY_BACKOFF_MIN;
        let mut last_code = error_code::NONE;
        loop {
            let attempt = match self.coordinator.take() {
                Some(c) => Ok(c),
                None => self.find(),
            }
            .and_then(|mut client| {
                let answer = call(&mut client, &self.transactional_id)?;
                Ok((client, answer))
            });
            let kind: Result<()> = match attempt {
                Ok((client, Ok(value))) => {
                    self.coordinator = Some(client);
                    return Ok(value);
                }
                Ok((client, Err(code))) => match classify(code) {
                    TxnErrorKind::Fatal => {
                        self.coordinator = Some(client);
                        return Err(Error::Transaction {
                            transactional_id: self.transactional_id.clone(),
                            op,
                            code,
                            hint: fatal_hint(code),
                        });
                    }
                    TxnErrorKind::Retry => {
                        last_code = code;
                        self.coordinator = Some(client);
                        Err(Error::Broker {
                            what: op.to_string(),
                            code,
                        })
                    }
                    TxnErrorKind::Rediscover => {
                        last_code = code;
                        Err(Error::Broker {
                            what: op.to_string(),
                            code,
                        })
                    }
                },
                // Connection lost or coordinator unreachable: find it again.
                Err(e @ (Error::Connect { .. } | Error::Read { .. } | Error::Write { .. })) => {
                    Err(e)
                }
                Err(Error::Broker { code, .. }) if classify(code) != TxnErrorKind::Fatal => {
                    Err(Error::Broker {
                        what: format!("FindCoordinator for {op}"),
                        code,
                    })
                }
                Err(e) => return Err(e),
            };
            self.retries += 1;
            if Instant::now() + backoff > deadline {
                let last = match kind {
                    Err(Error::Broker { code, .. }) => error_code::name(code),
                    Err(e) => e.to_string(),
                    Ok(()) => error_code::name(last_code),
                };
                return Err(Error::Timeout(format!(
                    "{op} of transactional id {} kept failing for {:?} (last: {last})",
                    self.transactional_id, self.operation_timeout
                )));
            }
            sleep(backoff);
            backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
        }
    }

    /// InitProducerId with the transactional id: a producer id and a new epoch (which fences
    /// any older instance and aborts its open transaction).
    pub fn init_producer_id(&mut self) -> Result<(i64, i16)> {
        let timeout_ms = self.transaction_timeout_ms;
        let producer = self.retrying("InitProducerId", |client, id| {
            let version = client.versions().of(ApiKey::InitProducerId)?;
            let request = InitProducerIdRequest::default()
                .with_transactional_id(Some(transactional_id(id)))
                .with_transaction_timeout_ms(timeout_ms)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
            let response = client.connection().call(&request, version)?;
            Ok(match response.error_code {
                error_code::NONE => Ok((response.producer_id.0, response.producer_epoch)),
                code => Err(code),
            })
        })?;
        assert!(
            producer.0 >= 0,
            "InitProducerId answered without a producer id"
        );
        self.producer = Some(producer);
        Ok(producer)
    }

    fn current(&self) -> Result<(i64, i16)> {
        self.producer.ok_or_else(|| {
            Error::Config("transactional producer used before InitProducerId".into())
        })
    }

    /// AddPartitionsToTxn: `partitions` of `topic` join the open transaction.
    pub fn add_partitions(&mut self, topic: &str, partitions: &[u32]) -> Result<()> {
        let producer = self.current()?;
        self.retrying("AddPartitionsToTxn", |client, id| {
            let version = client.versions().of(ApiKey::AddPartitionsToTxn)?;
            let request = add_partitions_request(id, producer, topic, partitions);
            let response = client.connection().call(&request, version)?;
            Ok(match add_partitions_code(&response) {
                error_code::NONE => Ok(()),
                code => Err(code),
            })
        })
    }

    /// EndTxn: commits (or aborts) the open transaction. Answered once the coordinator made
    /// the decision durable; the markers follow.
    pub fn end(&mut self, commit: bool) -> Result<()> {
        let producer = self.current()?;
        self.retrying(
            if commit {
                "EndTxn(commit)"
            } else {
                "EndTxn(abort)"
            },
            |client, id| {
                let version = client.versions().of(ApiKey::EndTxn)?;
                let response = client
                    .connection()
                    .call(&end_txn_request(id, producer, commit), version)?;
                Ok(match response.error_code {
                    error_code::NONE => Ok(()),
                    code => Err(code),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use kafka_protocol::messages::add_partitions_to_txn_response::{
        AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
    };
    use kafka_protocol::messages::find_coordinator_response::Coordinator;
    use kafka_protocol::messages::BrokerId;
    use kafka_protocol::protocol::{Decodable, Encodable};

    use super::*;

    #[test]
    fn coordinator_errors_are_retried_rediscovered_or_fatal() {
        let code = |e: ResponseError| e.code();
        assert_eq!(
            classify(code(ResponseError::CoordinatorLoadInProgress)),
            TxnErrorKind::Retry
        );
        assert_eq!(
            classify(code(ResponseError::ConcurrentTransactions)),
            TxnErrorKind::Retry
        );
        assert_eq!(
            classify(code(ResponseError::NotCoordinator)),
            TxnErrorKind::Rediscover
        );
        assert_eq!(
            classify(code(ResponseError::CoordinatorNotAvailable)),
            TxnErrorKind::Rediscover
        );
        assert_eq!(
            classify(code(ResponseError::ProducerFenced)),
            TxnErrorKind::Fatal
        );
        assert_eq!(
            classify(code(ResponseError::InvalidProducerEpoch)),
            TxnErrorKind::Fatal
        );
        assert_eq!(
            classify(code(ResponseError::InvalidTxnState)),
            TxnErrorKind::Fatal
        );
        assert!(fatal_hint(code(ResponseError::ProducerFenced)).contains("fenced"));
        assert!(produce_is_fatal(code(ResponseError::InvalidTxnState)));
        assert!(!produce_is_fatal(code(ResponseError::NotLeaderOrFollower)));
        assert!(!produce_is_fatal(code(
            ResponseError::OutOfOrderSequenceNumber
        )));
    }

    #[test]
    fn partitions_are_added_once_per_transaction() {
        let mut txn = TxnPartitions::default();
        assert_eq!(txn.missing([3, 1, 3]), vec![1, 3]);
        txn.added(&[1, 3]);
        assert_eq!(txn.missing([3, 1, 2]), vec![2]);
        assert!(txn.contains(3));
        assert_eq!(txn.len(), 2);
        txn.clear();
        assert!(txn.is_empty());
        assert_eq!(txn.missing([1]), vec![1], "a new transaction adds again");
    }

    #[test]
    fn find_coordinator_uses_the_layout_of_its_version() {
        let old = find_coordinator_request(3, "tx");
        assert_eq!(old.key.as_str(), "tx");
        assert_eq!(old.key_type, COORDINATOR_KEY_TRANSACTION);
        let new = find_coordinator_request(4, "tx");
        assert_eq!(new.coordinator_keys[0].as_str(), "tx");
        assert_eq!(new.key_type, COORDINATOR_KEY_TRANSACTION);

        let mut answer = FindCoordinatorResponse::default()
            .with_node_id(BrokerId(2))
            .with_host(StrBytes::from_static_str("h"))
            .with_port(9);
        assert_eq!(coordinator_of(&answer), Ok((2, "h:9".to_string())));
        answer = answer
            .with_coordinators(vec![Coordinator::default()
                .with_error_code(ResponseError::CoordinatorLoadInProgress.code())]);
        assert_eq!(
            coordinator_of(&answer),
            Err(ResponseError::CoordinatorLoadInProgress.code())
        );
    }

    #[test]
    fn add_partitions_round_trips_through_every_client_version() {
        let request = add_partitions_request("tx", (7, 2), "t", &[0, 5]);
        for version in 0..=3 {
            let mut bytes = BytesMut::new();
            request.encode(&mut bytes, version).expect("encode");
            let back =
                AddPartitionsToTxnRequest::decode(&mut bytes.freeze(), version).expect("decode");
            assert_eq!(back.v3_and_below_transactional_id.as_str(), "tx");
            assert_eq!(back.v3_and_below_producer_id.0, 7);
            assert_eq!(back.v3_and_below_producer_epoch, 2);
            assert_eq!(back.v3_and_below_topics[0].partitions, vec![0, 5]);
        }
        let end = end_txn_request("tx", (7, 2), true);
        for version in 0..=3 {
            let mut bytes = BytesMut::new();
            end.encode(&mut bytes, version).expect("encode");
            let back = EndTxnRequest::decode(&mut bytes.freeze(), version).expect("decode");
            assert_eq!(back, end);
        }
    }

    #[test]
    fn add_partitions_answer_is_its_real_error() {
        let result = |code: i16| {
            AddPartitionsToTxnPartitionResult::default().with_partition_error_code(code)
        };
        let topic = |codes: &[i16]| {
            AddPartitionsToTxnResponse::default()
                .with_results_by_topic_v3_and_below(vec![AddPartitionsToTxnTopicResult::default()
                    .with_results_by_partition(codes.iter().map(|c| result(*c)).collect())])
        };
        assert_eq!(add_partitions_code(&topic(&[0, 0])), error_code::NONE);
        let not_attempted = ResponseError::OperationNotAttempted.code();
        let unknown = ResponseError::UnknownTopicOrPartition.code();
        assert_eq!(
            add_partitions_code(&topic(&[not_attempted, unknown])),
            unknown
        );
        let fenced = ResponseError::ProducerFenced.code();
        assert_eq!(add_partitions_code(&topic(&[fenced, fenced])), fenced);
    }
}

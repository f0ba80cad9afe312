//! The errors the coordinator answers with, as Kafka's error codes.

/// A refusal, answered to the client with `code()`. The coordinator itself returns only the
/// request-level ones; `NotCoordinator`, `CoordinatorLoadInProgress`,
/// `CoordinatorNotAvailable` and `TransactionAbortable` are for the glue (ownership, loading,
/// failed writes, KIP-890 produce verification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnError {
    NotCoordinator,
    CoordinatorLoadInProgress,
    CoordinatorNotAvailable,
    ConcurrentTransactions,
    InvalidTxnState,
    InvalidProducerIdMapping,
    ProducerFenced,
    InvalidProducerEpoch,
    InvalidTransactionTimeout,
    TransactionalIdNotFound,
    /// An empty transactional id (Kafka: INVALID_REQUEST).
    InvalidRequest,
    TransactionAbortable,
}

impl TxnError {
    /// Kafka's numeric error code (`org.apache.kafka.common.protocol.Errors`).
    pub fn code(&self) -> i16 {
        match self {
            TxnError::CoordinatorLoadInProgress => 14,
            TxnError::CoordinatorNotAvailable => 15,
            TxnError::NotCoordinator => 16,
            TxnError::InvalidRequest => 42,
            TxnError::InvalidProducerEpoch => 47,
            TxnError::InvalidTxnState => 48,
            TxnError::InvalidProducerIdMapping => 49,
            TxnError::InvalidTransactionTimeout => 50,
            TxnError::ConcurrentTransactions => 51,
            TxnError::ProducerFenced => 90,
            TxnError::TransactionalIdNotFound => 105,
            TxnError::TransactionAbortable => 120,
        }
    }

    /// Kafka's name for the code, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            TxnError::CoordinatorLoadInProgress => "COORDINATOR_LOAD_IN_PROGRESS",
            TxnError::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            TxnError::NotCoordinator => "NOT_COORDINATOR",
            TxnError::InvalidRequest => "INVALID_REQUEST",
            TxnError::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            TxnError::InvalidTxnState => "INVALID_TXN_STATE",
            TxnError::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            TxnError::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
            TxnError::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            TxnError::ProducerFenced => "PRODUCER_FENCED",
            TxnError::TransactionalIdNotFound => "TRANSACTIONAL_ID_NOT_FOUND",
            TxnError::TransactionAbortable => "TRANSACTION_ABORTABLE",
        }
    }
}

impl std::fmt::Display for TxnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl std::error::Error for TxnError {}

//! Kafka's transaction coordinator as pure state (see `README.md`): transactional ids, their
//! producer ids and epochs, the transaction state machine, timeouts and id expiry, and the
//! `__transaction_state` record formats. No I/O, no clock but the `now_ms` passed in, no
//! threads. The broker glue persists the `Transition`s it hands out and writes the markers of
//! the `MarkerJob`s.

mod coordinator;
mod error;
mod limits;
mod partition;
pub mod records;
mod state;
mod transition;

#[cfg(test)]
mod tests;

pub use coordinator::{EndOutcome, InitOutcome, TxnCoordinator};
pub use error::TxnError;
pub use limits::{
    TxnConfig, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, PRODUCER_EPOCH_EXHAUSTED, TOPIC_NAME_BYTES_MAX,
    TRANSACTIONAL_ID_BYTES_MAX,
};
pub use partition::{java_string_hash, transaction_partition};
pub use records::RecordError;
pub use state::{is_epoch_exhausted, TopicPartition, TxnMetadata, TxnState};
pub use transition::{is_valid_step, MarkerJob, Transition};

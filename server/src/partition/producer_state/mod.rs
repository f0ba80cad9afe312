//! Producer state of one partition, like Kafka's `ProducerStateManager`: for every producer id
//! that wrote here, its epoch and the metadata of its last few batches. It is what makes the
//! idempotent producer work: a retried batch is found among the last batches and answered
//! with its original offsets instead of being appended again; a sequence gap or an older
//! epoch is refused. It also knows each producer's ongoing transaction here (its first
//! offset), which gives the last stable offset, and the markers that end them
//! (`apply_marker`, a `CompletedTxn` for the aborted-transaction index).
//!
//! Pure: no I/O, no clock. [`ProducerStates::check`] validates a call's batches against the
//! state, [`ProducerStates::apply`] records batches once they are in the log (the same call
//! rebuilds the state from the log at open), [`ProducerStates::expire`] forgets idle
//! producers, and `snapshot` turns the state into the bytes of a `.snapshot` file and back.
//! `Partition` holds it and drives it around the engine's append.

mod batch;
mod entry;
pub mod marker;
pub mod snapshot;
mod states;
#[cfg(test)]
mod tests;

pub use batch::{ProducerBatch, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE};
pub use entry::{BatchMeta, ProducerEntry, BATCHES_RETAINED_PER_PRODUCER, NO_COORDINATOR_EPOCH};
pub use marker::{build_marker_batch, parse_marker, Marker};
pub use states::{
    CheckOrigin, CompletedTxn, Duplicate, ProducerError, ProducerStates, VerificationToken,
    PRODUCERS_PER_PARTITION_MAX,
};

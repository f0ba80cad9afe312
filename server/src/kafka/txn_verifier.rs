//! `TxnVerifier`: how the produce path asks the transaction coordinator whether a producer's
//! transaction includes a partition (KIP-890 part 1: AddPartitionsToTxn with `verify_only`),
//! before a transactional batch may start a transaction in that partition. The broker wires
//! it to the coordinator (local call or request); without one installed, such a produce is
//! refused with a retriable error. A closure rather than a trait: there is no async trait
//! object without boxing, and the only implementation lives with the coordinator.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// One verification question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnVerifyRequest {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub topic: String,
    pub partition: i32,
}

/// `Ok(())`: the coordinator has the partition in the producer's ongoing transaction at that
/// epoch. `Err(code)`: Kafka's error code (INVALID_TXN_STATE when it does not; PRODUCER_FENCED,
/// INVALID_PRODUCER_EPOCH, or a coordinator error such as COORDINATOR_NOT_AVAILABLE).
pub type TxnVerifier =
    Rc<dyn Fn(TxnVerifyRequest) -> Pin<Box<dyn Future<Output = Result<(), i16>>>>>;

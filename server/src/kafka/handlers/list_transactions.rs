//! ListTransactions (key 66): the transactional ids this broker coordinates (every shard's),
//! filtered by state, producer id and (v1) by how long the transaction has been running
//! (Kafka's `handleListTransactionsRequest`). A state filter naming no state comes back in
//! `unknown_state_filters`. Only the ids the principal may DESCRIBE are listed (the others are
//! left out quietly), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_txn::TxnState;

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::NONE;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::txn::TxnService;

/// v0–v1. v2 (a transactional id pattern, KIP-1152) is not served.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

/// Every state, for telling known filters from unknown ones.
const STATES: [TxnState; 8] = [
    TxnState::Empty,
    TxnState::Ongoing,
    TxnState::PrepareCommit,
    TxnState::PrepareAbort,
    TxnState::CompleteCommit,
    TxnState::CompleteAbort,
    TxnState::Dead,
    TxnState::PrepareEpochFence,
];

pub async fn handle(
    txn: &Rc<TxnService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: ListTransactionsRequest = request.decode()?;
    let mut response = ListTransactionsResponse::default();
    let known = |name: &str| STATES.iter().any(|s| s.name() == name);
    let states: Vec<&str> = body.state_filters.iter().map(|s| s.as_str()).collect();
    response.unknown_state_filters = body
        .state_filters
        .iter()
        .filter(|s| !known(s.as_str()))
        .cloned()
        .collect();
    let producers: Vec<i64> = body.producer_id_filters.iter().map(|p| p.0).collect();
    let now_ms = crate::util::now_ms();
    let mut rows = txn.list_all().await;
    rows.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
    for metadata in rows {
        if !states.is_empty() && !states.contains(&metadata.state.name()) {
            continue;
        }
        if !producers.is_empty() && !producers.contains(&metadata.producer_id) {
            continue;
        }
        // Dead ids are on their way out; v1 keeps only transactions started longer ago than
        // the filter (-1 keeps all).
        if metadata.state == TxnState::Dead {
            continue;
        }
        let id = metadata.transactional_id.as_str();
        if !authz.can_see(AclOperation::Describe, ResourceType::TransactionalId, id) {
            continue;
        }
        let running_ms = now_ms - metadata.start_timestamp_ms;
        if body.duration_filter >= 0 && running_ms <= body.duration_filter {
            continue;
        }
        let mut state = TransactionState::default();
        state.transactional_id = TransactionalId(StrBytes::from_string(metadata.transactional_id));
        state.producer_id = ProducerId(metadata.producer_id);
        state.transaction_state = StrBytes::from_static_str(metadata.state.name());
        response.transaction_states.push(state);
    }
    response.error_code = NONE;
    Ok(request.respond(&response)?.into())
}

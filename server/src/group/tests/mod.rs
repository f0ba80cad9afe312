//! Scenario tests of the coordinator, driven by an explicit clock.

mod describe;
mod harness;
mod join_and_sync;
mod liveness;
mod loading;
mod offsets;
mod static_membership;
mod txn_loading;
mod txn_offsets;

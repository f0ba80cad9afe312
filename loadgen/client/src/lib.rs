//! # sluice-kafka-client
//!
//! The one Kafka client of this repository: blocking, std threads and sockets, no async
//! runtime. The load generator, the `sluice topic|group|cluster` admin CLI and the broker's
//! integration tests all speak Kafka through it.
//!
//! It owns:
//! - [`Connection`]: one TCP connection (TLS and SASL when [`ConnectOptions::security`] says
//!   so, see [`security`]), size-prefixed frames, correlation ids, typed
//!   request/response calls for any `kafka-protocol` message, and pipelining (the reading
//!   half, [`FrameReader`], can move to another thread);
//! - the raw-frame API for tests that send malformed bytes ([`Connection::send_raw`],
//!   [`Connection::read_frame_or_close`], [`Connection::expect_closed`]);
//! - [`BrokerVersions`]: ApiVersions negotiation, the highest version both sides speak;
//! - [`Client`]: a connection plus the broker's versions;
//! - [`Admin`] and [`TopicRoute`]: metadata, topic creation and deletion, offsets, routed
//!   to partition leaders;
//! - [`BatchBuilder`] and [`for_each_record`]: RecordBatch v2 encoding and walking, the
//!   header read through `sluice_batch`'s typed view;
//! - [`txn`]: a transactional producer's coordinator calls (FindCoordinator, InitProducerId,
//!   AddPartitionsToTxn, EndTxn) with Kafka's retry rules, and a read_committed walk
//!   ([`for_each_committed_record`]);
//! - [`error_code`]: the Kafka error table (names, retriability), over `kafka-protocol`'s
//!   `ResponseError`.
//!
//! It never assumes the broker is Sluice, and never retries behind the caller's back except
//! where a method says so (waiting for leaders after creating a topic).

mod admin;
mod batch_builder;
mod batch_reader;
mod client;
mod codec;
mod conn;
mod error;
pub mod error_code;
mod frame;
mod raw;
mod route;
mod sasl;
pub mod security;
mod stream;
pub mod txn;
mod varint;
mod versions;

pub use admin::{Admin, TIMESTAMP_EARLIEST, TIMESTAMP_LATEST};
pub use batch_builder::{BatchBuilder, ProducerStamp};
pub use batch_reader::{
    for_each_committed_record, for_each_record, AbortedTransactions, RecordView, WalkSummary,
    CONTROL_TYPE_ABORT, CONTROL_TYPE_COMMIT,
};
pub use client::Client;
pub use codec::Codec;
pub use conn::{ConnectOptions, Connection, FrameReader};
pub use error::{Error, Result};
pub use frame::{api_name, decode_response, encode_request};
pub use route::{topic_name, TopicRoute};
pub use security::{
    ClientSecurity, SaslCredentials, SaslMechanism, SecurityConfig, SecurityProtocol,
};
pub use txn::{TxnCoordinator, TxnPartitions};
pub use versions::{negotiate, BrokerVersions};

/// Re-exported so users name versions and messages with the same types as the client.
pub use kafka_protocol;

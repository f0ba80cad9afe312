//! Harness shared by the broker's integration tests: each scenario file does `mod common;`.
//!
//! - [`broker`]: start the real `sluice` binary on a free loopback port with a temp data dir,
//!   restart it, kill -9 it; logs are printed when a test fails.
//! - [`wire`]: a Kafka connection with timeouts, over `sluice-kafka-client` (typed requests,
//!   and raw frames for bad input).
//! - [`kafka`]: the handful of requests the scenarios send (create, produce, fetch, ...), and
//!   the client's Kafka error table.
//! - [`records`]: RecordBatch v2 encoding and decoding for those requests.
//! - [`metrics`]: the broker's Prometheus endpoint (address, scrape, a family's total).
//! - [`canary`]: a client that must keep being served while another misbehaves.
//! - [`clients`] and [`process`]: find the real client tools (kcat, Python, Node) and run
//!   them with a hard timeout.
//! - [`replicas`]: replicas compared byte for byte below the high watermark (segment files);
//!   [`probe`]: acks=all writes pinned to a paused or cut-off leader; [`confluent`]: a
//!   librdkafka producer streaming through faults and its read-back check (replication tests).
//! - [`transactions`]: the confluent-kafka transaction scenarios
//!   (`clients/python/transactions.py`) and their JSON answers.
//! - [`secure_cluster`]: a cluster whose inter-broker (SASL_SSL) and controller (mutual TLS)
//!   traffic is secured, with the authorizer on.
//! - [`stalled_consumer`]: a consumer that sends a large Fetch and never reads the response.
//! - [`wait`]: `wait_until`, the one polling loop (a condition and a deadline, never a sleep).
//!
//! Not every scenario uses every helper.
#![allow(dead_code)]

pub mod broker;
pub mod canary;
pub mod clients;
pub mod cluster;
pub mod confluent;
pub mod healed;
pub mod kafka;
pub mod loadgen;
pub mod metrics;
pub mod netns;
pub mod probe;
pub mod process;
pub mod records;
pub mod replicas;
pub mod secure_cluster;
pub mod stalled_consumer;
pub mod tls;
pub mod transactions;
pub mod wait;
pub mod wire;

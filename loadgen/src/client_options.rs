//! How the load generator connects: its client id in brokers' logs, and the client library's
//! defaults (5 s to connect, reads without a timeout unless a caller sets one).

use sluice_kafka_client::ConnectOptions;

pub const CLIENT_OPTIONS: ConnectOptions = ConnectOptions::new("sluice-loadgen");

//! sluice-loadgen: a Kafka-protocol load generator and correctness checker.
mod client;
mod clock;
mod error;
mod message;
mod murmur2;

fn main() {}

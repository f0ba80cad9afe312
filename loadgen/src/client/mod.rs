//! A lean blocking Kafka client: just what a load generator needs.

pub mod admin;
pub mod batch_builder;
pub mod batch_reader;
pub mod conn;
pub mod errors;
mod varint;
pub mod versions;

#[cfg(test)]
mod batch_roundtrip_tests;
#[cfg(test)]
mod conn_tests;

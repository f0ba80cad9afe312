//! Kafka error codes. The protocol crate's `ResponseError` is the one table of codes, names and
//! retriability; this module only adds the code for "no error", which it has no variant for.

pub use kafka_protocol::ResponseError;

/// The error code of a successful partition, topic or request.
pub const NONE: i16 = 0;

//! Small conversions shared by the group API handlers.

use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::service::GroupAnswer;

pub fn code(error: Option<ResponseError>) -> i16 {
    error.map_or(0, |e| e.code())
}

pub fn string(s: &StrBytes) -> String {
    s.to_string()
}

pub fn opt_string(s: &Option<StrBytes>) -> Option<String> {
    s.as_ref().map(|s| s.to_string())
}

pub fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

pub fn opt_str_bytes(s: Option<String>) -> Option<StrBytes> {
    s.map(StrBytes::from_string)
}

/// Kafka's client host string for a peer: `/<ip>`.
pub fn client_host(peer: &std::net::SocketAddr) -> String {
    format!("/{}", peer.ip())
}

/// A group answer of an unexpected kind is a routing bug; answer it as a server error.
pub fn unexpected(answer: &GroupAnswer) -> ResponseError {
    tracing::error!("group coordinator answered with the wrong kind: {answer:?}");
    ResponseError::UnknownServerError
}

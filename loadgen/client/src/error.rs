//! What can go wrong talking to a broker. Each variant keeps the address and the I/O error,
//! so a caller (the admin CLI) can phrase it for its own users.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Resolving or connecting failed; `step` is "resolving" or "connecting to".
    #[error("I/O error on {step} {addr}: {source}")]
    Connect {
        addr: String,
        step: &'static str,
        source: io::Error,
    },
    #[error("configuration error: {addr} resolves to no address")]
    NoAddress { addr: String },
    #[error("I/O error on writing to {addr}: {source}")]
    Write { addr: String, source: io::Error },
    /// Reading a response failed, or the read timeout passed first.
    #[error("{}", describe_read(source))]
    Read { addr: String, source: io::Error },
    /// The bytes received are not what the protocol allows (framing, correlation).
    #[error("Kafka protocol error: {0}")]
    Protocol(String),
    /// A response frame of `api` from `addr` did not decode.
    #[error("Kafka protocol error: {} response from {addr}: {message}", api_name(*.api))]
    Response {
        addr: String,
        api: i16,
        message: String,
    },
    #[error("cannot encode {} request: {message}", api_name(*.api))]
    Encode { api: i16, message: String },
    #[error("broker returned error code {code} for {what}")]
    Broker { what: String, code: i16 },
    /// A transaction coordinator's answer the producer cannot go on after (fenced, ...).
    #[error(
        "transactional producer {transactional_id}: {op} failed with {}: {hint}",
        crate::error_code::name(*.code)
    )]
    Transaction {
        transactional_id: String,
        op: &'static str,
        code: i16,
        hint: &'static str,
    },
    #[error("broker {addr} does not implement {}", api_name(*.api))]
    NotImplemented { addr: String, api: i16 },
    /// No version in both ranges; `broker` and `ours` as `min-max`.
    #[error("broker {addr} serves {} versions {broker}, this client speaks {ours}", api_name(*.api))]
    Unsupported {
        addr: String,
        api: i16,
        broker: String,
        ours: String,
    },
    #[error("timed out: {0}")]
    Timeout(String),
    /// The broker was expected to close the connection but sent bytes first, or did not
    /// close before the read timeout (`timed_out`), or the read failed (raw-frame API).
    #[error("connection to {addr} not closed: {detail} ({received_bytes} bytes received)")]
    NotClosed {
        addr: String,
        received_bytes: usize,
        timed_out: bool,
        detail: String,
    },
    #[error("configuration error: {0}")]
    Config(String),
    /// The TLS handshake failed (certificate refused, not a TLS listener, ...).
    #[error("TLS handshake with {addr} failed: {message}")]
    Tls { addr: String, message: String },
    /// SASL authentication failed: the broker's error code and message (code 0: the client
    /// refused the broker's answer, e.g. a SCRAM server signature that does not verify).
    #[error("SASL {mechanism} authentication to {addr} failed: {}", describe_authentication(*.code, .message))]
    Authentication {
        addr: String,
        mechanism: &'static str,
        code: i16,
        message: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

use crate::frame::api_name;

/// A blocking read past its timeout reports EAGAIN; say what it means.
fn describe_read(source: &io::Error) -> String {
    if is_timeout(source) {
        "timed out: no response from the broker within the read timeout".to_string()
    } else {
        format!("I/O error: {source}")
    }
}

fn describe_authentication(code: i16, message: &str) -> String {
    match (code, message.is_empty()) {
        (crate::error_code::NONE, _) => message.to_string(),
        (_, true) => crate::error_code::name(code),
        (_, false) => format!("{}: {message}", crate::error_code::name(code)),
    }
}

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Error {
    /// A read that ended because the read timeout passed.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Read { source, .. } => is_timeout(source),
            Error::Timeout(_) => true,
            Error::NotClosed { timed_out, .. } => *timed_out,
            _ => false,
        }
    }
}

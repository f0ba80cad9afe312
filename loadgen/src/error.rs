//! Typed errors for the load generator.

use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("I/O error on {context}: {source}")]
    IoContext {
        context: String,
        source: std::io::Error,
    },
    #[error("Kafka protocol error: {0}")]
    Protocol(String),
    #[error("broker returned error code {code} for {what}")]
    Broker { what: String, code: i16 },
    #[error("configuration error: {0}")]
    Config(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("plot error: {0}")]
    Plot(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Converts kafka-protocol's `anyhow` errors into typed ones at the boundary.
pub trait ProtocolContext<T> {
    fn protocol(self, what: &str) -> Result<T>;
}

impl<T, E: Display> ProtocolContext<T> for std::result::Result<T, E> {
    fn protocol(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Protocol(format!("{what}: {e:#}")))
    }
}

pub fn io_context(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::IoContext { context, source }
}

//! Typed errors for the load generator.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to a broker failed; the client's message says how.
    #[error(transparent)]
    Client(#[from] sluice_kafka_client::Error),
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
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("plot error: {0}")]
    Plot(String),
}

pub type Result<T> = std::result::Result<T, Error>;

pub fn io_context(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::IoContext { context, source }
}

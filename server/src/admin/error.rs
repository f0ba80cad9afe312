//! Admin CLI errors, phrased for an operator: Kafka error codes by name.

use kafka_protocol::error::ResponseError;

/// Retriable coordinator codes (Kafka's Errors.java).
pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("connection to {addr} failed: {source}")]
    Io {
        addr: String,
        source: std::io::Error,
    },
    #[error("broker {addr} sent a bad {api} response: {message}")]
    Protocol {
        addr: String,
        api: String,
        message: String,
    },
    #[error("cannot encode {api} request: {message}")]
    Encode { api: String, message: String },
    #[error("broker {addr} does not implement {api}")]
    NotImplemented { addr: String, api: String },
    #[error("broker {addr} serves {api} versions {broker}, this CLI speaks {ours}")]
    Unsupported {
        addr: String,
        api: String,
        broker: String,
        ours: String,
    },
    #[error("{context}: {}", describe_code(*.code, .message.as_deref()))]
    Kafka {
        context: String,
        code: i16,
        message: Option<String>,
    },
    #[error("{0}")]
    Usage(String),
}

impl AdminError {
    /// Errors that go away by themselves: a coordinator still loading or not yet elected.
    /// Only read-only flows and idempotent requests meet these codes, so the whole command
    /// may be run again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Kafka {
                code: COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE,
                ..
            }
        )
    }

    /// A non-zero Kafka error code as an error, `Ok` for 0.
    pub fn check(
        code: i16,
        message: Option<&str>,
        context: impl FnOnce() -> String,
    ) -> Result<(), Self> {
        if code == 0 {
            return Ok(());
        }
        Err(Self::Kafka {
            context: context(),
            code,
            message: message.map(str::to_string),
        })
    }
}

/// `UNKNOWN_TOPIC_OR_PARTITION (3)`: Kafka's own spelling, as in its docs and logs.
pub fn error_code_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        None => "NONE (0)".to_string(),
        Some(ResponseError::Unknown(code)) => format!("UNKNOWN_ERROR_CODE ({code})"),
        Some(error) => format!("{} ({code})", screaming_snake(&format!("{error:?}"))),
    }
}

fn describe_code(code: i16, message: Option<&str>) -> String {
    match message {
        Some(text) if !text.is_empty() => format!("{}: {text}", error_code_name(code)),
        _ => error_code_name(code),
    }
}

/// `UnknownTopicOrPartition` -> `UNKNOWN_TOPIC_OR_PARTITION`.
fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_coordinator_warm_up_is_transient() {
        let kafka = |code| AdminError::Kafka {
            context: String::new(),
            code,
            message: None,
        };
        assert!(kafka(COORDINATOR_LOAD_IN_PROGRESS).is_transient());
        assert!(kafka(COORDINATOR_NOT_AVAILABLE).is_transient());
        assert!(!kafka(36).is_transient());
        assert!(!AdminError::Usage("x".into()).is_transient());
    }

    #[test]
    fn names_codes_like_kafka_does() {
        assert_eq!(error_code_name(3), "UNKNOWN_TOPIC_OR_PARTITION (3)");
        assert_eq!(error_code_name(36), "TOPIC_ALREADY_EXISTS (36)");
        assert_eq!(error_code_name(-1), "UNKNOWN_SERVER_ERROR (-1)");
        assert_eq!(error_code_name(9999), "UNKNOWN_ERROR_CODE (9999)");
    }

    #[test]
    fn kafka_error_reads_as_one_line() {
        let error = AdminError::check(36, Some("Topic 'a' already exists."), || {
            "create topic a".into()
        });
        let text = error.map_or_else(|e| e.to_string(), |()| String::new());
        assert_eq!(
            text,
            "create topic a: TOPIC_ALREADY_EXISTS (36): Topic 'a' already exists."
        );
    }
}

//! Admin CLI errors, phrased for an operator: Kafka error codes by name.

use sluice_kafka_client::{api_name, error_code};

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
    /// TLS or SASL failed: the client's words, with the broker's error name and message.
    #[error("{0}")]
    Security(String),
}

impl AdminError {
    /// Errors that go away by themselves: a coordinator still loading or not yet elected.
    /// Only read-only flows and idempotent requests meet these codes, so the whole command
    /// may be run again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Kafka { code, .. } if error_code::is_coordinator_warming_up(*code))
    }

    /// A non-zero Kafka error code as an error, `Ok` for 0.
    pub fn check(
        code: i16,
        message: Option<&str>,
        context: impl FnOnce() -> String,
    ) -> Result<(), Self> {
        if code == error_code::NONE {
            return Ok(());
        }
        Err(Self::Kafka {
            context: context(),
            code,
            message: message.map(str::to_string),
        })
    }
}

/// The client's errors in the CLI's words (the same an operator has always seen).
impl From<sluice_kafka_client::Error> for AdminError {
    fn from(error: sluice_kafka_client::Error) -> Self {
        use sluice_kafka_client::Error as E;
        match error {
            E::Connect { addr, source, .. } => Self::Connect { addr, source },
            E::NoAddress { addr } => Self::Connect {
                addr,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "address resolved to nothing",
                ),
            },
            E::Write { addr, source } | E::Read { addr, source } => Self::Io { addr, source },
            E::Response { addr, api, message } => Self::Protocol {
                addr,
                api: api_name(api),
                message,
            },
            E::Encode { api, message } => Self::Encode {
                api: api_name(api),
                message,
            },
            E::NotImplemented { addr, api } => Self::NotImplemented {
                addr,
                api: api_name(api),
            },
            E::Unsupported {
                addr,
                api,
                broker,
                ours,
            } => Self::Unsupported {
                addr,
                api: api_name(api),
                broker,
                ours,
            },
            E::Broker { what, code } => Self::Kafka {
                context: what,
                code,
                message: None,
            },
            E::Transaction {
                transactional_id,
                op,
                code,
                hint,
            } => Self::Kafka {
                context: format!("{op} of transactional id {transactional_id}"),
                code,
                message: Some(hint.to_string()),
            },
            other @ (E::Tls { .. } | E::Authentication { .. }) => Self::Security(other.to_string()),
            other @ (E::Protocol(_) | E::Timeout(_) | E::NotClosed { .. } | E::Config(_)) => {
                Self::Usage(other.to_string())
            }
        }
    }
}

fn describe_code(code: i16, message: Option<&str>) -> String {
    match message {
        Some(text) if !text.is_empty() => format!("{}: {text}", error_code::name(code)),
        _ => error_code::name(code),
    }
}

#[cfg(test)]
mod tests {
    use sluice_kafka_client::error_code::ResponseError;

    use super::*;

    #[test]
    fn only_coordinator_warm_up_is_transient() {
        let kafka = |error: ResponseError| AdminError::Kafka {
            context: String::new(),
            code: error.code(),
            message: None,
        };
        assert!(kafka(ResponseError::CoordinatorLoadInProgress).is_transient());
        assert!(kafka(ResponseError::CoordinatorNotAvailable).is_transient());
        assert!(!kafka(ResponseError::TopicAlreadyExists).is_transient());
        assert!(!AdminError::Usage("x".into()).is_transient());
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

    #[test]
    fn client_errors_keep_the_cli_wording() {
        let refused = sluice_kafka_client::Error::Connect {
            addr: "b:1".into(),
            step: "connecting to",
            source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
        };
        assert_eq!(
            AdminError::from(refused).to_string(),
            "cannot connect to b:1: refused"
        );
        let missing = sluice_kafka_client::Error::NotImplemented {
            addr: "b:1".into(),
            api: 10,
        };
        assert_eq!(
            AdminError::from(missing).to_string(),
            "broker b:1 does not implement FindCoordinator"
        );
        let garbled = sluice_kafka_client::Error::Response {
            addr: "b:1".into(),
            api: 3,
            message: "header: too short".into(),
        };
        assert_eq!(
            AdminError::from(garbled).to_string(),
            "broker b:1 sent a bad Metadata response: header: too short"
        );
    }
}

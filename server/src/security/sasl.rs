//! One SASL exchange of a connection: PLAIN (one round) or SCRAM-SHA-256/512 (two rounds),
//! driven by SaslAuthenticate tokens. The mechanisms' logic is `sluice_security`'s; this file
//! supplies what it leaves out: the random server nonce, and the credentials (SCRAM
//! credentials from the cluster metadata, PLAIN passwords from the users file or checked
//! against a SCRAM credential).

use std::rc::Rc;

use sluice_security::sasl::plain::PlainMessage;
use sluice_security::scram::{ScramCredential, ScramMechanism, ScramServer};

use super::credentials::Credentials;

/// Random bytes in a server nonce (printed as hex: 48 characters, none of them a comma).
pub const SERVER_NONCE_BYTES: usize = 24;

pub enum SaslExchange {
    Plain,
    /// `answered_first`: the client-first message was answered; the next token is the final.
    Scram {
        server: Box<ScramServer>,
        answered_first: bool,
    },
}

/// What one token leads to.
pub enum SaslStep {
    /// Send these bytes and wait for the client's next token.
    Challenge(Vec<u8>),
    /// Authenticated as `User:<user>`; send `reply` (empty for PLAIN).
    Done { user: String, reply: Vec<u8> },
}

/// A failed exchange: the client gets `message` with SASL_AUTHENTICATION_FAILED (Kafka's
/// messages, which never say whether the user exists).
#[derive(Debug)]
pub struct SaslFailure {
    pub message: String,
}

impl SaslExchange {
    /// None: a mechanism this broker does not serve.
    pub fn start(mechanism: &str) -> Option<SaslExchange> {
        if mechanism == "PLAIN" {
            return Some(SaslExchange::Plain);
        }
        let scram = ScramMechanism::from_mechanism_name(mechanism)?;
        Some(SaslExchange::Scram {
            server: Box::new(ScramServer::new(scram)),
            answered_first: false,
        })
    }

    /// The mechanism's name, for logs and metrics.
    pub fn mechanism_name(&self) -> &'static str {
        match self {
            SaslExchange::Plain => "PLAIN",
            SaslExchange::Scram { server, .. } => server.mechanism().mechanism_name(),
        }
    }

    pub async fn step(
        &mut self,
        token: &[u8],
        credentials: &Rc<Credentials>,
    ) -> Result<SaslStep, SaslFailure> {
        let fail = |message: String| SaslFailure { message };
        match self {
            SaslExchange::Plain => {
                let message = PlainMessage::parse(token).map_err(|e| fail(e.to_string()))?;
                let verified = credentials
                    .plain_password_matches(&message.username, message.password())
                    .await;
                let user = message
                    .authenticate(|_, _| verified)
                    .map_err(|e| fail(e.to_string()))?;
                Ok(SaslStep::Done {
                    user,
                    reply: Vec::new(),
                })
            }
            SaslExchange::Scram {
                server,
                answered_first,
            } => {
                let mechanism = server.mechanism();
                if !*answered_first {
                    *answered_first = true;
                    let nonce = server_nonce().map_err(fail)?;
                    let lookup = |user: &str| -> Option<ScramCredential> {
                        credentials.scram(user, mechanism)
                    };
                    let reply = server
                        .client_first(token, &nonce, lookup)
                        .map_err(|e| fail(e.to_string()))?;
                    return Ok(SaslStep::Challenge(reply));
                }
                let (reply, user) = server
                    .client_final(token)
                    .map_err(|e| fail(e.to_string()))?;
                Ok(SaslStep::Done { user, reply })
            }
        }
    }
}

fn server_nonce() -> Result<String, String> {
    let mut bytes = [0u8; SERVER_NONCE_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|err| format!("Authentication failed: no randomness for the nonce ({err})"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

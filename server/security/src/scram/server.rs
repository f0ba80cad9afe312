//! `ScramServer`: the broker's side of one SCRAM exchange, as a state machine.
//!
//! ```text
//! AwaitingClientFirst --client_first--> AwaitingClientFinal --client_final--> Complete
//!          \______________________________________\__ any error ______--> Failed
//! ```
//!
//! One instance serves one connection's one authentication. Pure: the caller supplies the
//! server nonce (random, printable, no comma: Kafka uses 130 random bits in base 36) and the
//! credential lookup. A call in the wrong state, or after a failure, is an error.
//!
//! Kafka's ScramSaslServer rules, kept: an unknown user fails at once (no made-up salt, as
//! Kafka does); a `tokenauth=true` extension is refused here since Sluice has no delegation
//! tokens; the authzid may only repeat the user name; a stored credential with fewer than
//! the mechanism's minimum iterations fails; the proof is compared in constant time.
//! The final nonce must end with the server-first nonce (client nonce + server nonce), as
//! Kafka checks: librdkafka before 2.1 sends its client nonce once more in front, and a
//! replayed client-final still fails since every exchange's server nonce is fresh.
//! Stricter than Kafka: `c=` must be the base64 of the client's gs2 header
//! (Kafka ignores it), and the AuthMessage uses the messages as received (RFC 5802) where
//! Kafka re-formats them (identical for well-formed messages).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::messages::{split_gs2_header, split_proof};
use super::{ClientFinal, ClientFirst, ScramCredential, ScramError, ScramMechanism, ServerFinal};
use crate::constant_time;
use crate::limits::SCRAM_NONCE_BYTES_MAX;

/// The extension with which Kafka clients ask for delegation token authentication.
pub const TOKEN_AUTH_EXTENSION: &str = "tokenauth";

#[derive(Debug)]
pub struct ScramServer {
    mechanism: ScramMechanism,
    state: State,
}

#[derive(Debug)]
enum State {
    AwaitingClientFirst,
    AwaitingClientFinal(Box<Pending>),
    Complete,
    Failed,
}

/// What the second round needs from the first.
#[derive(Debug)]
struct Pending {
    username: String,
    credential: ScramCredential,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ScramServer {
    pub fn new(mechanism: ScramMechanism) -> ScramServer {
        ScramServer {
            mechanism,
            state: State::AwaitingClientFirst,
        }
    }

    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// True once `client_final` succeeded.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete)
    }

    /// Round one: parses the client-first message, looks up the user's credential (by the
    /// unescaped user name) and returns the server-first message. `server_nonce_suffix` is
    /// appended to the client's nonce.
    pub fn client_first(
        &mut self,
        message: &[u8],
        server_nonce_suffix: &str,
        lookup: impl FnOnce(&str) -> Option<ScramCredential>,
    ) -> Result<Vec<u8>, ScramError> {
        if !matches!(self.state, State::AwaitingClientFirst) {
            return Err(self.fail_wrong_state());
        }
        match self.first_round(message, server_nonce_suffix, lookup) {
            Ok((pending, reply)) => {
                self.state = State::AwaitingClientFinal(Box::new(pending));
                Ok(reply)
            }
            Err(error) => {
                self.state = State::Failed;
                Err(error)
            }
        }
    }

    /// Round two: checks the client-final message and returns the server-final message and
    /// the authenticated user name (the principal is `User:<name>`).
    pub fn client_final(&mut self, message: &[u8]) -> Result<(Vec<u8>, String), ScramError> {
        let pending = match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitingClientFinal(pending) => pending,
            other => {
                self.state = other;
                return Err(self.fail_wrong_state());
            }
        };
        let reply = self.second_round(&pending, message)?;
        self.state = State::Complete;
        Ok((reply, pending.username))
    }

    fn fail_wrong_state(&mut self) -> ScramError {
        let state = match self.state {
            State::AwaitingClientFirst => "awaiting client-first",
            State::AwaitingClientFinal(_) => "awaiting client-final",
            State::Complete => "complete",
            State::Failed => "failed",
        };
        self.state = State::Failed;
        ScramError::WrongState(state)
    }

    fn first_round(
        &self,
        message: &[u8],
        server_nonce_suffix: &str,
        lookup: impl FnOnce(&str) -> Option<ScramCredential>,
    ) -> Result<(Pending, Vec<u8>), ScramError> {
        let client_first = ClientFirst::parse(message)?;
        let token_auth = client_first
            .extensions
            .iter()
            .any(|(k, v)| k == TOKEN_AUTH_EXTENSION && v.eq_ignore_ascii_case("true"));
        if token_auth {
            return Err(ScramError::TokenAuthUnsupported);
        }
        check_server_nonce(&client_first.nonce, server_nonce_suffix)?;
        let credential = lookup(&client_first.username).ok_or(ScramError::UnknownUser)?;
        if client_first
            .authzid
            .as_ref()
            .is_some_and(|authzid| *authzid != client_first.username)
        {
            return Err(ScramError::AuthzidMismatch);
        }
        let minimum = self.mechanism.iterations_min();
        if credential.iterations < minimum {
            return Err(ScramError::TooFewIterations {
                iterations: credential.iterations,
                minimum,
            });
        }
        let digest_bytes = self.mechanism.digest_bytes();
        if credential.stored_key.len() != digest_bytes
            || credential.server_key.len() != digest_bytes
        {
            return Err(ScramError::BadStoredCredential);
        }
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed("not ASCII"))?;
        let (_, bare) = split_gs2_header(text)?;
        let gs2_header = text[..text.len() - bare.len()].to_string();
        debug_assert_eq!(gs2_header, client_first.gs2_header());
        let nonce = format!("{}{}", client_first.nonce, server_nonce_suffix);
        let server_first = super::ServerFirst {
            nonce: nonce.clone(),
            salt: credential.salt.clone(),
            iterations: credential.iterations,
        }
        .to_bytes();
        let pending = Pending {
            username: client_first.username,
            credential,
            gs2_header,
            client_first_bare: bare.to_string(),
            server_first: String::from_utf8_lossy(&server_first).into_owned(),
            nonce,
        };
        Ok((pending, server_first))
    }

    fn second_round(&self, pending: &Pending, message: &[u8]) -> Result<Vec<u8>, ScramError> {
        let client_final = ClientFinal::parse(message)?;
        if !client_final.nonce.ends_with(pending.nonce.as_str()) {
            return Err(ScramError::NonceMismatch);
        }
        if client_final.channel_binding != pending.gs2_header.as_bytes() {
            return Err(ScramError::ChannelBindingMismatch);
        }
        let mechanism = self.mechanism;
        if client_final.proof.len() != mechanism.digest_bytes() {
            return Err(ScramError::InvalidProof);
        }
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed("not ASCII"))?;
        let (without_proof, _) = split_proof(text)?;
        let auth_message = format!(
            "{},{},{}",
            pending.client_first_bare, pending.server_first, without_proof
        );
        let credential = &pending.credential;
        let client_signature = mechanism.hmac(&credential.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = client_final
            .proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        if !constant_time::eq(&mechanism.hash(&client_key), &credential.stored_key) {
            return Err(ScramError::InvalidProof);
        }
        let server_signature = mechanism.hmac(&credential.server_key, auth_message.as_bytes());
        Ok(ServerFinal::Verifier(server_signature).to_bytes())
    }
}

/// The server nonce must keep the combined nonce valid: printable, no comma, bounded.
fn check_server_nonce(client_nonce: &str, suffix: &str) -> Result<(), ScramError> {
    if suffix.is_empty() {
        return Err(ScramError::BadServerNonce("empty"));
    }
    if client_nonce.len() + suffix.len() > SCRAM_NONCE_BYTES_MAX {
        return Err(ScramError::BadServerNonce("too long"));
    }
    if !suffix
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
    {
        return Err(ScramError::BadServerNonce("not printable"));
    }
    Ok(())
}

/// Base64 of a gs2 header, as `c=` carries it (`biws` for `n,,`).
pub fn channel_binding_base64(gs2_header: &str) -> String {
    BASE64.encode(gs2_header)
}

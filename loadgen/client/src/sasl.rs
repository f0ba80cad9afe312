//! SASL authentication of a new connection, as Kafka's clients do it (KIP-43, KIP-152):
//! ApiVersions (done by the caller), SaslHandshake v1 naming the mechanism, then SaslAuthenticate
//! requests carrying the mechanism's tokens:
//! - PLAIN: one token, `NUL user NUL password`;
//! - SCRAM-SHA-256/512: client-first → server-first, client-final → server-final, and the
//!   server's signature is checked (a broker that does not know the password cannot forge it).
//!
//! Every failure is an [`Error::Authentication`] carrying the broker's error code and message.

use bytes::Bytes;
use kafka_protocol::messages::{
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use ring::rand::{SecureRandom, SystemRandom};
use sluice_security::sasl::plain::PlainMessage;
use sluice_security::scram::{ScramClient, ScramMechanism};

use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::error_code;
use crate::security::{SaslCredentials, SaslMechanism};
use crate::versions::BrokerVersions;

/// v1: the tokens travel in SaslAuthenticate requests (v0 sent them as raw frames).
const SASL_HANDSHAKE: VersionRange = VersionRange { min: 1, max: 1 };
const SASL_AUTHENTICATE: VersionRange = VersionRange { min: 0, max: 2 };
/// Random bytes in a SCRAM client nonce (hex-encoded: printable, no `,`).
const SCRAM_NONCE_RANDOM_BYTES: usize = 24;

/// Authenticates `conn` as `credentials`; `versions` are the broker's (ApiVersions first).
pub(crate) fn authenticate(
    conn: &mut Connection,
    versions: &BrokerVersions,
    credentials: &SaslCredentials,
) -> Result<()> {
    let mechanism = credentials.mechanism.name();
    let addr = conn.addr().to_string();
    let failed = |code: i16, message: String| Error::Authentication {
        addr: addr.clone(),
        mechanism,
        code,
        message,
    };
    let handshake_version = versions.version_for::<SaslHandshakeRequest>(SASL_HANDSHAKE)?;
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
    let response = conn.call(&handshake, handshake_version)?;
    if response.error_code != error_code::NONE {
        let enabled: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
        return Err(failed(
            response.error_code,
            format!("the broker enables [{}]", enabled.join(", ")),
        ));
    }
    let version = versions.version_for::<SaslAuthenticateRequest>(SASL_AUTHENTICATE)?;
    let mut exchange = Exchange {
        conn,
        version,
        mechanism,
    };
    match credentials.mechanism {
        SaslMechanism::Plain => {
            let token = PlainMessage::new("", &credentials.username, &credentials.password);
            exchange.round(token.to_bytes())?;
            Ok(())
        }
        SaslMechanism::ScramSha256 => scram(&mut exchange, ScramMechanism::Sha256, credentials),
        SaslMechanism::ScramSha512 => scram(&mut exchange, ScramMechanism::Sha512, credentials),
    }
}

fn scram(
    exchange: &mut Exchange<'_>,
    mechanism: ScramMechanism,
    credentials: &SaslCredentials,
) -> Result<()> {
    let addr = exchange.conn.addr().to_string();
    let local = |message: String| Error::Authentication {
        addr: addr.clone(),
        mechanism: mechanism.mechanism_name(),
        code: error_code::NONE,
        message,
    };
    let nonce = client_nonce().map_err(local)?;
    let (mut client, client_first) = ScramClient::new(
        mechanism,
        &credentials.username,
        &credentials.password,
        &nonce,
    );
    let server_first = exchange.round(client_first)?;
    let client_final = client
        .server_first(&server_first)
        .map_err(|e| local(format!("server-first message refused: {e}")))?;
    let server_final = exchange.round(client_final)?;
    client
        .server_final(&server_final)
        .map_err(|e| local(format!("server-final message refused: {e}")))
}

/// SaslAuthenticate round trips on one connection.
struct Exchange<'c> {
    conn: &'c mut Connection,
    version: i16,
    mechanism: &'static str,
}

impl Exchange<'_> {
    /// Sends one token; the broker's token, or its error as [`Error::Authentication`].
    fn round(&mut self, token: Vec<u8>) -> Result<Bytes> {
        let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let response: SaslAuthenticateResponse = self.conn.call(&request, self.version)?;
        if response.error_code != error_code::NONE {
            return Err(Error::Authentication {
                addr: self.conn.addr().to_string(),
                mechanism: self.mechanism,
                code: response.error_code,
                message: response
                    .error_message
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            });
        }
        Ok(response.auth_bytes)
    }
}

fn client_nonce() -> std::result::Result<String, String> {
    let mut random = [0u8; SCRAM_NONCE_RANDOM_BYTES];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| "no randomness for the SCRAM nonce".to_string())?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_printable_distinct_and_comma_free() {
        let a = client_nonce().expect("randomness");
        let b = client_nonce().expect("randomness");
        assert_eq!(a.len(), 2 * SCRAM_NONCE_RANDOM_BYTES);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}

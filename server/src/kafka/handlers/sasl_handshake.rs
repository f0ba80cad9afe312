//! SaslHandshake (key 17): the client names its mechanism. v1's tokens travel in
//! SaslAuthenticate requests. v0 (raw tokens without Kafka framing, clients before Kafka 1.0)
//! is advertised, since librdkafka enables SASL only when the handshake's range includes 0, but
//! a v0 request closes the connection with a log line: every client in use sends v1. A mechanism this listener does not offer gets
//! UNSUPPORTED_SASL_MECHANISM with the list, and the connection closes, as in Kafka; so does a
//! handshake on a listener without SASL (ILLEGAL_SASL_STATE).

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::security::sasl::SaslExchange;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

pub fn handle(conn: &Conn, request: Request) -> Result<Outcome, RequestError> {
    if request.version == 0 {
        return Err(RequestError::Unauthenticated(
            "SaslHandshake v0 (raw SASL tokens, clients before Kafka 1.0) is not served; the \
             client must use v1 with SaslAuthenticate"
                .to_string(),
        ));
    }
    let body: SaslHandshakeRequest = request.decode()?;
    let mechanisms = &conn.config.security.sasl_mechanisms;
    let mut response = SaslHandshakeResponse::default();
    response.mechanisms = mechanisms
        .iter()
        .cloned()
        .map(StrBytes::from_string)
        .collect();
    let requested = body.mechanism.to_string();
    if !conn.listener.protocol.uses_sasl() {
        tracing::warn!(
            peer = %conn.peer,
            listener = %conn.listener.name,
            "closing connection: SaslHandshake on a listener without SASL ({})",
            conn.listener.protocol
        );
        conn.session.close_after_answer();
        response.error_code = ResponseError::IllegalSaslState.code();
        response.mechanisms.clear();
        return Ok(request.respond(&response)?.into());
    }
    let exchange = mechanisms
        .contains(&requested)
        .then(|| SaslExchange::start(&requested))
        .flatten();
    let Some(exchange) = exchange else {
        crate::metrics::hooks::authentication(&conn.listener.name, "unsupported", false);
        tracing::warn!(
            peer = %conn.peer,
            listener = %conn.listener.name,
            "closing connection: SASL mechanism {requested:?} is not enabled (enabled: {})",
            mechanisms.join(", ")
        );
        conn.session.close_after_answer();
        response.error_code = ResponseError::UnsupportedSaslMechanism.code();
        return Ok(request.respond(&response)?.into());
    };
    if !conn.session.begin_exchange(exchange) {
        tracing::warn!(
            peer = %conn.peer,
            "closing connection: SaslHandshake while a SASL exchange is under way"
        );
        conn.session.close_after_answer();
        response.error_code = ResponseError::IllegalSaslState.code();
        return Ok(request.respond(&response)?.into());
    }
    response.error_code = NONE;
    Ok(request.respond(&response)?.into())
}

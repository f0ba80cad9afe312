//! SaslHandshake (key 17): the client names its mechanism. Served from v1, where the tokens
//! that follow travel in SaslAuthenticate requests (v0's raw tokens are not served; every
//! client in use sends v1). A mechanism this listener does not offer gets
//! UNSUPPORTED_SASL_MECHANISM with the list, and the connection closes, as in Kafka; so does a
//! handshake on a listener without SASL (ILLEGAL_SASL_STATE).

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::security::sasl::SaslExchange;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 1 };

pub fn handle(conn: &Conn, request: Request) -> Result<Outcome, RequestError> {
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

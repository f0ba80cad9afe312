//! SaslAuthenticate (key 36): one token of the SASL exchange SaslHandshake began. A failure is
//! answered with SASL_AUTHENTICATION_FAILED and Kafka's message, after
//! `connection.failed.authentication.delay.ms` (to slow password guessing), and then the
//! connection closes. v1+ tells the client its session lifetime (KIP-368).

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_security::KafkaPrincipal;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::security::sasl::SaslStep;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 2 };

pub async fn handle(conn: &Conn, request: Request) -> Result<Outcome, RequestError> {
    let body: SaslAuthenticateRequest = request.decode()?;
    let mut response = SaslAuthenticateResponse::default();
    let Some((mut exchange, reauthenticating)) = conn.session.take_exchange() else {
        tracing::warn!(
            peer = %conn.peer,
            "closing connection: SaslAuthenticate without a SaslHandshake first"
        );
        conn.session.close_after_answer();
        response.error_code = ResponseError::IllegalSaslState.code();
        response.error_message = Some(StrBytes::from_static_str(
            "SaslAuthenticate request received before a SaslHandshake",
        ));
        return Ok(request.respond(&response)?.into());
    };
    let mechanism = exchange.mechanism_name();
    let listener = conn.listener.name.clone();
    let step = exchange
        .step(&body.auth_bytes, &conn.services.credentials)
        .await;
    let failure = match step {
        Ok(SaslStep::Challenge(challenge)) => {
            conn.session.continue_exchange(exchange, reauthenticating);
            response.error_code = NONE;
            response.auth_bytes = Bytes::from(challenge);
            return Ok(request.respond(&response)?.into());
        }
        Ok(SaslStep::Done { user, reply }) => {
            match conn
                .session
                .authenticated(KafkaPrincipal::user(&user), reauthenticating)
            {
                Ok(lifetime_ms) => {
                    crate::metrics::hooks::authentication(&listener, mechanism, true);
                    tracing::debug!(peer = %conn.peer, %user, mechanism, "authenticated");
                    response.error_code = NONE;
                    response.auth_bytes = Bytes::from(reply);
                    response.session_lifetime_ms = lifetime_ms;
                    return Ok(request.respond(&response)?.into());
                }
                Err(reason) => reason,
            }
        }
        Err(failure) => failure.message,
    };
    crate::metrics::hooks::authentication(&listener, mechanism, false);
    tracing::warn!(
        peer = %conn.peer,
        listener = %listener,
        mechanism,
        "closing connection: authentication failed: {failure}"
    );
    conn.session.failed();
    response.error_code = ResponseError::SaslAuthenticationFailed.code();
    response.error_message = Some(StrBytes::from_string(failure));
    let delay = Duration::from_millis(conn.config.security.failed_authentication_delay_ms);
    let answer = request.respond(&response)?;
    Ok(Outcome::Deferred(Box::pin(async move {
        glommio::timer::sleep(delay).await;
        Ok(Some(answer))
    })))
}

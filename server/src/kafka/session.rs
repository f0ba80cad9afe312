//! What one connection has proved about itself: its principal (`User:ANONYMOUS` until a client
//! certificate or SASL says otherwise) and, on SASL listeners, where it is in the exchange.
//!
//! On a SASL listener only ApiVersions, SaslHandshake and SaslAuthenticate are served before
//! authentication; any other request closes the connection (as Kafka does). With
//! `connections.max.reauth.ms` set, an authenticated session lasts that long: the client
//! re-authenticates in band (KIP-368), and a request after expiry closes the connection.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiKey;
use sluice_security::KafkaPrincipal;

use super::listener::ListenerContext;
use crate::config::SecuritySettings;
use crate::security::sasl::SaslExchange;

pub enum SaslStage {
    /// Every API is served (a non-SASL listener, or authenticated until `expires_at`).
    Open { expires_at: Option<Instant> },
    /// A SASL listener's new connection: SaslHandshake first.
    AwaitingHandshake,
    /// SaslHandshake chose the mechanism; SaslAuthenticate tokens drive `exchange`.
    /// `reauthenticating`: the connection was authenticated before (KIP-368).
    AwaitingToken {
        exchange: Box<SaslExchange>,
        reauthenticating: bool,
    },
    /// A token is being checked (the exchange is out of the cell meanwhile).
    Checking,
}

pub struct Session {
    pub listener: Rc<ListenerContext>,
    principal: RefCell<Rc<KafkaPrincipal>>,
    stage: RefCell<SaslStage>,
    /// Set after a failed authentication: its answer is the last thing sent.
    closing: Cell<bool>,
    reauth_ms: u64,
}

impl Session {
    pub fn new(listener: Rc<ListenerContext>, security: &SecuritySettings) -> Session {
        let stage = if listener.protocol.uses_sasl() {
            SaslStage::AwaitingHandshake
        } else {
            SaslStage::Open { expires_at: None }
        };
        Session {
            listener,
            principal: RefCell::new(Rc::new(KafkaPrincipal::anonymous())),
            stage: RefCell::new(stage),
            closing: Cell::new(false),
            reauth_ms: security.max_reauth_ms,
        }
    }

    pub fn principal(&self) -> Rc<KafkaPrincipal> {
        self.principal.borrow().clone()
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }

    /// The next request's answer is the last: the connection closes after it.
    pub fn close_after_answer(&self) {
        self.closing.set(true);
    }

    /// Whether `api` may be served now; the reason to close the connection if not.
    pub fn admits(&self, api: ApiKey) -> Result<(), String> {
        let stage = self.stage.borrow();
        match &*stage {
            SaslStage::Open { expires_at } => match expires_at {
                Some(at) if Instant::now() >= *at && !is_authentication(api) => Err(format!(
                    "{api:?} after the SASL session expired (connections.max.reauth.ms); the \
                     client must re-authenticate"
                )),
                _ => Ok(()),
            },
            SaslStage::AwaitingHandshake => match api {
                ApiKey::ApiVersions | ApiKey::SaslHandshake => Ok(()),
                _ => Err(format!(
                    "unexpected {api:?} request before SASL authentication on listener {} ({})",
                    self.listener.name, self.listener.protocol
                )),
            },
            SaslStage::AwaitingToken { .. } | SaslStage::Checking => match api {
                ApiKey::SaslAuthenticate => Ok(()),
                _ => Err(format!(
                    "unexpected {api:?} request during the SASL exchange on listener {}",
                    self.listener.name
                )),
            },
        }
    }

    /// SaslHandshake chose `exchange`. False when no handshake is expected now.
    pub fn begin_exchange(&self, exchange: SaslExchange) -> bool {
        let mut stage = self.stage.borrow_mut();
        let reauthenticating = match &*stage {
            SaslStage::AwaitingHandshake => false,
            SaslStage::Open { .. } if self.listener.protocol.uses_sasl() => true,
            _ => return false,
        };
        *stage = SaslStage::AwaitingToken {
            exchange: Box::new(exchange),
            reauthenticating,
        };
        true
    }

    /// Takes the exchange out for one token; None when no exchange is under way.
    pub fn take_exchange(&self) -> Option<(Box<SaslExchange>, bool)> {
        let mut stage = self.stage.borrow_mut();
        match std::mem::replace(&mut *stage, SaslStage::Checking) {
            SaslStage::AwaitingToken {
                exchange,
                reauthenticating,
            } => Some((exchange, reauthenticating)),
            other => {
                *stage = other;
                None
            }
        }
    }

    /// The token was a step of the exchange; the next one continues it.
    pub fn continue_exchange(&self, exchange: Box<SaslExchange>, reauthenticating: bool) {
        *self.stage.borrow_mut() = SaslStage::AwaitingToken {
            exchange,
            reauthenticating,
        };
    }

    /// Authenticated as `principal`; returns the session lifetime to tell the client (0:
    /// unlimited). A re-authentication must prove the same principal.
    pub fn authenticated(
        &self,
        principal: KafkaPrincipal,
        reauthenticating: bool,
    ) -> Result<i64, String> {
        if reauthenticating && *self.principal() != principal {
            return Err(format!(
                "re-authentication as {principal} on a connection of {}: the principal cannot change",
                self.principal()
            ));
        }
        let expires_at =
            (self.reauth_ms > 0).then(|| Instant::now() + Duration::from_millis(self.reauth_ms));
        *self.principal.borrow_mut() = Rc::new(principal);
        *self.stage.borrow_mut() = SaslStage::Open { expires_at };
        Ok(i64::try_from(self.reauth_ms).unwrap_or(i64::MAX))
    }

    /// The exchange failed: nothing more is read from this connection.
    pub fn failed(&self) {
        *self.stage.borrow_mut() = SaslStage::AwaitingHandshake;
        self.close_after_answer();
    }

    /// The TLS client certificate (DER) names the principal (Kafka's SSL principal builder,
    /// with `ssl.principal.mapping.rules`). On SASL_SSL the SASL identity replaces it later.
    pub fn set_certificate_principal(&self, certificate_der: &[u8]) -> Result<(), String> {
        let subject = sluice_security::x509_subject::subject_rfc2253(certificate_der)
            .map_err(|err| format!("cannot read its subject: {err}"))?;
        let name = match &self.listener.principal_mapper {
            Some(mapper) => mapper
                .map(&subject)
                .map_err(|err| format!("ssl.principal.mapping.rules on {subject:?}: {err}"))?,
            None => subject,
        };
        crate::metrics::hooks::authentication(&self.listener.name, "TLS", true);
        *self.principal.borrow_mut() = Rc::new(KafkaPrincipal::user(&name));
        Ok(())
    }
}

fn is_authentication(api: ApiKey) -> bool {
    matches!(
        api,
        ApiKey::SaslHandshake | ApiKey::SaslAuthenticate | ApiKey::ApiVersions
    )
}

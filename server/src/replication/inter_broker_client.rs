//! How this broker reaches the other brokers' inter-broker listener: TLS (verifying the peer
//! against `ssl.truststore.location`, presenting this broker's own certificate) and the SASL
//! login (`sasl.mechanism.inter.broker.protocol` with the JAAS username and password), as that
//! listener's protocol asks. Replica fetchers and transaction coordinators on every shard use
//! it through [`super::connection::Connection`].
//!
//! Installed once by the composition root before the shards start, then read-only: the
//! settings are the same on every shard, and the rustls client configuration is shared
//! (`Arc`, thread-safe). Certificates are read at start (a SIGHUP reload renews the listeners'
//! certificates, not this broker's client certificate; peers' connections are long-lived).

use std::sync::{Arc, OnceLock};

use futures_rustls::TlsConnector;

use crate::config::inter_broker::SaslLogin;
use crate::config::SecuritySettings;

/// What a connection to another broker's inter-broker listener does after TCP connects.
#[derive(Clone)]
pub struct InterBrokerClient {
    /// Some: the listener uses TLS.
    pub tls: Option<TlsConnector>,
    /// Some: the listener uses SASL; this broker logs in with it.
    pub login: Option<SaslLogin>,
}

static INSTALLED: OnceLock<Result<InterBrokerClient, String>> = OnceLock::new();

/// Builds the client from the resolved settings. Errors (unreadable stores) stop the broker
/// at start in a cluster; a single node makes no inter-broker connections (its transaction
/// markers and KIP-890 checks stay in process), so there the reason is only kept, and any
/// connection attempt fails with it (a warning says so once here).
pub fn install(security: &SecuritySettings, in_cluster: bool) -> Result<(), String> {
    let client = build(security);
    if let Err(reason) = &client {
        if in_cluster {
            return Err(format!("inter-broker connections: {reason}"));
        }
        tracing::warn!(
            "inter-broker connections would fail (a single node makes none; a cluster would \
             refuse to start): {reason}"
        );
    }
    // A second install (tests starting brokers in one process) keeps the first: the settings
    // come from one config.
    let _ = INSTALLED.set(client);
    Ok(())
}

/// The installed client; plain TCP when none was installed.
pub fn installed() -> Result<InterBrokerClient, String> {
    match INSTALLED.get() {
        Some(client) => client.clone(),
        None => Ok(InterBrokerClient {
            tls: None,
            login: None,
        }),
    }
}

fn build(security: &SecuritySettings) -> Result<InterBrokerClient, String> {
    let protocol = security.inter_broker_protocol;
    let tls = if protocol.uses_tls() {
        let settings = security
            .tls
            .as_ref()
            .ok_or_else(|| format!("the inter-broker listener uses {protocol} without ssl.*"))?;
        let config = crate::tls::client_config(settings)?;
        Some(TlsConnector::from(Arc::clone(&config)))
    } else {
        None
    };
    let login = if protocol.uses_sasl() {
        let login = security.inter_broker_login.clone().ok_or_else(|| {
            format!(
                "the inter-broker listener uses {protocol} and no JAAS login is configured \
                 (sasl.jaas.config)"
            )
        })?;
        Some(login)
    } else {
        None
    };
    Ok(InterBrokerClient { tls, login })
}

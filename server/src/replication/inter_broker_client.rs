//! How this broker reaches the other brokers' inter-broker listener: TLS (verifying the peer
//! against `ssl.truststore.location`, presenting this broker's own certificate) and the SASL
//! login (`sasl.mechanism.inter.broker.protocol` with the JAAS username and password), as that
//! listener's protocol asks. Replica fetchers and transaction coordinators on every shard use
//! it through [`super::connection::Connection`].
//!
//! Installed once by the composition root before the shards start: the settings are the same
//! on every shard. Each shard keeps its own copy of the client and builds it again from the
//! files at its first connection after a SIGHUP (`signals::reload_generation`), as the
//! listeners do, so a CA rotation or a renewed broker certificate reaches the connections
//! this broker opens too; connections already open keep their session. A reload that fails
//! keeps the previous client and says why.

use std::cell::OnceCell;
use std::sync::{Arc, OnceLock};

use futures_rustls::TlsConnector;

use crate::config::inter_broker::SaslLogin;
use crate::config::SecuritySettings;
use crate::tls::Reloaded;

/// What a connection to another broker's inter-broker listener does after TCP connects.
#[derive(Clone)]
pub struct InterBrokerClient {
    /// Some: the listener uses TLS.
    pub tls: Option<TlsConnector>,
    /// Some: the listener uses SASL; this broker logs in with it.
    pub login: Option<SaslLogin>,
}

/// The settings, and the client built from them at start (at that reload generation).
struct Installed {
    security: SecuritySettings,
    generation: u64,
    client: Result<InterBrokerClient, String>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

thread_local! {
    /// This shard's client.
    static CURRENT: OnceCell<Reloaded<Result<InterBrokerClient, String>>> =
        const { OnceCell::new() };
}

/// Builds the client from the resolved settings. Errors (unreadable stores) stop the broker
/// at start in a cluster; a single node makes no inter-broker connections (its transaction
/// markers and KIP-890 checks stay in process), so there the reason is only kept, and any
/// connection attempt fails with it (a warning says so once here).
pub fn install(security: &SecuritySettings, in_cluster: bool) -> Result<(), String> {
    let generation = crate::signals::reload_generation();
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
    let _ = INSTALLED.set(Installed {
        security: security.clone(),
        generation,
        client,
    });
    Ok(())
}

/// The installed client, built again from the files if SIGHUP came since this shard last
/// looked; plain TCP when none was installed.
pub fn installed() -> Result<InterBrokerClient, String> {
    let Some(installed) = INSTALLED.get() else {
        return Ok(InterBrokerClient {
            tls: None,
            login: None,
        });
    };
    CURRENT.with(|current| {
        current
            .get_or_init(|| Reloaded::built_at(installed.generation, installed.client.clone()))
            .get_with(|previous| reload(&installed.security, previous))
    })
}

/// The client after a SIGHUP: built again from the files, or the previous one (with the reason
/// logged) when they cannot be read now. Only TLS reads files; a client without TLS stays.
fn reload(
    security: &SecuritySettings,
    previous: &Result<InterBrokerClient, String>,
) -> Result<InterBrokerClient, String> {
    if !security.inter_broker_protocol.uses_tls() {
        return previous.clone();
    }
    match (build(security), previous) {
        (Ok(client), _) => {
            tracing::info!("reloaded TLS certificates for inter-broker connections");
            Ok(client)
        }
        (Err(reason), Ok(previous)) => {
            tracing::error!(
                "keeping the previous TLS certificates for inter-broker connections: {reason}"
            );
            Ok(previous.clone())
        }
        (Err(reason), Err(_)) => Err(reason),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::security::{ClientAuth, SecurityProtocol, TlsSettings};

    fn tls_from(dir: &std::path::Path) -> SecuritySettings {
        SecuritySettings {
            tls: Some(TlsSettings {
                keystore: dir.join("server.pem"),
                truststore: Some(dir.join("ca.crt")),
                client_auth: ClientAuth::None,
                principal_mapping_rules: String::new(),
                tls12: true,
                tls13: true,
            }),
            inter_broker_protocol: SecurityProtocol::Ssl,
            ..SecuritySettings::default()
        }
    }

    #[test]
    fn a_reload_that_cannot_read_the_files_keeps_the_previous_client() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let settings = tls_from(dir.path());
        let previous = Ok(InterBrokerClient {
            tls: None,
            login: None,
        });
        let kept = reload(&settings, &previous).expect("the previous client is kept");
        assert!(kept.tls.is_none(), "the previous client, not a new one");
        // With nothing to fall back on, the reason is kept for the next connection to report.
        let Err(reason) = reload(&settings, &Err("at start".into())) else {
            panic!("a client out of unreadable files");
        };
        assert!(
            reason.contains("server.pem") || reason.contains("ca.crt"),
            "{reason}"
        );
    }

    #[test]
    fn a_client_without_tls_reads_no_files_on_reload() {
        let settings = SecuritySettings::default();
        let previous = Err("no JAAS login".to_string());
        assert!(matches!(reload(&settings, &previous), Err(reason) if reason == "no JAAS login"));
    }
}
